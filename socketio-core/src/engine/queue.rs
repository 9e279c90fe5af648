//! A session's outbound frame queue: bounded, many producers, one consumer (the transport).
//!
//! Lighter than a general channel on the hot path: a push is a short lock and at most one wake,
//! and the consumer can stop listening ([`FrameQueue::quiet`]) while it handles a message
//! itself, so a handler that answers inline (an ack) does not wake the task that runs it. The
//! queue also ends the consumer's wait when the session closes, so the transport loop needs no
//! second close signal.
//!
//! Each frame may be queued as not to be compressed (socket.io's `compress(false)`, read by a
//! polling response only). That flag costs the frames nothing: the queue numbers its frames and
//! keeps the numbers of the uncompressed ones aside (an empty deque, no allocation, unless
//! `compress(false)` is used), and the consumer reads the flag of the frame it just took with
//! [`FrameQueue::last_compress`].

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::task::{Context, Poll};

use futures_util::task::AtomicWaker;

use super::packet::Frame;
use super::socket::QueueError;

/// What the consumer's wait ends with.
pub(crate) enum Next {
    /// A queued frame.
    Frame(Frame),
    /// The queue is empty and the session is closed.
    Closed,
}

/// The frames and the numbers of those queued with `compress(false)`.
struct Frames {
    frames: VecDeque<Frame>,
    /// The number of `frames.front()`: how many frames were taken so far.
    head: u64,
    /// The numbers of the frames not to compress, ascending.
    plain: VecDeque<u64>,
}

/// The outbound queue of one session.
pub(crate) struct FrameQueue {
    frames: Mutex<Frames>,
    /// Whether the frame the consumer took last may be compressed.
    last_compress: AtomicBool,
    /// `frames.len()`, written under the lock: lets the consumer see an empty queue without
    /// taking the lock (it is empty most of the times it looks).
    len: AtomicUsize,
    capacity: usize,
    consumer: AtomicWaker,
    closed: AtomicBool,
}

impl FrameQueue {
    /// An empty queue that holds at most `capacity` frames (at least one).
    pub(crate) fn new(capacity: usize) -> Self {
        FrameQueue {
            frames: Mutex::new(Frames {
                frames: VecDeque::new(),
                head: 0,
                plain: VecDeque::new(),
            }),
            last_compress: AtomicBool::new(true),
            len: AtomicUsize::new(0),
            capacity: capacity.max(1),
            consumer: AtomicWaker::new(),
            closed: AtomicBool::new(false),
        }
    }

    /// Appends a frame and wakes the consumer if it is waiting.
    pub(crate) fn push(&self, frame: Frame) -> Result<(), QueueError> {
        self.push_with(frame, true)
    }

    /// Appends a frame that a polling response may compress (`compress`) or not, and wakes the
    /// consumer if it is waiting.
    pub(crate) fn push_with(&self, frame: Frame, compress: bool) -> Result<(), QueueError> {
        if self.is_closed() {
            return Err(QueueError::Closed);
        }
        {
            let mut q = self.lock();
            if q.frames.len() >= self.capacity {
                return Err(QueueError::Full);
            }
            if !compress {
                let number = q.head + q.frames.len() as u64;
                q.plain.push_back(number);
            }
            q.frames.push_back(frame);
            self.len.store(q.frames.len(), Ordering::Release);
        }
        self.consumer.wake();
        Ok(())
    }

    /// Marks the session closed: frames already queued stay readable, new ones are refused and
    /// a waiting consumer is woken.
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.consumer.wake();
    }

    /// Whether [`FrameQueue::close`] was called.
    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Whether no frame is waiting.
    pub(crate) fn is_empty(&self) -> bool {
        self.len.load(Ordering::Acquire) == 0
    }

    /// Takes the oldest frame, if any.
    pub(crate) fn try_pop(&self) -> Option<Frame> {
        if self.len.load(Ordering::Acquire) == 0 {
            return None;
        }
        let mut q = self.lock();
        let frame = q.frames.pop_front()?;
        let number = q.head;
        q.head += 1;
        let compress = q.plain.front() != Some(&number);
        if !compress {
            q.plain.pop_front();
        }
        self.len.store(q.frames.len(), Ordering::Release);
        self.last_compress.store(compress, Ordering::Relaxed);
        Some(frame)
    }

    /// Whether the frame the consumer took last ([`FrameQueue::try_pop`], or
    /// [`FrameQueue::next`]) may be compressed: `false` when it was queued with
    /// `push_with(frame, false)`. Only the consumer that took it asks.
    pub(crate) fn last_compress(&self) -> bool {
        self.last_compress.load(Ordering::Relaxed)
    }

    /// Waits for a frame, or for the close once the queue is empty.
    pub(crate) async fn next(&self) -> Next {
        std::future::poll_fn(|cx| self.poll_next(cx)).await
    }

    fn poll_next(&self, cx: &mut Context<'_>) -> Poll<Next> {
        if let Some(ready) = self.ready() {
            return Poll::Ready(ready);
        }
        self.consumer.register(cx.waker());
        // A push between the first check and the registration would otherwise be missed.
        match self.ready() {
            Some(ready) => Poll::Ready(ready),
            None => Poll::Pending,
        }
    }

    fn ready(&self) -> Option<Next> {
        if let Some(frame) = self.try_pop() {
            return Some(Next::Frame(frame));
        }
        self.is_closed().then_some(Next::Closed)
    }

    /// Forgets the consumer's wake-up registration: called when the consumer is about to handle
    /// work itself and will look at the queue afterwards anyway.
    pub(crate) fn quiet(&self) {
        drop(self.consumer.take());
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Frames> {
        // A panic while holding this lock cannot leave the deque inconsistent.
        self.frames.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::str::Str;
    use std::sync::Arc;

    fn text(s: &'static str) -> Frame {
        Frame::Text(Str::from_static(s))
    }

    #[test]
    fn keeps_order_and_bounds() {
        let q = FrameQueue::new(2);
        q.push(text("a")).unwrap();
        q.push(text("b")).unwrap();
        assert_eq!(q.push(text("c")), Err(QueueError::Full));
        assert!(matches!(q.try_pop(), Some(Frame::Text(t)) if t.as_str() == "a"));
        q.push(text("c")).unwrap();
        assert!(matches!(q.try_pop(), Some(Frame::Text(t)) if t.as_str() == "b"));
        assert!(matches!(q.try_pop(), Some(Frame::Text(t)) if t.as_str() == "c"));
        assert!(q.try_pop().is_none());
    }

    #[test]
    fn the_compress_flag_follows_its_frame() {
        let q = FrameQueue::new(8);
        q.push(text("a")).unwrap();
        q.push_with(text("b"), false).unwrap();
        q.push_with(text("c"), false).unwrap();
        q.push(text("d")).unwrap();
        // Refused frames take no number.
        let full = FrameQueue::new(1);
        full.push(text("x")).unwrap();
        assert_eq!(full.push_with(text("y"), false), Err(QueueError::Full));
        assert!(full.try_pop().is_some() && full.last_compress());
        let mut seen = Vec::new();
        while let Some(Frame::Text(t)) = q.try_pop() {
            seen.push((t.as_str().to_owned(), q.last_compress()));
        }
        let expected = [("a", true), ("b", false), ("c", false), ("d", true)];
        let expected: Vec<_> = expected.iter().map(|(t, c)| (t.to_string(), *c)).collect();
        assert_eq!(seen, expected);
        q.push_with(text("e"), false).unwrap();
        assert!(q.try_pop().is_some() && !q.last_compress());
        assert!(q.lock().plain.is_empty());
    }

    #[test]
    fn close_drains_then_ends() {
        let q = FrameQueue::new(4);
        q.push(text("a")).unwrap();
        q.close();
        assert_eq!(q.push(text("b")), Err(QueueError::Closed));
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(async {
            assert!(matches!(q.next().await, Next::Frame(_)));
            assert!(matches!(q.next().await, Next::Closed));
        });
    }

    #[tokio::test]
    async fn a_push_from_another_task_wakes_the_consumer() {
        let q = Arc::new(FrameQueue::new(4));
        let producer = q.clone();
        let task = tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            producer.push(text("x")).unwrap();
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            producer.close();
        });
        assert!(matches!(q.next().await, Next::Frame(_)));
        assert!(matches!(q.next().await, Next::Closed));
        task.await.unwrap();
    }
}
