//! An Engine.IO v4 polling payload (packets joined by `\x1e`), as a client POSTs it.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(body) = std::str::from_utf8(data) {
        socketio_core::__fuzz::engine_payload(body);
    }
});
