//! A Socket.IO packet (default parser) then its binary attachments, each after a 0xFF byte:
//! decoding, attachment reassembly, and the arguments extracted as handler types.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    socketio_core::__fuzz::socketio_packet(data);
});
