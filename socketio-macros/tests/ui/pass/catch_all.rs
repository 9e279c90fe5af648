//! Several events on one method, the event name extractor, a catch-all, pattern parameters,
//! `#[cfg]` carried to the registration, and a `#[namespace]` without any `use` of the core.

#[derive(Default)]
struct Ns;

/// Not `Deserialize`: a method taking it only compiles because its `#[cfg]` removes it and its
/// registration together.
#[allow(dead_code)]
struct NotAnArgument;

#[socketio_macros::namespace("/all")]
impl Ns {
    #[on("join", "leave")]
    fn membership(&self, _socket: socketio_core::SocketRef, event: socketio_core::EventName, room: String) -> String {
        format!("{event} {room}")
    }

    #[fallback]
    async fn any(&self, _: socketio_core::SocketRef, event: socketio_core::EventName, all: socketio_core::Args) -> (String, usize) {
        (event.to_string(), all.len())
    }

    #[on("pair")]
    fn pair(&self, _socket: socketio_core::SocketRef, (a, b): (i64, i64), mut c: i64) -> i64 {
        c += a + b;
        c
    }

    #[cfg(any())]
    #[on("compiled out")]
    fn compiled_out(&self, _socket: socketio_core::SocketRef, _x: NotAnArgument) {}

    // Two handlers of one event in exclusive configurations are not duplicates.
    #[cfg(all())]
    #[on("cfg")]
    fn cfg_on(&self, _socket: socketio_core::SocketRef) -> bool {
        true
    }

    #[cfg(not(all()))]
    #[on("cfg")]
    fn cfg_off(&self, _socket: socketio_core::SocketRef) -> bool {
        false
    }

    #[on("io")]
    fn io(&self, _socket: socketio_core::SocketRef, n: u32) -> Result<u32, String> {
        std::fs::metadata("/definitely/not/here")
            .map(|_| n)
            .map_err(|e| e.to_string())
    }
}

mod reexport {
    pub use socketio_core as core_again;
}

struct ThroughReexport;

#[socketio_macros::namespace("/re", crate = "crate::reexport::core_again")]
impl ThroughReexport {
    #[on("e")]
    fn e(&self, _socket: socketio_core::SocketRef) {}
}

fn main() {
    let io = socketio_core::SocketIo::new();
    io.register(Ns);
    io.register(ThroughReexport);
}
