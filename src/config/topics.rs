//! A source's topics: its `tags` and its `include` / `exclude` entry filters, typed and checked.
//!
//! Filter syntax: a plain string is a word or phrase matched case-insensitively on word
//! boundaries (`"rust"` matches "Rust 2024" but not "trust"; accents and non-Latin scripts are
//! letters like any other); a string between slashes is a regular expression, matched
//! case-insensitively (`"/crab(s|by)/"`). Both look at an entry's title and text. Kept apart
//! from `validate.rs` so the rules live in one place; `validate` only locates the problems.

use std::ops::Range;

use toml::Spanned;

/// One compiled `include` / `exclude` pattern, with the text it was written as.
#[derive(Debug, Clone)]
pub struct Pattern {
    pub written: String,
    regex: regex::Regex,
}

/// Patterns compare by what the admin wrote: a reload with the same text is no change.
impl PartialEq for Pattern {
    fn eq(&self, other: &Pattern) -> bool {
        self.written == other.written
    }
}

impl Pattern {
    /// Compiles a pattern as written in the config (see the module's doc for the syntax).
    pub fn parse(written: &str) -> Result<Pattern, String> {
        let trimmed = written.trim();
        let source = match trimmed
            .strip_prefix('/')
            .and_then(|rest| rest.strip_suffix('/'))
        {
            Some(expression) if !expression.is_empty() => format!("(?i){expression}"),
            _ if trimmed.is_empty() => return Err("must not be empty".into()),
            _ => format!(r"(?i)\b{}\b", regex::escape(trimmed)),
        };
        regex::RegexBuilder::new(&source)
            .size_limit(1 << 20)
            .build()
            .map(|regex| Pattern {
                written: written.to_string(),
                regex,
            })
            .map_err(|error| format!("{written:?} is not a valid pattern: {error}"))
    }

    pub fn matches(&self, text: &str) -> bool {
        self.regex.is_match(text)
    }
}

/// Which of a source's entries enter the merged feeds. An entry is admitted when it matches
/// one of `include` (or `include` is empty) and none of `exclude`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EntryFilter {
    pub include: Vec<Pattern>,
    pub exclude: Vec<Pattern>,
}

impl EntryFilter {
    /// Whether an entry with this title and text enters the merged feeds.
    pub fn admits(&self, title: &str, text: &str) -> bool {
        let matches = |pattern: &Pattern| pattern.matches(title) || pattern.matches(text);
        (self.include.is_empty() || self.include.iter().any(matches))
            && !self.exclude.iter().any(matches)
    }

    pub fn is_empty(&self) -> bool {
        self.include.is_empty() && self.exclude.is_empty()
    }
}

/// A problem found in a source's topics: where, which key, what.
pub type TopicProblem = (Option<Range<usize>>, String, String);

/// Checks a source's `tags`: each a non-empty word of letters, digits, `-` or `_` (any
/// script), so it can name a URL path segment and a file without quoting surprises.
pub fn tags(raw: Option<&Vec<Spanned<String>>>, key: &str) -> (Vec<String>, Vec<TopicProblem>) {
    let mut tags = Vec::new();
    let mut problems = Vec::new();
    for value in raw.into_iter().flatten() {
        let tag = value.get_ref().trim();
        if valid_tag(tag) {
            if !tags.iter().any(|known| known == tag) {
                tags.push(tag.to_string());
            }
        } else {
            problems.push((
                Some(value.span()),
                key.to_string(),
                format!("{tag:?} is not a tag: use letters, digits, '-' or '_'"),
            ));
        }
    }
    (tags, problems)
}

/// Whether `tag` may name a topic (see [`tags`]).
pub fn valid_tag(tag: &str) -> bool {
    !tag.is_empty()
        && tag.chars().count() <= 64
        && tag
            .chars()
            .all(|character| character.is_alphanumeric() || character == '-' || character == '_')
}

/// Compiles one list of patterns (`include` or `exclude`).
pub fn patterns(
    raw: Option<&Vec<Spanned<String>>>,
    key: &str,
) -> (Vec<Pattern>, Vec<TopicProblem>) {
    let mut patterns = Vec::new();
    let mut problems = Vec::new();
    for value in raw.into_iter().flatten() {
        match Pattern::parse(value.get_ref()) {
            Ok(pattern) => patterns.push(pattern),
            Err(message) => problems.push((Some(value.span()), key.to_string(), message)),
        }
    }
    (patterns, problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(include: &[&str], exclude: &[&str]) -> EntryFilter {
        let compile = |list: &[&str]| list.iter().map(|p| Pattern::parse(p).unwrap()).collect();
        EntryFilter {
            include: compile(include),
            exclude: compile(exclude),
        }
    }

    #[test]
    fn words_match_whole_words_case_insensitively() {
        let rust = filter(&["rust"], &[]);
        assert!(rust.admits("Rust 2024 is out", ""));
        assert!(rust.admits("", "we write RUST."));
        assert!(!rust.admits("Trust and rusty pipes", "trustworthy"));
        assert!(filter(&[], &[]).admits("anything", ""));
    }

    #[test]
    fn accented_and_non_latin_words_match_in_any_case() {
        let french = filter(&["élection"], &[]);
        assert!(french.admits("ÉLECTION présidentielle", ""));
        assert!(!french.admits("Sélection du jour", ""), "not inside a word");
        let greek = filter(&["ΑΘΉΝΑ"], &[]);
        assert!(greek.admits("Νέα από την Αθήνα", ""));
        let russian = filter(&[], &["спорт"]);
        assert!(!russian.admits("Новости: СПОРТ", ""));
        assert!(russian.admits("Новости: политика", ""));
        let japanese = filter(&["/東京/"], &[]);
        assert!(japanese.admits("", "今日の東京の天気"));
    }

    #[test]
    fn regexes_between_slashes_and_exclude_wins() {
        let crabs = filter(&["/crab(s|by)/"], &["sponsored"]);
        assert!(crabs.admits("Crabby weather", ""));
        assert!(!crabs.admits("Crab", ""));
        assert!(!crabs.admits("Crabs for sale", "Sponsored post"));
        assert!(Pattern::parse("/(unclosed/").is_err());
        assert!(Pattern::parse("  ").is_err());
        assert!(Pattern::parse("/").is_ok(), "a lone slash is a word");
    }

    #[test]
    fn tags_are_words_in_any_script() {
        assert!(valid_tag("rust"));
        assert!(valid_tag("économie"));
        assert!(valid_tag("日本"));
        assert!(valid_tag("open-source_2"));
        assert!(!valid_tag(""));
        assert!(!valid_tag("a/b"));
        assert!(!valid_tag("two words"));
        assert!(!valid_tag("x.atom"));
    }
}
