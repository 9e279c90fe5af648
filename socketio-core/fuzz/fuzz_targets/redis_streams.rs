//! A Redis Streams entry (fields `name=value` separated by 0xFF) of
//! @socket.io/redis-streams-adapter, and the same bytes as a stored session.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    socketio_redis::__fuzz::streams_entry(data);
});
