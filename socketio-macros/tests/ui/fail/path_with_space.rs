use socketio_macros::namespace;

struct Ns;

#[namespace("/my chat")]
impl Ns {}

fn main() {}
