use socketio_macros::namespace;

struct Ns;

#[namespace("/")]
impl Ns {
    #[on("e")]
    fn e(&self, text: String) {}
}

fn main() {}
