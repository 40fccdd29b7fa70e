//! Drives the admin's cron expressions: one ticker task sleeps until the earliest tick of the
//! due-queue (`queue.rs`) and sends each due source's name to the daemon, which decides (with
//! `policy::due`) whether to poll it.
//!
//! Keeping the driver this thin means a reload only re-syncs the queue; no polling state lives
//! here. One task for every source, not a scheduler job each: at 10,000 sources the jobs were
//! a large part of the idle daemon's memory.

use std::sync::{Arc, Mutex};

use chrono::Utc;
use tokio::sync::Notify;
use tokio::sync::mpsc::UnboundedSender;
use tokio::task::JoinHandle;

use super::queue::DueQueue;
use crate::config::Source;

/// The longest the ticker sleeps without looking at the clock again, so a wall-clock jump
/// (suspend, NTP step) delays a tick by at most this much.
const LONGEST_SLEEP: std::time::Duration = std::time::Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum DriverError {
    #[error("the schedule driver has stopped")]
    Stopped,
}

/// The due-queue and the task that sends its ticks.
pub struct Driver {
    queue: Arc<Mutex<DueQueue>>,
    /// Wakes the ticker after a sync, whose new sources may be due before it would wake.
    changed: Arc<Notify>,
    ticker: JoinHandle<()>,
}

impl Driver {
    pub async fn start(ticks: UnboundedSender<String>) -> Result<Driver, DriverError> {
        let queue = Arc::new(Mutex::new(DueQueue::default()));
        let changed = Arc::new(Notify::new());
        let ticker = tokio::spawn(tick(queue.clone(), changed.clone(), ticks));
        Ok(Driver {
            queue,
            changed,
            ticker,
        })
    }

    /// Makes the queue match `sources`: removed sources leave it, new ones join, and a source
    /// whose schedule changed is queued at its new next tick. Returns the names of new sources.
    pub async fn sync(&mut self, sources: &[Source]) -> Result<Vec<String>, DriverError> {
        if self.ticker.is_finished() {
            return Err(DriverError::Stopped);
        }
        let wanted = sources.iter().map(|source| {
            let expression = super::job_expression(&source.schedule, &source.name);
            (source.name.as_str(), expression)
        });
        let added = lock(&self.queue).sync(wanted, Utc::now());
        self.changed.notify_one();
        Ok(added)
    }

    pub async fn shutdown(self) {
        self.ticker.abort();
        let _ = self.ticker.await;
    }
}

fn lock(queue: &Mutex<DueQueue>) -> std::sync::MutexGuard<'_, DueQueue> {
    queue
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Sends the names of due sources as their ticks come; sleeps until the next one otherwise.
async fn tick(queue: Arc<Mutex<DueQueue>>, changed: Arc<Notify>, ticks: UnboundedSender<String>) {
    loop {
        let (due, next) = {
            let mut queue = lock(&queue);
            let due = queue.pop_due(Utc::now());
            (due, queue.next_due())
        };
        for name in due {
            if ticks.send(name).is_err() {
                return;
            }
        }
        let wait = next
            .and_then(|next| (next - Utc::now()).to_std().ok())
            .unwrap_or(std::time::Duration::ZERO)
            .min(LONGEST_SLEEP);
        let wait = if next.is_none() { LONGEST_SLEEP } else { wait };
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = changed.notified() => {}
        }
    }
}
