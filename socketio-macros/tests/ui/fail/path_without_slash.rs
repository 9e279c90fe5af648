use socketio_macros::namespace;

struct Ns;

#[namespace("chat")]
impl Ns {}

fn main() {}
