//! Page metadata from JSON-LD, OpenGraph, `<meta>` tags and microdata, most explicit first.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use scraper::{ElementRef, Html, Selector};
use serde_json::Value;

use crate::model::PageMetadata;

/// Metadata plus the JSON-LD `articleBody`, which extraction uses as a signal.
#[derive(Debug, Default)]
pub struct PageFacts {
    pub metadata: PageMetadata,
    pub article_body: Option<String>,
    /// The first `<h1>` of the page and the `<title>`, for headline matching.
    pub first_heading: Option<String>,
    pub document_title: Option<String>,
}

/// JSON-LD types that describe an article (as opposed to the site or a breadcrumb list).
const ARTICLE_TYPES: &[&str] = &[
    "Article",
    "NewsArticle",
    "BlogPosting",
    "ReportageNewsArticle",
    "AnalysisNewsArticle",
    "OpinionNewsArticle",
    "Report",
    "ScholarlyArticle",
    "TechArticle",
    "LiveBlogPosting",
    "BackgroundNewsArticle",
    "Review",
    "SocialMediaPosting",
    "Recipe",
    "WebPage",
];

fn selector(css: &str) -> Selector {
    Selector::parse(css).expect("static selector")
}

/// The elements metadata is read from, found in one walk over the page (in document order,
/// as CSS selectors would find them). One selector query per field walked the whole page
/// each time, about 5 % of a batch's CPU.
#[derive(Default)]
struct PageIndex<'a> {
    first_h1: Option<ElementRef<'a>>,
    first_title: Option<ElementRef<'a>>,
    /// `meta[content]`.
    metas: Vec<ElementRef<'a>>,
    /// `script[type="application/ld+json"]`.
    json_ld_scripts: Vec<ElementRef<'a>>,
    /// Elements with an `itemprop` attribute.
    microdata: Vec<ElementRef<'a>>,
    /// The first `time[datetime]`.
    first_time: Option<ElementRef<'a>>,
    /// The first `link[rel="canonical"][href]`.
    canonical: Option<ElementRef<'a>>,
}

impl<'a> PageIndex<'a> {
    fn build(document: &'a Html) -> Self {
        let mut index = PageIndex::default();
        for element in document
            .tree
            .root()
            .descendants()
            .filter_map(ElementRef::wrap)
        {
            let value = element.value();
            let first = |slot: &mut Option<ElementRef<'a>>| {
                slot.get_or_insert(element);
            };
            match value.name() {
                "h1" => first(&mut index.first_h1),
                "title" => first(&mut index.first_title),
                "meta" if value.attr("content").is_some() => index.metas.push(element),
                "script" if value.attr("type") == Some("application/ld+json") => {
                    index.json_ld_scripts.push(element);
                }
                "time" if value.attr("datetime").is_some() => first(&mut index.first_time),
                "link"
                    if value.attr("rel") == Some("canonical") && value.attr("href").is_some() =>
                {
                    first(&mut index.canonical);
                }
                _ => {}
            }
            if value.attr("itemprop").is_some() {
                index.microdata.push(element);
            }
        }
        index
    }
}

/// Collects the page's metadata; the first source that gives a field wins.
pub fn read(document: &Html, page_url: &url::Url) -> PageFacts {
    let index = PageIndex::build(document);
    let text_of = |element: Option<ElementRef>| {
        element
            .map(|element| collapse(&element.text().collect::<String>()))
            .filter(|text| !text.is_empty())
    };
    let mut facts = PageFacts {
        first_heading: text_of(index.first_h1),
        document_title: text_of(index.first_title),
        ..Default::default()
    };
    let sources = Sources {
        document,
        json_ld: json_ld_article(&index.json_ld_scripts),
        meta: MetaTags::read(&index.metas),
        index,
    };
    facts.metadata.title = sources
        .ld("headline")
        .or_else(|| {
            sources
                .meta
                .get(&["og:title", "twitter:title", "title", "dc.title"])
        })
        .or_else(|| sources.item("headline"))
        .or_else(|| facts.first_heading.clone())
        .or_else(|| facts.document_title.clone());
    sources.people_and_dates(&mut facts.metadata);
    sources.page_facts(&mut facts.metadata, page_url);
    // Raw, not collapsed: its line breaks are the paragraph boundaries.
    facts.article_body = sources
        .json_ld
        .as_ref()
        .and_then(|article| article.get("articleBody")?.as_str())
        .map(|body| body.trim().to_string())
        .filter(|body| body.chars().count() >= 200);
    facts
}

/// The page's three metadata sources, read once.
struct Sources<'a> {
    document: &'a Html,
    index: PageIndex<'a>,
    json_ld: Option<Value>,
    meta: MetaTags,
}

impl Sources<'_> {
    fn ld(&self, key: &str) -> Option<String> {
        self.json_ld
            .as_ref()
            .and_then(|article| string_field(article.get(key)?))
    }

    fn item(&self, name: &str) -> Option<String> {
        microdata(&self.index.microdata, name)
    }

    /// Author, published and modified dates.
    fn people_and_dates(&self, metadata: &mut PageMetadata) {
        let author_keys = [
            "author",
            "article:author",
            "dc.creator",
            "byl",
            "parsely-author",
        ];
        metadata.author = self
            .json_ld
            .as_ref()
            .and_then(|article| names(article.get("author")?))
            .or_else(|| self.meta.get(&author_keys))
            .filter(|author| !author.starts_with("http"))
            .or_else(|| self.item("author"));
        metadata.published = self
            .ld("datePublished")
            .or_else(|| self.meta.get(&PUBLISHED_KEYS))
            .or_else(|| self.item("datePublished"))
            .or_else(|| time_element(self.index.first_time))
            .and_then(|value| parse_date(&value));
        let modified_keys = [
            "article:modified_time",
            "og:updated_time",
            "dcterms.modified",
            "last-modified",
        ];
        metadata.modified = self
            .ld("dateModified")
            .or_else(|| self.meta.get(&modified_keys))
            .or_else(|| self.item("dateModified"))
            .and_then(|value| parse_date(&value));
    }

    /// Lead image, language, site name, description and canonical URL.
    fn page_facts(&self, metadata: &mut PageMetadata, page_url: &url::Url) {
        let image_keys = [
            "og:image",
            "og:image:url",
            "twitter:image",
            "twitter:image:src",
        ];
        metadata.image = self
            .json_ld
            .as_ref()
            .and_then(|article| image_url(article.get("image")?))
            .or_else(|| self.meta.get(&image_keys))
            .or_else(|| self.item("image"))
            .and_then(|image| absolute(page_url, &image));
        let language_keys = ["og:locale", "content-language", "dc.language", "language"];
        metadata.language = html_language(self.document)
            .or_else(|| self.ld("inLanguage"))
            .or_else(|| self.meta.get(&language_keys));
        metadata.site_name = self
            .meta
            .get(&["og:site_name", "application-name", "publisher"])
            .or_else(|| publisher_name(self.json_ld.as_ref()));
        let description_keys = [
            "og:description",
            "description",
            "twitter:description",
            "dc.description",
        ];
        metadata.description = self
            .meta
            .get(&description_keys)
            .or_else(|| self.ld("description"));
        metadata.canonical_url = canonical(self.index.canonical)
            .or_else(|| self.meta.get(&["og:url"]))
            .and_then(|link| absolute(page_url, &link));
    }
}

const PUBLISHED_KEYS: [&str; 10] = [
    "article:published_time",
    "og:published_time",
    "datepublished",
    "date",
    "pubdate",
    "publishdate",
    "dc.date",
    "dcterms.created",
    "dc.date.issued",
    "parsely-pub-date",
];

/// `<meta>` name/property -> content, keys lowercased, first occurrence kept.
struct MetaTags(Vec<(String, String)>);

impl MetaTags {
    fn read(metas: &[ElementRef]) -> Self {
        let mut pairs = Vec::new();
        for element in metas {
            let key = ["property", "name", "itemprop", "http-equiv"]
                .iter()
                .find_map(|attribute| element.attr(attribute));
            let (Some(key), Some(content)) = (key, element.attr("content")) else {
                continue;
            };
            let content = collapse(content);
            if !content.is_empty() {
                pairs.push((key.trim().to_lowercase(), content));
            }
        }
        MetaTags(pairs)
    }

    fn get(&self, keys: &[&str]) -> Option<String> {
        keys.iter().find_map(|key| {
            self.0
                .iter()
                .find(|(name, _)| name == key)
                .map(|(_, content)| content.clone())
        })
    }
}

/// The first JSON-LD object whose `@type` is an article type (searching `@graph` too).
fn json_ld_article(scripts: &[ElementRef]) -> Option<Value> {
    let mut fallback = None;
    for script in scripts {
        let raw: String = script.text().collect();
        let Ok(value) = serde_json::from_str::<Value>(raw.trim()) else {
            continue;
        };
        let mut pending = vec![value];
        while let Some(value) = pending.pop() {
            match value {
                Value::Array(items) => pending.extend(items),
                Value::Object(mut object) => {
                    if let Some(graph) = object.remove("@graph") {
                        pending.push(graph);
                    }
                    let value = Value::Object(object);
                    match article_rank(&value) {
                        Some(0) => return Some(value),
                        Some(_) if fallback.is_none() => fallback = Some(value),
                        _ => {}
                    }
                }
                _ => {}
            }
        }
    }
    fallback
}

/// 0 for article types, 1 for a plain `WebPage`, `None` for anything else.
fn article_rank(value: &Value) -> Option<u8> {
    let types: Vec<&str> = match value.get("@type")? {
        Value::String(name) => vec![name.as_str()],
        Value::Array(names) => names.iter().filter_map(Value::as_str).collect(),
        _ => return None,
    };
    let rank = |name: &&str| match *name {
        "WebPage" => Some(1),
        name if ARTICLE_TYPES.contains(&name) => Some(0),
        _ => None,
    };
    types.iter().filter_map(rank).min()
}

fn string_field(value: &Value) -> Option<String> {
    let text = match value {
        Value::String(text) => text.clone(),
        Value::Array(items) => return items.iter().find_map(string_field),
        Value::Object(object) => return object.get("@value").and_then(string_field),
        Value::Number(number) => number.to_string(),
        _ => return None,
    };
    let text = collapse(&text);
    (!text.is_empty()).then_some(text)
}

/// Author names from a string, a Person object or a list of either.
fn names(value: &Value) -> Option<String> {
    let list: Vec<String> = match value {
        Value::Array(items) => items.iter().filter_map(names).collect(),
        Value::Object(object) => object
            .get("name")
            .and_then(string_field)
            .into_iter()
            .collect(),
        other => string_field(other).into_iter().collect(),
    };
    (!list.is_empty()).then(|| list.join(", "))
}

fn image_url(value: &Value) -> Option<String> {
    match value {
        Value::Array(items) => items.iter().find_map(image_url),
        Value::Object(object) => object
            .get("url")
            .or_else(|| object.get("contentUrl"))
            .and_then(string_field),
        other => string_field(other),
    }
}

fn publisher_name(article: Option<&Value>) -> Option<String> {
    names(article?.get("publisher")?)
}

/// A microdata property's value: `content`, `datetime`, `src` or its text.
fn microdata(elements: &[ElementRef], name: &str) -> Option<String> {
    let element = *elements
        .iter()
        .find(|element| element.value().attr("itemprop") == Some(name))?;
    let nested_name = element
        .select(&selector("[itemprop=\"name\"]"))
        .next()
        .map(|inner| inner.text().collect::<String>());
    let value = ["content", "datetime", "src", "href"]
        .iter()
        .find_map(|attribute| element.attr(attribute).map(str::to_string))
        .or(nested_name)
        .unwrap_or_else(|| element_text(element));
    let value = collapse(&value);
    (!value.is_empty()).then_some(value)
}

fn element_text(element: ElementRef) -> String {
    element.text().collect()
}

fn time_element(time: Option<ElementRef>) -> Option<String> {
    time.and_then(|time| time.attr("datetime"))
        .map(str::to_string)
}

fn html_language(document: &Html) -> Option<String> {
    let language = document.root_element().attr("lang")?.trim().to_string();
    (!language.is_empty()).then_some(language)
}

fn canonical(link: Option<ElementRef>) -> Option<String> {
    link.and_then(|link| link.attr("href")).map(str::to_string)
}

fn absolute(page_url: &url::Url, link: &str) -> Option<String> {
    page_url.join(link.trim()).ok().map(|url| url.to_string())
}

/// Parses the date formats pages use: RFC 3339, RFC 2822, and bare dates (taken as UTC).
pub fn parse_date(value: &str) -> Option<DateTime<Utc>> {
    let value = value.trim();
    if let Ok(date) = DateTime::parse_from_rfc3339(value) {
        return Some(date.with_timezone(&Utc));
    }
    if let Ok(date) = DateTime::parse_from_rfc2822(value) {
        return Some(date.with_timezone(&Utc));
    }
    for format in [
        "%Y-%m-%dT%H:%M:%S%z",
        "%Y-%m-%dT%H:%M:%S%.f%z",
        "%Y-%m-%d %H:%M:%S%z",
    ] {
        if let Ok(date) = DateTime::parse_from_str(value, format) {
            return Some(date.with_timezone(&Utc));
        }
    }
    for format in [
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(date) = NaiveDateTime::parse_from_str(value, format) {
            return Some(date.and_utc());
        }
    }
    let day = value.get(..10).unwrap_or(value);
    NaiveDate::parse_from_str(day, "%Y-%m-%d")
        .ok()
        .and_then(|date| date.and_hms_opt(0, 0, 0))
        .map(|date| date.and_utc())
}

/// Collapses whitespace runs and trims.
pub fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_ld_graph_beats_opengraph() {
        let page = r#"<html lang="fr"><head>
            <meta property="og:title" content="OG title">
            <meta property="og:site_name" content="Le Site">
            <script type="application/ld+json">{"@graph":[{"@type":"WebSite","name":"x"},
              {"@type":"NewsArticle","headline":"LD title","datePublished":"2024-03-01T10:00:00+01:00",
               "author":[{"@type":"Person","name":"Anne Dupont"}],"image":{"url":"/i.jpg"}}]}</script>
            </head><body></body></html>"#;
        let url = url::Url::parse("https://site.example/a").unwrap();
        let facts = read(&Html::parse_document(page), &url);
        let metadata = facts.metadata;
        assert_eq!(metadata.title.as_deref(), Some("LD title"));
        assert_eq!(metadata.author.as_deref(), Some("Anne Dupont"));
        assert_eq!(
            metadata.image.as_deref(),
            Some("https://site.example/i.jpg")
        );
        assert_eq!(metadata.language.as_deref(), Some("fr"));
        assert_eq!(metadata.site_name.as_deref(), Some("Le Site"));
        assert_eq!(
            metadata.published.unwrap().to_rfc3339(),
            "2024-03-01T09:00:00+00:00"
        );
    }

    #[test]
    fn microdata_fills_missing_fields() {
        let page = r#"<div itemscope><span itemprop="author" itemscope><span itemprop="name">Jo Bloggs</span></span>
            <time itemprop="datePublished" datetime="2023-05-06">6 May</time></div>"#;
        let url = url::Url::parse("https://site.example/a").unwrap();
        let metadata = read(&Html::parse_document(page), &url).metadata;
        assert_eq!(metadata.author.as_deref(), Some("Jo Bloggs"));
        assert_eq!(
            metadata.published.unwrap().to_rfc3339(),
            "2023-05-06T00:00:00+00:00"
        );
    }
}
