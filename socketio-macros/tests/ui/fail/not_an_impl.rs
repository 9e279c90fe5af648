use socketio_macros::namespace;

#[namespace("/")]
struct Ns;

fn main() {}
