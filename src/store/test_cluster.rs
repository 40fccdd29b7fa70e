//! A throw-away PostgreSQL cluster for tests: started once per test process, stopped when it
//! exits, with a fresh database per test.
//!
//! Tests must hold on both backends, so a missing PostgreSQL fails them (with what to install)
//! rather than skipping them. The cluster lives in a temporary folder, listens on a free
//! loopback port and a socket in that folder, trusts local connections, and trades durability
//! for speed (`fsync=off`). initdb refuses to run as root, so as root it runs as the `postgres`
//! user (created by Debian's package). A watcher process stops the cluster and removes its folder
//! once the test process is gone, whichever way it ended. `TRIBUTARY_TEST_POSTGRES` (a server
//! URL whose user may create databases) replaces the cluster, e.g. to test against another
//! server version.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

/// The URL of a new, empty database on the test server.
pub fn fresh_database() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let server = server();
    let name = format!(
        "t_{}_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed),
        chrono::Utc::now().timestamp_micros() % 1_000_000
    );
    let mut client = postgres::Client::connect(&format!("{server}/postgres"), postgres::NoTls)
        .unwrap_or_else(|error| panic!("connecting to the test PostgreSQL {server}: {error}"));
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .unwrap_or_else(|error| panic!("creating the test database {name}: {error}"));
    format!("{server}/{name}")
}

/// `postgres://user@host:port` of the test server, started at the first call.
fn server() -> &'static str {
    static SERVER: OnceLock<String> = OnceLock::new();
    SERVER.get_or_init(|| match std::env::var("TRIBUTARY_TEST_POSTGRES") {
        Ok(url) => url.trim_end_matches('/').to_string(),
        Err(_) => start_cluster(),
    })
}

fn start_cluster() -> String {
    let bin = postgres_bin();
    let as_root = is_root();
    // As root, /tmp: a TMPDIR under root's home may be closed to the postgres user.
    let base = if as_root {
        PathBuf::from("/tmp")
    } else {
        std::env::temp_dir()
    };
    let folder = base.join(format!("tributary-pg-{}", std::process::id()));
    let data = folder.join("data");
    std::fs::create_dir_all(&folder).expect("creating the test cluster's folder");
    if as_root {
        run(Command::new("chown").arg("postgres:").arg(&folder), "chown");
    }
    let port = free_port();
    run(
        user_command(as_root, &bin.join("initdb"))
            .args([
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--no-sync",
                "-D",
            ])
            .arg(&data),
        "initdb",
    );
    let options = format!(
        "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off \
         -c full_page_writes=off -c max_connections=400",
        folder.display()
    );
    run(
        user_command(as_root, &bin.join("pg_ctl"))
            .args(["-w", "-t", "60", "-D"])
            .arg(&data)
            .args(["-l"])
            .arg(folder.join("log"))
            .args(["-o", &options, "start"]),
        "pg_ctl start",
    );
    watch_and_stop(as_root, &bin, &folder);
    format!("postgres://postgres@127.0.0.1:{port}")
}

/// A detached shell that waits for this process to end, then stops the cluster and removes
/// its folder (Rust runs no destructors for statics at exit).
fn watch_and_stop(as_root: bool, bin: &Path, folder: &Path) {
    let runner = if as_root {
        "runuser -u postgres -- "
    } else {
        ""
    };
    let script = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 1; done; \
         {runner}'{pg_ctl}' -D '{data}' -m immediate stop >/dev/null 2>&1; rm -rf '{folder}'",
        pid = std::process::id(),
        pg_ctl = bin.join("pg_ctl").display(),
        data = folder.join("data").display(),
        folder = folder.display(),
    );
    // Not waited for: it must outlive this process, and is reparented when this one exits.
    #[allow(clippy::zombie_processes)]
    Command::new("setsid")
        .args(["sh", "-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting the test cluster's watcher (setsid, sh)");
}

/// The newest installed server's bin folder (Debian: /usr/lib/postgresql/<version>/bin).
fn postgres_bin() -> PathBuf {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    found.sort();
    match found.pop() {
        Some((_, bin)) => bin,
        None => panic!(
            "the tests need a PostgreSQL server: install Debian's postgresql package \
             (scripts/test.sh does), or set TRIBUTARY_TEST_POSTGRES to a server URL"
        ),
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|output| output.stdout.trim_ascii() == b"0")
}

fn user_command(as_root: bool, program: &Path) -> Command {
    if as_root {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

fn run(command: &mut Command, what: &str) {
    let output = command
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|error| panic!("running {what}: {error}"));
    assert!(
        output.status.success(),
        "{what} failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("finding a free loopback port")
}
