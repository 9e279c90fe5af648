//! One Engine.IO v4 packet as text (a WebSocket text frame, or one packet of a polling payload).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        socketio_core::__fuzz::engine_packet(text);
    }
});
