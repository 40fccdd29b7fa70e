//! A fleet: three `tributary run` instances (a worker, an `all`, a web) on one PostgreSQL
//! store and a loopback farm of six hosts; the worker is killed with SIGKILL while it holds
//! host leases. Every entry is stored once, every source polled, the farm's log shows the
//! per-host limits held across instances, and both serving instances serve the same bytes.
//! Also: `status` reports instances whose configurations differ.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, Response};

use crate::daemon::http_get;
use crate::support::{free_port, run_tributary, tributary};

/// Hosts in the farm (127.0.0.2 ...), sources per host, items per feed.
const HOSTS: u8 = 6;
const SOURCES_PER_HOST: usize = 4;
const ITEMS: usize = 3;
/// The farm's answer time, and the per-host delay (longer, so the gap check means something).
const ANSWER_TIME: Duration = Duration::from_millis(100);
const DELAY_MS: u64 = 300;

/// One request as the farm saw it: which host, when it began and (unless cut) ended.
#[derive(Clone, Debug)]
struct Visit {
    host: IpAddr,
    path: String,
    began: Instant,
    ended: Option<Instant>,
}

/// Records a visit's end even when the client went away and the handler was dropped.
struct EndOnDrop {
    log: Arc<Mutex<Vec<Visit>>>,
    index: usize,
}

impl Drop for EndOnDrop {
    fn drop(&mut self) {
        self.log.lock().unwrap()[self.index].ended = Some(Instant::now());
    }
}

/// A loopback farm: one listener per host address on one port, each serving its feeds.
struct Farm {
    port: u16,
    log: Arc<Mutex<Vec<Visit>>>,
    _runtime: tokio::runtime::Runtime,
}

fn host(index: u8) -> IpAddr {
    IpAddr::from([127, 0, 0, 2 + index])
}

fn feed(host: IpAddr, port: u16, source: usize) -> String {
    let items: String = (0..ITEMS)
        .map(|item| {
            format!(
                "<item><title>Story {host} {source} {item}</title>\
                 <link>http://{host}:{port}/s{source}/{item}</link><guid>{source}-{item}</guid>\
                 <pubDate>Tue, 24 Nov 2026 08:{item:02}:00 GMT</pubDate>\
                 <description>Text of story {item} from feed {source} on {host}.</description></item>"
            )
        })
        .collect();
    format!(
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Feed {host} {source}</title>\
         <link>http://{host}:{port}/</link><description>d</description>{items}</channel></rss>"
    )
}

impl Farm {
    fn start() -> Farm {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let port = free_port();
        let log: Arc<Mutex<Vec<Visit>>> = Arc::default();
        for index in 0..HOSTS {
            let address = host(index);
            let listener = runtime
                .block_on(tokio::net::TcpListener::bind(SocketAddr::new(
                    address, port,
                )))
                .unwrap_or_else(|error| panic!("binding {address}:{port}: {error}"));
            let log = log.clone();
            let app = axum::Router::new().fallback(move |request: Request<Body>| {
                let log = log.clone();
                async move { answer(&log, address, port, request).await }
            });
            runtime.spawn(async move { axum::serve(listener, app).await });
        }
        Farm {
            port,
            log,
            _runtime: runtime,
        }
    }

    fn url(&self, index: u8, source: usize) -> String {
        format!("http://{}:{}/feed-{source}.xml", host(index), self.port)
    }

    fn visits(&self) -> Vec<Visit> {
        self.log.lock().unwrap().clone()
    }
}

async fn answer(
    log: &Arc<Mutex<Vec<Visit>>>,
    host: IpAddr,
    port: u16,
    request: Request<Body>,
) -> Response<Body> {
    let path = request.uri().path().to_string();
    let index = {
        let mut log = log.lock().unwrap();
        log.push(Visit {
            host,
            path: path.clone(),
            began: Instant::now(),
            ended: None,
        });
        log.len() - 1
    };
    let _end = EndOnDrop {
        log: log.clone(),
        index,
    };
    tokio::time::sleep(ANSWER_TIME).await;
    let source = path
        .strip_prefix("/feed-")
        .and_then(|rest| rest.strip_suffix(".xml"))
        .and_then(|number| number.parse::<usize>().ok());
    match source {
        Some(source) => Response::builder()
            .header("content-type", "application/rss+xml")
            .body(Body::from(feed(host, port, source)))
            .unwrap(),
        None => Response::builder().status(404).body(Body::empty()).unwrap(),
    }
}

/// One `tributary run`, killed when dropped; its log goes to a file for failure messages.
struct Instance {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Instance {
    fn start(folder: &Path, role: &str, port: u16) -> Instance {
        let log = folder.join("tributary.log");
        let child = tributary()
            .current_dir(folder)
            .args(["--config", "tributary.toml", "run", "--role", role])
            .env("TRIBUTARY_LOG", "info")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        Instance { child, port, log }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A config folder for one instance: all share everything but `listen`.
fn instance_folder(database: &str, port: u16, sources: &str, title: &str) -> tempfile::TempDir {
    let folder = tempfile::tempdir().unwrap();
    let config = format!(
        "database = \"{database}\"\nlisten = \"127.0.0.1:{port}\"\n\
         public_url = \"http://feeds.example\"\ndefault_schedule = \"*/2 * * * * *\"\n\n\
         [fleet]\nlease = \"3s\"\n\n\
         [fetch]\nallow_private_networks = true\nper_host_concurrency = 1\n\
         per_host_delay = \"{DELAY_MS}ms\"\ntimeout = \"5s\"\n\n\
         [output]\ntitle = \"{title}\"\nmax_entries = 500\n{sources}"
    );
    std::fs::write(folder.path().join("tributary.toml"), config).unwrap();
    folder
}

/// Polls `condition` every 100 ms for up to `limit` (a bound, not a speed assertion).
fn wait_for(limit: Duration, what: &str, mut condition: impl FnMut() -> bool) {
    let start = Instant::now();
    while !condition() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn count(database: &mut postgres::Client, sql: &str) -> i64 {
    database
        .query_opt(sql, &[])
        .ok()
        .flatten()
        .map_or(-1, |row| row.get(0))
}

/// Live leases by host: holder ids (`hostname:pid:random`).
fn holders(database: &mut postgres::Client) -> HashMap<String, String> {
    let rows = database
        .query(
            "SELECT host, holder FROM host_leases WHERE holder != '' \
             AND expires > (extract(epoch from clock_timestamp()) * 1000)::bigint",
            &[],
        )
        .unwrap_or_default();
    rows.iter().map(|row| (row.get(0), row.get(1))).collect()
}

fn held_by(holder: &str, pid: u32) -> bool {
    holder.split(':').nth(1) == Some(pid.to_string().as_str())
}

/// Per host: never two requests at once (`per_host_concurrency = 1`), and starts at least the
/// per-host delay apart, across all instances. 50 ms of slack absorbs the farm's scheduling (a
/// loaded machine delayed one arrival stamp by more than 25 ms); requests let through together,
/// or a delay cut by a sixth, still fail.
fn check_per_host_limits(visits: &[Visit]) {
    let tolerance = Duration::from_millis(50);
    for index in 0..HOSTS {
        let mut mine: Vec<&Visit> = visits.iter().filter(|v| v.host == host(index)).collect();
        mine.sort_by_key(|visit| visit.began);
        assert!(!mine.is_empty(), "host {} never visited", host(index));
        for pair in mine.windows(2) {
            let (first, second) = (pair[0], pair[1]);
            let first_end = first.ended.expect("every visit ended");
            assert!(
                second.began + tolerance >= first_end,
                "two requests at once to {}: {} and {}",
                first.host,
                first.path,
                second.path
            );
            let gap = second.began - first.began;
            assert!(
                gap + tolerance >= Duration::from_millis(DELAY_MS),
                "requests to {} only {gap:?} apart: {} then {}",
                first.host,
                first.path,
                second.path
            );
        }
    }
}

fn feed_of(port: u16, path: &str) -> (Option<String>, Vec<u8>) {
    let (status, headers, body) = http_get(port, path, &[]);
    assert_eq!(status, 200);
    let etag = headers
        .into_iter()
        .find(|(name, _)| name == "etag")
        .map(|(_, value)| value);
    (etag, body)
}

#[test]
fn three_instances_share_the_work_survive_a_sigkill_and_serve_the_same_feed() {
    let farm = Farm::start();
    let database_url = crate::test_cluster::fresh_database();
    let mut database = postgres::Client::connect(&database_url, postgres::NoTls).unwrap();
    let mut sources = String::new();
    for index in 0..HOSTS {
        for source in 0..SOURCES_PER_HOST {
            sources.push_str(&format!(
                "\n[[sources]]\nname = \"h{index}s{source}\"\nfull_text = false\nurl = \"{}\"\n",
                farm.url(index, source)
            ));
        }
    }
    let total_sources = i64::from(HOSTS) * SOURCES_PER_HOST as i64;
    let total_entries = total_sources * ITEMS as i64;
    let ports = [free_port(), free_port(), free_port()];
    let folders: Vec<tempfile::TempDir> = ports
        .iter()
        .map(|port| instance_folder(&database_url, *port, &sources, "Fleet"))
        .collect();

    // The worker starts first and claims hosts; the others join while its passes run.
    let mut worker = Instance::start(folders[0].path(), "worker", ports[0]);
    wait_for(Duration::from_secs(20), "the worker's first leases", || {
        holders(&mut database)
            .values()
            .any(|holder| held_by(holder, worker.pid()))
    });
    let both = Instance::start(folders[1].path(), "all", ports[1]);
    let web = Instance::start(folders[2].path(), "web", ports[2]);
    wait_for(Duration::from_secs(20), "a few completed requests", || {
        farm.visits().iter().filter(|v| v.ended.is_some()).count() >= 8
    });
    let killed_hosts: Vec<String> = holders(&mut database)
        .into_iter()
        .filter(|(_, holder)| held_by(holder, worker.pid()))
        .map(|(host, _)| host)
        .collect();
    assert!(
        !killed_hosts.is_empty(),
        "the worker holds leases when killed\n{}",
        worker.log_text()
    );
    let stored_before_kill = count(&mut database, "SELECT COUNT(*) FROM story_sources");
    assert!(
        stored_before_kill < total_entries,
        "killed in the middle of its passes ({stored_before_kill} stored)"
    );
    worker.kill();

    // Its hosts are taken over once the leases expire, and every source gets polled.
    wait_for(
        Duration::from_secs(30),
        "a takeover of the dead worker's hosts",
        || {
            let now = holders(&mut database);
            killed_hosts.iter().any(|host| {
                now.get(host)
                    .is_some_and(|holder| held_by(holder, both.pid()))
            })
        },
    );
    wait_for(Duration::from_secs(60), "every source polled", || {
        count(
            &mut database,
            "SELECT COUNT(*) FROM sources WHERE last_success IS NOT NULL",
        ) == total_sources
    });
    assert_eq!(
        count(&mut database, "SELECT COUNT(*) FROM story_sources"),
        total_entries,
        "every entry stored exactly once"
    );
    assert_eq!(
        count(&mut database, "SELECT COUNT(*) FROM stories"),
        total_entries
    );
    assert_eq!(
        count(&mut database, "SELECT COUNT(DISTINCT title) FROM stories"),
        total_entries
    );

    // Both serving instances render the same stories into the same bytes.
    let expected = usize::try_from(total_entries).unwrap();
    for port in [both.port, web.port] {
        wait_for(Duration::from_secs(20), "every story served", || {
            let (_, body) = feed_of(port, "/feed.json");
            let feed: serde_json::Value = serde_json::from_slice(&body).unwrap();
            feed["items"].as_array().map(Vec::len) == Some(expected)
        });
    }
    for path in ["/feed.atom", "/feed.rss", "/feed.json"] {
        let (etag_all, body_all) = feed_of(both.port, path);
        let (etag_web, body_web) = feed_of(web.port, path);
        assert!(etag_all.is_some());
        assert_eq!(etag_all, etag_web, "{path}");
        assert!(body_all == body_web, "{path} differs between instances");
    }
    // Stop polling before reading the farm's log, so no request is cut by the test's end.
    drop(both);
    std::thread::sleep(ANSWER_TIME * 2);
    check_per_host_limits(&farm.visits());
    assert_eq!(
        count(&mut database, "SELECT COUNT(*) FROM story_sources"),
        total_entries
    );
    drop(web);
}

#[test]
fn status_reports_instances_whose_configurations_differ() {
    let database_url = crate::test_cluster::fresh_database();
    let ports = [free_port(), free_port()];
    let first = instance_folder(&database_url, ports[0], "", "One");
    let second = instance_folder(&database_url, ports[1], "", "Two");
    let _one = Instance::start(first.path(), "web", ports[0]);
    let _two = Instance::start(second.path(), "web", ports[1]);
    let config = first.path().join("tributary.toml");
    let status = |folder: &Path| -> serde_json::Value {
        let output = run_tributary(folder, &config, &["status", "--json"]);
        assert!(output.status.success());
        serde_json::from_slice(&output.stdout).unwrap()
    };
    wait_for(Duration::from_secs(20), "two live instances", || {
        status(first.path())["instances"]["live"]
            .as_array()
            .is_some_and(|live| live.len() == 2)
    });
    assert_eq!(status(first.path())["instances"]["config_mismatch"], true);
    let table = crate::support::stdout(&run_tributary(first.path(), &config, &["status"]));
    assert!(
        table.contains("instances: 2 live; CONFIG MISMATCH"),
        "{table}"
    );
    let (_, _, body) = http_get(ports[1], "/status", &[]);
    let served: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(served["instances"]["config_mismatch"], true);

    // The second file is fixed; its instance reloads it and the fleet agrees again.
    let fixed = std::fs::read_to_string(&config)
        .unwrap()
        .replace(&ports[0].to_string(), &ports[1].to_string());
    std::fs::write(second.path().join("tributary.toml"), fixed).unwrap();
    wait_for(
        Duration::from_secs(20),
        "the configurations to agree",
        || status(first.path())["instances"]["config_mismatch"] == false,
    );
    let table = crate::support::stdout(&run_tributary(first.path(), &config, &["status"]));
    assert!(table.contains("instances: 2 live; "), "{table}");
    assert!(!table.contains("MISMATCH"), "{table}");
}
