//! The state one run shares between the dispatcher's tasks and the executors: the queue, the
//! counters, the concurrency limit and the stop signals. A leaf module, so that neither the
//! dispatcher nor the executors need the other to reach it.

use std::collections::VecDeque;
use std::sync::atomic::AtomicUsize;
use std::sync::Mutex;

use tokio::sync::{mpsc, watch};

use crate::events::RunEvent;
use crate::job::{CancelReason, TestJob};
use crate::monitor::Limiter;
use crate::CancelToken;

/// State shared by the dispatcher's tasks during one run.
pub(crate) struct Shared {
    pub(crate) queue: Mutex<VecDeque<TestJob<usize>>>,
    pub(crate) limiter: Limiter,
    pub(crate) running: AtomicUsize,
    /// Attempts whose validator is running now, and the most there ever were at once.
    pub(crate) attempts_running: AtomicUsize,
    pub(crate) peak_attempts: AtomicUsize,
    /// Attempts past their deadline whose blocking work has not returned yet.
    pub(crate) abandoned_running: AtomicUsize,
    pub(crate) abandoned_total: AtomicUsize,
    pub(crate) failures: AtomicUsize,
    pub(crate) passed: AtomicUsize,
    pub(crate) stop: Mutex<Option<CancelReason>>,
    /// Becomes true when dispatching stops; `hard` when running attempts must give up too.
    pub(crate) stopping: watch::Sender<bool>,
    pub(crate) hard: watch::Sender<bool>,
    /// Cancels running attempts through their deadlines.
    pub(crate) attempt_cancel: CancelToken,
    /// Events from the tasks that are not the collector (stops, the monitor's limit moves),
    /// for the collector to hand to the run's sink in order.
    pub(crate) notices: mpsc::UnboundedSender<RunEvent>,
}

impl Shared {
    /// Stops dispatching, for `reason`; the most serious reason asked for is kept, and
    /// announced to the run's sink.
    pub(crate) fn request_stop(&self, reason: CancelReason) {
        let mut s = self.stop.lock().expect("stop lock");
        // Keep the most serious reason.
        if s.is_none_or(|old| reason > old) {
            *s = Some(reason);
            let _ = self.notices.send(RunEvent::Stopping { reason });
        }
        drop(s);
        // `send_replace`, not `send`: `send` leaves the value unchanged while nothing has
        // subscribed yet, and a stop requested before the watchers start would be lost.
        self.stopping.send_replace(true);
    }

    /// Has dispatching stopped?
    pub(crate) fn stopping(&self) -> bool {
        *self.stopping.borrow()
    }
}
