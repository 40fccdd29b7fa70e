//! Politeness: a global cap on requests in flight, and per host a cap plus a minimum gap between
//! request starts. Shared by feed, page and robots.txt requests alike.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

/// Past this many remembered hosts, idle ones are forgotten so the map cannot grow forever.
const PRUNE_ABOVE_HOSTS: usize = 1024;

/// Hands out permission to start a request; hold the [`RequestPermit`] until the body is read.
pub(crate) struct HostLimiter {
    global: Arc<Semaphore>,
    per_host_concurrency: usize,
    per_host_delay: Duration,
    hosts: Mutex<HashMap<String, Arc<HostSlot>>>,
}

struct HostSlot {
    in_flight: Arc<Semaphore>,
    /// When the last request to this host started. Holding this lock is also what serialises
    /// the starts to one host, so the gap between them is kept exactly.
    last_start: tokio::sync::Mutex<Option<Instant>>,
}

/// Both permits of one request in flight; dropping it frees them.
pub(crate) struct RequestPermit {
    _host: OwnedSemaphorePermit,
    _global: OwnedSemaphorePermit,
}

impl HostLimiter {
    pub(crate) fn new(
        max_concurrency: usize,
        per_host_concurrency: usize,
        per_host_delay: Duration,
    ) -> HostLimiter {
        HostLimiter {
            global: Arc::new(Semaphore::new(max_concurrency.max(1))),
            per_host_concurrency: per_host_concurrency.max(1),
            per_host_delay,
            hosts: Mutex::new(HashMap::new()),
        }
    }

    /// Waits until a request to `host` may start. The host's own slot is taken before the global
    /// one, so requests queued behind a busy host do not hold global slots other hosts could use.
    pub(crate) async fn acquire(&self, host: &str) -> RequestPermit {
        let slot = self.slot(host);
        let host_permit = slot
            .in_flight
            .clone()
            .acquire_owned()
            .await
            .expect("host semaphores are never closed");
        let mut last_start = slot.last_start.lock().await;
        // Only sleep when the gap is still running: tokio rounds a timer up to the next
        // millisecond even when its deadline has passed, which would space every request to a
        // host by ~1 ms with a zero delay (a whole second over 1000 feeds on one host).
        if let Some(previous) = *last_start
            && previous + self.per_host_delay > Instant::now()
        {
            tokio::time::sleep_until(previous + self.per_host_delay).await;
        }
        let global_permit = self
            .global
            .clone()
            .acquire_owned()
            .await
            .expect("the global semaphore is never closed");
        *last_start = Some(Instant::now());
        RequestPermit {
            _host: host_permit,
            _global: global_permit,
        }
    }

    fn slot(&self, host: &str) -> Arc<HostSlot> {
        let key = host.to_ascii_lowercase();
        let mut hosts = self.hosts.lock().expect("host map lock poisoned");
        if hosts.len() > PRUNE_ABOVE_HOSTS {
            self.prune_idle(&mut hosts);
        }
        hosts
            .entry(key)
            .or_insert_with(|| {
                Arc::new(HostSlot {
                    in_flight: Arc::new(Semaphore::new(self.per_host_concurrency)),
                    last_start: tokio::sync::Mutex::new(None),
                })
            })
            .clone()
    }

    /// Forgets hosts nobody is using whose last start is older than the delay, so forgetting
    /// them cannot shorten a gap.
    fn prune_idle(&self, hosts: &mut HashMap<String, Arc<HostSlot>>) {
        hosts.retain(|_, slot| {
            if Arc::strong_count(slot) > 1 {
                return true;
            }
            match slot.last_start.try_lock() {
                Ok(last_start) => {
                    last_start.is_some_and(|start| start.elapsed() < self.per_host_delay)
                }
                Err(_) => true,
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn never_more_than_the_per_host_limit_in_flight() {
        let limiter = Arc::new(HostLimiter::new(10, 2, Duration::ZERO));
        let in_flight = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..12 {
            let (limiter, in_flight, most) = (limiter.clone(), in_flight.clone(), most.clone());
            tasks.push(tokio::spawn(async move {
                let _permit = limiter.acquire("example.org").await;
                let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(5)).await;
                in_flight.fetch_sub(1, Ordering::SeqCst);
            }));
        }
        for task in tasks {
            task.await.expect("task");
        }
        assert_eq!(most.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn hosts_are_independent_and_case_insensitive() {
        let limiter = HostLimiter::new(10, 1, Duration::ZERO);
        let _first = limiter.acquire("a.example").await;
        // Another host is not blocked by a.example's single slot...
        let _other = limiter.acquire("b.example").await;
        // ...but the same host under another case is.
        let same = tokio::time::timeout(Duration::from_millis(50), limiter.acquire("A.EXAMPLE"));
        assert!(same.await.is_err());
    }

    #[tokio::test]
    async fn starts_to_one_host_are_spaced_by_the_delay() {
        let delay = Duration::from_millis(30);
        let limiter = HostLimiter::new(10, 4, delay);
        let before_first = Instant::now();
        for _ in 0..4 {
            let _permit = limiter.acquire("example.org").await;
        }
        // Four starts need three full gaps; measured from before the first, so it is a bound.
        assert!(before_first.elapsed() >= delay * 3);
    }
}
