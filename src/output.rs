//! The merged feed as bytes: read from the store, rendered in the three formats once per
//! change, compressed once, and written atomically to a file when asked.
//!
//! The HTTP server only ever hands out a ready [`Snapshot`]; requests never render.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, RwLock};

use axum::http::{HeaderMap, HeaderValue, header};
use bytes::Bytes;
use chrono::{DateTime, Utc};

use crate::config::{Config, OutputFormat};
use crate::publish::{self, FeedMeta, PublishedEntry, SourceRef, archive};
use crate::store::{self, Store, StoreError, StoredSource, StoredStory};

/// One format of the merged feed, ready to serve.
///
/// The bodies are `Bytes` so a response shares them (a reference count, not a copy of up to
/// half a megabyte), and the response headers are built once here, not per request: see
/// [`Prepared`].
#[derive(Debug, Clone)]
pub struct Rendered {
    pub body: Bytes,
    /// The same bytes gzip-compressed, for clients that accept it.
    pub gzip: Bytes,
    /// A strong validator: a hash of the bytes.
    pub etag: String,
    pub last_modified: DateTime<Utc>,
    pub content_type: &'static str,
    /// The response headers of each answer, built with the bytes.
    pub prepared: Prepared,
}

/// The response headers of a [`Rendered`] document, ready to copy into a response: a request
/// then costs one clone of a small map (reference counts for the values) instead of
/// formatting a date, parsing the ETag and inserting eight headers.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// For a 200 with the plain bytes.
    pub plain: HeaderMap,
    /// For a 200 with the gzip bytes: `plain` plus `Content-Encoding: gzip`.
    pub gzip: HeaderMap,
    /// For a 304: what RFC 9110 (15.4.5) asks of one, the `ETag`, `Cache-Control` and `Vary`
    /// a 200 would carry, and no representation metadata (type, CSP, `Last-Modified`: the
    /// client keeps those of its stored copy). Half the bytes of the full head.
    pub not_modified: HeaderMap,
    /// Seconds since the epoch of `Last-Modified`, for `If-Modified-Since`.
    pub last_modified_secs: i64,
}

/// The `Cache-Control` of the merged feeds and the pages, which change with each poll.
pub const CACHE_SHORT: &str = "public, max-age=60";

/// The three formats rendered from the same stories.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub atom: Rendered,
    pub rss: Rendered,
    pub json: Rendered,
    /// The river pages, topic pages and topic feeds, by the (decoded) path they are served at
    /// (`/`, `/page/2`, `/tags/rust`, `/tags/rust.atom`...; see `site.rs`).
    pub pages: Arc<HashMap<String, Rendered>>,
    /// The pages' lead images: their URL by the path the pages load them from.
    pub images: Arc<HashMap<String, String>>,
}

impl Snapshot {
    pub fn get(&self, format: OutputFormat) -> &Rendered {
        match format {
            OutputFormat::Atom => &self.atom,
            OutputFormat::Rss => &self.rss,
            OutputFormat::Json => &self.json,
        }
    }

    /// The page or topic feed served at `path`, if there is one.
    pub fn page(&self, path: &str) -> Option<&Rendered> {
        self.pages.get(path)
    }
}

/// The latest snapshot, shared between the poller (writer) and the HTTP server (readers).
#[derive(Clone)]
pub struct FeedCache {
    current: Arc<RwLock<Arc<Snapshot>>>,
}

impl FeedCache {
    pub fn new(snapshot: Snapshot) -> FeedCache {
        FeedCache {
            current: Arc::new(RwLock::new(Arc::new(snapshot))),
        }
    }

    pub fn current(&self) -> Arc<Snapshot> {
        self.current
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    pub fn replace(&self, snapshot: Snapshot) {
        *self
            .current
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Arc::new(snapshot);
    }
}

/// Reads the newest stories the filters admit and renders the three formats, the river and
/// the topics' pages and feeds.
/// The config is shared, not cloned, with the store call: a clone of a 10,000-source config is
/// megabytes, once per render.
pub async fn build_snapshot(store: &Store, config: &Arc<Config>) -> Result<Snapshot, StoreError> {
    let owned = config.clone();
    let (admitted, max_id) = store
        .call(move |connection| {
            let admitted =
                crate::site::load_admitted(connection, &owned, crate::site::wanted(&owned))?;
            Ok((admitted, store::max_story_id(connection)?))
        })
        .await?;
    Ok(snapshot_from(config, admitted, max_id))
}

/// Synchronous twin of [`build_snapshot`] for the CLI.
pub fn build_snapshot_blocking(store: &Store, config: &Config) -> Result<Snapshot, StoreError> {
    let (admitted, max_id) = store.call_blocking(|connection| {
        let admitted = crate::site::load_admitted(connection, config, crate::site::wanted(config))?;
        Ok((admitted, store::max_story_id(connection)?))
    })?;
    Ok(snapshot_from(config, admitted, max_id))
}

/// The merged feed's three formats, the river and the topics' pages and feeds; `max_id` (the
/// highest story id) places the merged feed's `prev-archive` links.
fn snapshot_from(config: &Config, admitted: Vec<crate::site::Admitted>, max_id: i64) -> Snapshot {
    let (entries, tags): (Vec<PublishedEntry>, Vec<Vec<String>>) = admitted
        .into_iter()
        .map(|admitted| (to_published(admitted.story), admitted.tags))
        .unzip();
    let merged = &entries[..entries.len().min(config.output.max_entries)];
    let updated = newest_update(merged);
    let meta = FeedMeta {
        title: config.output.title.clone(),
        description: config.output.description.clone(),
        public_url: config.public_url.clone(),
        updated,
        topic: None,
        links: Default::default(),
    };
    let render = |format| {
        let mut links = archive::current_links(max_id, format);
        links.hub = config.output.hub.clone();
        let meta = FeedMeta {
            links,
            ..meta.clone()
        };
        let text = publish::render_with(&meta, merged, format, &config.video_hosts);
        rendered(text, updated, publish::content_type(format))
    };
    let pages = crate::site::render_pages(config, &entries, &tags, updated)
        .into_iter()
        .map(|(path, (text, content_type))| (path, rendered(text, updated, content_type)))
        .collect();
    Snapshot {
        atom: render(OutputFormat::Atom),
        rss: render(OutputFormat::Rss),
        json: render(OutputFormat::Json),
        pages: Arc::new(pages),
        images: Arc::new(crate::site::lead_images(&entries)),
    }
}

/// One archive page (RFC 5005, see `publish::archive`) rendered for a request, and whether it
/// is complete (so never changes again, pruning aside); `None` when there is no such page.
pub async fn archive_page(
    store: &Store,
    config: &Config,
    number: i64,
    format: OutputFormat,
) -> Result<Option<(Rendered, bool)>, StoreError> {
    let max_id = store.call(store::max_story_id).await?;
    let Some(page) = archive::page(number, max_id) else {
        return Ok(None);
    };
    let (first, last) = (page.first_id, page.last_id);
    let stories = store
        .call(move |connection| store::stories_by_id(connection, first, last))
        .await?;
    let entries: Vec<PublishedEntry> = stories.into_iter().map(to_published).collect();
    let updated = newest_update(&entries);
    let meta = FeedMeta {
        title: format!("{} (archive {number})", config.output.title),
        description: config.output.description.clone(),
        public_url: config.public_url.clone(),
        updated,
        topic: None,
        links: archive::page_links(page, format),
    };
    let text = publish::render_with(&meta, &entries, format, &config.video_hosts);
    Ok(Some((
        rendered(text, updated, publish::content_type(format)),
        page.complete,
    )))
}

/// The newest change among `entries` (the epoch when there are none): a document's
/// `updated` and `Last-Modified`, so its bytes depend on the stories alone.
pub fn newest_update(entries: &[PublishedEntry]) -> DateTime<Utc> {
    entries
        .iter()
        .map(|entry| entry.updated)
        .max()
        .unwrap_or(DateTime::UNIX_EPOCH)
}

/// Bytes ready to serve: gzipped once, with a strong ETag. Also used for fixed files such as
/// the stylesheet.
///
/// Both buffers are cut to their length before they become `Bytes`: a `String` grown by
/// pushing has up to twice the room it uses, and `Bytes` keeps a `Vec`'s whole allocation for
/// as long as the snapshot lives (1.5-2 MB of the idle daemon's heap across the feeds and the
/// river pages).
pub fn rendered(text: String, updated: DateTime<Utc>, content_type: &'static str) -> Rendered {
    let body = text.into_bytes().into_boxed_slice();
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let gzip = encoder
        .write_all(&body)
        .and_then(|()| encoder.finish())
        .unwrap_or_default();
    let etag = format!("\"{:016x}\"", crate::dedupe::stable_hash(&body));
    Rendered {
        prepared: Prepared::new(&etag, updated, content_type, CACHE_SHORT),
        etag,
        gzip: Bytes::from(gzip.into_boxed_slice()),
        body: Bytes::from(body),
        last_modified: updated,
        content_type,
    }
}

impl Rendered {
    /// The same document with another `Cache-Control` (the stylesheet's day, an archive
    /// page's year).
    pub fn with_cache_control(mut self, cache_control: &'static str) -> Rendered {
        self.prepared = Prepared::new(
            &self.etag,
            self.last_modified,
            self.content_type,
            cache_control,
        );
        self
    }
}

impl Prepared {
    /// The headers every answer about this document carries. Pages (`text/*`) also get the
    /// pages' CSP and `nosniff`.
    pub fn new(
        etag: &str,
        last_modified: DateTime<Utc>,
        content_type: &'static str,
        cache_control: &'static str,
    ) -> Prepared {
        let mut not_modified = HeaderMap::with_capacity(4);
        not_modified.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static(cache_control),
        );
        not_modified.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
        if let Ok(value) = HeaderValue::from_str(etag) {
            not_modified.insert(header::ETAG, value);
        }
        let mut plain = not_modified.clone();
        plain.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        if content_type.starts_with("text/") {
            plain.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(crate::publish::html::CONTENT_SECURITY_POLICY),
            );
            plain.insert(
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            );
        }
        let date = httpdate::fmt_http_date(last_modified.into());
        if let Ok(value) = HeaderValue::from_str(&date) {
            plain.insert(header::LAST_MODIFIED, value);
        }
        let mut gzip = plain.clone();
        gzip.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        Prepared {
            plain,
            gzip,
            not_modified,
            last_modified_secs: last_modified.timestamp(),
        }
    }
}

fn source_ref(source: &StoredSource) -> SourceRef {
    SourceRef {
        name: source.name.clone(),
        feed_url: source.feed_url.clone().unwrap_or_default(),
        feed_title: source.feed_title.clone(),
        site_link: source.site_link.clone(),
        link: source.link.clone(),
    }
}

/// A stored story as the feed writers take it: its first source is the origin.
pub fn to_published(story: StoredStory) -> PublishedEntry {
    let mut sources = story.sources.iter().map(source_ref);
    let origin = sources.next().unwrap_or_else(|| SourceRef {
        name: "unknown".into(),
        feed_url: String::new(),
        feed_title: None,
        site_link: None,
        link: story.link.clone(),
    });
    PublishedEntry {
        id: story.uid,
        title: story.title,
        link: story.link,
        published: story.published,
        updated: story.updated.max(story.published),
        content_html: story.content_html,
        summary: story.summary,
        authors: story.authors,
        categories: story.categories,
        enclosures: story.enclosures,
        image: story.image,
        also: sources.collect(),
        origin,
    }
}

/// Writes `bytes` to `path` so a reader never sees a half-written file: a temporary file in
/// the same folder, flushed to disk, then renamed over the target. A file replaced keeps its
/// permissions (a config readable only by the service's group stays so).
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let folder = path
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(folder)?;
    let file_name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|| "feed".into());
    let temporary = folder.join(format!(".{file_name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut file = std::fs::File::create(&temporary)?;
        if let Ok(existing) = std::fs::metadata(path) {
            file.set_permissions(existing.permissions())?;
        }
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temporary, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_the_file_and_leaves_no_temporary() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("out/feed.xml");
        write_atomically(&path, b"one").unwrap();
        write_atomically(&path, b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        let leftovers = std::fs::read_dir(path.parent().unwrap()).unwrap().count();
        assert_eq!(leftovers, 1);
    }

    #[test]
    fn atomic_write_keeps_the_replaced_files_permissions() {
        use std::os::unix::fs::PermissionsExt;
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("tributary.toml");
        std::fs::write(&path, "old").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        write_atomically(&path, b"new").unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o640);
    }

    #[test]
    fn the_first_source_is_the_origin_and_the_others_are_named() {
        let source = |name: &str| StoredSource {
            name: name.into(),
            link: Some(format!("https://{name}.example/story")),
            feed_url: Some(format!("https://{name}.example/feed")),
            feed_title: None,
            site_link: None,
        };
        let story = StoredStory {
            uid: "urn:x".into(),
            title: "T".into(),
            link: None,
            published: DateTime::UNIX_EPOCH,
            updated: DateTime::UNIX_EPOCH,
            content_html: None,
            summary: None,
            authors: vec![],
            categories: vec![],
            enclosures: vec![],
            image: None,
            text: None,
            sources: vec![source("a"), source("b")],
            cursor: crate::store::StoryCursor {
                published: 0,
                id: 1,
            },
        };
        let entry = to_published(story);
        assert_eq!(entry.origin.name, "a");
        assert_eq!(entry.also.len(), 1);
        assert_eq!(entry.also[0].name, "b");
    }
}
