//! Host leases as the dispatcher uses them: a poll runs only while this instance holds its
//! feed host's lease in the store, so one instance at a time polls a host's sources.
//!
//! Leasing by host (not by source) keeps `fetch/politeness.rs` true for a whole fleet: the one
//! holder's limiter applies the per-host concurrency and delay, and a released host stays closed
//! to other instances for the per-host delay, so the next holder's first request keeps the gap
//! too (the instance that gave it back may take it again at once: its limiter keeps the gap,
//! and a tick arriving meanwhile is not lost). A lease is
//! claimed at a host's first poll, counted while passes of it run, renewed with the heartbeat
//! and given back when its last pass ends; an instance that dies keeps it until it expires
//! (`[fleet] lease`), and then another instance takes the host over. On SQLite every claim is
//! granted without a write (one instance per file), so there is one code path for both stores.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::store::{self, Store};

/// The leases this instance holds, and how many passes of each host are running.
pub struct HostLeases {
    instance: String,
    store: Store,
    /// Host → passes in flight. A host is here exactly while this instance holds its lease.
    held: Mutex<HashMap<String, usize>>,
    /// Serialises this instance's lease statements, so a release cannot overtake the claim
    /// that follows it for the same host (which would leave a running pass without a lease).
    /// They run on threads of their own (`Store::call_on_own_thread`), not the blocking pool:
    /// behind a queue of passes there, a renewal (or a claim holding this lock) could wait past
    /// the lease, and another instance take a host whose passes still run.
    statements: tokio::sync::Mutex<()>,
    /// Hosts another instance held at the last claim, and until when not to ask again: every
    /// instance gets every tick, so without this a host's many sources would each cost a
    /// refused claim. The holder got the same ticks; only a takeover waits this long more.
    refused: Mutex<HashMap<String, Instant>>,
    /// The fleet this instance claims a fair share of: the configuration's distinct hosts and
    /// how long a heartbeat keeps an instance alive (`None`: no limit, until the first beat).
    fleet: Mutex<Option<(i64, i64)>>,
}

/// How long a refused claim is not retried.
const REFUSED_FOR: Duration = Duration::from_secs(1);

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

impl HostLeases {
    pub fn new(instance: String, store: Store) -> HostLeases {
        HostLeases {
            instance,
            store,
            held: Mutex::new(HashMap::new()),
            statements: tokio::sync::Mutex::new(()),
            refused: Mutex::new(HashMap::new()),
            fleet: Mutex::new(None),
        }
    }

    /// Sets the fleet's size this instance's fair share is computed from (`store::FairShare`):
    /// `hosts` distinct feed hosts in the configuration, instances alive for `alive_ms` after
    /// their last heartbeat. Called with each heartbeat, so a reload is followed.
    pub fn set_fleet(&self, hosts: usize, alive_ms: i64) {
        let hosts = i64::try_from(hosts).unwrap_or(i64::MAX);
        *self.fleet.lock().unwrap_or_else(|p| p.into_inner()) = Some((hosts, alive_ms));
    }

    /// The fair share to claim within, from the fleet's size and the hosts held now.
    fn share(&self) -> Option<store::FairShare> {
        let fleet = *self.fleet.lock().unwrap_or_else(|p| p.into_inner());
        let held = self.held.lock().unwrap_or_else(|p| p.into_inner()).len();
        fleet.map(|(hosts, alive_ms)| store::FairShare {
            hosts,
            held: i64::try_from(held).unwrap_or(i64::MAX),
            alive_ms,
        })
    }

    /// Counts one more pass of `host` if its lease is held already.
    fn join(&self, host: &str) -> bool {
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        match held.get_mut(host) {
            Some(passes) => {
                *passes += 1;
                true
            }
            None => false,
        }
    }

    /// Whether a pass of `host` may run here; `true` counts it until [`HostLeases::release`].
    /// `false` when another instance holds the host, when this one holds its fair share of the
    /// fleet's hosts already (another instance, which got the same tick, takes it), or when
    /// the store could not be asked.
    pub async fn acquire(&self, host: &str, lease: Duration) -> bool {
        if self.join(host) {
            return true;
        }
        if self.recently_refused(host) {
            return false;
        }
        let _serial = self.statements.lock().await;
        if self.join(host) {
            return true;
        }
        if self.recently_refused(host) {
            return false;
        }
        let (owned_host, instance, share) = (host.to_string(), self.instance.clone(), self.share());
        let claimed = self
            .store
            .call_on_own_thread(move |connection| {
                store::claim_host(connection, &owned_host, &instance, millis(lease), share)
            })
            .await;
        match claimed {
            Ok(true) => {
                let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
                held.insert(host.to_string(), 1);
                true
            }
            Ok(false) => {
                let mut refused = self.refused.lock().unwrap_or_else(|p| p.into_inner());
                let now = Instant::now();
                refused.retain(|_, until| *until > now);
                refused.insert(host.to_string(), now + REFUSED_FOR);
                false
            }
            Err(error) => {
                tracing::warn!(%error, host, "claiming a host lease failed; poll skipped");
                false
            }
        }
    }

    /// Ends one pass of `host`; after its last, the lease is given back, the host closed to
    /// other instances for `cool` (the per-host delay).
    pub async fn release(&self, host: &str, cool: Duration) {
        if !self.leave_pass(host) {
            return;
        }
        let _serial = self.statements.lock().await;
        {
            let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
            // A pass that started while this one waited keeps the lease.
            if held.get(host) != Some(&0) {
                return;
            }
            held.remove(host);
        }
        let (owned_host, instance) = (host.to_string(), self.instance.clone());
        let released = self
            .store
            .call_on_own_thread(move |connection| {
                store::release_host(connection, &owned_host, &instance, millis(cool))
            })
            .await;
        if let Err(error) = released {
            tracing::warn!(%error, host, "giving a host lease back failed; it will expire");
        }
    }

    /// Whether another instance held `host` less than [`REFUSED_FOR`] ago.
    fn recently_refused(&self, host: &str) -> bool {
        let refused = self.refused.lock().unwrap_or_else(|p| p.into_inner());
        refused
            .get(host)
            .is_some_and(|until| *until > Instant::now())
    }

    /// Uncounts a pass; `true` when it was the host's last.
    fn leave_pass(&self, host: &str) -> bool {
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        match held.get_mut(host) {
            Some(passes) => {
                *passes = passes.saturating_sub(1);
                *passes == 0
            }
            // Lost while the pass ran (see `renew`): nothing left to give back.
            None => false,
        }
    }

    /// Extends every lease held for another `lease`. A host the store no longer lists as ours
    /// was taken over while this instance stalled past its lease: it is forgotten (its running
    /// pass still commits safely, duplicates being checked under the write lock).
    pub async fn renew(&self, lease: Duration) {
        let _serial = self.statements.lock().await;
        let (instance, hosts) = (self.instance.clone(), self.held());
        if hosts.is_empty() {
            return;
        }
        // Off the blocking pool: passes queued there must not delay the renewal past the lease.
        let renewed = self
            .store
            .call_on_own_thread(move |connection| {
                store::renew_hosts(connection, &instance, &hosts, millis(lease))
            })
            .await;
        match renewed {
            Ok(Some(still_held)) => {
                let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
                held.retain(|host, _| {
                    let kept = still_held.contains(host);
                    if !kept {
                        tracing::warn!(host, "host lease lost (expired and taken over)");
                    }
                    kept
                });
            }
            Ok(None) => {}
            Err(error) => tracing::warn!(%error, "renewing host leases failed"),
        }
    }

    /// The hosts held now, sorted (for tests and logs).
    pub fn held(&self) -> Vec<String> {
        let held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        let mut hosts: Vec<String> = held.keys().cloned().collect();
        hosts.sort();
        hosts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A runtime made outside of any: creating the test database blocks.
    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
    }

    #[test]
    fn two_instances_never_hold_one_host_and_a_release_hands_it_over() {
        let url = crate::store::test_cluster::fresh_database();
        runtime().block_on(two_instances(url));
    }

    async fn two_instances(url: String) {
        let store = Store::open_async(std::path::Path::new(&url)).await.unwrap();
        let one = HostLeases::new("one".into(), store.clone());
        let two = HostLeases::new("two".into(), store.clone());
        let lease = Duration::from_secs(60);
        assert!(one.acquire("a.example", lease).await);
        assert!(one.acquire("a.example", lease).await, "a second pass joins");
        assert!(!two.acquire("a.example", lease).await);
        one.release("a.example", Duration::ZERO).await;
        assert_eq!(one.held(), ["a.example"], "one pass still runs");
        assert!(!two.acquire("a.example", lease).await);
        one.release("a.example", Duration::ZERO).await;
        assert!(one.held().is_empty());
        assert!(
            !two.acquire("a.example", lease).await,
            "refused a moment ago: not asked again yet"
        );
        tokio::time::sleep(REFUSED_FOR).await;
        assert!(two.acquire("a.example", lease).await);
        two.renew(lease).await;
        assert_eq!(two.held(), ["a.example"]);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn on_sqlite_every_claim_is_granted_and_counted() {
        let store = Store::open_in_memory().unwrap();
        let leases = HostLeases::new("only".into(), store);
        assert!(leases.acquire("a.example", Duration::from_secs(5)).await);
        assert!(leases.acquire("b.example", Duration::from_secs(5)).await);
        leases.renew(Duration::from_secs(5)).await;
        assert_eq!(leases.held(), ["a.example", "b.example"]);
        leases.release("a.example", Duration::ZERO).await;
        assert_eq!(leases.held(), ["b.example"]);
    }
}
