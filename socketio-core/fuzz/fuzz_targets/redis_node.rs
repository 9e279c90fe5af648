//! A message of @socket.io/redis-adapter (broadcast, request, response), of its sharded
//! variant and of the Streams adapter's pub/sub channel (msgpack or JSON), and the arguments
//! it carries.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    socketio_redis::__fuzz::node_message(data);
});
