//! The text the pipeline stores for an entry, beyond one page's extraction, through the real
//! pipeline against loopback sites:
//! - a site's furniture learnt from its other pages: a press office ends every release with the
//!   same "about us" paragraph and the same media line, inside the article's container, in
//!   plain `<p>`s that no class or vocabulary gives away. Once the pipeline has read two
//!   releases of other stories from that site, the next releases are stored without them;
//! - a page that gives much less than the feed's own content (the rest behind a paywall)
//!   leaves the feed's content as the text.

use std::sync::Arc;

use tributary::config::Config;
use tributary::fetch::Fetcher;
use tributary::pipeline::{Context, poll_all};
use tributary::store::{Store, latest_stories};

use crate::support::{Page, Site};

const ABOUT: &str = "Northwind Cooperative runs forty grain terminals along the river valley \
     and buys harvests from some twelve hundred member farms, which own it in equal shares.";
const MEDIA: &str =
    "Reporters may call the communication office on weekdays between nine and five.";

/// Five releases on different subjects: (subject, two paragraphs of their own).
const STORIES: [(&str, &str, &str); 5] = [
    (
        "wheat",
        "The first wheat shipment of the season left the northern terminal on Tuesday, loaded \
         with more grain than any opening cargo before it after a harvest farmers call the best \
         in a decade.",
        "Barges will carry the rest of the crop downstream through December, weather allowing, \
         and the lock keepers have agreed to longer opening hours until the ice comes.",
    ),
    (
        "board",
        "Members elected three new directors at the autumn assembly, among them the youngest \
         farmer ever to sit on the board, who grows lentils on a family holding near the ford.",
        "The outgoing chair thanked the staff for a difficult year of floods and fuel prices and \
         handed over the minutes of forty meetings to her successor.",
    ),
    (
        "solar",
        "Solar panels now cover the roofs of six storage halls, and the cooperative expects them \
         to supply a third of the electricity its dryers and conveyors use in a normal year.",
        "The installation was paid for by a green loan that members approved last winter, to be \
         repaid from the savings on the grid bill over twelve years.",
    ),
    (
        "school",
        "An agricultural school will open in the old seed warehouse next September, offering \
         evening courses in soil science, machinery repair and farm accounting to members' children.",
        "Two retired agronomists have volunteered to teach the first classes, and the regional \
         council has promised a grant for laboratory equipment.",
    ),
    (
        "rail",
        "The rail spur to the southern silo reopened after eighteen months of repairs, so trains \
         can again load directly at the silo instead of queueing at the junction yard.",
        "Engineers replaced the wooden bridge over the drainage canal with a steel span rated for \
         heavier wagons than the line has ever carried.",
    ),
];

/// A release: its own headline and two paragraphs, then the site's two standing paragraphs.
fn release(number: usize) -> String {
    let (subject, first, second) = STORIES[number];
    format!(
        "<!doctype html><html><head><title>{subject}</title></head><body>\
         <nav><a href=\"/\">Home</a> <a href=\"/news\">News</a></nav>\
         <main><article><h1>News about the {subject}</h1>\
         <p>{first}</p><p>{second}</p><p>{ABOUT}</p><p>{MEDIA}</p>\
         </article></main><footer>© Northwind</footer></body></html>"
    )
}

fn feed(site: &Site, releases: std::ops::Range<usize>) -> Page {
    let items: String = releases
        .map(|number| {
            format!(
                "<item><title>Release {number}</title><link>{base}/news/{number}</link>\
                 <guid>release-{number}</guid>\
                 <pubDate>Tue, 0{day} Dec 2026 10:00:00 GMT</pubDate>\
                 <description>Short summary {number}.</description></item>",
                base = site.base(),
                day = number + 1,
            )
        })
        .collect();
    Page::ok(
        "application/rss+xml",
        format!(
            "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Northwind news</title>\
             <link>{}</link><description>Releases</description>{items}</channel></rss>",
            site.base()
        ),
    )
}

/// The real pipeline on a fresh SQLite store (or `database`, a PostgreSQL URL), polling one
/// source at `site`'s `/feed.xml` with full text; `source_extra` adds lines to the source's
/// table. The site's memory lives as long as the pipeline, across its passes.
struct Pipeline {
    folder: tempfile::TempDir,
    config_text: String,
    runtime: tokio::runtime::Runtime,
    context: Context,
}

impl Pipeline {
    fn start(site: &Site, source_extra: &str) -> Pipeline {
        Pipeline::start_on(site, source_extra, None)
    }

    fn start_on(site: &Site, source_extra: &str, database: Option<String>) -> Pipeline {
        let folder = tempfile::tempdir().unwrap();
        let database = database.unwrap_or_else(|| folder.path().join("t.db").display().to_string());
        let config_text = format!(
            "database = \"{database}\"\n[fetch]\nallow_private_networks = true\n\
             per_host_delay = \"10ms\"\n[[sources]]\nname = \"site\"\n\
             url = \"{}/feed.xml\"\nfull_text = true\n{source_extra}\n",
            site.base()
        );
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let context = Pipeline::context(&runtime, &config_text);
        Pipeline {
            folder,
            config_text,
            runtime,
            context,
        }
    }

    /// A new process in effect: a new context (an empty site memory) on the same store.
    fn restart(self) -> Pipeline {
        let Pipeline {
            folder,
            config_text,
            runtime,
            context,
        } = self;
        drop(context);
        let context = Pipeline::context(&runtime, &config_text);
        Pipeline {
            folder,
            config_text,
            runtime,
            context,
        }
    }

    fn context(runtime: &tokio::runtime::Runtime, config_text: &str) -> Context {
        let config = Config::from_str(config_text, std::path::Path::new("t.toml")).unwrap();
        let store = runtime
            .block_on(Store::open_async(&config.database))
            .unwrap();
        store.set_dedupe_policy(config.dedupe_policy());
        Context {
            fetcher: Fetcher::new(&config.fetch).unwrap(),
            store,
            config: Arc::new(config),
            sites: Arc::default(),
            stopping: Default::default(),
        }
    }

    fn poll(&self) {
        self.runtime.block_on(poll_all(&self.context, true, |_| {}));
    }

    fn stories(&self) -> Vec<tributary::store::StoredStory> {
        self.runtime
            .block_on(
                self.context
                    .store
                    .call(|connection| latest_stories(connection, 10)),
            )
            .unwrap()
    }
}

/// A loopback site serving the first `count` releases, its feed listing the first three.
fn site_with_releases(count: usize) -> Site {
    let site = Site::start();
    for number in 0..count {
        site.set(
            &format!("/news/{number}"),
            Page::ok("text/html; charset=utf-8", release(number)),
        );
    }
    site.set("/feed.xml", feed(&site, 0..3));
    site
}

#[test]
fn a_sites_standing_paragraphs_are_dropped_once_other_stories_showed_them() {
    let site = site_with_releases(5);
    let pipeline = Pipeline::start(&site, "");
    // First pass: three releases, read one after another; the site's memory fills.
    pipeline.poll();
    // Second pass: two more releases, each read with three earlier ones in memory.
    site.set("/feed.xml", feed(&site, 0..5));
    pipeline.poll();
    let stories = pipeline.stories();
    assert_eq!(stories.len(), 5, "{stories:#?}");
    let text_of = |number: usize| {
        let title = format!("Release {number}");
        stories
            .iter()
            .find(|story| story.title == title)
            .and_then(|story| story.text.clone())
            .unwrap_or_else(|| panic!("no text for {title}"))
    };
    for (number, (_, first, second)) in STORIES.iter().enumerate() {
        let text = text_of(number);
        assert!(text.contains(&first[..60]), "{text}");
        assert!(text.contains(&second[..60]), "{text}");
    }
    for number in [3, 4] {
        let text = text_of(number);
        assert!(!text.contains("Northwind Cooperative runs"), "{text}");
        assert!(!text.contains("communication office"), "{text}");
    }
    // The first release had no earlier page to compare with: it keeps them.
    assert!(text_of(0).contains("Northwind Cooperative runs"));
}

/// The site's memory is in the store: after a restart (a new pipeline on the same store, its
/// memory empty), the fourth release is compared with the three read before and loses the
/// standing paragraphs at once.
fn the_site_memory_survives_a_restart_on(database: Option<String>) {
    let site = site_with_releases(4);
    let pipeline = Pipeline::start_on(&site, "", database);
    pipeline.poll();
    let pipeline = pipeline.restart();
    site.set("/feed.xml", feed(&site, 0..4));
    pipeline.poll();
    let stories = pipeline.stories();
    assert_eq!(stories.len(), 4, "{stories:#?}");
    let fourth = stories
        .iter()
        .find(|story| story.title == "Release 3")
        .and_then(|story| story.text.clone())
        .expect("the fourth release's text");
    assert!(fourth.contains(&STORIES[3].1[..60]), "{fourth}");
    assert!(!fourth.contains("Northwind Cooperative runs"), "{fourth}");
    assert!(!fourth.contains("communication office"), "{fourth}");
    assert_eq!(
        site.requests_to("/news/0").len(),
        1,
        "read once, before the restart"
    );
}

#[test]
fn the_site_memory_survives_a_restart() {
    the_site_memory_survives_a_restart_on(None);
}

#[test]
fn the_site_memory_survives_a_restart_on_postgres() {
    the_site_memory_survives_a_restart_on(Some(crate::test_cluster::fresh_database()));
}

#[test]
fn updated_versions_of_one_story_keep_their_shared_paragraphs() {
    let site = Site::start();
    // Each update leads with a new paragraph (under half of the page) over the same two
    // paragraphs of background.
    let story = |version: usize| {
        let lead = [
            "Morning: the water stood at its highest at dawn and the authorities extended the \
             evacuation order to three more villages downstream of the old mill and the ferry, where the road is already under water.",
            "Noon: the level fell by a hand's breadth before midday, but the authorities kept the \
             evacuation order in force for the villages downstream of the old mill and the ferry, where the road is already under water.",
            "Evening: a second crest is expected overnight, and the fire brigade has brought pumps \
             from the neighbouring district to the villages downstream of the mill and the ferry, where the road is already under water.",
            "Night: the second crest passed without breaking the dykes, and the first families were \
             allowed back into the villages downstream of the old mill and the ferry after dark, where the road had been under water.",
        ][version];
        format!(
            "<!doctype html><html><body><article><h1>Flood update {version}</h1>\
             <p>{lead}</p>\
             <p>The river rose through the night after two days of rain upstream, and the \
             dykes along the eastern bank were reinforced by volunteers until dawn.</p>\
             <p>Schools in the district stay closed, and the regional train line runs buses \
             between the two stations nearest the flooded section of track.</p>\
             </article></body></html>"
        )
    };
    for version in 0..4 {
        site.set(
            &format!("/news/{version}"),
            Page::ok("text/html; charset=utf-8", story(version)),
        );
    }
    site.set("/feed.xml", feed(&site, 0..2));
    let pipeline = Pipeline::start(&site, "dedupe = false");
    pipeline.poll();
    site.set("/feed.xml", feed(&site, 0..4));
    pipeline.poll();
    let stories = pipeline.stories();
    let texts: Vec<String> = stories.iter().filter_map(|s| s.text.clone()).collect();
    assert_eq!(
        texts.len(),
        4,
        "every version stored on its own: {stories:#?}"
    );
    for text in &texts {
        assert!(text.contains("dykes along the eastern bank"), "{text}");
        assert!(text.contains("regional train line"), "{text}");
    }
}

/// A feed of one entry linking `/news/0`, its whole text in `content:encoded`.
fn content_feed(site: &Site, title: &str, content_html: &str) -> Page {
    Page::ok(
        "application/rss+xml",
        format!(
            "<?xml version=\"1.0\"?><rss version=\"2.0\" \
             xmlns:content=\"http://purl.org/rss/1.0/modules/content/\"><channel>\
             <title>News</title><link>{base}</link><description>News</description>\
             <item><title>{title}</title><link>{base}/news/0</link>\
             <guid>story-0</guid><pubDate>Mon, 30 Nov 2026 10:00:00 GMT</pubDate>\
             <description>A short summary.</description>\
             <content:encoded><![CDATA[{content_html}]]></content:encoded></item>\
             </channel></rss>",
            base = site.base()
        ),
    )
}

#[test]
fn a_page_showing_less_than_half_of_the_feeds_text_leaves_the_feeds_content() {
    let site = Site::start();
    let paragraphs = [
        "The harbour authority approved the new ferry timetable on Monday after a month of \
         consultation with the island councils and the crews' unions.",
        "From March the first boat leaves at six instead of seven, and the last one returns at \
         eleven at night on Fridays and Saturdays throughout the summer season.",
        "Fares stay as they are for residents, while visitors will pay a small supplement in \
         July and August to fund the second boat that the islands asked for.",
        "The councils said the earlier crossing would let pupils reach the mainland school \
         without the early bus, which many families had complained about for years.",
    ];
    let full: String = paragraphs.iter().map(|p| format!("<p>{p}</p>")).collect();
    // The page shows the first paragraph; the rest is behind a subscription.
    site.set(
        "/news/0",
        Page::ok(
            "text/html; charset=utf-8",
            format!(
                "<!doctype html><html><body><article><h1>New ferry timetable</h1>\
                 <p>{}</p><div class=\"subscribe\"><a href=\"/subscribe\">Subscribe to \
                 read on</a></div></article></body></html>",
                paragraphs[0]
            ),
        ),
    );
    site.set(
        "/feed.xml",
        content_feed(&site, "New ferry timetable", &full),
    );
    let pipeline = Pipeline::start(&site, "");
    pipeline.poll();
    let stories = pipeline.stories();
    assert_eq!(stories.len(), 1, "{stories:#?}");
    let html = stories[0].content_html.clone().unwrap_or_default();
    for paragraph in paragraphs {
        assert!(html.contains(&paragraph[..50]), "{html}");
    }
    // The page was fetched and read all the same.
    assert!(!site.requests_to("/news/0").is_empty());
}

#[test]
fn a_page_whose_extraction_took_another_block_leaves_the_feeds_content() {
    let site = Site::start();
    let story = [
        "Dredging of the inner harbour began on Monday morning after two years of delays.",
        "Two barges will work in shifts until the channel is four metres deeper than today.",
        "The port expects larger ferries to berth at the old quay from next summer onwards.",
    ];
    // What the page shows only to subscribers, and the feed carries whole.
    let rest = [
        "Fishermen will keep their moorings on the north wall during the whole of the work.",
        "The council will publish the noise measurements taken at the quay every week online.",
        "Residents of the harbour streets can ask for double glazing paid for by the port.",
        "The harbour master said the last dredging, in the seventies, took a whole winter.",
        "Divers surveyed the channel in October and found two wrecks that will be left alone.",
        "The work is paid for by the port, the region and a loan from the national bank.",
    ];
    // A block of link-led walk notes, longer than the short story after it on the page (a
    // teaser run the extractor now leaves out): either way the page's text covers the story's
    // three lines, a third of what the feed carries, so the feed's content stays.
    let walks: String = (0..8)
        .map(|n| {
            format!(
                "<p><a href=\"/walks/{n}\">Coastal walk number {n} of the season</a> A walk \
                 along the coast path from the lighthouse to the dunes, past the old mill, past \
                 the old mill, past the old mill takes about two hours in good weather and \
                 rewards the walker with a view of the bay.</p>"
            )
        })
        .collect();
    let paragraphs =
        |lines: &[&str]| -> String { lines.iter().map(|p| format!("<p>{p}</p>")).collect() };
    site.set(
        "/news/0",
        Page::ok(
            "text/html; charset=utf-8",
            format!(
                "<!doctype html><html lang=\"en\"><head><title>Harbour dredging begins</title>\
                 </head><body><div class=\"top\"><a href=\"/\">Home</a></div>\
                 <div class=\"more\"><div class=\"walks\">{walks}</div></div>\
                 <div class=\"main\"><div class=\"story\"><h1>Harbour dredging begins</h1>\
                 {}</div></div></body></html>",
                paragraphs(&story)
            ),
        ),
    );
    let full = paragraphs(&story) + &paragraphs(&rest);
    site.set(
        "/feed.xml",
        content_feed(&site, "Harbour dredging begins", &full),
    );
    let pipeline = Pipeline::start(&site, "");
    pipeline.poll();
    let stories = pipeline.stories();
    assert_eq!(stories.len(), 1, "{stories:#?}");
    let html = stories[0].content_html.clone().unwrap_or_default();
    for line in story.iter().chain(&rest) {
        assert!(html.contains(line), "{html}");
    }
    assert!(!html.contains("coast path"), "{html}");
}
