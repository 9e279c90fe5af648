use socketio_core::SocketIo;

struct Plain;

fn main() {
    SocketIo::new().register(Plain);
}
