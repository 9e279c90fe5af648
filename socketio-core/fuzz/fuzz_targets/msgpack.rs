//! A socket.io-msgpack-parser packet (one binary message), then its arguments as handler types.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    socketio_core::__fuzz::msgpack_packet(data);
});
