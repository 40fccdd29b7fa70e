//! The page shell every HTML page shares: `lang`, title, feed links, navigation, stylesheet.
//!
//! The search page reuses it; a page only brings its title, its alternates and its body.

use maud::{DOCTYPE, Markup, html};

/// A `<link rel="alternate">` to a feed of the page's stories.
#[derive(Debug, Clone)]
pub struct Alternate {
    pub title: String,
    /// `application/atom+xml`, `application/rss+xml` or `application/feed+json`.
    pub mime_type: &'static str,
    /// A root-relative path, e.g. `/feed.atom`.
    pub href: String,
}

impl Alternate {
    /// The three formats of one feed whose files are `{stem}.atom`, `.rss` and `.json`.
    pub fn three(title: &str, stem: &str) -> Vec<Alternate> {
        [
            ("Atom", "application/atom+xml", "atom"),
            ("RSS", "application/rss+xml", "rss"),
            ("JSON Feed", "application/feed+json", "json"),
        ]
        .into_iter()
        .map(|(format, mime_type, extension)| Alternate {
            title: format!("{title} ({format})"),
            mime_type,
            href: format!("{stem}.{extension}"),
        })
        .collect()
    }
}

/// What every page shows around its body.
#[derive(Debug, Clone)]
pub struct Shell {
    /// The aggregator's title (`output.title`).
    pub site_title: String,
    pub description: Option<String>,
    /// Every configured topic, for the navigation.
    pub tags: Vec<String>,
}

/// A whole page: `<title>` is "`title` · site", the body sits in `<main>`.
pub fn page(shell: &Shell, title: &str, alternates: &[Alternate], body: Markup) -> String {
    let full_title = if title == shell.site_title {
        title.to_string()
    } else {
        format!("{title} · {}", shell.site_title)
    };
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="color-scheme" content="light dark";
                title { (full_title) }
                @if let Some(description) = &shell.description {
                    meta name="description" content=(description);
                }
                link rel="stylesheet" href="/style.css";
                @for alternate in alternates {
                    link rel="alternate" type=(alternate.mime_type) title=(alternate.title)
                        href=(alternate.href);
                }
            }
            body {
                header.site {
                    p.site-title { a href="/" { (shell.site_title) } }
                    nav aria-label="Site" {
                        ul {
                            li { a href="/" { "River" } }
                            li { a href="/sources" { "Sources" } }
                            @for tag in &shell.tags {
                                li { a href=(super::tag_path(tag)) { "#" (tag) } }
                            }
                        }
                    }
                }
                main { (body) }
                footer.site {
                    p {
                        "Subscribe: "
                        @for (index, alternate) in alternates.iter().enumerate() {
                            @if index > 0 { " · " }
                            a href=(alternate.href) { (alternate.title) }
                        }
                    }
                }
            }
        }
    }
    .into_string()
}
