//! A NOTIFY payload of @socket.io/postgres-adapter, and the same bytes as an attachment-table
//! row (msgpack or JSON), and the arguments they carry.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    socketio_postgres::__fuzz::message(data);
});
