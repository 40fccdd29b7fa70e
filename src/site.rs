//! The river, topic pages and topic feeds: which stored stories each shows (filters, tags),
//! rendered once per change beside the merged feed.
//!
//! A story enters the merged feeds when one of the sources that carried it admits it (its
//! `include` / `exclude` filters, over the story's title and text; a source no longer in the
//! config admits everything). Its topics are the tags of the sources that admit it. Filtering
//! happens here, at render time, so an excluded entry stays stored and a filter changed by a
//! reload applies without fetching anything again.

use std::collections::HashMap;

use crate::config::{Config, OutputFormat};
use crate::publish::html::river::{self, PAGE_SIZE, RiverPage};
use crate::publish::html::{Alternate, Shell, tag_segment};
use crate::publish::{self, FeedMeta, PublishedEntry};
use crate::store::{self, Connection, StoreError, StoredStory};

/// How many admitted stories the river pages show (and topic feeds look among).
pub const RIVER_DEPTH: usize = 400;

/// Stories read per query while looking for admitted ones.
const BATCH: usize = 200;

/// Stories read at most per admitted story wanted, so that filters excluding nearly everything
/// cannot make a render read the whole store. The bound follows what the render wants
/// (`wanted`: `[output] max_entries` or the river's depth): a fixed bound would silently cap a
/// large `max_entries` (it once gave 8,000 entries to a feed configured for a million).
const SCAN_FACTOR: usize = 20;

/// An admitted story and the topics it belongs to.
#[derive(Debug, Clone)]
pub struct Admitted {
    pub story: StoredStory,
    pub tags: Vec<String>,
}

/// How many stories a render needs: the merged feed's and the river's, whichever is more.
pub fn wanted(config: &Config) -> usize {
    config.output.max_entries.max(RIVER_DEPTH)
}

/// How many stories a render reads at most to find `wanted` admitted ones.
pub fn scan_limit(wanted: usize) -> usize {
    wanted.saturating_mul(SCAN_FACTOR)
}

/// Reads stories newest first, keeping those the config's filters admit, until `wanted`
/// are found (or the store runs out, or [`scan_limit`] stories were read: filters admitting
/// fewer than one story in `SCAN_FACTOR` leave the feeds shorter). Runs on the store's thread.
pub fn load_admitted(
    connection: &mut Connection,
    config: &Config,
    wanted: usize,
) -> Result<Vec<Admitted>, StoreError> {
    let mut admitted = Vec::new();
    let mut after = None;
    let mut scanned = 0;
    let limit = scan_limit(wanted);
    while admitted.len() < wanted && scanned < limit {
        let size = BATCH.min(limit - scanned);
        let batch = store::stories_before(connection, after, size)?;
        scanned += batch.len();
        let Some(last) = batch.last() else { break };
        after = Some(last.cursor);
        let full = batch.len() == size;
        admitted.extend(batch.into_iter().filter_map(|story| admit(config, story)));
        if !full {
            break;
        }
    }
    admitted.truncate(wanted);
    Ok(admitted)
}

/// The story with its topics when a source that carried it admits it, else `None`.
pub fn admit(config: &Config, story: StoredStory) -> Option<Admitted> {
    let text = story
        .text
        .as_deref()
        .or(story.summary.as_deref())
        .unwrap_or("");
    let mut admitted_by_any = false;
    let mut tags: Vec<String> = Vec::new();
    for carrier in &story.sources {
        let Some(source) = config.source(&carrier.name) else {
            admitted_by_any = true;
            continue;
        };
        if source.filter.admits(&story.title, text) {
            admitted_by_any = true;
            for tag in &source.tags {
                if !tags.contains(tag) {
                    tags.push(tag.clone());
                }
            }
        }
    }
    (admitted_by_any || story.sources.is_empty()).then_some(Admitted { story, tags })
}

/// Every configured topic, in the order the config first names them.
pub fn all_tags(config: &Config) -> Vec<String> {
    let mut tags: Vec<String> = Vec::new();
    for source in &config.sources {
        for tag in &source.tags {
            if !tags.contains(tag) {
                tags.push(tag.clone());
            }
        }
    }
    tags
}

/// The page shell from the config.
pub fn shell(config: &Config) -> Shell {
    Shell {
        site_title: config.output.title.clone(),
        description: config.output.description.clone(),
        tags: all_tags(config),
    }
}

/// One rendered body, keyed by the (decoded) path it is served at.
pub type Pages = HashMap<String, (String, &'static str)>;

/// The lead images the pages show, by the path they are served at (`/images/{hash}`): the
/// only URLs the image route fetches.
pub fn lead_images(entries: &[PublishedEntry]) -> HashMap<String, String> {
    entries
        .iter()
        .filter_map(|entry| entry.image.as_deref())
        .filter(|url| url.starts_with("https://") || url.starts_with("http://"))
        .map(|url| (crate::publish::html::image_path(url), url.to_string()))
        .collect()
}

/// Renders the river pages, and for each topic its river pages and three feeds. `entries` are
/// the admitted stories newest first, `tags` each one's topics.
pub fn render_pages(
    config: &Config,
    entries: &[PublishedEntry],
    tags: &[Vec<String>],
    updated: chrono::DateTime<chrono::Utc>,
) -> Pages {
    let shell = shell(config);
    let mut pages = Pages::new();
    // A story shows on the river and on its topics' pages: render it once.
    let stories: Vec<String> = entries.iter().map(river::story_html).collect();
    let river_stories = &stories[..stories.len().min(RIVER_DEPTH)];
    let alternates = Alternate::three(&config.output.title, "/feed");
    add_river(
        &mut pages,
        &shell,
        &shell.site_title,
        "",
        river_stories,
        &alternates,
    );
    for tag in &shell.tags {
        let indexes: Vec<usize> = (0..entries.len())
            .filter(|index| tags[*index].contains(tag))
            .collect();
        let tagged_stories: Vec<String> = indexes.iter().map(|i| stories[*i].clone()).collect();
        let path = format!("/tags/{tag}");
        let title = format!("{} · #{tag}", config.output.title);
        let mut alternates = Alternate::three(&title, &format!("/tags/{}", tag_segment(tag)));
        alternates.extend(Alternate::three(&config.output.title, "/feed"));
        add_river(
            &mut pages,
            &shell,
            &format!("#{tag}"),
            &path,
            &tagged_stories,
            &alternates,
        );
        let tagged: Vec<PublishedEntry> = indexes
            .iter()
            .take(config.output.max_entries)
            .map(|i| entries[*i].clone())
            .collect();
        add_tag_feeds(&mut pages, config, tag, &tagged, updated);
    }
    pages
}

fn add_river(
    pages: &mut Pages,
    shell: &Shell,
    heading: &str,
    base: &str,
    stories: &[String],
    alternates: &[Alternate],
) {
    let page_count = stories.len().div_ceil(PAGE_SIZE).max(1);
    for number in 1..=page_count {
        let start = (number - 1) * PAGE_SIZE;
        let slice = &stories[start.min(stories.len())..(start + PAGE_SIZE).min(stories.len())];
        // Page 1 links to its siblings by their encoded path; keys are decoded paths.
        let encoded_base = match base.strip_prefix("/tags/") {
            Some(tag) => format!("/tags/{}", tag_segment(tag)),
            None => base.to_string(),
        };
        let html = river::render(
            shell,
            &RiverPage {
                heading: heading.to_string(),
                base: encoded_base,
                number,
                page_count,
                stories: slice,
                alternates: alternates.to_vec(),
            },
        );
        pages.insert(
            river::page_path(base, number),
            (html, "text/html; charset=utf-8"),
        );
    }
}

fn add_tag_feeds(
    pages: &mut Pages,
    config: &Config,
    tag: &str,
    entries: &[PublishedEntry],
    updated: chrono::DateTime<chrono::Utc>,
) {
    let meta = FeedMeta {
        title: format!("{} · #{tag}", config.output.title),
        description: config.output.description.clone(),
        public_url: config.public_url.clone(),
        updated: entries.iter().map(|e| e.updated).max().unwrap_or(updated),
        topic: Some(tag.to_string()),
        links: Default::default(),
    };
    for (format, extension) in [
        (OutputFormat::Atom, "atom"),
        (OutputFormat::Rss, "rss"),
        (OutputFormat::Json, "json"),
    ] {
        let body = publish::render_with(&meta, entries, format, &config.video_hosts);
        pages.insert(
            format!("/tags/{tag}.{extension}"),
            (body, publish::content_type(format)),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{StoredSource, StoryCursor};

    fn config() -> Config {
        Config::from_str(
            r#"
            [[sources]]
            name = "tech"
            url = "https://tech.example/feed"
            tags = ["tech", "日本"]
            exclude = ["sponsored", "/promo(tion)?s?/"]

            [[sources]]
            name = "paris"
            url = "https://paris.example/feed"
            tags = ["économie"]
            include = ["élection", "/budg[eé]t/"]
            "#,
            std::path::Path::new("t.toml"),
        )
        .unwrap()
    }

    fn story(title: &str, text: &str, sources: &[&str]) -> StoredStory {
        StoredStory {
            uid: format!("urn:{title}"),
            title: title.into(),
            link: None,
            published: chrono::DateTime::UNIX_EPOCH,
            updated: chrono::DateTime::UNIX_EPOCH,
            content_html: None,
            summary: None,
            authors: vec![],
            categories: vec![],
            enclosures: vec![],
            image: None,
            text: Some(text.into()),
            sources: sources
                .iter()
                .map(|name| StoredSource {
                    name: name.to_string(),
                    link: None,
                    feed_url: None,
                    feed_title: None,
                    site_link: None,
                })
                .collect(),
            cursor: StoryCursor {
                published: 0,
                id: 1,
            },
        }
    }

    fn tags_of(title: &str, text: &str, sources: &[&str]) -> Option<Vec<String>> {
        admit(&config(), story(title, text, sources)).map(|admitted| admitted.tags)
    }

    #[test]
    fn filters_decide_and_tags_follow_the_admitting_sources() {
        assert_eq!(
            tags_of("Rust 2024", "", &["tech"]).unwrap(),
            ["tech", "日本"]
        );
        assert_eq!(tags_of("Great PROMOS today", "", &["tech"]), None);
        assert_eq!(
            tags_of("Le temps", "pluie", &["paris"]),
            None,
            "include misses"
        );
        assert_eq!(
            tags_of("Le BUDGÉT voté", "", &["paris"]).unwrap(),
            ["économie"]
        );
        assert_eq!(
            tags_of("Élection", "sponsored", &["tech", "paris"]).unwrap(),
            ["économie"],
            "one admitting source is enough, and only its tags count"
        );
        assert_eq!(
            tags_of("x", "", &["gone-from-config"]).unwrap(),
            Vec::<String>::new()
        );
    }

    /// `count` stories of source `a`, one per minute, titled "old N" for the oldest `old`
    /// and "new N" for the others, in one pass.
    fn store_of(count: usize, old: usize) -> crate::store::Store {
        let store = crate::store::Store::open_in_memory().unwrap();
        let items: Vec<store::NewItem> = (0..count)
            .map(|n| {
                let url = format!("https://a.example/{n}");
                let title = if n < old { "old" } else { "new" };
                let published = chrono::DateTime::UNIX_EPOCH + chrono::Duration::minutes(n as i64);
                store::NewItem {
                    entry_key: url.clone(),
                    link: Some(url.clone()),
                    canonical_urls: vec![url],
                    title: format!("{title} {n}"),
                    published,
                    updated: published,
                    content_html: None,
                    summary: None,
                    text: None,
                    authors: vec![],
                    categories: vec![],
                    enclosures: vec![],
                    image: None,
                    fingerprint: None,
                    extraction: crate::model::ExtractionStatus::NotRequested,
                    version: None,
                }
            })
            .collect();
        store
            .call_blocking(|connection| {
                let state = store::SourceState::new("a", "https://a.example/feed");
                let policy = store::DedupePolicy::default();
                store::commit_pass(connection, &policy, &state, &items, chrono::Utc::now())
            })
            .unwrap();
        store
    }

    fn config_with(output: &str, source: &str) -> Config {
        Config::from_str(
            &format!(
                "[output]\n{output}\n[[sources]]\nname = \"a\"\n\
                 url = \"https://a.example/feed\"\n{source}\n"
            ),
            std::path::Path::new("t.toml"),
        )
        .unwrap()
    }

    #[test]
    fn a_large_max_entries_is_not_capped_by_the_scan_bound() {
        // More stories than the old fixed bound (20 × the river's 400 = 8,000 read per render).
        let stories = 20 * RIVER_DEPTH + 100;
        let store = store_of(stories, 0);
        let config = config_with("max_entries = 1000000", "");
        let snapshot = crate::output::build_snapshot_blocking(&store, &config).unwrap();
        let atom = std::str::from_utf8(&snapshot.atom.body).unwrap();
        assert_eq!(atom.matches("<entry>").count(), stories);
        assert!(atom.contains(">new 0</title>"), "the oldest is there too");
    }

    #[test]
    fn filters_that_admit_almost_nothing_still_bound_a_render() {
        // Only the 100 oldest of 8,100 stories pass the filter: a render wanting 400 stops
        // after reading 20 × 400, short of them; one wanting 9,000 may read on and finds them.
        let stories = 20 * RIVER_DEPTH + 100;
        let store = store_of(stories, 100);
        let found = |max_entries: usize| {
            let config = config_with(
                &format!("max_entries = {max_entries}"),
                "include = [\"old\"]",
            );
            let wanted = wanted(&config);
            store
                .call_blocking(|connection| load_admitted(connection, &config, wanted))
                .unwrap()
                .len()
        };
        assert_eq!(scan_limit(RIVER_DEPTH), 20 * RIVER_DEPTH);
        assert_eq!(
            found(200),
            0,
            "bounded: the admitted ones are past 8,000 stories"
        );
        assert_eq!(found(9000), 100);
    }

    #[test]
    fn every_topic_gets_river_pages_and_three_feeds() {
        let config = config();
        let admitted: Vec<Admitted> = [
            story("Élection 1", "", &["paris"]),
            story("Tokyo", "東京", &["tech"]),
        ]
        .into_iter()
        .filter_map(|story| admit(&config, story))
        .collect();
        let entries: Vec<PublishedEntry> = admitted
            .iter()
            .map(|a| crate::output::to_published(a.story.clone()))
            .collect();
        let tags: Vec<Vec<String>> = admitted.iter().map(|a| a.tags.clone()).collect();
        let pages = render_pages(&config, &entries, &tags, chrono::Utc::now());
        for path in [
            "/",
            "/tags/économie",
            "/tags/économie.atom",
            "/tags/日本.json",
            "/tags/tech.rss",
        ] {
            assert!(pages.contains_key(path), "{path}: {:?}", pages.keys());
        }
        let (economy, _) = &pages["/tags/économie"];
        assert!(economy.contains("Élection 1") && !economy.contains("Tokyo"));
        let (atom, content_type) = &pages["/tags/économie.atom"];
        assert!(content_type.starts_with("application/atom+xml"));
        assert!(
            atom.contains("href=\"http://127.0.0.1:8080/tags/%C3%A9conomie.atom\""),
            "{atom}"
        );
        assert!(pages["/"].0.contains("Tokyo") && pages["/"].0.contains("Élection 1"));
    }
}
