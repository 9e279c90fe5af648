//! Argument extraction into handler types: the input is an EVENT's argument list (JSON text),
//! read both as a text packet (`2["ev",<input>]`: arguments kept as JSON text) and as a binary
//! one with one attachment (`51-["ev",<input>]`: arguments as values, placeholders resolved).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(args) = std::str::from_utf8(data) else {
        return;
    };
    let text = format!("2[\"ev\",{args}]");
    socketio_core::__fuzz::socketio_packet(text.as_bytes());
    let mut binary = format!("51-[\"ev\",{args}]").into_bytes();
    binary.extend_from_slice(b"\xff\x00\x01\x02");
    socketio_core::__fuzz::socketio_packet(&binary);
});
