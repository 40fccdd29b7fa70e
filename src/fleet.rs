//! What one instance of a fleet does beside its work: its id and role, its heartbeat (with
//! the hash of its effective config and the renewal of its host leases), and noticing other
//! instances' writes so the merged feed is re-rendered.
//!
//! Several `tributary run` instances share one PostgreSQL store: workers poll (each host held
//! by one instance at a time, `schedule::leases`), web instances serve the feeds rendered from
//! the shared store, `all` does both. Each instance reloads its own config file; the config
//! hashes in `instances` let `status` say when they disagree.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::schedule::leases::HostLeases;
use crate::store::{self, InstanceRecord, Store};

/// How often a serving instance reads the store's change counter.
pub const CHANGE_CHECK: Duration = Duration::from_secs(1);

/// What an instance does (`tributary run --role`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Role {
    /// Polls sources; serves nothing.
    Worker,
    /// Serves the feeds, pages and status from the shared store; polls nothing.
    Web,
    /// Both (a single instance).
    #[default]
    All,
}

impl Role {
    pub fn polls(self) -> bool {
        matches!(self, Role::Worker | Role::All)
    }

    pub fn serves(self) -> bool {
        matches!(self, Role::Web | Role::All)
    }

    pub fn name(self) -> &'static str {
        match self {
            Role::Worker => "worker",
            Role::Web => "web",
            Role::All => "all",
        }
    }
}

/// `hostname:pid:random`: unique per run even when a pid is reused or containers share one.
pub fn instance_id() -> String {
    let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|name| name.trim().to_string())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "localhost".to_string());
    format!(
        "{hostname}:{}:{:08x}",
        std::process::id(),
        fastrand::u32(..)
    )
}

/// A hash of the effective configuration, equal on instances that behave alike. The file's
/// path and `listen` are left out: instances on one machine need their own port and file.
/// The `Debug` text is hashed as it is written (FNV-1a, the value `stable_hash` gives the whole
/// text): at 10,000 sources it is megabytes, which a daemon allocated at each heartbeat.
pub fn config_hash(config: &Config) -> String {
    use std::fmt::Write as _;
    let shared = Config {
        path: Default::default(),
        listen: String::new(),
        ..config.clone()
    };
    let mut hash = crate::dedupe::Fnv1a::default();
    let _ = write!(hash, "{shared:?}");
    format!("{:016x}", hash.finish())
}

/// What a heartbeat says about a configuration: its hash and its distinct feed hosts.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ConfigFacts {
    hash: String,
    hosts: usize,
}

/// The facts of the configuration last beaten with, kept until a reload replaces it: each
/// heartbeat (every third of a lease) computed them again, cloning the whole config and, at
/// 10,000 sources, allocating megabytes every 10 s for the same answer (BENCHMARKS.md, "Daemon
/// memory at 10,000 sources"). Keyed by the `Arc`'s address, checked alive through a `Weak`
/// (so a dropped config's address reused by a new one is not taken for it), which keeps no
/// replaced config in memory.
#[derive(Default)]
pub struct FactsCache(std::sync::Mutex<Option<(std::sync::Weak<Config>, ConfigFacts)>>);

impl FactsCache {
    fn facts(&self, config: &Arc<Config>) -> ConfigFacts {
        let mut cached = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((known, facts)) = cached.as_ref()
            && known
                .upgrade()
                .is_some_and(|known| Arc::ptr_eq(&known, config))
        {
            return facts.clone();
        }
        let facts = ConfigFacts {
            hash: config_hash(config),
            hosts: distinct_hosts(config),
        };
        *cached = Some((Arc::downgrade(config), facts.clone()));
        facts
    }
}

/// The instances alive now: a heartbeat within two leases (one missed renewal is not death).
pub fn alive_within(config: &Config) -> i64 {
    i64::try_from((config.fleet.lease * 2).as_millis()).unwrap_or(i64::MAX)
}

/// How many distinct feed hosts the configuration polls: the hosts a fleet shares out.
pub fn distinct_hosts(config: &Config) -> usize {
    config
        .sources
        .iter()
        .filter_map(|source| source.url.host_str())
        .collect::<std::collections::HashSet<_>>()
        .len()
}

/// Whether live instances run different configurations.
pub fn config_mismatch(instances: &[InstanceRecord]) -> bool {
    instances
        .windows(2)
        .any(|pair| pair[0].config_hash != pair[1].config_hash)
}

/// This instance's presence in the store.
pub struct Presence {
    pub id: String,
    pub role: Role,
    pub store: Store,
    pub leases: Arc<HostLeases>,
    /// The config's hash and host count, computed once per config.
    pub facts: FactsCache,
}

impl Presence {
    /// Writes the heartbeat with the config in force; a failure is logged and retried next time.
    /// The leases' fair share follows the config's hosts.
    pub async fn beat(&self, config: &Arc<Config>) {
        let facts = self.facts.facts(config);
        self.leases.set_fleet(facts.hosts, alive_within(config));
        let (id, role, hash) = (self.id.clone(), self.role.name(), facts.hash);
        // Off the blocking pool, as the lease renewal: a late heartbeat makes this instance
        // look dead to the others' fair share.
        let written = self
            .store
            .call_on_own_thread(move |connection| store::heartbeat(connection, &id, role, &hash))
            .await;
        if let Err(error) = written {
            tracing::warn!(%error, "writing this instance's heartbeat failed");
        }
    }

    /// Heartbeat and lease renewal every third of a lease, until shutdown; `config` gives the
    /// configuration in force (it changes on reload).
    pub async fn keep(self: Arc<Self>, config: impl Fn() -> Arc<Config>, stop: CancellationToken) {
        loop {
            let config = config();
            tokio::select! {
                _ = tokio::time::sleep(config.fleet.renew_every()) => {}
                _ = stop.cancelled() => return,
            }
            self.leases.renew(config.fleet.lease).await;
            self.beat(&config).await;
        }
    }

    /// Leaves the fleet on a clean shutdown: the row goes, the leases are given back.
    pub async fn leave(&self, config: &Config) {
        let id = self.id.clone();
        let cool = i64::try_from(config.fetch.per_host_delay.as_millis()).unwrap_or(0);
        let left = self
            .store
            .call(move |connection| store::leave(connection, &id, cool))
            .await;
        if let Err(error) = left {
            tracing::warn!(%error, "leaving the fleet failed; the leases will expire");
        }
    }
}

/// The change counter the merged feed was last rendered at; the renderer sets it before it
/// reads the stories, so a change landing during a render is seen again, never missed.
#[derive(Default)]
pub struct RenderedAt(AtomicI64);

impl RenderedAt {
    /// Reads the store's counter and remembers it as rendered.
    pub async fn mark(&self, store: &Store) {
        if let Ok(counter) = store.call(store::change_counter).await {
            self.0.store(counter, Ordering::SeqCst);
        }
    }
}

/// Every [`CHANGE_CHECK`], calls `changed` when the store's change counter differs from the
/// one last rendered: other instances' commits and prunes reach this one's feed within about a
/// second, at the cost of one tiny read, and a request never renders.
pub async fn watch_changes(
    store: Store,
    rendered: Arc<RenderedAt>,
    changed: impl Fn(),
    stop: CancellationToken,
) {
    let mut every = tokio::time::interval(CHANGE_CHECK);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = every.tick() => {}
            _ = stop.cancelled() => return,
        }
        match store.call(store::change_counter).await {
            Ok(counter) if counter != rendered.0.load(Ordering::SeqCst) => changed(),
            Ok(_) => {}
            Err(error) => tracing::debug!(%error, "reading the change counter"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> Config {
        Config::from_str(text, std::path::Path::new("t.toml")).unwrap()
    }

    #[test]
    fn the_hash_ignores_the_port_and_file_but_not_the_sources() {
        let base = "[[sources]]\nname = \"a\"\nurl = \"https://a.example/feed\"\n";
        let one = config(&format!(
            "listen = \"127.0.0.1:1\"\npublic_url = \"https://x\"\n{base}"
        ));
        let two = config(&format!(
            "listen = \"127.0.0.1:2\"\npublic_url = \"https://x\"\n{base}"
        ));
        assert_eq!(config_hash(&one), config_hash(&two));
        let three = config(&format!(
            "listen = \"127.0.0.1:2\"\npublic_url = \"https://x\"\n{base}\
             [[sources]]\nname = \"b\"\nurl = \"https://b.example/feed\"\n"
        ));
        assert_ne!(config_hash(&one), config_hash(&three));
    }

    #[test]
    fn the_hash_is_the_stable_hash_of_the_whole_debug_text() {
        // Instances of older builds hashed the formatted text at once: the streamed hash must
        // give them the same value, or `status` would report a mismatch after an upgrade.
        let one = config(
            "listen = \"127.0.0.1:1\"\n[[sources]]\nname = \"a\"\nurl = \"https://a.example/\"\n",
        );
        let shared = Config {
            path: Default::default(),
            listen: String::new(),
            ..one.clone()
        };
        let whole = crate::dedupe::stable_hash(format!("{shared:?}").as_bytes());
        assert_eq!(config_hash(&one), format!("{whole:016x}"));
    }

    #[test]
    fn the_facts_are_kept_per_config_and_follow_a_reload() {
        let cache = FactsCache::default();
        let base = "[[sources]]\nname = \"a\"\nurl = \"https://a.example/feed\"\n";
        let first = Arc::new(config(base));
        let facts = cache.facts(&first);
        assert_eq!(facts.hash, config_hash(&first));
        assert_eq!(facts.hosts, 1);
        assert_eq!(cache.facts(&first), facts);
        // A reload: a new config with another host. The cache must not answer for the old one.
        let reloaded = Arc::new(config(&format!(
            "{base}[[sources]]\nname = \"b\"\nurl = \"https://b.example/feed\"\n"
        )));
        let after = cache.facts(&reloaded);
        assert_eq!(after.hosts, 2);
        assert_eq!(after.hash, config_hash(&reloaded));
        assert_ne!(after.hash, facts.hash);
        // The cache holds no replaced config alive.
        let weak = Arc::downgrade(&first);
        drop(first);
        assert!(weak.upgrade().is_none());
    }

    #[test]
    fn a_mismatch_is_two_live_instances_with_different_hashes() {
        let instance = |id: &str, hash: &str| InstanceRecord {
            id: id.into(),
            role: "all".into(),
            config_hash: hash.into(),
            heartbeat_age_ms: 0,
        };
        assert!(!config_mismatch(&[instance("a", "1"), instance("b", "1")]));
        assert!(config_mismatch(&[instance("a", "1"), instance("b", "2")]));
        assert!(!config_mismatch(&[]));
    }

    #[test]
    fn ids_differ_between_two_presences_of_one_process() {
        assert_ne!(instance_id(), instance_id());
        assert!(instance_id().contains(&format!(":{}:", std::process::id())));
    }
}
