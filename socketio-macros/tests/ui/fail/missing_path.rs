use socketio_macros::namespace;

struct Ns;

#[namespace]
impl Ns {}

fn main() {}
