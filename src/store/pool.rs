//! A small pool of PostgreSQL connections, so concurrent passes and page renders each get one.
//!
//! The synchronous `postgres` client runs on tokio's blocking pool like SQLite's connection does;
//! a connection is checked out for one `Store::call` and returned after it. At most
//! [`MAX_CONNECTIONS`] are open per process, well under PostgreSQL's default of 100, so a few
//! instances fit on one server. TLS is not offered (`NoTls`): the server is expected on loopback
//! or a trusted LAN.

use std::sync::{Condvar, Mutex};

use super::StoreError;
use super::db::PgClient;

/// Connections one process opens at most.
pub const MAX_CONNECTIONS: usize = 4;

pub struct PgPool {
    config: postgres::Config,
    slots: Mutex<Slots>,
    returned: Condvar,
}

#[derive(Default)]
struct Slots {
    idle: Vec<PgClient>,
    open: usize,
}

impl PgPool {
    /// Parses `url` and opens one connection, so a wrong URL or a server that is down is
    /// reported when the store is opened, not at the first pass.
    pub fn connect(url: &str) -> Result<(PgPool, Box<PgClient>), StoreError> {
        let config: postgres::Config = url.parse()?;
        let client = Box::new(PgClient::new(config.connect(postgres::NoTls)?));
        let pool = PgPool {
            config,
            slots: Mutex::new(Slots {
                idle: Vec::new(),
                open: 1,
            }),
            returned: Condvar::new(),
        };
        Ok((pool, client))
    }

    /// An idle connection, a new one while fewer than the maximum are open, or the next one
    /// returned.
    pub fn take(&self) -> Result<Box<PgClient>, StoreError> {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if let Some(client) = slots.idle.pop() {
                return Ok(Box::new(client));
            }
            if slots.open < MAX_CONNECTIONS {
                slots.open += 1;
                drop(slots);
                return self
                    .config
                    .connect(postgres::NoTls)
                    .map(|client| Box::new(PgClient::new(client)))
                    .map_err(|error| {
                        self.slots.lock().unwrap_or_else(|p| p.into_inner()).open -= 1;
                        self.returned.notify_one();
                        error.into()
                    });
            }
            slots = self.returned.wait(slots).unwrap_or_else(|p| p.into_inner());
        }
    }

    /// Returns a connection; a closed one (the server restarted) is dropped so the next
    /// `take` opens a fresh one.
    pub fn give_back(&self, client: Box<PgClient>) {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        if client.is_closed() {
            slots.open -= 1;
        } else {
            slots.idle.push(*client);
        }
        self.returned.notify_one();
    }
}

/// A `postgres::Client` blocks on its own runtime when dropped, which tokio forbids on an async
/// thread (the daemon drops its store there at shutdown): idle connections are closed on a
/// thread of their own then.
impl Drop for PgPool {
    fn drop(&mut self) {
        let slots = self.slots.get_mut().unwrap_or_else(|p| p.into_inner());
        let idle = std::mem::take(&mut slots.idle);
        if tokio::runtime::Handle::try_current().is_ok() {
            let closing = std::thread::spawn(move || drop(idle));
            // Joined so the connections are closed before the process exits; the thread only
            // sends each server a Terminate message.
            let _ = closing.join();
        }
    }
}
