//! systemd's notify protocol by hand: READY, RELOADING, STOPPING and watchdog pings to `$NOTIFY_SOCKET`.
//!
//! The protocol is one datagram of `KEY=value` lines to a Unix socket named by the environment
//! (a path, or an abstract name written with a leading `@`); a few lines of std, so no crate.
//! Outside systemd (no `NOTIFY_SOCKET`) every call does nothing. Sending is best effort: a
//! failed datagram is logged once at debug level and never stops the daemon.

use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::time::Duration;

/// Where the notifications go, read once from the environment at start-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// A socket file, e.g. `/run/systemd/notify`.
    Path(std::path::PathBuf),
    /// A Linux abstract socket (`@name` in the variable, a leading NUL on the wire).
    Abstract(Vec<u8>),
}

/// The connection to the service manager, or nothing when not run by one.
#[derive(Debug, Clone, Default)]
pub struct Notifier {
    destination: Option<Destination>,
}

impl Notifier {
    /// Reads `NOTIFY_SOCKET`; an unset or unusable value means "not under systemd".
    pub fn from_env() -> Notifier {
        let destination = std::env::var_os("NOTIFY_SOCKET")
            .and_then(|value| parse_destination(value.as_encoded_bytes()));
        Notifier { destination }
    }

    pub fn is_active(&self) -> bool {
        self.destination.is_some()
    }

    /// The service is up: the store is open and the HTTP listener is serving.
    pub fn ready(&self, status: &str) {
        self.send(&format!("READY=1\nSTATUS={status}"));
    }

    /// A reload starts; [`Notifier::ready`] ends it.
    pub fn reloading(&self) {
        self.send("RELOADING=1\nSTATUS=reloading the configuration");
    }

    pub fn stopping(&self) {
        self.send("STOPPING=1\nSTATUS=shutting down");
    }

    /// "Still alive": sent from a task on the async runtime, so a hung runtime stops sending.
    pub fn watchdog(&self) {
        self.send("WATCHDOG=1");
    }

    fn send(&self, message: &str) {
        let Some(destination) = &self.destination else {
            return;
        };
        if let Err(error) = send_datagram(destination, message.as_bytes()) {
            tracing::debug!(%error, "sd_notify datagram not sent");
        }
    }
}

fn send_datagram(destination: &Destination, message: &[u8]) -> std::io::Result<()> {
    let socket = UnixDatagram::unbound()?;
    let address = match destination {
        Destination::Path(path) => SocketAddr::from_pathname(path)?,
        Destination::Abstract(name) => abstract_address(name)?,
    };
    socket.send_to_addr(message, &address)?;
    Ok(())
}

#[cfg(target_os = "linux")]
fn abstract_address(name: &[u8]) -> std::io::Result<SocketAddr> {
    use std::os::linux::net::SocketAddrExt as _;
    SocketAddr::from_abstract_name(name)
}

#[cfg(not(target_os = "linux"))]
fn abstract_address(_name: &[u8]) -> std::io::Result<SocketAddr> {
    Err(std::io::Error::new(
        std::io::ErrorKind::Unsupported,
        "abstract sockets exist only on Linux",
    ))
}

/// `NOTIFY_SOCKET`'s value: an absolute path or `@abstract-name`; anything else is ignored
/// (systemd only ever sets these two forms).
pub fn parse_destination(value: &[u8]) -> Option<Destination> {
    match value.first()? {
        b'/' => Some(Destination::Path(std::path::PathBuf::from(
            String::from_utf8_lossy(value).into_owned(),
        ))),
        b'@' if value.len() > 1 => Some(Destination::Abstract(value[1..].to_vec())),
        _ => None,
    }
}

/// How often to ping the watchdog: half of `WATCHDOG_USEC`, as sd_watchdog_enabled(3)
/// recommends, when the watchdog is meant for this process (`WATCHDOG_PID` unset or ours).
pub fn watchdog_interval(
    watchdog_usec: Option<&str>,
    watchdog_pid: Option<&str>,
    own_pid: u32,
) -> Option<Duration> {
    let usec: u64 = watchdog_usec?
        .trim()
        .parse()
        .ok()
        .filter(|&usec| usec > 0)?;
    if let Some(pid) = watchdog_pid
        && pid.trim().parse::<u32>().ok() != Some(own_pid)
    {
        return None;
    }
    Some(Duration::from_micros(usec / 2).max(Duration::from_millis(1)))
}

/// [`watchdog_interval`] from this process's environment.
pub fn watchdog_interval_from_env() -> Option<Duration> {
    let usec = std::env::var("WATCHDOG_USEC").ok();
    let pid = std::env::var("WATCHDOG_PID").ok();
    watchdog_interval(usec.as_deref(), pid.as_deref(), std::process::id())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destinations_are_paths_or_abstract_names() {
        assert_eq!(
            parse_destination(b"/run/systemd/notify"),
            Some(Destination::Path("/run/systemd/notify".into()))
        );
        assert_eq!(
            parse_destination(b"@/org/freedesktop/systemd1/notify/42"),
            Some(Destination::Abstract(
                b"/org/freedesktop/systemd1/notify/42".to_vec()
            ))
        );
        assert_eq!(parse_destination(b""), None);
        assert_eq!(parse_destination(b"@"), None);
        assert_eq!(parse_destination(b"relative/path"), None);
    }

    #[test]
    fn the_watchdog_is_pinged_at_half_its_timeout_and_only_by_its_process() {
        assert_eq!(
            watchdog_interval(Some("30000000"), None, 7),
            Some(Duration::from_secs(15))
        );
        assert_eq!(
            watchdog_interval(Some("400000"), Some("7"), 7),
            Some(Duration::from_millis(200))
        );
        assert_eq!(watchdog_interval(Some("400000"), Some("8"), 7), None);
        assert_eq!(watchdog_interval(Some("0"), None, 7), None);
        assert_eq!(watchdog_interval(Some("soon"), None, 7), None);
        assert_eq!(watchdog_interval(None, None, 7), None);
    }

    #[test]
    fn a_datagram_reaches_a_path_socket() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("notify.sock");
        let listener = UnixDatagram::bind(&path).unwrap();
        let notifier = Notifier {
            destination: parse_destination(path.as_os_str().as_encoded_bytes()),
        };
        notifier.ready("serving 2 sources");
        let mut buffer = [0u8; 256];
        let length = listener.recv(&mut buffer).unwrap();
        assert_eq!(&buffer[..length], b"READY=1\nSTATUS=serving 2 sources");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_datagram_reaches_an_abstract_socket() {
        use std::os::linux::net::SocketAddrExt as _;
        let name = format!("tributary-notify-test-{}", std::process::id());
        let listener =
            UnixDatagram::bind_addr(&SocketAddr::from_abstract_name(name.as_bytes()).unwrap())
                .unwrap();
        let notifier = Notifier {
            destination: parse_destination(format!("@{name}").as_bytes()),
        };
        notifier.watchdog();
        let mut buffer = [0u8; 64];
        let length = listener.recv(&mut buffer).unwrap();
        assert_eq!(&buffer[..length], b"WATCHDOG=1");
    }
}
