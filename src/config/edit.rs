//! Adds sources to the config file's text, leaving the admin's comments and layout untouched.
//!
//! Pure: text in, text out. The new `[[sources]]` tables are written by `toml_edit` (so names
//! and URLs are quoted correctly) and appended after everything else, so the original text is a
//! prefix of the result: no comment moves, even one trailing the last source. When the file
//! lists its sources as an inline array (`sources = [...]`), the tables go into that array
//! instead, through `toml_edit`'s document model. Either way the result must validate as a
//! whole before anyone writes it.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use toml_edit::{ArrayOfTables, DocumentMut, InlineTable, Item, Table, Value};

use super::{Config, ConfigError, ConfigProblem};
use crate::dedupe::canonical_url;

/// A feed offered for addition (from an OPML file, say).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub title: Option<String>,
    pub url: String,
    /// Shown as a comment above the new table, so the admin's grouping is not lost.
    pub category: Option<String>,
}

/// A source the edit adds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Added {
    pub name: String,
    pub url: String,
    pub category: Option<String>,
}

/// Why a candidate was left out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SkipReason {
    /// The config already has a source with the same canonical URL.
    AlreadyListed { name: String },
    /// An earlier candidate had the same canonical URL.
    Duplicate { name: String },
    /// Not an http(s) URL with a host.
    NotHttp,
}

impl std::fmt::Display for SkipReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SkipReason::AlreadyListed { name } => write!(f, "already listed as source {name:?}"),
            SkipReason::Duplicate { name } => {
                write!(f, "listed earlier in the file (added as {name:?})")
            }
            SkipReason::NotHttp => write!(f, "not an http(s) feed URL"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub candidate: Candidate,
    pub reason: SkipReason,
}

/// The edited text and what went into it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceEdit {
    /// The whole new file; equal to the old one when nothing was added.
    pub text: String,
    pub added: Vec<Added>,
    pub skipped: Vec<Skipped>,
}

/// Adds the candidates not already configured to the config `text` read from `path`.
///
/// The current text must be valid (its sources are what candidates are compared with), and so
/// must the result: either failure is returned as a [`ConfigError`] and nothing should be
/// written. `origin` names where the candidates come from, in a comment above them.
pub fn add_sources(
    text: &str,
    path: &Path,
    candidates: &[Candidate],
    origin: &str,
) -> Result<SourceEdit, ConfigError> {
    let config = Config::from_str(text, path)?;
    let (added, skipped) = plan(&config, candidates);
    if added.is_empty() {
        return Ok(SourceEdit {
            text: text.to_string(),
            added,
            skipped,
        });
    }
    let edited = match inline_sources(text) {
        Some(mut document) => {
            push_inline(&mut document, &added);
            document.to_string()
        }
        None => append_tables(text, &added, origin),
    };
    Config::from_str(&edited, path).map_err(|error| ConfigError::EditInvalid {
        path: path.to_path_buf(),
        problems: match error {
            ConfigError::Invalid(problems) => problems,
            other => vec![problem(path, other.to_string())],
        },
    })?;
    Ok(SourceEdit {
        text: edited,
        added,
        skipped,
    })
}

fn problem(path: &Path, message: String) -> ConfigProblem {
    ConfigProblem {
        file: path.to_path_buf(),
        line: None,
        key: None,
        message,
    }
}

/// Decides, candidate by candidate, what is added under which name and what is skipped.
/// URLs are compared in canonical form, so `http://Example.org/feed#x` and
/// `http://example.org/feed?utm_source=y` count as the same feed.
fn plan(config: &Config, candidates: &[Candidate]) -> (Vec<Added>, Vec<Skipped>) {
    let mut listed: HashMap<String, SkipReason> = config
        .sources
        .iter()
        .filter_map(|source| {
            let canonical = canonical_url(source.url.as_str())?;
            let name = source.name.clone();
            Some((canonical, SkipReason::AlreadyListed { name }))
        })
        .collect();
    let mut names: HashSet<String> = config.sources.iter().map(|s| s.name.clone()).collect();
    let (mut added, mut skipped) = (Vec::new(), Vec::new());
    for candidate in candidates {
        let url = candidate.url.trim();
        let parsed = url::Url::parse(url).ok().filter(|u| u.host_str().is_some());
        let (Some(parsed), Some(canonical)) = (parsed, canonical_url(url)) else {
            skipped.push(skip(candidate, SkipReason::NotHttp));
            continue;
        };
        if let Some(reason) = listed.get(&canonical) {
            skipped.push(skip(candidate, reason.clone()));
            continue;
        }
        let name = unique_name(&base_name(candidate, &parsed), &names);
        names.insert(name.clone());
        listed.insert(canonical, SkipReason::Duplicate { name: name.clone() });
        added.push(Added {
            name,
            url: url.to_string(),
            category: candidate.category.clone(),
        });
    }
    (added, skipped)
}

fn skip(candidate: &Candidate, reason: SkipReason) -> Skipped {
    Skipped {
        candidate: candidate.clone(),
        reason,
    }
}

/// A slug of the title; the host (without `www.`) when there is no usable title.
fn base_name(candidate: &Candidate, url: &url::Url) -> String {
    let from_title = candidate.title.as_deref().map(slug).unwrap_or_default();
    if !from_title.is_empty() {
        return from_title;
    }
    let host = url.host_str().unwrap_or("feed");
    host.strip_prefix("www.").unwrap_or(host).to_lowercase()
}

/// Lower-case letters and digits (any script), runs of anything else as one `-`, at most 60
/// characters. A slug is its own slug, so exported names come back unchanged.
pub fn slug(title: &str) -> String {
    let mut slug = String::new();
    for character in title.chars().flat_map(char::to_lowercase) {
        if character.is_alphanumeric() {
            slug.push(character);
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let slug: String = slug.chars().take(60).collect();
    slug.trim_end_matches('-').to_string()
}

/// `base`, else `base-2`, `base-3`... whichever is free.
fn unique_name(base: &str, taken: &HashSet<String>) -> String {
    if !taken.contains(base) {
        return base.to_string();
    }
    (2..)
        .map(|suffix| format!("{base}-{suffix}"))
        .find(|name| !taken.contains(name))
        .expect("an unbounded range has a free suffix")
}

/// The document, when it holds `sources` as an inline array (tables cannot be appended then).
fn inline_sources(text: &str) -> Option<DocumentMut> {
    let document: DocumentMut = text.parse().ok()?;
    matches!(document.get("sources"), Some(Item::Value(Value::Array(_)))).then_some(document)
}

fn push_inline(document: &mut DocumentMut, added: &[Added]) {
    if let Some(Item::Value(Value::Array(array))) = document.get_mut("sources") {
        for source in added {
            let mut table = InlineTable::new();
            table.insert("name", source.name.as_str().into());
            table.insert("url", source.url.as_str().into());
            array.push(table);
        }
    }
}

/// The original text, then a comment naming `origin`, then one `[[sources]]` table per source.
fn append_tables(text: &str, added: &[Added], origin: &str) -> String {
    let mut tables = ArrayOfTables::new();
    for (index, source) in added.iter().enumerate() {
        let mut table = Table::new();
        table.insert("name", toml_edit::value(source.name.as_str()));
        table.insert("url", toml_edit::value(source.url.as_str()));
        let mut prefix = String::from("\n");
        if index == 0 {
            prefix.push_str(&format!(
                "# Added by `tributary import-opml` from {}.\n",
                one_line(origin)
            ));
        }
        if let Some(category) = &source.category {
            prefix.push_str(&format!("# OPML category: {}\n", one_line(category)));
        }
        table.decor_mut().set_prefix(prefix);
        tables.push(table);
    }
    let mut document = DocumentMut::new();
    document.insert("sources", Item::ArrayOfTables(tables));
    let mut edited = text.to_string();
    if !edited.is_empty() && !edited.ends_with('\n') {
        edited.push('\n');
    }
    edited.push_str(&document.to_string());
    edited
}

/// Comments end at a line break: text put in one must not hold any.
fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = "\
# The admin's header comment.
listen = \"127.0.0.1:8080\"   # where we serve

[[sources]]
name = \"lwn\"
url = \"https://lwn.net/headlines/rss\"
# full_text = false   <- a hint the admin keeps below the last source
";

    fn candidate(title: Option<&str>, url: &str) -> Candidate {
        Candidate {
            title: title.map(String::from),
            url: url.into(),
            category: None,
        }
    }

    fn edit(text: &str, candidates: &[Candidate]) -> SourceEdit {
        add_sources(text, Path::new("t.toml"), candidates, "feeds.opml").unwrap()
    }

    #[test]
    fn appends_tables_after_the_untouched_original() {
        let mut rust = candidate(Some("This Week in Rust"), "https://twir.example/rss.xml");
        rust.category = Some("Tech / Rust".into());
        let result = edit(CONFIG, &[rust]);
        assert!(result.text.starts_with(CONFIG), "{}", result.text);
        assert_eq!(
            &result.text[CONFIG.len()..],
            "\n# Added by `tributary import-opml` from feeds.opml.\n# OPML category: Tech / Rust\n\
             [[sources]]\nname = \"this-week-in-rust\"\nurl = \"https://twir.example/rss.xml\"\n"
        );
        let config = Config::from_str(&result.text, Path::new("t.toml")).unwrap();
        assert_eq!(config.sources.len(), 2);
    }

    #[test]
    fn canonical_duplicates_are_skipped_with_their_reason() {
        let candidates = [
            candidate(Some("LWN again"), "https://LWN.net/headlines/rss#top"),
            candidate(Some("Blog"), "https://blog.example/feed?utm_source=x"),
            candidate(Some("Blog twice"), "https://blog.example/feed"),
            candidate(Some("Gopher"), "gopher://old.example/feed"),
            candidate(Some("Garbage"), "not a url"),
        ];
        let result = edit(CONFIG, &candidates);
        let names: Vec<_> = result.added.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["blog"]);
        let reasons: Vec<_> = result.skipped.iter().map(|s| s.reason.clone()).collect();
        assert_eq!(
            reasons,
            [
                SkipReason::AlreadyListed { name: "lwn".into() },
                SkipReason::Duplicate {
                    name: "blog".into()
                },
                SkipReason::NotHttp,
                SkipReason::NotHttp
            ]
        );
    }

    #[test]
    fn names_are_unique_slugs_or_hosts() {
        let candidates = [
            candidate(Some("LWN"), "https://other.example/a"),
            candidate(Some("  Café & Crème!  "), "https://cafe.example/rss"),
            candidate(Some("café-crème"), "https://cafe.example/other"),
            candidate(None, "https://www.news.example/rss"),
            candidate(Some("!!!"), "https://www.news.example/atom"),
        ];
        let result = edit(CONFIG, &candidates);
        let names: Vec<_> = result.added.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "lwn-2",
                "café-crème",
                "café-crème-2",
                "news.example",
                "news.example-2"
            ]
        );
        assert_eq!(slug("le-monde"), "le-monde", "a slug is its own slug");
        assert_eq!(slug(&"x".repeat(100)).len(), 60);
    }

    #[test]
    fn nothing_to_add_leaves_the_text_as_it_was() {
        let result = edit(CONFIG, &[candidate(None, "https://lwn.net/headlines/rss")]);
        assert_eq!(result.text, CONFIG);
        assert!(result.added.is_empty());
    }

    #[test]
    fn an_empty_file_gets_its_first_sources() {
        let result = edit("", &[candidate(Some("A"), "https://a.example/feed")]);
        let config = Config::from_str(&result.text, Path::new("t.toml")).unwrap();
        assert_eq!(config.sources[0].name, "a");
    }

    #[test]
    fn sources_listed_before_other_tables_still_get_the_new_ones_last() {
        let text = "[[sources]]\nname = \"a\"\nurl = \"https://a.example/\"\n\n[fetch]\ntimeout = \"20s\"\n";
        let result = edit(text, &[candidate(Some("B"), "https://b.example/")]);
        let config = Config::from_str(&result.text, Path::new("t.toml")).unwrap();
        let names: Vec<_> = config.sources.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["a", "b"]);
        assert_eq!(config.fetch.timeout, std::time::Duration::from_secs(20));
        assert_eq!(
            config.sources[1].fetch.timeout.as_secs(),
            20,
            "globals apply"
        );
    }

    #[test]
    fn an_inline_source_array_is_extended_in_place() {
        let text = "# inline\nsources = [\n  { name = \"a\", url = \"https://a.example/\" }, # first\n]\n\n[output]\ntitle = \"T\"\n";
        let result = edit(text, &[candidate(Some("B"), "https://b.example/")]);
        assert!(result.text.contains("# first"), "{}", result.text);
        assert!(result.text.contains("[output]\ntitle = \"T\"\n"));
        let config = Config::from_str(&result.text, Path::new("t.toml")).unwrap();
        let names: Vec<_> = config.sources.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["a", "b"]);
    }

    #[test]
    fn an_invalid_config_is_refused_before_any_edit() {
        let broken = add_sources("listen = 3\n", Path::new("t.toml"), &[], "x");
        assert!(matches!(broken, Err(ConfigError::Invalid(_))));
        // A plain `[sources]` table: no `[[sources]]` can be added to it.
        let clash = "[sources]\n";
        let result = add_sources(
            clash,
            Path::new("t.toml"),
            &[candidate(Some("A"), "https://a.example/")],
            "x",
        );
        assert!(result.is_err(), "{result:?}");
    }

    #[test]
    fn comments_cannot_be_broken_by_titles_or_categories() {
        let mut sneaky = candidate(Some("x"), "https://x.example/");
        sneaky.category = Some("a\n[fetch]\ntimeout = \"bad\"".into());
        let result = edit(CONFIG, &[sneaky]);
        assert!(
            result
                .text
                .contains("# OPML category: a [fetch] timeout = \"bad\"\n")
        );
    }
}
