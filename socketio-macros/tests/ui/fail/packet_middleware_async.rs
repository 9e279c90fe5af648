use socketio_core::{Args, PacketRejection, SocketRef};
use socketio_macros::namespace;

struct Ns;

#[namespace("/")]
impl Ns {
    #[packet_middleware]
    async fn check(&self, _socket: &SocketRef, _event: &str, _args: &mut Args) -> Result<(), PacketRejection> {
        Ok(())
    }
}

fn main() {}
