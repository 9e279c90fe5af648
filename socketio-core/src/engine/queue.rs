//! A session's outbound frame queue: bounded, many producers, one consumer (the transport).
//!
//! Lighter than a general channel on the hot path: a push is a short lock and at most one wake,
//! and the consumer can stop listening ([`FrameQueue::quiet`]) while it handles a message
//! itself, so a handler that answers inline (an ack) does not wake the task that runs it. The
//! queue also ends the consumer's wait when the session closes, so the transport loop needs no
//! second close signal.

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

/// The outbound queue of one session.
pub(crate) struct FrameQueue {
    frames: Mutex<VecDeque<Frame>>,
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
            frames: Mutex::new(VecDeque::new()),
            len: AtomicUsize::new(0),
            capacity: capacity.max(1),
            consumer: AtomicWaker::new(),
            closed: AtomicBool::new(false),
        }
    }

    /// Appends a frame and wakes the consumer if it is waiting.
    pub(crate) fn push(&self, frame: Frame) -> Result<(), QueueError> {
        if self.is_closed() {
            return Err(QueueError::Closed);
        }
        {
            let mut frames = self.lock();
            if frames.len() >= self.capacity {
                return Err(QueueError::Full);
            }
            frames.push_back(frame);
            self.len.store(frames.len(), Ordering::Release);
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
        let mut frames = self.lock();
        let frame = frames.pop_front();
        self.len.store(frames.len(), Ordering::Release);
        frame
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

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<Frame>> {
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
