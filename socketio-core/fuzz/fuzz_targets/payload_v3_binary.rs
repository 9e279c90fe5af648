//! An Engine.IO v3 binary polling payload (kind byte, decimal length digits, 0xFF, packet).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    socketio_core::__fuzz::payload_v3_binary(data);
});
