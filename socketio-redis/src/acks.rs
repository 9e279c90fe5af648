//! Gathering the other nodes' side of a broadcast with acks, for every adapter of this crate
//! (socket.io-adapter's `broadcastWithAck`: each node first reports how many of its sockets it
//! asked, `BROADCAST_CLIENT_COUNT`, then sends one `BROADCAST_ACK` per answer).

use std::time::Duration;

use socketio_core::adapter::AckAnswers;
use socketio_core::{AckError, Args, Sid};
use tokio::sync::mpsc;

/// What one answer to a broadcast-with-acks request says.
pub(crate) enum AckReport {
    /// A node asked this many of its sockets.
    ClientCount(u64),
    /// One socket's ack.
    Ack(Args),
    /// Anything else routed to the request (ignored).
    Other,
}

/// Reads the answers on `rx` (each classified by `report`) until each of `nodes` other nodes
/// reported its client count and that many acks arrived, or `timeout` passed; every ack still
/// missing then is an [`AckError::Timeout`] entry. Remote acks carry no socket id, so each gets
/// a fresh [`Sid`] that names no socket.
pub(crate) async fn gather_remote_acks<M>(
    nodes: usize,
    timeout: Duration,
    rx: &mut mpsc::UnboundedReceiver<M>,
    report: impl Fn(M) -> AckReport,
) -> AckAnswers {
    let mut answers = AckAnswers::new();
    let (mut reported, mut expected) = (0usize, 0u64);
    let deadline = tokio::time::Instant::now() + timeout;
    while reported < nodes || (answers.len() as u64) < expected {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(msg)) => match report(msg) {
                AckReport::ClientCount(count) => {
                    reported += 1;
                    expected += count;
                }
                AckReport::Ack(args) => answers.push((Sid::new(), Ok(args))),
                AckReport::Other => {}
            },
            Ok(None) | Err(_) => break,
        }
    }
    let missing = expected.saturating_sub(answers.len() as u64);
    for _ in 0..missing {
        answers.push((Sid::new(), Err(AckError::Timeout(timeout))));
    }
    answers
}
