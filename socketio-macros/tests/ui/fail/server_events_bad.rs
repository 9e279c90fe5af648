use socketio_macros::ServerEvents;

#[derive(ServerEvents)]
struct NotAnEnum {
    x: u32,
}

#[derive(ServerEvents)]
#[server_events(typscript)]
enum Misspelled {
    #[event("a")]
    A,
}

#[derive(ServerEvents)]
enum Twice {
    #[event("same")]
    A,
    #[event("same")]
    B(u8),
    #[event("disconnect")]
    C,
}

fn main() {}
