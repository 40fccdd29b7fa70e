//! The pages in a real browser: headless Chromium (Debian package `chromium`, installed by
//! scripts/test.sh) loads the river, its older pages, a topic page and `/sources` from a
//! daemon fed by the loopback `Planet`, and the tests assert on the DOM it built: every story
//! and every source once, links that resolve, pagination, nothing requested from another
//! origin, and a screenshot that is not blank.
//!
//! A test fails (never skips) when Chromium is missing: run scripts/test.sh, which installs it.

use std::collections::{BTreeSet, HashSet};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use scraper::{Html, Selector};

use crate::daemon::http_get;
use crate::topics::{Planet, QUOTIDIEN_STORIES};

/// Every page the browser tests visit besides the river's older pages. The search page joins
/// this list when it exists (e.g. `/search?q=climat`): each page here gets the origin, link
/// and stylesheet checks of `check_page`.
const PAGES: &[&str] = &[
    "/",
    "/sources",
    "/tags/%E6%97%A5%E6%9C%AC",
    "/tags/world",
    "/search?q=geneve",
];

/// A `tributary run` daemon on the planet, killed when dropped.
struct Daemon {
    child: Child,
    port: u16,
}

impl Daemon {
    fn start(planet: &Planet) -> Daemon {
        let child = crate::support::tributary()
            .current_dir(planet.folder())
            .arg("--config")
            .arg(&planet.config)
            .arg("run")
            .env("TRIBUTARY_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let start = Instant::now();
        while TcpStream::connect(("127.0.0.1", planet.port)).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "daemon not listening"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Daemon {
            child,
            port: planet.port,
        }
    }

    fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Headless Chromium with a throw-away profile and every background service off, so the only
/// requests it makes are the page's.
fn chromium(profile: &Path) -> Command {
    let mut command = Command::new("chromium");
    command
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-default-apps",
            "--disable-extensions",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .stdin(Stdio::null())
        .stderr(Stdio::null());
    command
}

/// The DOM Chromium built for `url`, serialized (`--dump-dom`).
fn dump_dom(profile: &Path, url: &str) -> String {
    let output = chromium(profile)
        .arg("--dump-dom")
        .arg(url)
        .output()
        .expect("chromium is not installed: run scripts/test.sh (Debian package chromium)");
    assert!(output.status.success(), "chromium --dump-dom {url} failed");
    String::from_utf8(output.stdout).unwrap()
}

fn select<'a>(document: &'a Html, css: &str) -> Vec<scraper::ElementRef<'a>> {
    document.select(&Selector::parse(css).unwrap()).collect()
}

fn text(element: &scraper::ElementRef<'_>) -> String {
    element.text().collect::<String>().trim().to_string()
}

/// A page's own checks: the CSP header, the stylesheet and feed links, and every `src` and
/// `href` either on the server's origin or (for `<a>` only) a page of one of the planet's
/// sites. Returns the page's local links, for the caller to resolve.
fn check_page(daemon: &Daemon, planet: &Planet, path: &str, document: &Html) -> Vec<String> {
    let (status, headers, _) = http_get(daemon.port, path, &[]);
    assert_eq!(status, 200, "{path}");
    let csp = headers
        .iter()
        .find(|(name, _)| name == "content-security-policy")
        .map(|(_, value)| value.clone())
        .unwrap_or_default();
    assert!(csp.contains("default-src 'self'"), "{path}: CSP {csp:?}");
    assert_eq!(select(document, "html[lang]").len(), 1, "{path}: lang");
    assert_eq!(select(document, "h1").len(), 1, "{path}: one h1");
    assert_eq!(
        select(document, "link[rel=stylesheet][href='/style.css']").len(),
        1,
        "{path}"
    );
    assert!(
        !select(document, "link[rel=alternate][type='application/atom+xml']").is_empty(),
        "{path}: a feed link"
    );
    for image in select(document, "img") {
        assert!(
            image.value().attr("alt").is_some(),
            "{path}: img without alt"
        );
    }
    let base = daemon.base();
    let sites = [
        planet.quotidien.base(),
        planet.wire.base(),
        planet.tokyo.base(),
    ];
    let mut local = Vec::new();
    for element in select(document, "[src], [href]") {
        let tag = element.value().name();
        for attribute in ["src", "href"] {
            let Some(value) = element.value().attr(attribute) else {
                continue;
            };
            let relative = value.strip_prefix(&base).unwrap_or(value);
            if relative.starts_with('/') && !relative.starts_with("//") {
                local.push(relative.to_string());
            } else {
                assert!(
                    tag == "a" && attribute == "href" && sites.iter().any(|s| value.starts_with(s)),
                    "{path}: <{tag} {attribute}={value:?}> leaves the origin"
                );
            }
        }
    }
    local
}

/// Titles of the stories on a river page, and its older page's path.
fn river_page(document: &Html) -> (Vec<String>, Option<String>, Option<String>) {
    let titles = select(document, "article.story h2")
        .iter()
        .map(text)
        .collect();
    let link = |rel: &str| {
        select(document, &format!("nav.pages a[rel={rel}]"))
            .first()
            .and_then(|a| a.value().attr("href").map(String::from))
    };
    (titles, link("next"), link("prev"))
}

#[test]
fn the_pages_in_a_browser_show_every_story_and_source_once_and_load_nothing_from_elsewhere() {
    let planet = Planet::start();
    planet.poll();
    let daemon = Daemon::start(&planet);
    let profile = tempfile::tempdir().unwrap();
    let base = daemon.base();
    let mut local_links = BTreeSet::new();

    // The river, walked from the newest page to the oldest by its "older" links.
    let mut seen = Vec::new();
    let mut path = "/".to_string();
    let mut previous: Option<String> = None;
    let mut pages = 0;
    loop {
        let document = Html::parse_document(&dump_dom(profile.path(), &format!("{base}{path}")));
        local_links.extend(check_page(&daemon, &planet, &path, &document));
        let (titles, next, prev) = river_page(&document);
        assert_eq!(prev, previous, "{path}: the newer page's link");
        assert!(
            !titles.is_empty() && titles.len() <= 20,
            "{path}: {titles:?}"
        );
        seen.extend(titles);
        pages += 1;
        previous = Some(path.clone());
        match next {
            Some(next) => path = next,
            None => break,
        }
    }
    let expected = QUOTIDIEN_STORIES + 1 + 2;
    assert_eq!(pages, expected.div_ceil(20));
    assert_eq!(seen.len(), expected, "{seen:?}");
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), expected, "every story once");
    let merged: BTreeSet<String> = planet.merged_titles().into_iter().collect();
    assert_eq!(seen.iter().cloned().collect::<BTreeSet<_>>(), merged);
    assert!(
        !seen
            .iter()
            .any(|t| t.starts_with("Publicité") || t.contains("京都"))
    );

    // The front page: the story two sites carried names each of them once; excerpts expand.
    let front = Html::parse_document(&dump_dom(profile.path(), &format!("{base}/")));
    let story = select(&front, "article.story")
        .into_iter()
        .find(|article| text(article).contains("Sommet sur le climat"))
        .expect("the shared story");
    let mut sources: Vec<String> = select_in(&story, ".sources a.source")
        .iter()
        .map(text)
        .collect();
    sources.sort();
    assert_eq!(sources, ["Le Quotidien", "World Wire"]);
    assert_eq!(select_in(&story, "time[datetime]").len(), 1);
    let economy = select(&front, "article.story")
        .into_iter()
        .find(|article| text(article).contains("n° 1 :"))
        .expect("story 1");
    let full = select_in(&economy, "details .full")
        .iter()
        .map(text)
        .collect::<String>();
    assert!(full.contains("Deuxième paragraphe"), "{full}");

    // A topic page in Japanese, the sources page, and whatever `PAGES` lists.
    for path in PAGES {
        let document = Html::parse_document(&dump_dom(profile.path(), &format!("{base}{path}")));
        local_links.extend(check_page(&daemon, &planet, path, &document));
        if *path == "/tags/%E6%97%A5%E6%9C%AC" {
            let (titles, _, _) = river_page(&document);
            assert_eq!(titles, ["東京で新しい駅が開業", "大阪万博の跡地計画"]);
            assert_eq!(text(&select(&document, "h1")[0]), "#日本");
        }
        if *path == "/search?q=geneve" {
            // Accents are ignored: "geneve" finds "Genève", the story two sites carried, once.
            let found: Vec<String> = select(&document, "ol.results h2")
                .iter()
                .map(text)
                .collect();
            assert_eq!(found, ["Sommet sur le climat : accord à Genève"]);
            assert_eq!(select(&document, "link[href=\"/style.css\"]").len(), 1);
        }
        if *path == "/sources" {
            let sections = select(&document, "section.source");
            assert_eq!(sections.len(), 3);
            for section in &sections {
                assert_eq!(select_in(section, "svg.chart").len(), 1);
                assert_eq!(text(&select_in(section, ".health")[0]), "ok");
            }
        }
    }

    // The Tokyo story's lead image comes from the server, which fetched it from the site.
    let japan = Html::parse_document(&dump_dom(
        profile.path(),
        &format!("{base}/tags/%E6%97%A5%E6%9C%AC"),
    ));
    let leads = select(&japan, "article.story img.lead");
    assert_eq!(leads.len(), 1, "one story has a lead image");
    let source = leads[0].value().attr("src").unwrap();
    assert!(source.starts_with("/images/"), "{source}");
    assert_eq!(leads[0].value().attr("alt"), Some("東京で新しい駅が開業"));
    let (status, headers, body) = http_get(daemon.port, source, &[]);
    assert_eq!(status, 200);
    assert!(headers.contains(&("content-type".into(), "image/png".into())));
    assert_eq!(body, crate::topics::lead_png());
    assert_eq!(
        http_get(daemon.port, "/images/0123456789abcdef", &[]).0,
        404
    );

    // The stylesheet and the pages are cacheable: a strong ETag, then 304.
    for path in ["/style.css", "/", "/tags/world.atom"] {
        let (status, headers, _) = http_get(daemon.port, path, &[]);
        assert_eq!(status, 200, "{path}");
        let etag = headers
            .iter()
            .find(|(name, _)| name == "etag")
            .map(|(_, value)| value.clone())
            .expect("an ETag");
        let (again, _, body) = http_get(daemon.port, path, &[("If-None-Match", &etag)]);
        assert_eq!((again, body.len()), (304, 0), "{path}");
    }

    // Every local link resolves.
    for link in &local_links {
        let (status, _, _) = http_get(daemon.port, link, &[]);
        assert_eq!(status, 200, "{link}");
    }
    assert!(local_links.contains("/style.css") && local_links.contains("/feed.atom"));
    assert!(
        local_links.contains("/tags/%C3%A9conomie"),
        "{local_links:?}"
    );

    // Nothing the browser did reached the sites: the picture in story 1 was never loaded.
    for site in [&planet.quotidien, &planet.wire, &planet.tokyo] {
        for request in site.log() {
            let agent = request.user_agent.unwrap_or_default();
            assert!(
                !agent.contains("Chrome"),
                "the browser requested {}",
                request.path
            );
        }
    }
    assert!(planet.quotidien.requests_to("/images/photo.jpg").is_empty());
}

/// A reload that changes a filter re-renders the pages and feeds from the stored entries: the
/// advertisement appears on the river without any request to its site.
#[test]
fn a_reloaded_filter_changes_the_river_without_a_fetch() {
    let planet = Planet::start();
    planet.poll();
    let daemon = Daemon::start(&planet);
    let river = || String::from_utf8(http_get(daemon.port, "/", &[]).2).unwrap();
    assert!(river().contains("Sommet sur le climat"));
    assert!(!river().contains("Publicité"));
    let requests = planet.quotidien.log().len();
    planet.set_quotidien_filter("exclude = [\"/climat/\"]");
    let status = Command::new("kill")
        .arg("-HUP")
        .arg(daemon.child.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
    let start = Instant::now();
    while !river().contains("Publicité") {
        assert!(start.elapsed() < Duration::from_secs(20), "not re-rendered");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        river().contains("Sommet sur le climat"),
        "still admitted by the wire, which has no filter"
    );
    assert_eq!(
        planet.quotidien.log().len(),
        requests,
        "no fetch for a filter change"
    );
}

fn select_in<'a>(element: &scraper::ElementRef<'a>, css: &str) -> Vec<scraper::ElementRef<'a>> {
    element.select(&Selector::parse(css).unwrap()).collect()
}

/// The river's screenshot is a real page, not a blank one: its pixels vary. With
/// `TRIBUTARY_SCREENSHOT=path` it is also kept there (how docs/river.png is made).
#[test]
fn a_screenshot_of_the_river_is_not_blank() {
    let planet = Planet::start();
    planet.poll();
    let daemon = Daemon::start(&planet);
    let profile = tempfile::tempdir().unwrap();
    let png_path = profile.path().join("river.png");
    let status = chromium(profile.path())
        .arg("--window-size=1000,1300")
        .arg(format!("--screenshot={}", png_path.display()))
        .arg(format!("{}/", daemon.base()))
        .stdout(Stdio::null())
        .status()
        .expect("chromium is not installed: run scripts/test.sh (Debian package chromium)");
    assert!(status.success());
    let decoder = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(&png_path).unwrap(),
    ));
    let mut reader = decoder.read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
    let frame = reader.next_frame(&mut pixels).unwrap();
    assert_eq!((frame.width, frame.height), (1000, 1300));
    let channels = frame.color_type.samples();
    let luminance: Vec<f64> = pixels[..frame.buffer_size()]
        .chunks(channels)
        .map(|pixel| {
            0.2126 * f64::from(pixel[0])
                + 0.7152 * f64::from(pixel[1])
                + 0.0722 * f64::from(pixel[2])
        })
        .collect();
    let mean = luminance.iter().sum::<f64>() / luminance.len() as f64;
    let variance =
        luminance.iter().map(|l| (l - mean).powi(2)).sum::<f64>() / luminance.len() as f64;
    let dark = luminance.iter().filter(|l| **l < 128.0).count() as f64 / luminance.len() as f64;
    assert!(
        variance > 100.0,
        "a nearly uniform screenshot: variance {variance:.1}"
    );
    assert!(
        dark > 0.005 && dark < 0.5,
        "text on a light page: {:.3} dark",
        dark
    );
    if let Ok(keep) = std::env::var("TRIBUTARY_SCREENSHOT") {
        std::fs::copy(&png_path, keep).unwrap();
    }
}
