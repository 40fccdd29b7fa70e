//! JSON on both sides of parsing: repairing JSON Feed variants feed-rs refuses, and the
//! `tributary parse --json` view of a parsed feed.

use serde_json::{Map, Value, json};

use crate::model::ParsedFeed;

const JSON_FEED_VERSION: &str = "https://jsonfeed.org/version/1.1";

/// Rewrites a JSON Feed into the shape feed-rs reads: a version URL it accepts (`"1.0"`,
/// `"1.1"` or none at all are common), a title, an items array, string ids, attachments
/// with a MIME type. `None` when the text is not a JSON object that looks like a feed.
pub fn repair_json_feed(text: &str) -> Option<String> {
    let mut document: Value = serde_json::from_str(text).ok()?;
    let feed = document.as_object_mut()?;
    let looks_like_feed = feed.contains_key("items")
        || feed
            .get("version")
            .and_then(Value::as_str)
            .is_some_and(|version| version.contains("jsonfeed"));
    if !looks_like_feed {
        return None;
    }
    feed.insert("version".into(), Value::from(JSON_FEED_VERSION));
    if !feed.get("title").is_some_and(Value::is_string) {
        feed.insert("title".into(), Value::from(""));
    }
    repair_authors(feed);
    if !feed.get("items").is_some_and(Value::is_array) {
        feed.insert("items".into(), Value::Array(Vec::new()));
    }
    if let Some(Value::Array(items)) = feed.get_mut("items") {
        items.retain(Value::is_object);
        items
            .iter_mut()
            .filter_map(Value::as_object_mut)
            .for_each(repair_item);
    }
    serde_json::to_string(&document).ok()
}

/// `"author": "Name"` and `"authors": ["Name"]` are common; feed-rs wants objects.
fn repair_authors(object: &mut Map<String, Value>) {
    let as_author = |value: &Value| match value {
        Value::String(name) => Some(json!({ "name": name })),
        Value::Object(_) => Some(value.clone()),
        _ => None,
    };
    match object.get("author").map(as_author) {
        Some(Some(author)) => {
            object.insert("author".into(), author);
        }
        Some(None) => {
            object.remove("author");
        }
        None => {}
    }
    match object.get("authors") {
        Some(Value::Array(authors)) => {
            let authors: Vec<Value> = authors.iter().filter_map(as_author).collect();
            object.insert("authors".into(), Value::Array(authors));
        }
        Some(_) => {
            object.remove("authors");
        }
        None => {}
    }
}

fn repair_item(item: &mut Map<String, Value>) {
    repair_authors(item);
    for key in [
        "id",
        "url",
        "external_url",
        "title",
        "content_html",
        "content_text",
        "summary",
        "date_published",
        "date_modified",
    ] {
        match item.get(key) {
            Some(Value::Number(number)) => {
                let text = number.to_string();
                item.insert(key.into(), Value::from(text));
            }
            Some(Value::String(_)) | Some(Value::Null) | None => {}
            Some(_) => {
                item.remove(key);
            }
        }
    }
    if let Some(Value::Array(tags)) = item.get_mut("tags") {
        tags.retain(Value::is_string);
    } else {
        item.remove("tags");
    }
    if let Some(Value::Array(attachments)) = item.get_mut("attachments") {
        attachments.retain(|attachment| attachment.get("url").is_some_and(Value::is_string));
        for attachment in attachments.iter_mut().filter_map(Value::as_object_mut) {
            if !attachment.get("mime_type").is_some_and(Value::is_string) {
                attachment.insert("mime_type".into(), Value::from("application/octet-stream"));
            }
            let size = attachment.get("size_in_bytes").map(|size| match size {
                Value::String(text) => text.trim().parse::<u64>().ok(),
                other => other.as_u64(),
            });
            match size {
                Some(Some(size)) => {
                    attachment.insert("size_in_bytes".into(), Value::from(size));
                }
                Some(None) => {
                    attachment.remove("size_in_bytes");
                }
                None => {}
            }
        }
    } else {
        item.remove("attachments");
    }
}

/// The `tributary parse --json` view: `{"title", "entries": [{"id", "title", "link",
/// "published", "content"}]}`, dates in RFC 3339, content the full HTML or else the summary.
pub fn to_json(feed: &ParsedFeed) -> Value {
    let entries: Vec<Value> = feed
        .entries
        .iter()
        .map(|entry| {
            json!({
                "id": entry.id,
                "title": entry.title,
                "link": entry.link,
                "published": entry.published.or(entry.updated).map(|date| date.to_rfc3339()),
                "content": entry.content_html.as_ref().or(entry.summary_html.as_ref()),
            })
        })
        .collect();
    json!({ "title": feed.title, "entries": entries })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::FeedEntry;
    use chrono::TimeZone;

    #[test]
    fn old_version_strings_are_replaced() {
        let repaired =
            repair_json_feed(r#"{"version":"1.0","title":"t","items":[{"id":7}]}"#).unwrap();
        let value: Value = serde_json::from_str(&repaired).unwrap();
        assert_eq!(value["version"], JSON_FEED_VERSION);
        assert_eq!(value["items"][0]["id"], "7");
    }

    #[test]
    fn missing_title_and_bad_attachments_are_filled_in() {
        let repaired = repair_json_feed(
            r#"{"items":[{"id":"a","tags":[1,"x"],"attachments":[{"url":"http://x/a.mp3"},{"size":3}]}]}"#,
        )
        .unwrap();
        let value: Value = serde_json::from_str(&repaired).unwrap();
        assert_eq!(value["title"], "");
        assert_eq!(value["items"][0]["tags"], json!(["x"]));
        assert_eq!(
            value["items"][0]["attachments"].as_array().unwrap().len(),
            1
        );
        assert_eq!(
            value["items"][0]["attachments"][0]["mime_type"],
            "application/octet-stream"
        );
    }

    #[test]
    fn string_authors_and_sizes_are_repaired() {
        let repaired = repair_json_feed(
            r#"{"version":"1.1","author":"Bob","items":[{"authors":["Al",3],"attachments":[{"url":"u","mime_type":"a/b","size_in_bytes":"12"}]}]}"#,
        )
        .unwrap();
        let value: Value = serde_json::from_str(&repaired).unwrap();
        assert_eq!(value["author"], json!({"name": "Bob"}));
        assert_eq!(value["items"][0]["authors"], json!([{"name": "Al"}]));
        assert_eq!(value["items"][0]["attachments"][0]["size_in_bytes"], 12);
    }

    #[test]
    fn json_that_is_not_a_feed_is_left_alone() {
        assert!(repair_json_feed(r#"{"name":"package"}"#).is_none());
        assert!(repair_json_feed(r#"{"version": "1.0""#).is_none());
        assert!(repair_json_feed("[1,2]").is_none());
    }

    #[test]
    fn to_json_has_the_documented_shape() {
        let feed = ParsedFeed {
            title: Some("Feed".into()),
            entries: vec![
                FeedEntry {
                    id: Some("1".into()),
                    title: Some("One".into()),
                    link: Some("https://example.org/1".into()),
                    published: Some(chrono::Utc.with_ymd_and_hms(2024, 1, 5, 10, 0, 0).unwrap()),
                    summary_html: Some("<p>s</p>".into()),
                    ..Default::default()
                },
                FeedEntry {
                    content_html: Some("<p>c</p>".into()),
                    summary_html: Some("<p>s</p>".into()),
                    ..Default::default()
                },
            ],
            ..Default::default()
        };
        let value = to_json(&feed);
        assert_eq!(value["title"], "Feed");
        assert_eq!(
            value["entries"][0]["published"],
            "2024-01-05T10:00:00+00:00"
        );
        assert_eq!(value["entries"][0]["content"], "<p>s</p>");
        assert_eq!(value["entries"][1]["content"], "<p>c</p>");
        assert_eq!(value["entries"][1]["id"], Value::Null);
    }
}
