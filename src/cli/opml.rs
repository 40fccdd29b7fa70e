//! `import-opml` and `export-opml`: moving subscription lists between tributary and other readers.

use std::collections::HashMap;
use std::path::Path;

use anyhow::Context as _;

use super::Exit;
use crate::config::Config;
use crate::config::edit::{self, Candidate, SourceEdit};
use crate::store::{self, Store};

/// Adds the OPML file's feeds to the config file at `config_path`, printing what was added and
/// what skipped. The file is replaced atomically, and only by text that validates.
pub fn import(config_path: &Path, opml_path: &Path, dry_run: bool) -> anyhow::Result<Exit> {
    let bytes =
        std::fs::read(opml_path).with_context(|| format!("reading {}", opml_path.display()))?;
    let subscriptions = crate::opml::parse(&bytes)
        .with_context(|| format!("{} cannot be imported", opml_path.display()))?;
    if subscriptions.is_empty() {
        outln!(
            "{}: no feed outlines (outlines with an xmlUrl) in it",
            opml_path.display()
        );
    }
    let text = std::fs::read_to_string(config_path).map_err(|source| {
        crate::config::ConfigError::Read {
            path: config_path.to_path_buf(),
            source,
        }
    })?;
    let candidates: Vec<Candidate> = subscriptions
        .into_iter()
        .map(|subscription| Candidate {
            title: subscription.title,
            url: subscription.xml_url,
            category: subscription.category,
        })
        .collect();
    let origin = opml_path.file_name().map_or_else(
        || opml_path.display().to_string(),
        |name| name.to_string_lossy().into_owned(),
    );
    let result = edit::add_sources(&text, config_path, &candidates, &origin)?;
    print_report(&result);
    let summary = format!(
        "{} added, {} skipped",
        result.added.len(),
        result.skipped.len()
    );
    if dry_run {
        outln!("{summary}; dry run: {} not changed", config_path.display());
    } else if result.added.is_empty() {
        outln!("{summary}; {} not changed", config_path.display());
    } else {
        write_config(config_path, &result.text)?;
        outln!("{summary}; {} updated", config_path.display());
    }
    Ok(Exit::Ok)
}

fn print_report(result: &SourceEdit) {
    let width = result
        .added
        .iter()
        .map(|added| added.name.chars().count())
        .max()
        .unwrap_or(0);
    for added in &result.added {
        let category = added
            .category
            .as_ref()
            .map(|category| format!("  [{category}]"))
            .unwrap_or_default();
        outln!("added    {:<width$}  {}{category}", added.name, added.url);
    }
    for skipped in &result.skipped {
        let title = skipped
            .candidate
            .title
            .as_ref()
            .map(|title| format!(" ({title})"))
            .unwrap_or_default();
        outln!(
            "skipped  {}{title}: {}",
            skipped.candidate.url,
            skipped.reason
        );
    }
}

/// Writes through a symlink to the file it names (an admin's `/etc` link stays a link).
fn write_config(path: &Path, text: &str) -> anyhow::Result<()> {
    let target = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    crate::output::write_atomically(&target, text.as_bytes())
        .with_context(|| format!("writing {}", target.display()))
}

/// Prints the configured sources as OPML 2.0, with each feed's site link when an earlier poll
/// stored one (the database is read only if it exists: exporting never creates it).
pub fn export(config: &Config) -> anyhow::Result<Exit> {
    let site_links = if store::may_exist(&config.database) {
        let store = Store::open(&config.database)?;
        let keys = crate::status::source_keys(config);
        store.call_blocking(|connection| store::site_links(connection, &keys))?
    } else {
        HashMap::new()
    };
    let subscriptions = crate::opml::from_config(config, &site_links);
    print!(
        "{}",
        crate::opml::render(&config.output.title, &subscriptions)
    );
    Ok(Exit::Ok)
}
