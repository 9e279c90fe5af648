//! A server-side WebSocket driven by the one task that serves the session.
//!
//! tungstenite implements the protocol over blocking-style `Read`/`Write`; something has to turn
//! the upgraded connection's readiness into `WouldBlock` and back. A general adapter must allow a
//! reader and a writer in different tasks, so it keeps two wakers per direction and re-registers
//! them on every call. Here reads and writes always come from the same task, so the task's own
//! waker is handed straight to the connection for writes. Reads go through one waker of the
//! connection's own ([`ReadWake`], made once) that notes the wake-up before waking the task, so
//! a task woken to write does not call tungstenite's read for nothing: each read call fills
//! the unused part of the read buffer with zeros first (`ws_read_buffer_size` bytes), which
//! was the largest single cost of a broadcast delivery to an idle receiver.
//!
//! For the same reason the read after a message is skipped when it would find nothing: the
//! connection keeps count of the bytes handed to tungstenite and of those of the messages it
//! returned. When tungstenite holds nothing and the last read from the connection was short
//! (the socket had nothing more), the connection itself looks for more with a one-byte read,
//! which registers the wake-up when there is nothing (the usual case) and costs no system call
//! then: what tungstenite's read would have done, without zero-filling its buffer and building
//! an error. A byte found is handed to tungstenite by the next read.

use std::future::poll_fn;
use std::io::{self, Read, Write};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use futures_util::task::AtomicWaker;

use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tungstenite::protocol::{Role, WebSocket, WebSocketConfig};
use tungstenite::{Error, Message};

/// The read side's waker: notes that the connection may be readable, then wakes the task.
#[derive(Default)]
struct ReadWake {
    /// Woken since the last read that found nothing.
    woken: AtomicBool,
    task: AtomicWaker,
}

impl Wake for ReadWake {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::Release);
        self.task.wake();
    }
}

/// The upgraded connection with the waker of the task polling it.
struct TaskIo {
    io: TokioIo<Upgraded>,
    waker: Waker,
    read_wake: Arc<ReadWake>,
    /// [`ReadWake`] as a waker, made once.
    read_waker: Waker,
    /// The last read found nothing (its waker is registered): until [`ReadWake`] is woken,
    /// there is nothing to read.
    read_blocked: bool,
    /// The last read from the connection filled only part of the buffer: the connection had
    /// nothing more then (tokio forgets its readiness after such a read).
    drained: bool,
    /// Bytes handed to tungstenite and not yet part of a message it returned, counted from
    /// above (see [`frame_len`]): zero means tungstenite holds no byte.
    unread: u64,
    /// What [`TaskIo::probe`] found (a byte, `None` at the end of the stream, or an error),
    /// for the next read to return.
    probed: Option<io::Result<Option<u8>>>,
}

impl TaskIo {
    fn poll<T>(
        &mut self,
        f: impl FnOnce(Pin<&mut TokioIo<Upgraded>>, &mut Context<'_>) -> Poll<io::Result<T>>,
    ) -> io::Result<T> {
        let mut cx = Context::from_waker(&self.waker);
        match f(Pin::new(&mut self.io), &mut cx) {
            Poll::Ready(result) => result,
            Poll::Pending => Err(io::ErrorKind::WouldBlock.into()),
        }
    }

    /// Reads at most one byte (see the module comment); `Pending` registers [`ReadWake`].
    fn probe(&mut self) -> Poll<io::Result<Option<u8>>> {
        let mut byte = [0u8; 1];
        let mut buf = ReadBuf::new(&mut byte);
        let mut cx = Context::from_waker(&self.read_waker);
        Pin::new(&mut self.io)
            .poll_read(&mut cx, &mut buf)
            .map_ok(|()| buf.filled().first().copied())
    }
}

impl Read for TaskIo {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(probed) = self.probed.take() {
            return match probed {
                Ok(Some(byte)) if !buf.is_empty() => {
                    buf[0] = byte;
                    self.unread += 1;
                    Ok(1)
                }
                Ok(Some(byte)) => {
                    self.probed = Some(Ok(Some(byte)));
                    Ok(0)
                }
                Ok(None) => Ok(0),
                Err(err) => Err(err),
            };
        }
        let len = buf.len();
        let mut buf = ReadBuf::new(buf);
        let mut cx = Context::from_waker(&self.read_waker);
        match Pin::new(&mut self.io).poll_read(&mut cx, &mut buf) {
            Poll::Ready(result) => result.map(|()| {
                let n = buf.filled().len();
                self.unread += n as u64;
                self.drained = n > 0 && n < len;
                n
            }),
            Poll::Pending => {
                self.read_blocked = true;
                self.drained = false;
                Err(io::ErrorKind::WouldBlock.into())
            }
        }
    }
}

/// The bytes of the client frames that carried `msg`, counted from below: one masked frame
/// with the shortest length encoding. Clients must mask their frames (tungstenite refuses
/// unmasked ones: `accept_unmasked_frames` is off), a message in several frames has a header
/// per frame, and a longer length encoding than needed only adds bytes, so the count of
/// [`TaskIo::unread`] can be above the truth, never below. (Above it for good once a client
/// fragments a message: that connection then always reads through tungstenite, as before.)
fn frame_len(msg: &Message) -> u64 {
    let payload = match msg {
        Message::Text(text) => text.len(),
        Message::Binary(data) | Message::Ping(data) | Message::Pong(data) => data.len(),
        Message::Close(frame) => frame.as_ref().map_or(0, |f| 2 + f.reason.len()),
        // Not returned by a read.
        Message::Frame(_) => 0,
    };
    let length = match payload {
        0..=125 => 0,
        126..=0xFFFF => 2,
        _ => 8,
    };
    (2 + length + 4 + payload) as u64
}

impl Write for TaskIo {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.poll(|io, cx| io.poll_write(cx, buf))
    }

    fn flush(&mut self) -> io::Result<()> {
        self.poll(|io, cx| io.poll_flush(cx))
    }
}

/// A server-side WebSocket over an upgraded HTTP connection, read and written by one task.
pub(crate) struct WsConn {
    ws: WebSocket<TaskIo>,
    /// The connection closed or failed: reads return `None` from now on.
    ended: bool,
    /// `false` after a write found the socket full: the next write flushes first.
    ready: bool,
}

impl WsConn {
    /// Wraps an upgraded connection whose messages may not exceed `max_payload` bytes (a
    /// larger one fails the read), reading through a buffer of `read_buffer` bytes.
    pub(crate) fn accept(upgraded: Upgraded, max_payload: usize, read_buffer: usize) -> Self {
        let config = WebSocketConfig::default()
            .max_message_size(Some(max_payload))
            .max_frame_size(Some(max_payload))
            // tungstenite's default read buffer (128 KiB) would dominate an idle connection's memory.
            .read_buffer_size(read_buffer);
        let read_wake = Arc::new(ReadWake::default());
        let io = TaskIo {
            io: TokioIo::new(upgraded),
            waker: Waker::noop().clone(),
            read_waker: Waker::from(read_wake.clone()),
            read_wake,
            read_blocked: false,
            drained: false,
            unread: 0,
            probed: None,
        };
        WsConn {
            ws: WebSocket::from_raw_socket(io, Role::Server, Some(config)),
            ended: false,
            ready: true,
        }
    }

    /// Points the connection's wake-ups at the task polling now.
    fn set_waker(&mut self, cx: &Context<'_>) {
        let io = self.ws.get_mut();
        if !io.waker.will_wake(cx.waker()) {
            io.waker = cx.waker().clone();
        }
    }

    /// The next message; `None` once the connection is closed (a failure is returned once,
    /// then `None`).
    pub(crate) fn poll_next(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Message, Error>>> {
        if self.ended {
            return Poll::Ready(None);
        }
        self.set_waker(cx);
        let io = self.ws.get_mut();
        // Registered before the flag is taken: a wake-up from now on wakes this task. Taking
        // the flag before reading means a wake-up during the read is not lost.
        io.read_wake.task.register(cx.waker());
        let woken = io.read_wake.woken.swap(false, Ordering::AcqRel);
        if io.read_blocked && !woken {
            return Poll::Pending;
        }
        io.read_blocked = false;
        if io.drained && io.unread == 0 && io.probed.is_none() {
            // tungstenite holds nothing and the socket had nothing more: look for more here.
            io.drained = false;
            match io.probe() {
                Poll::Pending => {
                    io.read_blocked = true;
                    return Poll::Pending;
                }
                Poll::Ready(found) => io.probed = Some(found),
            }
        }
        match self.ws.read() {
            Ok(msg) => {
                let io = self.ws.get_mut();
                io.unread = io.unread.saturating_sub(frame_len(&msg));
                if matches!(msg, Message::Ping(_) | Message::Close(_)) {
                    // tungstenite queued the answer (a pong, the closing handshake's close
                    // frame); its next read writes it out: that read must happen.
                    io.drained = false;
                }
                Poll::Ready(Some(Ok(msg)))
            }
            Err(err) if would_block(&err) => Poll::Pending,
            Err(Error::AlreadyClosed | Error::ConnectionClosed) => {
                self.ended = true;
                Poll::Ready(None)
            }
            Err(err) => {
                self.ended = true;
                Poll::Ready(Some(Err(err)))
            }
        }
    }

    /// See [`WsConn::poll_next`].
    pub(crate) async fn next(&mut self) -> Option<Result<Message, Error>> {
        poll_fn(|cx| self.poll_next(cx)).await
    }

    /// Queues a message, first flushing if an earlier write found the socket full. Does not
    /// flush the message itself.
    pub(crate) async fn feed(&mut self, msg: Message) -> Result<(), Error> {
        if !self.ready {
            self.flush().await?;
        }
        match self.ws.write(msg) {
            Ok(()) => Ok(()),
            // The message was queued; the socket is full for now.
            Err(err) if would_block(&err) => {
                self.ready = false;
                Ok(())
            }
            Err(err) => Err(err),
        }
    }

    /// Writes out everything queued.
    pub(crate) fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.set_waker(cx);
        match self.ws.flush() {
            Err(err) if would_block(&err) => Poll::Pending,
            result => {
                self.ready = true;
                match result {
                    // The connection has just been closed: the flush is done, not failed.
                    Err(Error::ConnectionClosed) => Poll::Ready(Ok(())),
                    other => Poll::Ready(other),
                }
            }
        }
    }

    /// See [`WsConn::poll_flush`].
    pub(crate) async fn flush(&mut self) -> Result<(), Error> {
        poll_fn(|cx| self.poll_flush(cx)).await
    }

    /// Queues a message and flushes.
    pub(crate) async fn send(&mut self, msg: Message) -> Result<(), Error> {
        self.feed(msg).await?;
        self.flush().await
    }

    /// Starts the closing handshake (a close frame) and writes it out.
    pub(crate) async fn close(&mut self) -> Result<(), Error> {
        match self.ws.close(None) {
            Ok(()) | Err(Error::ConnectionClosed) => Ok(()),
            // The close frame is queued; the socket is full for now.
            Err(err) if would_block(&err) => self.flush().await,
            Err(err) => Err(err),
        }
    }
}

fn would_block(err: &Error) -> bool {
    matches!(err, Error::Io(e) if e.kind() == io::ErrorKind::WouldBlock)
}
