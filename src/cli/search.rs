//! `search QUERY`: the stored stories matching every word of QUERY, newest first, with a
//! snippet each (as `/search?q=` shows them).

use std::io::IsTerminal;

use anyhow::bail;

use super::Exit;
use crate::config::Config;
use crate::publish::snippet::{Piece, snippet};
use crate::store::{self, SearchQuery, Store};

const SNIPPET_CHARS: usize = 160;

pub fn run(config: &Config, words: &[String], limit: usize, json: bool) -> anyhow::Result<Exit> {
    let typed = words.join(" ");
    let query = SearchQuery::parse(&typed);
    if query.is_empty() {
        bail!("nothing to search for in {typed:?}: give a word (letters or digits)");
    }
    let store = Store::open(&config.database)?;
    let hits =
        store.call_blocking(|connection| store::search_stories(connection, &query, limit))?;
    let terms: Vec<&str> = query.terms().collect();
    if json {
        let results: Vec<serde_json::Value> = hits
            .iter()
            .map(|hit| {
                let pieces = snippet(&hit.text, &terms, SNIPPET_CHARS);
                serde_json::json!({
                    "id": hit.story.uid,
                    "title": hit.story.title,
                    "link": hit.story.link,
                    "published": hit.story.published.to_rfc3339(),
                    "sources": hit.story.sources.iter().map(|s| &s.name).collect::<Vec<_>>(),
                    "snippet": pieces.iter().map(|p| p.text.as_str()).collect::<String>(),
                })
            })
            .collect();
        outln!("{}", serde_json::to_string_pretty(&results)?);
        return Ok(Exit::Ok);
    }
    let bold = std::io::stdout().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty());
    for hit in &hits {
        let story = &hit.story;
        let sources: Vec<&str> = story.sources.iter().map(|s| s.name.as_str()).collect();
        outln!(
            "{}  {}",
            story.published.format("%Y-%m-%d %H:%M"),
            story.title
        );
        outln!(
            "    {}  ({})",
            story.link.as_deref().unwrap_or("-"),
            sources.join(", ")
        );
        let pieces = snippet(&hit.text, &terms, SNIPPET_CHARS);
        if !pieces.is_empty() {
            outln!("    {}", marked(&pieces, bold));
        }
    }
    let count = match hits.len() {
        1 => "1 story".to_string(),
        count => format!("{count} stories"),
    };
    outln!("{count} found for {typed:?}");
    Ok(Exit::Ok)
}

/// The snippet on one line, the terms in bold on a terminal and between `[` `]` elsewhere.
fn marked(pieces: &[Piece], bold: bool) -> String {
    let (open, close) = match bold {
        true => ("\u{1b}[1m", "\u{1b}[0m"),
        false => ("[", "]"),
    };
    pieces
        .iter()
        .map(|piece| {
            let text = one_line(&piece.text);
            match piece.matched {
                true => format!("{open}{text}{close}"),
                false => text,
            }
        })
        .collect()
}

/// `text` with every run of whitespace (newlines included) made one space.
fn one_line(text: &str) -> String {
    let mut line = String::with_capacity(text.len());
    for character in text.chars() {
        match character.is_whitespace() {
            true if line.ends_with(' ') => {}
            true => line.push(' '),
            false => line.push(character),
        }
    }
    line
}
