use socketio_macros::namespace;

struct Ns;

#[namespace("/")]
impl Default for Ns {
    fn default() -> Self {
        Ns
    }
}

fn main() {}
