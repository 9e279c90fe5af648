//! A message of our own cluster bus (`socketio_core::cluster::wire`, JSON), its base64
//! attachments and arguments.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    socketio_core::__fuzz::cluster_message(data);
});
