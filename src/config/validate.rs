//! Raw TOML -> typed [`Config`], collecting every problem with its file, line and key.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use toml::Spanned;

use super::raw::{RawConfig, RawFetch, RawSource};
use super::{
    Config, ConfigProblem, FetchSettings, OutputFormat, OutputSettings, Source, parse_duration,
};

/// Collects problems while validating, turning byte offsets into line numbers.
struct Problems {
    file: PathBuf,
    /// Byte offset at which each line starts, computed once: every source asks for its line, so
    /// counting newlines from the top at each call made validation quadratic in the file's size
    /// (95 % of `export`'s time with 10,000 sources).
    line_starts: Vec<usize>,
    found: Vec<ConfigProblem>,
}

impl Problems {
    fn new(text: &str, file: &Path) -> Problems {
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(offset, _)| offset + 1))
            .collect();
        Problems {
            file: file.to_path_buf(),
            line_starts,
            found: Vec::new(),
        }
    }

    /// The 1-based line holding `offset`.
    fn line_of(&self, offset: usize) -> usize {
        self.line_starts.partition_point(|&start| start <= offset)
    }

    fn add(&mut self, span: Option<std::ops::Range<usize>>, key: &str, message: impl Into<String>) {
        let line = span.map(|span| self.line_of(span.start));
        self.found.push(ConfigProblem {
            file: self.file.clone(),
            line,
            key: (!key.is_empty()).then(|| key.to_string()),
            message: message.into(),
        });
    }

    fn duration(&mut self, value: &Option<Spanned<String>>, key: &str) -> Option<Duration> {
        let value = value.as_ref()?;
        match parse_duration(value.get_ref()) {
            Ok(duration) => Some(duration),
            Err(message) => {
                self.add(Some(value.span()), key, message);
                None
            }
        }
    }

    fn count(&mut self, value: &Option<Spanned<i64>>, key: &str, min: i64) -> Option<u64> {
        let value = value.as_ref()?;
        if *value.get_ref() < min {
            self.add(Some(value.span()), key, format!("must be at least {min}"));
            return None;
        }
        Some(*value.get_ref() as u64)
    }

    fn user_agent(&mut self, value: &Option<Spanned<String>>, key: &str) -> Option<String> {
        let value = value.as_ref()?;
        let text = value.get_ref().trim();
        if text.is_empty() || text.chars().any(char::is_control) {
            self.add(
                Some(value.span()),
                key,
                "must be a non-empty single-line string",
            );
            return None;
        }
        Some(text.to_string())
    }
}

/// Parses a five-field cron expression (minute hour day month weekday); six fields with
/// seconds first are accepted too.
pub fn parse_cron(expression: &str) -> Result<croner::Cron, String> {
    let fields = expression.split_whitespace().count();
    if !(5..=6).contains(&fields) && !expression.trim_start().starts_with('@') {
        return Err(format!(
            "{expression:?} is not a cron expression: expected 5 fields (minute hour day month weekday)"
        ));
    }
    croner::parser::CronParser::builder()
        .seconds(croner::parser::Seconds::Optional)
        .build()
        .parse(expression)
        .map_err(|error| format!("{expression:?} is not a valid cron expression: {error}"))
}

pub(super) fn validate(text: &str, path: &Path) -> Result<Config, Vec<ConfigProblem>> {
    let mut problems = Problems::new(text, path);
    let raw: RawConfig = match toml::from_str(text) {
        Ok(raw) => raw,
        Err(error) => {
            problems.add(error.span(), "", error.message().trim().to_string());
            return Err(problems.found);
        }
    };
    let config = build(raw, &mut problems);
    if problems.found.is_empty() {
        Ok(config)
    } else {
        Err(problems.found)
    }
}

fn build(raw: RawConfig, problems: &mut Problems) -> Config {
    let database = raw
        .database
        .as_ref()
        .map(|value| PathBuf::from(value.get_ref()))
        .unwrap_or_else(|| PathBuf::from("data/tributary.db"));
    let listen = raw
        .listen
        .as_ref()
        .map(|value| value.get_ref().clone())
        .unwrap_or_else(|| "127.0.0.1:8080".to_string());
    if let Some(value) = &raw.listen
        && value.get_ref().parse::<std::net::SocketAddr>().is_err()
    {
        problems.add(
            Some(value.span()),
            "listen",
            format!(
                "{:?} is not an address like 127.0.0.1:8080",
                value.get_ref()
            ),
        );
    }
    let default_schedule = raw
        .default_schedule
        .as_ref()
        .map(|value| value.get_ref().trim().to_string())
        .unwrap_or_else(|| "*/15 * * * *".to_string());
    if let Some(value) = &raw.default_schedule
        && let Err(message) = parse_cron(value.get_ref())
    {
        problems.add(Some(value.span()), "default_schedule", message);
    }
    let public_url = match &raw.public_url {
        Some(value) => match url::Url::parse(value.get_ref()) {
            Ok(url) => url.as_str().trim_end_matches('/').to_string(),
            Err(error) => {
                problems.add(Some(value.span()), "public_url", error.to_string());
                String::new()
            }
        },
        None => format!("http://{listen}"),
    };
    let fetch = fetch_settings(&raw.fetch, problems);
    let output = output_settings(&raw, problems);
    let (server, server_problems) = super::server::server_settings(&raw.server);
    for (span, key, message) in server_problems {
        problems.add(span, &key, message);
    }
    let sources = sources(&raw.sources, &fetch, &default_schedule, problems);
    check_websub_needs_public_url(&raw, problems);
    let (retention, found) = super::retention::retention_settings(&raw.retention);
    for (span, key, message) in found {
        problems.add(span, &key, message);
    }
    let (fleet, found) = super::fleet::fleet_settings(&raw.fleet);
    for (span, key, message) in found {
        problems.add(span, &key, message);
    }
    let (dedupe, found) = super::dedupe::dedupe_settings(&raw.dedupe);
    for (span, key, message) in found {
        problems.add(span, &key, message);
    }
    Config {
        path: problems.file.clone(),
        database,
        listen,
        default_schedule,
        public_url,
        fetch,
        output,
        server,
        video_hosts: raw.extract.video_hosts.clone().unwrap_or_else(|| {
            [
                "www.youtube.com",
                "www.youtube-nocookie.com",
                "player.vimeo.com",
            ]
            .map(String::from)
            .to_vec()
        }),
        retention,
        fleet,
        dedupe,
        sources,
    }
}

fn fetch_settings(raw: &RawFetch, problems: &mut Problems) -> FetchSettings {
    let defaults = FetchSettings::default();
    let key = |name: &str| format!("fetch.{name}");
    let settings = FetchSettings {
        user_agent: problems
            .user_agent(&raw.user_agent, &key("user_agent"))
            .unwrap_or(defaults.user_agent),
        allow_private_networks: raw
            .allow_private_networks
            .unwrap_or(defaults.allow_private_networks),
        timeout: problems
            .duration(&raw.timeout, &key("timeout"))
            .unwrap_or(defaults.timeout),
        connect_timeout: problems
            .duration(&raw.connect_timeout, &key("connect_timeout"))
            .unwrap_or(defaults.connect_timeout),
        max_body_bytes: problems
            .count(&raw.max_body_bytes, &key("max_body_bytes"), 1024)
            .unwrap_or(defaults.max_body_bytes),
        max_concurrency: problems
            .count(&raw.max_concurrency, &key("max_concurrency"), 1)
            .map_or(defaults.max_concurrency, |n| n as usize),
        per_host_concurrency: problems
            .count(&raw.per_host_concurrency, &key("per_host_concurrency"), 1)
            .map_or(defaults.per_host_concurrency, |n| n as usize),
        per_host_delay: problems
            .duration(&raw.per_host_delay, &key("per_host_delay"))
            .unwrap_or(defaults.per_host_delay),
        respect_robots: raw.respect_robots.unwrap_or(defaults.respect_robots),
        min_interval: problems
            .duration(&raw.min_interval, &key("min_interval"))
            .unwrap_or(defaults.min_interval),
        max_interval: problems
            .duration(&raw.max_interval, &key("max_interval"))
            .unwrap_or(defaults.max_interval),
        max_backoff: problems
            .duration(&raw.max_backoff, &key("max_backoff"))
            .unwrap_or(defaults.max_backoff),
        adaptive: raw.adaptive.unwrap_or(defaults.adaptive),
        max_redirects: problems
            .count(&raw.max_redirects, &key("max_redirects"), 0)
            .map_or(defaults.max_redirects, |n| n as usize),
        max_entries_per_pass: problems
            .count(&raw.max_entries_per_pass, &key("max_entries_per_pass"), 1)
            .map_or(defaults.max_entries_per_pass, |n| n as usize),
        max_articles_per_pass: problems
            .count(&raw.max_articles_per_pass, &key("max_articles_per_pass"), 0)
            .map_or(defaults.max_articles_per_pass, |n| n as usize),
    };
    check_interval_bounds(&settings, raw.max_interval.as_ref(), "fetch", problems);
    settings
}

fn check_interval_bounds(
    settings: &FetchSettings,
    max_interval: Option<&Spanned<String>>,
    prefix: &str,
    problems: &mut Problems,
) {
    if settings.min_interval > settings.max_interval {
        problems.add(
            max_interval.map(Spanned::span),
            &format!("{prefix}.max_interval"),
            "max_interval must not be shorter than min_interval",
        );
    }
}

fn output_settings(raw: &RawConfig, problems: &mut Problems) -> OutputSettings {
    let file_format = match &raw.output.file_format {
        Some(value) => OutputFormat::parse(value.get_ref()).unwrap_or_else(|| {
            problems.add(
                Some(value.span()),
                "output.file_format",
                "must be \"atom\", \"rss\" or \"json\"",
            );
            OutputFormat::Atom
        }),
        None => OutputFormat::Atom,
    };
    OutputSettings {
        title: raw
            .output
            .title
            .clone()
            .unwrap_or_else(|| "tributary".to_string()),
        description: raw.output.description.clone(),
        max_entries: problems
            .count(&raw.output.max_entries, "output.max_entries", 1)
            .map_or(200, |n| n as usize),
        file: raw.output.file.as_ref().map(PathBuf::from),
        file_format,
        hub: hub_url(raw.output.hub.as_ref(), problems),
    }
}

/// `output.hub`: an absolute http(s) URL, kept as written.
fn hub_url(raw: Option<&Spanned<String>>, problems: &mut Problems) -> Option<String> {
    let value = raw?;
    match url::Url::parse(value.get_ref()) {
        Ok(url) if matches!(url.scheme(), "http" | "https") => Some(value.get_ref().clone()),
        Ok(_) => {
            problems.add(Some(value.span()), "output.hub", "not an http(s) URL");
            None
        }
        Err(error) => {
            problems.add(Some(value.span()), "output.hub", error.to_string());
            None
        }
    }
}

fn sources(
    raw_sources: &[Spanned<RawSource>],
    globals: &FetchSettings,
    default_schedule: &str,
    problems: &mut Problems,
) -> Vec<Source> {
    let mut first_line_of_name: HashMap<String, usize> = HashMap::new();
    // Sized once: pushing 10,000 sources into a growing vector left it with room for 16,384
    // (2.9 MB of a daemon's idle heap at ~456 bytes a source).
    let mut sources = Vec::with_capacity(raw_sources.len());
    for (index, spanned) in raw_sources.iter().enumerate() {
        let raw = spanned.get_ref();
        let key = |name: &str| format!("sources[{index}].{name}");
        let line = problems.line_of(spanned.span().start);
        let name = raw.name.get_ref().trim().to_string();
        if name.is_empty() {
            problems.add(Some(raw.name.span()), &key("name"), "must not be empty");
        } else if let Some(first) = first_line_of_name.get(&name) {
            problems.add(
                Some(raw.name.span()),
                &key("name"),
                format!("duplicate source name {name:?} (first used on line {first})"),
            );
        } else {
            first_line_of_name.insert(name.clone(), problems.line_of(raw.name.span().start));
        }
        let url = source_url(&raw.url, &key("url"), problems);
        let schedule = match &raw.schedule {
            Some(value) => {
                if let Err(message) = parse_cron(value.get_ref()) {
                    problems.add(Some(value.span()), &key("schedule"), message);
                }
                value.get_ref().trim().to_string()
            }
            None => default_schedule.to_string(),
        };
        let fetch = source_fetch(raw, globals, &key, problems);
        let content_selector = raw.content_selector.as_ref().map(|value| {
            check_selector(value, &key("content_selector"), problems);
            value.get_ref().clone()
        });
        let remove_selectors = raw
            .remove_selectors
            .iter()
            .flatten()
            .map(|value| {
                check_selector(value, &key("remove_selectors"), problems);
                value.get_ref().clone()
            })
            .collect();
        let (tags, filter) = source_topics(raw, &key, problems);
        if let Some(url) = url {
            sources.push(Source {
                name,
                url,
                full_text: raw.full_text.unwrap_or(true),
                websub: raw.websub.as_ref().is_some_and(|value| *value.get_ref()),
                schedule,
                line,
                fetch,
                content_selector,
                remove_selectors,
                tags,
                filter,
                dedupe: raw.dedupe.unwrap_or(true),
                priority: raw.priority.unwrap_or(0),
            });
        }
    }
    sources
}

/// The source's `tags`, `include` and `exclude` (rules in `topics.rs`).
fn source_topics(
    raw: &RawSource,
    key: &dyn Fn(&str) -> String,
    problems: &mut Problems,
) -> (Vec<String>, super::EntryFilter) {
    let (tags, mut found) = super::topics::tags(raw.tags.as_ref(), &key("tags"));
    let (include, more) = super::topics::patterns(raw.include.as_ref(), &key("include"));
    found.extend(more);
    let (exclude, more) = super::topics::patterns(raw.exclude.as_ref(), &key("exclude"));
    found.extend(more);
    for (span, key, message) in found {
        problems.add(span, &key, message);
    }
    (tags, super::EntryFilter { include, exclude })
}

/// A hub must reach tributary's callback, so `websub = true` needs the public address: the
/// default (`http://{listen}`) is usually a loopback address no hub can call.
fn check_websub_needs_public_url(raw: &RawConfig, problems: &mut Problems) {
    if raw.public_url.is_some() {
        return;
    }
    for (index, source) in raw.sources.iter().enumerate() {
        if let Some(websub) = &source.get_ref().websub
            && *websub.get_ref()
        {
            problems.add(
                Some(websub.span()),
                &format!("sources[{index}].websub"),
                "websub = true needs public_url (the address the hub calls back)",
            );
        }
    }
}

fn source_url(value: &Spanned<String>, key: &str, problems: &mut Problems) -> Option<url::Url> {
    match url::Url::parse(value.get_ref().trim()) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => Some(url),
        Ok(url) => {
            problems.add(
                Some(value.span()),
                key,
                format!("{url} is not an http(s) URL"),
            );
            None
        }
        Err(error) => {
            problems.add(
                Some(value.span()),
                key,
                format!("{:?} is not a valid URL: {error}", value.get_ref()),
            );
            None
        }
    }
}

fn source_fetch(
    raw: &RawSource,
    globals: &FetchSettings,
    key: &dyn Fn(&str) -> String,
    problems: &mut Problems,
) -> FetchSettings {
    let mut fetch = globals.clone();
    if let Some(value) = problems.duration(&raw.timeout, &key("timeout")) {
        fetch.timeout = value;
    }
    if let Some(value) = problems.count(&raw.max_body_bytes, &key("max_body_bytes"), 1024) {
        fetch.max_body_bytes = value;
    }
    if let Some(value) = raw.allow_private_networks {
        fetch.allow_private_networks = value;
    }
    if let Some(value) = raw.respect_robots {
        fetch.respect_robots = value;
    }
    if let Some(value) = problems.duration(&raw.min_interval, &key("min_interval")) {
        fetch.min_interval = value;
    }
    if let Some(value) = problems.duration(&raw.max_interval, &key("max_interval")) {
        fetch.max_interval = value;
    }
    if let Some(value) = raw.adaptive {
        fetch.adaptive = value;
    }
    if let Some(value) = problems.user_agent(&raw.user_agent, &key("user_agent")) {
        fetch.user_agent = value;
    }
    if fetch.min_interval > fetch.max_interval {
        problems.add(
            raw.max_interval
                .as_ref()
                .or(raw.min_interval.as_ref())
                .map(Spanned::span),
            &key("max_interval"),
            "max_interval must not be shorter than min_interval",
        );
    }
    fetch
}

fn check_selector(value: &Spanned<String>, key: &str, problems: &mut Problems) {
    if let Err(error) = scraper::Selector::parse(value.get_ref()) {
        problems.add(
            Some(value.span()),
            key,
            format!("{:?} is not a valid CSS selector: {error}", value.get_ref()),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems_of(text: &str) -> Vec<ConfigProblem> {
        validate(text, Path::new("t.toml")).expect_err("config should be rejected")
    }

    #[test]
    fn minimal_config_gets_defaults() {
        let config = validate(
            "[[sources]]\nname = \"a\"\nurl = \"https://example.org/feed\"\n",
            Path::new("t.toml"),
        )
        .unwrap();
        assert_eq!(config.listen, "127.0.0.1:8080");
        assert_eq!(config.sources[0].schedule, "*/15 * * * *");
        assert!(config.sources[0].full_text);
        assert!(config.fetch.user_agent.starts_with("tributary/"));
        assert_eq!(config.output.max_entries, 200);
    }

    #[test]
    fn unknown_key_is_named_with_its_line() {
        let problems = problems_of("database = \"x.db\"\n\n[fetch]\ncolour = 3\n");
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].line, Some(4));
        assert!(problems[0].message.contains("colour"), "{problems:?}");
    }

    #[test]
    fn every_semantic_problem_is_listed_with_line_and_key() {
        let text = "\
[[sources]]
name = \"a\"
url = \"not a url\"

[[sources]]
name = \"a\"
url = \"https://example.org/\"
schedule = \"every day\"
timeout = \"ten\"
";
        let problems = problems_of(text);
        let lines: Vec<_> = problems.iter().map(|problem| problem.line).collect();
        assert_eq!(problems.len(), 4, "{problems:?}");
        assert!(lines.contains(&Some(3)), "bad url on line 3: {problems:?}");
        assert!(lines.contains(&Some(6)), "duplicate name on line 6");
        assert!(lines.contains(&Some(8)), "bad schedule on line 8");
        assert!(lines.contains(&Some(9)), "bad duration on line 9");
        assert_eq!(problems[1].key.as_deref(), Some("sources[1].name"));
        assert!(
            problems[1]
                .to_string()
                .starts_with("t.toml:6: sources[1].name")
        );
    }

    #[test]
    fn lines_are_right_at_both_ends_of_a_long_file() {
        let mut text = String::from("[fetch]\r\ntimeout = \"soon\"\r\n");
        for index in 0..3000 {
            text.push_str(&format!(
                "[[sources]]\nname = \"s{index}\"\nurl = \"https://example.org/{index}\"\n\n"
            ));
        }
        text.push_str("[[sources]]\nname = \"s0\"\nurl = \"https://example.org/again\"\n");
        let problems = problems_of(&text);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert_eq!(problems[0].line, Some(2), "CRLF line endings count once");
        assert_eq!(problems[1].line, Some(2 + 3000 * 4 + 2), "{problems:?}");
        assert!(
            problems[1].message.contains("first used on line 4"),
            "{problems:?}"
        );
    }

    #[test]
    fn source_overrides_merge_over_globals() {
        let text = "\
[fetch]
timeout = \"20s\"
respect_robots = true
[[sources]]
name = \"a\"
url = \"https://example.org/\"
respect_robots = false
content_selector = \"article .body\"
";
        let config = validate(text, Path::new("t.toml")).unwrap();
        let source = &config.sources[0];
        assert_eq!(source.fetch.timeout, Duration::from_secs(20));
        assert!(!source.fetch.respect_robots);
        assert_eq!(source.content_selector.as_deref(), Some("article .body"));
    }

    #[test]
    fn websub_without_public_url_is_refused_with_its_line() {
        let text = "[[sources]]\nname = \"a\"\nurl = \"http://a.example/\"\nwebsub = true\n";
        let problems = problems_of(text);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].line, Some(4));
        assert_eq!(problems[0].key.as_deref(), Some("sources[0].websub"));
        let with_url = format!("public_url = \"https://me.example\"\n{text}");
        let config = validate(&with_url, Path::new("t.toml")).unwrap();
        assert!(config.sources[0].websub);
    }

    #[test]
    fn cron_accepts_five_fields_and_rejects_garbage() {
        assert!(parse_cron("*/15 * * * *").is_ok());
        assert!(parse_cron("0 */5 * * * *").is_ok());
        assert!(parse_cron("61 * * * *").is_err());
        assert!(parse_cron("hourly").is_err());
    }

    #[test]
    fn the_shipped_example_is_valid() {
        let config = validate(
            super::super::EXAMPLE_CONFIG,
            Path::new("config/tributary.toml"),
        )
        .expect("config/tributary.toml must validate");
        assert!(config.sources.len() >= 3);
    }
}
