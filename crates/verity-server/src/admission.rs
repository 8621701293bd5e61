//! Admission control: a fixed number of searches run at once, a bounded queue waits for a
//! slot, and anything past the queue is refused at once. Refusing early (503 with
//! `Retry-After`) keeps latency bounded under overload, where an unbounded queue would only
//! make every request late.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

/// Why a request was not admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Every slot is busy and the queue is full.
    Full,
    /// The request's deadline passed while it waited in the queue.
    Expired,
}

/// The slots and the queue.
#[derive(Debug)]
pub struct Admission {
    slots: Arc<Semaphore>,
    waiting: AtomicUsize,
    max_waiting: usize,
}

/// A running search's slot; dropping it frees the slot.
#[derive(Debug)]
pub struct Slot(#[allow(dead_code)] OwnedSemaphorePermit);

/// A place in the queue, given back when dropped.
struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Admission {
    /// `running` searches at once, `queued` more waiting.
    pub fn new(running: usize, queued: usize) -> Admission {
        Admission {
            slots: Arc::new(Semaphore::new(running.max(1))),
            waiting: AtomicUsize::new(0),
            max_waiting: queued,
        }
    }

    /// A slot, at once or after waiting in the queue until `deadline`.
    pub async fn admit(&self, deadline: Instant) -> Result<Slot, Refusal> {
        if let Ok(p) = self.slots.clone().try_acquire_owned() {
            return Ok(Slot(p));
        }
        // Join the queue only if it has room: a compare-and-swap loop, so that concurrent
        // arrivals never push it past its bound.
        let mut n = self.waiting.load(Ordering::Relaxed);
        loop {
            if n >= self.max_waiting {
                return Err(Refusal::Full);
            }
            match self
                .waiting
                .compare_exchange_weak(n, n + 1, Ordering::AcqRel, Ordering::Relaxed)
            {
                Ok(_) => break,
                Err(now) => n = now,
            }
        }
        // Leaves the queue however the wait ends, including when the request is dropped
        // mid-wait (its client went away): a count decremented after the `await` would leak
        // a place in the queue for every such request, until the queue refused everyone.
        let _waiting = Waiting(&self.waiting);
        let waited = tokio::time::timeout_at(deadline, self.slots.clone().acquire_owned()).await;
        match waited {
            Ok(Ok(p)) => Ok(Slot(p)),
            // The semaphore is never closed.
            Ok(Err(_)) | Err(_) => Err(Refusal::Expired),
        }
    }

    /// Requests waiting for a slot now.
    pub fn queued(&self) -> usize {
        self.waiting.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test(start_paused = true)]
    async fn a_full_queue_refuses_and_a_late_one_expires() {
        let a = Arc::new(Admission::new(1, 1));
        let far = Instant::now() + Duration::from_secs(60);
        let running = a.admit(far).await.unwrap();
        // One may wait; the next is refused at once.
        let a2 = a.clone();
        let waiter = tokio::spawn(async move { a2.admit(far).await.map(|_| ()) });
        tokio::task::yield_now().await;
        assert_eq!(a.queued(), 1);
        assert_eq!(a.admit(far).await.unwrap_err(), Refusal::Full);
        // Freeing the slot lets the waiter in.
        drop(running);
        waiter.await.unwrap().unwrap();
        assert_eq!(a.queued(), 0);
        // A waiter whose deadline passes gives up.
        let _busy = a.admit(far).await.unwrap();
        let soon = Instant::now() + Duration::from_millis(100);
        assert_eq!(a.admit(soon).await.unwrap_err(), Refusal::Expired);
        assert_eq!(a.queued(), 0);
        // A waiter dropped mid-wait (its client disconnected) gives its place back.
        let a3 = a.clone();
        let gone = tokio::spawn(async move { a3.admit(far).await.map(|_| ()) });
        tokio::task::yield_now().await;
        assert_eq!(a.queued(), 1);
        gone.abort();
        let _ = gone.await;
        assert_eq!(a.queued(), 0);
        assert!(a.admit(soon).await.is_err(), "the slot is still busy");
    }
}
