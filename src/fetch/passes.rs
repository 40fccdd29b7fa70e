//! How many source passes may be in progress at once.
//!
//! A pass holds its feed's body, then its entries, from the feed request until its commit.
//! Requests are limited in flight, but on a fast network feeds arrive faster than they are
//! parsed and stored, so a first poll of a thousand feeds would otherwise hold every body at
//! once. A pass therefore takes a slot first: at most [`PASSES_PER_REQUEST`] per request
//! allowed in flight, so the network stays busy while others parse.
//!
//! Sources queued behind a busy host must not take all the slots (a hundred feeds on one host
//! with a one-second delay would block every other host for minutes), so a pass first takes one
//! of its host's few pending places ([`PENDING_PER_HOST_REQUEST`] per request that host allows),
//! and only then a global slot. Nothing that holds a slot ever waits for a pending place, and
//! nothing waiting for a slot holds a request permit, so the two cannot deadlock with the
//! request limiter.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Passes in progress per request allowed in flight (`max_concurrency`).
pub const PASSES_PER_REQUEST: usize = 4;
/// Passes of one host in progress per request allowed to it (`per_host_concurrency`).
pub const PENDING_PER_HOST_REQUEST: usize = 2;
/// Past this many remembered hosts, unused ones are forgotten.
const PRUNE_ABOVE_HOSTS: usize = 1024;

pub(crate) struct PassLimiter {
    global: Arc<Semaphore>,
    per_host: usize,
    hosts: Mutex<HashMap<String, Arc<Semaphore>>>,
}

/// One pass's place; dropping it frees it.
pub struct PassSlot {
    _host: OwnedSemaphorePermit,
    _global: OwnedSemaphorePermit,
}

impl PassLimiter {
    pub(crate) fn new(max_concurrency: usize, per_host_concurrency: usize) -> PassLimiter {
        PassLimiter {
            global: Arc::new(Semaphore::new(max_concurrency.max(1) * PASSES_PER_REQUEST)),
            per_host: per_host_concurrency.max(1) * PENDING_PER_HOST_REQUEST,
            hosts: Mutex::new(HashMap::new()),
        }
    }

    /// Waits for a place for a pass whose feed is on `host`: the host's first, then a global one.
    pub(crate) async fn acquire(&self, host: &str) -> PassSlot {
        let host_permit = self
            .host(host)
            .acquire_owned()
            .await
            .expect("pass semaphores are never closed");
        let global_permit = self
            .global
            .clone()
            .acquire_owned()
            .await
            .expect("pass semaphores are never closed");
        PassSlot {
            _host: host_permit,
            _global: global_permit,
        }
    }

    fn host(&self, host: &str) -> Arc<Semaphore> {
        let mut hosts = self
            .hosts
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        if hosts.len() > PRUNE_ABOVE_HOSTS {
            // Only the map holds an unused host's semaphore, with every place free.
            hosts.retain(|_, places| {
                Arc::strong_count(places) > 1 || places.available_permits() < self.per_host
            });
        }
        hosts
            .entry(host.to_ascii_lowercase())
            .or_insert_with(|| Arc::new(Semaphore::new(self.per_host)))
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// A host with many sources queued takes only its own places; another host still gets in.
    #[tokio::test]
    async fn one_busy_host_leaves_slots_for_others() {
        let limiter = Arc::new(PassLimiter::new(2, 1));
        let mut held = Vec::new();
        for _ in 0..PENDING_PER_HOST_REQUEST {
            held.push(limiter.acquire("busy.example").await);
        }
        let queued = {
            let limiter = limiter.clone();
            tokio::spawn(async move { limiter.acquire("BUSY.example").await })
        };
        let other = tokio::time::timeout(Duration::from_secs(5), limiter.acquire("quiet.example"));
        assert!(
            other.await.is_ok(),
            "another host waited behind the busy one"
        );
        assert!(
            !queued.is_finished(),
            "the busy host got more than its places"
        );
        drop(held);
        assert!(
            tokio::time::timeout(Duration::from_secs(5), queued)
                .await
                .is_ok()
        );
    }

    #[tokio::test]
    async fn never_more_passes_than_the_global_bound() {
        let limiter = PassLimiter::new(1, 8);
        let mut held = Vec::new();
        for index in 0..PASSES_PER_REQUEST {
            held.push(limiter.acquire(&format!("h{index}.example")).await);
        }
        let next = tokio::time::timeout(Duration::from_millis(50), limiter.acquire("x.example"));
        assert!(next.await.is_err(), "a pass started beyond the bound");
        drop(held.pop());
        let next = tokio::time::timeout(Duration::from_secs(5), limiter.acquire("x.example"));
        assert!(next.await.is_ok());
    }
}
