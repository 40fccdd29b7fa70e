//! The search page (`/search?q=`): a form, and the stories found with their sources and a
//! snippet with the terms marked. Pure; every text from a feed or the query is escaped.

use chrono::{DateTime, Utc};

use super::super::content::{escape_html, is_web_url};
use super::super::snippet::Piece;

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

/// The page for `query` (as typed) and its results; `title` is the aggregator's. With an
/// empty query, only the form.
pub fn render(title: &str, query: &str, found: &[Found]) -> String {
    let mut body = String::new();
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
    shell(title, query, &body)
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

/// A minimal page shell: this page's own until the site has a shared layout.
fn shell(title: &str, query: &str, body: &str) -> String {
    let heading = match query.trim() {
        "" => format!("Search · {}", escape_html(title)),
        query => format!("“{}” · {}", escape_html(query), escape_html(title)),
    };
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"color-scheme\" content=\"light dark\">\
         <title>{heading}</title>\
         <link rel=\"alternate\" type=\"application/atom+xml\" href=\"/feed.atom\">\
         <style>body{{max-width:42rem;margin:auto;padding:1rem;font-family:sans-serif;\
         line-height:1.5}}h2{{font-size:1.1rem;margin-bottom:0}}.meta{{margin:0;opacity:.75}}\
         </style></head>\n<body><header><a href=\"/\">{}</a></header>\n<main><h1>{heading}</h1>\n\
         {body}</main></body></html>\n",
        escape_html(title)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let page = render("Revue", "loire \"<x>", &[found()]);
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
    }

    #[test]
    fn an_empty_query_shows_only_the_form() {
        let page = render("Revue", "", &[]);
        assert!(page.contains("<form"));
        assert!(!page.contains("<ol"));
    }
}
