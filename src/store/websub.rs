//! WebSub subscriptions of sources (consuming): the hub, topic, secret, state and lease of each.
//!
//! One row per source. A row is written `pending` before the subscription request goes out, so
//! a hub that verifies intent at once (during the request) finds it; the hub's verification
//! makes it `active` with a lease end. The secret never leaves this table except to sign-check.

use chrono::{DateTime, Utc};

use super::db::{Connection, Row, values};
use super::{StoreError, from_epoch, to_epoch};

/// One source's subscription as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Subscription {
    pub source: String,
    pub hub: String,
    pub topic: String,
    /// The `hub.secret` sent with the request: pushes must be signed with it.
    pub secret: String,
    /// `pending` (requested, not yet verified) or `active` (verified by the hub).
    pub state: String,
    pub requested_at: DateTime<Utc>,
    /// When the hub's lease ends (set by the verification).
    pub lease_until: Option<DateTime<Utc>>,
    /// The lease the hub granted, in seconds, for deciding when to renew.
    pub lease_seconds: Option<i64>,
}

const COLUMNS: &str = "source, hub, topic, secret, state, requested_at, lease_until, lease_seconds";

fn from_row(row: &Row) -> Result<Subscription, StoreError> {
    Ok(Subscription {
        source: row.get(0)?,
        hub: row.get(1)?,
        topic: row.get(2)?,
        secret: row.get(3)?,
        state: row.get(4)?,
        requested_at: from_epoch(row.get(5)?),
        lease_until: row.get::<Option<i64>>(6)?.map(from_epoch),
        lease_seconds: row.get(7)?,
    })
}

/// Records a subscription request about to be sent: `pending`, with its new secret. A renewal
/// keeps the old lease until the hub verifies the new one.
pub fn request_subscription(
    connection: &mut Connection,
    source: &str,
    hub: &str,
    topic: &str,
    secret: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    connection.write_transaction(|connection| {
        connection.execute(
            "INSERT INTO websub_subscriptions (source, hub, topic, secret, state, requested_at)
             VALUES (?1, ?2, ?3, ?4, 'pending', ?5)
             ON CONFLICT (source) DO UPDATE SET hub = ?2, topic = ?3, secret = ?4,
                 state = CASE WHEN websub_subscriptions.topic = ?3
                              AND websub_subscriptions.state = 'active'
                              THEN 'active' ELSE 'pending' END,
                 requested_at = ?5",
            values![source, hub, topic, secret, to_epoch(now)],
        )?;
        Ok(())
    })
}

/// The subscription of `source`, if any.
pub fn subscription(
    connection: &mut Connection,
    source: &str,
) -> Result<Option<Subscription>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM websub_subscriptions WHERE source = ?1");
    connection
        .query_opt(&sql, values![source])?
        .map(|row| from_row(&row))
        .transpose()
}

/// Every stored subscription (for renewals).
pub fn subscriptions(connection: &mut Connection) -> Result<Vec<Subscription>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM websub_subscriptions ORDER BY source");
    connection.query(&sql, &[])?.iter().map(from_row).collect()
}

/// The hub verified the intent: the subscription is active until `now + lease_seconds`.
pub fn confirm_subscription(
    connection: &mut Connection,
    source: &str,
    lease_seconds: i64,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let until = to_epoch(now) + lease_seconds;
    connection.write_transaction(|connection| {
        connection.execute(
            "UPDATE websub_subscriptions SET state = 'active', lease_until = ?2,
                 lease_seconds = ?3 WHERE source = ?1",
            values![source, until, lease_seconds],
        )?;
        Ok(())
    })
}

/// Forgets the subscription of `source` (the hub confirmed an unsubscription, or the source
/// no longer asks for WebSub).
pub fn delete_subscription(connection: &mut Connection, source: &str) -> Result<(), StoreError> {
    connection.write_transaction(|connection| {
        connection.execute(
            "DELETE FROM websub_subscriptions WHERE source = ?1",
            values![source],
        )?;
        Ok(())
    })
}

/// SQLite's table (migration 5).
pub const SQLITE_SCHEMA: &str = "
    CREATE TABLE websub_subscriptions (
        source TEXT PRIMARY KEY,
        hub TEXT NOT NULL,
        topic TEXT NOT NULL,
        secret TEXT NOT NULL,
        state TEXT NOT NULL,
        requested_at INTEGER NOT NULL,
        lease_until INTEGER,
        lease_seconds INTEGER
    );
";

/// PostgreSQL's table (migration 5): as SQLite's, `BIGINT` for `INTEGER`.
pub const POSTGRES_SCHEMA: &str = "
    CREATE TABLE websub_subscriptions (
        source TEXT PRIMARY KEY,
        hub TEXT NOT NULL,
        topic TEXT NOT NULL,
        secret TEXT NOT NULL,
        state TEXT NOT NULL,
        requested_at BIGINT NOT NULL,
        lease_until BIGINT,
        lease_seconds BIGINT
    );
";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_stores;

    #[test]
    fn a_request_is_pending_until_confirmed_and_a_renewal_keeps_it_active() {
        for store in test_stores() {
            store
                .call_blocking(|connection| {
                    let now = from_epoch(1_000_000);
                    request_subscription(connection, "s", "http://h/", "http://t/", "k1", now)?;
                    let pending = subscription(connection, "s")?.unwrap();
                    assert_eq!(
                        (pending.state.as_str(), pending.lease_until),
                        ("pending", None)
                    );
                    confirm_subscription(connection, "s", 600, now)?;
                    let active = subscription(connection, "s")?.unwrap();
                    assert_eq!(active.state, "active");
                    assert_eq!(active.lease_until, Some(from_epoch(1_000_600)));
                    request_subscription(connection, "s", "http://h/", "http://t/", "k2", now)?;
                    let renewing = subscription(connection, "s")?.unwrap();
                    assert_eq!(
                        (renewing.state.as_str(), renewing.secret.as_str()),
                        ("active", "k2")
                    );
                    assert_eq!(subscriptions(connection)?.len(), 1);
                    delete_subscription(connection, "s")?;
                    assert_eq!(subscription(connection, "s")?, None);
                    Ok(())
                })
                .unwrap();
        }
    }
}
