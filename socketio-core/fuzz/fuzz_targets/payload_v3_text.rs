//! An Engine.IO v3 text polling payload (`<utf-16 length>:<packet>…`).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(body) = std::str::from_utf8(data) {
        socketio_core::__fuzz::payload_v3_text(body);
    }
});
