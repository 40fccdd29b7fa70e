//! The search page (`/search?q=`): a form, and the stories found with their sources and a
//! snippet with the terms marked. Pure; every text from a feed or the query is escaped.

use chrono::{DateTime, Utc};

use maud::PreEscaped;

use super::super::content::{escape_html, is_web_url};
use super::super::snippet::Piece;
use super::layout::{self, Alternate, Shell};

/// One story found, as the page shows it.
#[derive(Debug, Clone)]
pub struct Found {
    pub title: String,
    pub link: Option<String>,
    pub published: DateTime<Utc>,
    /// The names of the sources that carried it (feed title or configured name), first first.
    pub sources: Vec<(String, Option<String>)>,
    pub snippet: Vec<Piece>,
}

/// The page for `query` (as typed) and its results, in the site's shell. With an empty query,
/// only the form.
pub fn render(shell: &Shell, query: &str, found: &[Found]) -> String {
    let heading = match query.trim() {
        "" => "Search".to_string(),
        query => format!("“{query}”"),
    };
    let mut body = format!("<h1>{}</h1>\n", escape_html(&heading));
    body.push_str(&format!(
        "<form role=\"search\" action=\"/search\" method=\"get\">\
         <label for=\"q\">Search the stories</label> \
         <input id=\"q\" type=\"search\" name=\"q\" value=\"{}\"> \
         <button type=\"submit\">Search</button></form>\n",
        escape_html(query)
    ));
    if !query.trim().is_empty() {
        body.push_str(&summary_line(query, found.len()));
        body.push_str("<ol class=\"results\">\n");
        for story in found {
            body.push_str(&result(story));
        }
        body.push_str("</ol>\n");
    }
    let alternates = match query.trim() {
        "" => Vec::new(),
        _ => vec![Alternate {
            title: format!("{heading} (Atom)"),
            mime_type: "application/atom+xml",
            href: format!("/search.atom?q={}", encode(query)),
        }],
    };
    layout::page(shell, &heading, &alternates, PreEscaped(body))
}

fn summary_line(query: &str, count: usize) -> String {
    let feed = format!("/search.atom?q={}", encode(query));
    let stories = match count {
        1 => "1 story".to_string(),
        count => format!("{count} stories"),
    };
    format!(
        "<p>{stories} found for “{}”. <a href=\"{}\">Subscribe to this search</a> (Atom).</p>\n",
        escape_html(query),
        escape_html(&feed)
    )
}

fn result(story: &Found) -> String {
    let title = escape_html(&story.title);
    let heading = match story.link.as_deref().filter(|link| is_web_url(link)) {
        Some(link) => format!("<a href=\"{}\">{title}</a>", escape_html(link)),
        None => title,
    };
    let sources: Vec<String> = story
        .sources
        .iter()
        .map(
            |(name, link)| match link.as_deref().filter(|l| is_web_url(l)) {
                Some(link) => format!(
                    "<a href=\"{}\">{}</a>",
                    escape_html(link),
                    escape_html(name)
                ),
                None => escape_html(name),
            },
        )
        .collect();
    let snippet: String = story
        .snippet
        .iter()
        .map(|piece| match piece.matched {
            true => format!("<mark>{}</mark>", escape_html(&piece.text)),
            false => escape_html(&piece.text),
        })
        .collect();
    format!(
        "<li><h2>{heading}</h2><p class=\"meta\"><time datetime=\"{}\">{}</time> · {}</p>\
         <p>{snippet}</p></li>\n",
        story.published.format("%Y-%m-%dT%H:%M:%SZ"),
        story.published.format("%Y-%m-%d %H:%M"),
        sources.join(", ")
    )
}

/// The query as a URL query value.
fn encode(query: &str) -> String {
    url::form_urlencoded::byte_serialize(query.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shell() -> Shell {
        Shell {
            site_title: "Revue".into(),
            description: None,
            tags: vec!["économie".into()],
        }
    }

    fn found() -> Found {
        Found {
            title: "Crue <b>de</b> la Loire".into(),
            link: Some("https://news.example/a?x=1&y=2".into()),
            published: DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
            sources: vec![
                ("Le Quotidien".into(), Some("https://q.example/".into())),
                ("<script>".into(), Some("javascript:alert(1)".into())),
            ],
            snippet: vec![
                Piece {
                    text: "La ".into(),
                    matched: false,
                },
                Piece {
                    text: "Loire<".into(),
                    matched: true,
                },
            ],
        }
    }

    #[test]
    fn results_are_escaped_and_marked() {
        let page = render(&shell(), "loire \"<x>", &[found()]);
        assert!(page.contains("value=\"loire &quot;&lt;x&gt;\""), "{page}");
        assert!(
            page.contains("Crue &lt;b&gt;de&lt;/b&gt; la Loire"),
            "{page}"
        );
        assert!(page.contains("href=\"https://news.example/a?x=1&amp;y=2\""));
        assert!(page.contains("La <mark>Loire&lt;</mark>"));
        assert!(page.contains("&lt;script&gt;"));
        assert!(!page.contains("javascript:"), "only web links are linked");
        assert!(
            page.contains("href=\"/search.atom?q=loire+%22%3Cx%3E\""),
            "{page}"
        );
        assert!(page.contains("1 story found"));
        // The site's shell: its stylesheet and navigation, no inline style (the CSP forbids it).
        assert!(page.contains("href=\"/style.css\""), "{page}");
        assert!(page.contains("href=\"/tags/%C3%A9conomie\""), "{page}");
        assert!(!page.contains("<style"), "{page}");
    }

    #[test]
    fn an_empty_query_shows_only_the_form() {
        let page = render(&shell(), "", &[]);
        assert!(page.contains("<form"));
        assert!(!page.contains("<ol"));
    }
}
