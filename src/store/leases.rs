//! The fleet's shared state: host leases (`FOR UPDATE SKIP LOCKED`), live instances with their
//! heartbeats and config hashes, and the change counter serving instances watch.
//!
//! Leases only mean something on PostgreSQL, where several instances share one store: on
//! SQLite (one instance per file) a claim is always granted and nothing is written, so the
//! scheduler has one code path for both. Lease times are read from PostgreSQL's clock, so
//! instances on machines whose clocks disagree still agree on when a lease expired. Times are
//! milliseconds since the epoch.

use super::StoreError;
use super::db::{Backend, Connection, values};

/// The database's "now" in milliseconds, inlined in lease statements.
const PG_NOW_MS: &str = "(extract(epoch from clock_timestamp()) * 1000)::bigint";

/// One row of `instances`, as `status` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceRecord {
    /// `hostname:pid:random`, unique per process run.
    pub id: String,
    /// `worker`, `web` or `all`.
    pub role: String,
    /// Hash of the instance's effective configuration (`fleet::config_hash`).
    pub config_hash: String,
    /// Milliseconds since its last heartbeat, by the database's clock.
    pub heartbeat_age_ms: i64,
}

/// Now in milliseconds: PostgreSQL's clock there, this machine's on SQLite.
fn now_ms(connection: &mut Connection) -> Result<i64, StoreError> {
    match connection.backend() {
        Backend::Sqlite => Ok(chrono::Utc::now().timestamp_millis()),
        Backend::Postgres => connection
            .query_one(&format!("SELECT {PG_NOW_MS}"), &[])?
            .get(0),
    }
}

/// Records this instance (or refreshes its row) with a heartbeat of now, and forgets
/// instances silent for a day (they died without saying so).
pub fn heartbeat(
    connection: &mut Connection,
    id: &str,
    role: &str,
    config_hash: &str,
) -> Result<(), StoreError> {
    let now = now_ms(connection)?;
    connection.execute(
        "INSERT INTO instances (id, role, config_hash, started, heartbeat) \
         VALUES (?1, ?2, ?3, ?4, ?4) ON CONFLICT (id) DO UPDATE SET \
         role = excluded.role, config_hash = excluded.config_hash, heartbeat = excluded.heartbeat",
        values![id, role, config_hash, now],
    )?;
    connection.execute(
        "DELETE FROM instances WHERE heartbeat < ?1",
        values![now - 86_400_000],
    )?;
    Ok(())
}

/// Removes this instance's row and hands its leases back (a clean shutdown); the host stays
/// closed for `cool_ms` so the fleet keeps the per-host delay across the hand-over.
pub fn leave(connection: &mut Connection, id: &str, cool_ms: i64) -> Result<(), StoreError> {
    connection.execute("DELETE FROM instances WHERE id = ?1", values![id])?;
    if connection.backend() == Backend::Postgres {
        connection.execute(
            &format!(
                "UPDATE host_leases SET holder = '', expires = {PG_NOW_MS} + ?2 WHERE holder = ?1"
            ),
            values![id, cool_ms],
        )?;
    }
    Ok(())
}

/// Instances whose heartbeat is younger than `alive_ms`, by id.
pub fn live_instances(
    connection: &mut Connection,
    alive_ms: i64,
) -> Result<Vec<InstanceRecord>, StoreError> {
    let now = now_ms(connection)?;
    connection
        .query(
            "SELECT id, role, config_hash, heartbeat FROM instances WHERE heartbeat >= ?1 \
             ORDER BY id",
            values![now - alive_ms],
        )?
        .iter()
        .map(|row| {
            Ok(InstanceRecord {
                id: row.get(0)?,
                role: row.get(1)?,
                config_hash: row.get(2)?,
                heartbeat_age_ms: now - row.get::<i64>(3)?,
            })
        })
        .collect()
}

/// What an instance may claim of the fleet's hosts: while other polling instances are alive,
/// about its share of them, so that instances starting together (or one joining a running
/// fleet at its next ticks) split the hosts instead of the first one up taking them all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FairShare {
    /// Distinct feed hosts in the configuration (every instance runs the same one).
    pub hosts: i64,
    /// Hosts this instance holds now.
    pub held: i64,
    /// An instance is alive while its heartbeat is younger than this.
    pub alive_ms: i64,
}

/// The most hosts an instance may hold: its share of `hosts` among `live` polling instances,
/// plus a tenth of it (at least one) of slack, so that the shares always cover every host and a
/// host freed by a slow instance still finds a taker. Spelled in SQL by [`claim_host`], whose
/// one statement counts the live instances; this is the same rule, for the tests.
#[cfg(test)]
fn share_limit(hosts: i64, live: i64) -> i64 {
    let share = (hosts + live.max(1) - 1) / live.max(1);
    share + (share + 9) / 10
}

/// [`share_limit`] in SQL (`?4` hosts, `?6` the aliveness window): the polling instances are
/// counted by their heartbeats, this one included (it beats before it claims).
const PG_SHARE_LIMIT: &str = "(SELECT (?4 + n - 1) / n + ((?4 + n - 1) / n + 9) / 10 FROM      (SELECT GREATEST(1, COUNT(*)) AS n FROM instances WHERE role <> 'web'       AND heartbeat >= (extract(epoch from clock_timestamp()) * 1000)::bigint - ?6) AS live)";

/// Claims `host` for `holder` for `lease_ms`: granted when the host is free, its lease expired
/// (its holder died or went quiet) or `holder` holds it already (or gave it back and it still
/// cools: a tick arriving meanwhile is not lost). A row another instance is claiming at this
/// moment is skipped (`SKIP LOCKED`), not waited for: it is theirs. With `share`, a free host
/// is refused while `holder` holds its [`share_limit`] already: another instance takes it.
pub fn claim_host(
    connection: &mut Connection,
    host: &str,
    holder: &str,
    lease_ms: i64,
    share: Option<FairShare>,
) -> Result<bool, StoreError> {
    if connection.backend() == Backend::Sqlite {
        return Ok(true);
    }
    connection.execute(
        "INSERT INTO host_leases (host, holder, expires) VALUES (?1, '', 0) \
         ON CONFLICT (host) DO NOTHING",
        values![host],
    )?;
    let share = share.unwrap_or(FairShare {
        hosts: 0,
        held: 0,
        alive_ms: 0,
    });
    let claimed = connection.query(
        &format!(
            "UPDATE host_leases SET holder = ?2, expires = {PG_NOW_MS} + ?3 WHERE host IN \
             (SELECT host FROM host_leases WHERE host = ?1 AND \
              ((holder = ?2 AND expires > {PG_NOW_MS}) OR (expires <= {PG_NOW_MS} AND \
               (?4 = 0 OR ?5 < {PG_SHARE_LIMIT}))) FOR UPDATE SKIP LOCKED) RETURNING host"
        ),
        values![
            host,
            holder,
            lease_ms,
            share.hosts,
            share.held,
            share.alive_ms
        ],
    )?;
    Ok(!claimed.is_empty())
}

/// Extends `holder`'s leases on `hosts` (those with passes running) for another `lease_ms`;
/// returns the hosts still held (one missing from the answer was taken over: this instance
/// stalled past its lease). A host given back and cooling down is not renewed.
pub fn renew_hosts(
    connection: &mut Connection,
    holder: &str,
    hosts: &[String],
    lease_ms: i64,
) -> Result<Option<Vec<String>>, StoreError> {
    if connection.backend() == Backend::Sqlite {
        return Ok(None);
    }
    // Host names hold no commas: one text parameter carries the list.
    let rows = connection.query(
        &format!(
            "UPDATE host_leases SET expires = {PG_NOW_MS} + ?2 WHERE holder = ?1 \
             AND host = ANY(string_to_array(?3, ',')) RETURNING host"
        ),
        values![holder, lease_ms, hosts.join(",")],
    )?;
    rows.iter()
        .map(|row| row.get(0))
        .collect::<Result<_, _>>()
        .map(Some)
}

/// Gives `host` back after `cool_ms` (the per-host delay): no other instance may claim it
/// before, so the next holder's first request keeps the gap after this one's last. The holder
/// stays recorded, so this instance may take it again at once (its own limiter keeps the gap):
/// a tick arriving while the host cools is not lost.
pub fn release_host(
    connection: &mut Connection,
    host: &str,
    holder: &str,
    cool_ms: i64,
) -> Result<(), StoreError> {
    if connection.backend() == Backend::Sqlite {
        return Ok(());
    }
    connection.execute(
        &format!(
            "UPDATE host_leases SET expires = {PG_NOW_MS} + ?3 WHERE host = ?1 AND holder = ?2"
        ),
        values![host, holder, cool_ms],
    )?;
    Ok(())
}

/// Who holds which host now (live leases only), for tests and diagnostics.
pub fn held_hosts(connection: &mut Connection) -> Result<Vec<(String, String)>, StoreError> {
    if connection.backend() == Backend::Sqlite {
        return Ok(Vec::new());
    }
    connection
        .query(
            &format!(
                "SELECT host, holder FROM host_leases WHERE holder != '' AND expires > {PG_NOW_MS} \
                 ORDER BY host"
            ),
            &[],
        )?
        .iter()
        .map(|row| Ok((row.get(0)?, row.get(1)?)))
        .collect()
}

/// The counter every change to stories (and to what the feed shows of a source) bumps: a
/// serving instance re-renders when it moved, at the cost of one indexed read.
pub fn change_counter(connection: &mut Connection) -> Result<i64, StoreError> {
    connection
        .query_one("SELECT counter FROM store_changes WHERE id = 1", &[])?
        .get(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_stores;

    #[test]
    fn a_host_is_held_by_one_instance_until_released_or_expired() {
        let postgres = test_stores().pop().unwrap();
        postgres
            .call_blocking(|connection| {
                assert!(claim_host(connection, "a.example", "one", 60_000, None)?);
                assert!(
                    claim_host(connection, "a.example", "one", 60_000, None)?,
                    "renewed"
                );
                assert!(!claim_host(connection, "a.example", "two", 60_000, None)?);
                assert!(claim_host(connection, "b.example", "two", 60_000, None)?);
                assert_eq!(
                    held_hosts(connection)?,
                    [
                        ("a.example".to_string(), "one".to_string()),
                        ("b.example".to_string(), "two".to_string())
                    ]
                );
                // Released with a cooling time: closed to others until it passes, open to
                // the instance that gave it back.
                release_host(connection, "a.example", "one", 60_000)?;
                assert!(!claim_host(connection, "a.example", "two", 60_000, None)?);
                assert!(claim_host(connection, "a.example", "one", 60_000, None)?);
                release_host(connection, "a.example", "one", 1)?;
                std::thread::sleep(std::time::Duration::from_millis(20));
                assert!(claim_host(connection, "a.example", "two", 60_000, None)?);
                // An expired lease (its holder died) is taken over.
                assert!(claim_host(connection, "c.example", "dead", 1, None)?);
                std::thread::sleep(std::time::Duration::from_millis(20));
                let hosts = ["c.example".to_string()];
                assert_eq!(
                    renew_hosts(connection, "dead", &hosts, 1)?,
                    Some(hosts.to_vec())
                );
                assert_eq!(renew_hosts(connection, "dead", &[], 1)?, Some(vec![]));
                std::thread::sleep(std::time::Duration::from_millis(20));
                assert!(claim_host(connection, "c.example", "two", 60_000, None)?);
                assert_eq!(
                    renew_hosts(connection, "dead", &hosts, 60_000)?,
                    Some(vec![])
                );
                Ok(())
            })
            .unwrap();
    }

    #[test]
    fn a_free_host_is_refused_past_the_fair_share_while_others_are_alive() {
        assert_eq!(share_limit(30, 3), 11);
        assert_eq!(share_limit(30, 1), 33);
        assert_eq!(share_limit(10, 0), 11);
        let url = crate::store::test_cluster::fresh_database();
        let store = crate::store::Store::open_postgres(&url).unwrap();
        store
            .call_blocking(|connection| {
                let share = |held| {
                    Some(FairShare {
                        hosts: 10,
                        held,
                        alive_ms: 60_000,
                    })
                };
                heartbeat(connection, "one", "worker", "x")?;
                heartbeat(connection, "web", "web", "x")?;
                // Alone (a web instance polls nothing): every host may be claimed.
                assert!(claim_host(
                    connection,
                    "a.example",
                    "one",
                    60_000,
                    share(10)
                )?);
                heartbeat(connection, "two", "all", "x")?;
                // Two pollers: a share is 5 hosts, and a sixth of slack.
                assert!(claim_host(
                    connection,
                    "b.example",
                    "one",
                    60_000,
                    share(5)
                )?);
                assert!(!claim_host(
                    connection,
                    "c.example",
                    "one",
                    60_000,
                    share(6)
                )?);
                assert!(claim_host(
                    connection,
                    "c.example",
                    "two",
                    60_000,
                    share(0)
                )?);
                // A host it gave back and that still cools is its own, whatever it holds.
                release_host(connection, "a.example", "one", 60_000)?;
                assert!(claim_host(
                    connection,
                    "a.example",
                    "one",
                    60_000,
                    share(9)
                )?);
                // The other gone, the whole fleet's hosts are this one's to take.
                leave(connection, "two", 0)?;
                assert!(claim_host(
                    connection,
                    "d.example",
                    "one",
                    60_000,
                    share(9)
                )?);
                Ok(())
            })
            .unwrap();
    }

    #[test]
    fn a_locked_claim_is_skipped_not_waited_for() {
        let url = crate::store::test_cluster::fresh_database();
        let store = crate::store::Store::open_postgres(&url).unwrap();
        let mut other = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        store
            .call_blocking(|connection| claim_host(connection, "h.example", "one", 1, None))
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(10));
        let mut transaction = other.transaction().unwrap();
        transaction
            .query(
                "SELECT host FROM host_leases WHERE host = 'h.example' FOR UPDATE",
                &[],
            )
            .unwrap();
        let claimed = store
            .call_blocking(|connection| claim_host(connection, "h.example", "two", 60_000, None))
            .unwrap();
        assert!(!claimed, "a row being claimed elsewhere is not ours");
        transaction.rollback().unwrap();
        let claimed = store
            .call_blocking(|connection| claim_host(connection, "h.example", "two", 60_000, None))
            .unwrap();
        assert!(claimed);
    }

    #[test]
    fn every_change_to_stories_moves_the_counter_and_nothing_else_does() {
        for store in test_stores() {
            store
                .call_blocking(|connection| {
                    let before = change_counter(connection)?;
                    heartbeat(connection, "me", "all", "abc")?;
                    assert_eq!(change_counter(connection)?, before);
                    connection.execute(
                        "INSERT INTO stories (uid, title, published, updated, extraction, \
                         first_source, created) VALUES ('u', 't', 0, 0, 'feed', 's', 0)",
                        &[],
                    )?;
                    let after_insert = change_counter(connection)?;
                    assert!(after_insert > before);
                    connection.execute("DELETE FROM stories WHERE uid = 'u'", &[])?;
                    assert!(change_counter(connection)? > after_insert);
                    Ok(())
                })
                .unwrap();
        }
    }

    #[test]
    fn instances_are_listed_while_their_heartbeat_is_fresh() {
        for store in test_stores() {
            store
                .call_blocking(|connection| {
                    heartbeat(connection, "h:1:a", "worker", "x")?;
                    heartbeat(connection, "h:2:b", "web", "y")?;
                    let live = live_instances(connection, 60_000)?;
                    assert_eq!(live.len(), 2);
                    assert_eq!(live[0].role, "worker");
                    assert_eq!(live[1].config_hash, "y");
                    leave(connection, "h:1:a", 0)?;
                    let live = live_instances(connection, 60_000)?;
                    assert_eq!(live.len(), 1);
                    assert_eq!(live[0].id, "h:2:b");
                    Ok(())
                })
                .unwrap();
        }
    }
}
