//! Bytes -> text as a browser would decode them: BOM, HTTP charset, `<meta>` prescan, detection.

use encoding_rs::{Encoding, UTF_8, WINDOWS_1252};

/// How far into the page the `<meta charset>` prescan may look. Browsers stop at 1024 bytes,
/// but real pages put the tag after long inline scripts, so we scan the whole head up to this cap.
const META_SCAN_LIMIT: usize = 256 * 1024;

/// Decodes page bytes: BOM, then HTTP charset, then `<meta>` in the head, then detection.
///
/// A declared legacy charset loses to the bytes when they are valid, non-ASCII UTF-8: a server
/// default of ISO-8859-1 over UTF-8 pages is a far more common mistake than legacy text that
/// happens to form valid multi-byte UTF-8 sequences.
pub fn decode_html(bytes: &[u8], content_type: Option<&str>) -> String {
    if let Some((encoding, bom_length)) = Encoding::for_bom(bytes) {
        let (text, _) = encoding.decode_without_bom_handling(&bytes[bom_length..]);
        return text.into_owned();
    }
    let declared = content_type
        .and_then(charset_from_content_type)
        .or_else(|| meta_charset(bytes));
    let valid_utf8 = std::str::from_utf8(bytes).ok();
    if let Some(encoding) = declared {
        match valid_utf8 {
            Some(text) if encoding != UTF_8 && !text.is_ascii() => return text.to_string(),
            _ => return decode_with(encoding, bytes),
        }
    }
    if let Some(text) = valid_utf8 {
        return text.to_string();
    }
    let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
    detector.feed(bytes, true);
    decode_with(detector.guess(None, chardetng::Utf8Detection::Allow), bytes)
}

fn decode_with(encoding: &'static Encoding, bytes: &[u8]) -> String {
    encoding.decode_without_bom_handling(bytes).0.into_owned()
}

/// Maps a charset label the way the HTML standard does (UTF-16 in a meta means UTF-8, etc.).
fn encoding_for_label(label: &str) -> Option<&'static Encoding> {
    let encoding = Encoding::for_label(label.trim().trim_matches(['"', '\'']).as_bytes())?;
    if encoding == encoding_rs::UTF_16LE || encoding == encoding_rs::UTF_16BE {
        return Some(UTF_8);
    }
    if encoding == encoding_rs::X_USER_DEFINED {
        return Some(WINDOWS_1252);
    }
    Some(encoding)
}

/// `text/html; charset=iso-8859-1` -> windows-1252 (the label's browser meaning).
pub fn charset_from_content_type(content_type: &str) -> Option<&'static Encoding> {
    let lower = content_type.to_ascii_lowercase();
    let start = lower.find("charset")? + "charset".len();
    let rest = lower[start..].trim_start().strip_prefix('=')?;
    let label: String = rest
        .trim_start()
        .chars()
        .take_while(|c| !matches!(c, ';' | ' ' | ','))
        .collect();
    encoding_for_label(&label)
}

/// Finds `<meta charset=...>` or `<meta http-equiv=content-type content="...charset=...">`
/// anywhere before `<body` (bounded by [`META_SCAN_LIMIT`]), skipping comments.
fn meta_charset(bytes: &[u8]) -> Option<&'static Encoding> {
    let head = &bytes[..bytes.len().min(META_SCAN_LIMIT)];
    let lower: Vec<u8> = head.iter().map(u8::to_ascii_lowercase).collect();
    let mut position = 0;
    while let Some(offset) = find(&lower[position..], b"<") {
        let tag_start = position + offset;
        let rest = &lower[tag_start..];
        if rest.starts_with(b"<!--") {
            position = tag_start + 4 + find(&rest[4..], b"-->").unwrap_or(rest.len() - 4);
            continue;
        }
        if rest.starts_with(b"<body") {
            return None;
        }
        let tag_end = tag_start + find(rest, b">").unwrap_or(rest.len());
        if rest.starts_with(b"<meta") {
            let tag = String::from_utf8_lossy(&lower[tag_start..tag_end]);
            if let Some(encoding) = charset_in_meta_tag(&tag) {
                return Some(encoding);
            }
        }
        position = tag_end.max(tag_start + 1);
    }
    None
}

/// The charset named by one lowercased `<meta ...>` tag, if it names one.
fn charset_in_meta_tag(tag: &str) -> Option<&'static Encoding> {
    let start = tag.find("charset")? + "charset".len();
    let rest = tag[start..].trim_start().strip_prefix('=')?.trim_start();
    let rest = rest.trim_start_matches(['"', '\'']);
    let label: String = rest
        .chars()
        .take_while(|c| !matches!(c, '"' | '\'' | ';' | ' ' | '/' | '>'))
        .collect();
    encoding_for_label(&label)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_charset_wins_over_detection() {
        let bytes = b"<p>caf\xe9</p>";
        assert_eq!(
            decode_html(bytes, Some("text/html; charset=ISO-8859-1")),
            "<p>café</p>"
        );
    }

    #[test]
    fn meta_after_1024_bytes_is_found() {
        let mut page = b"<html><head><script>".to_vec();
        page.extend(std::iter::repeat_n(b'x', 3000));
        page.extend(b"</script><meta charset=\"windows-1252\"></head><body>\x93ok\x94</body>");
        assert!(decode_html(&page, None).contains("\u{201c}ok\u{201d}"));
    }

    #[test]
    fn utf8_bytes_beat_a_wrong_legacy_declaration() {
        let page = "<meta charset=iso-8859-1><p>été</p>".as_bytes();
        assert!(decode_html(page, None).contains("été"));
    }

    #[test]
    fn meta_inside_comment_is_ignored() {
        let page = b"<!-- <meta charset=koi8-r> --><p>caf\xe9 cr\xe8me br\xfbl\xe9e</p>";
        assert!(decode_html(page, None).contains("café crème brûlée"));
    }
}
