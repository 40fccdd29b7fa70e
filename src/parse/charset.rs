//! Which character encoding a feed document is in, and its text as UTF-8.
//!
//! Order of evidence: a byte-order mark, then the XML declaration, then the HTTP `charset`,
//! then statistical detection (chardetng). UTF-32, which encoding_rs does not know, is
//! recognised by its BOM or by a first `<` written in four bytes. A declaration is only believed when the bytes agree
//! with it: real feeds often declare ISO-8859-1 while sending UTF-8, or declare UTF-8 while
//! sending windows-1252.

use std::borrow::Cow;

use encoding_rs::{Encoding, UTF_8, UTF_16BE, UTF_16LE};

/// The document as UTF-8 and whether its XML declaration must be rewritten, because it names an
/// encoding the bytes are no longer in (feed-rs would otherwise decode them a second time).
pub struct Decoded<'a> {
    pub text: Cow<'a, str>,
    pub declaration_is_stale: bool,
    /// The name of the encoding the bytes were read as, for diagnostics and tests.
    pub encoding: &'static str,
}

/// Decodes `bytes` to UTF-8, borrowing when the document already is UTF-8 and says so.
pub fn decode_to_utf8<'a>(
    bytes: &'a [u8],
    content_type: Option<&str>,
    tld_hint: Option<&str>,
) -> Decoded<'a> {
    // Before the UTF-16 BOM check: UTF-32LE's BOM starts with UTF-16LE's.
    if let Some(decoded) = utf32(bytes) {
        return decoded;
    }
    if let Some((encoding, bom_length)) = Encoding::for_bom(bytes) {
        return transcode(&bytes[bom_length..], encoding);
    }
    if let Some(encoding) = utf16_without_bom(bytes) {
        return transcode(bytes, encoding);
    }
    let declared = declared_encoding(bytes);
    let from_http = content_type.and_then(charset_from_content_type);
    if let Ok(text) = std::str::from_utf8(bytes) {
        return decoded_valid_utf8(text, declared);
    }
    // The bytes are not UTF-8: trust a declaration or header naming something else, else guess.
    let candidate = [declared, from_http]
        .into_iter()
        .flatten()
        .find(|encoding| *encoding != UTF_8 && encoding.is_ascii_compatible())
        .unwrap_or_else(|| guess_encoding(bytes, tld_hint));
    transcode(bytes, candidate)
}

/// Valid UTF-8 is kept as UTF-8 whatever the declaration says: text in a single-byte encoding
/// almost never forms valid multi-byte sequences by accident, and plain ASCII reads the same in
/// every ASCII-compatible encoding.
///
/// Any declaration naming another encoding is stale, even over plain ASCII: feed-rs's
/// quick-xml switches decoders when it reads one, and panics when the declaration ends past
/// its 64-byte look-ahead (a long declaration), losing the feed.
fn decoded_valid_utf8<'a>(text: &'a str, declared: Option<&'static Encoding>) -> Decoded<'a> {
    let declaration_is_stale = declared.is_some_and(|encoding| encoding != UTF_8);
    Decoded {
        text: Cow::Borrowed(text),
        declaration_is_stale: declaration_is_stale || declares_unknown_encoding(text.as_bytes()),
        encoding: UTF_8.name(),
    }
}

fn transcode<'a>(bytes: &'a [u8], encoding: &'static Encoding) -> Decoded<'a> {
    let (text, _had_errors) = encoding.decode_without_bom_handling(bytes);
    Decoded {
        text,
        declaration_is_stale: true,
        encoding: encoding.name(),
    }
}

/// UTF-32 by its BOM, or without one by a first character `<` (or BOM-less `\u{feff}`)
/// written in four bytes. Invalid code points become U+FFFD.
fn utf32(bytes: &[u8]) -> Option<Decoded<'static>> {
    let (big_endian, skip) = match bytes {
        [0, 0, 0xFE, 0xFF, ..] => (true, 4),
        [0xFF, 0xFE, 0, 0, ..] => (false, 4),
        [0, 0, 0, b'<', ..] => (true, 0),
        [b'<', 0, 0, 0, ..] => (false, 0),
        _ => return None,
    };
    let text = bytes[skip..]
        .chunks_exact(4)
        .map(|unit| {
            let unit: [u8; 4] = unit.try_into().expect("chunks of four");
            let code_point = if big_endian {
                u32::from_be_bytes(unit)
            } else {
                u32::from_le_bytes(unit)
            };
            char::from_u32(code_point).unwrap_or('\u{fffd}')
        })
        .collect();
    Some(Decoded {
        text: Cow::Owned(text),
        declaration_is_stale: true,
        encoding: if big_endian { "UTF-32BE" } else { "UTF-32LE" },
    })
}

/// UTF-16 documents without a BOM still start with `<` as a two-byte unit.
fn utf16_without_bom(bytes: &[u8]) -> Option<&'static Encoding> {
    match bytes {
        [b'<', 0, b'?' | b'r' | b'f' | b'R', 0, ..] => Some(UTF_16LE),
        [0, b'<', 0, b'?' | b'r' | b'f' | b'R', ..] => Some(UTF_16BE),
        _ => None,
    }
}

/// The `encoding="..."` label of the XML declaration, when the document starts with one.
pub fn declared_encoding_label(bytes: &[u8]) -> Option<&[u8]> {
    let start = xml_declaration_start(bytes)?;
    let rest = &bytes[start..];
    let end = rest.iter().take(512).position(|byte| *byte == b'>')?;
    let declaration = &rest[..end];
    let key = find_bytes(declaration, b"encoding")?;
    let after_key = &declaration[key + b"encoding".len()..];
    let quote_position = after_key.iter().position(|b| *b == b'"' || *b == b'\'')?;
    let quote = after_key[quote_position];
    let value = &after_key[quote_position + 1..];
    let value_end = value.iter().position(|b| *b == quote)?;
    Some(&value[..value_end])
}

/// Where the XML declaration starts: normally at 0, but comments or junk sometimes precede it.
pub fn xml_declaration_start(bytes: &[u8]) -> Option<usize> {
    let head = &bytes[..bytes.len().min(1024)];
    let start = find_bytes(head, b"<?xml")?;
    let next = head.get(start + 5).copied();
    next.is_some_and(|byte| byte.is_ascii_whitespace())
        .then_some(start)
}

fn declared_encoding(bytes: &[u8]) -> Option<&'static Encoding> {
    declared_encoding_label(bytes).and_then(Encoding::for_label)
}

/// A declaration naming an encoding nobody knows makes feed-rs fail, so it must be rewritten.
fn declares_unknown_encoding(bytes: &[u8]) -> bool {
    declared_encoding_label(bytes).is_some_and(|label| Encoding::for_label(label).is_none())
}

/// The `charset` parameter of an HTTP `Content-Type` value.
pub fn charset_from_content_type(content_type: &str) -> Option<&'static Encoding> {
    content_type.split(';').skip(1).find_map(|parameter| {
        let (name, value) = parameter.split_once('=')?;
        if !name.trim().eq_ignore_ascii_case("charset") {
            return None;
        }
        Encoding::for_label(
            value
                .trim()
                .trim_matches(|c| c == '"' || c == '\'')
                .as_bytes(),
        )
    })
}

/// Statistical detection, helped by the feed URL's top-level domain (`.ru` favours Cyrillic).
fn guess_encoding(bytes: &[u8], tld_hint: Option<&str>) -> &'static Encoding {
    let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
    detector.feed(bytes, true);
    detector.guess(tld_hint.map(str::as_bytes), chardetng::Utf8Detection::Allow)
}

pub(crate) fn find_bytes(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || haystack.len() < needle.len() {
        return None;
    }
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(bytes: &[u8], content_type: Option<&str>) -> (String, &'static str, bool) {
        let decoded = decode_to_utf8(bytes, content_type, None);
        (
            decoded.text.into_owned(),
            decoded.encoding,
            decoded.declaration_is_stale,
        )
    }

    #[test]
    fn plain_utf8_is_borrowed_and_untouched() {
        let bytes = "<?xml version=\"1.0\" encoding=\"utf-8\"?><rss>é</rss>".as_bytes();
        let decoded = decode_to_utf8(bytes, None, None);
        assert!(matches!(decoded.text, Cow::Borrowed(_)));
        assert!(!decoded.declaration_is_stale);
    }

    #[test]
    fn latin1_declared_is_transcoded() {
        let bytes = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><rss>Caf\xe9</rss>";
        let (text, encoding, stale) = decode(bytes, None);
        assert!(text.contains("Café"));
        assert_eq!(encoding, "windows-1252");
        assert!(stale);
    }

    #[test]
    fn utf8_bytes_under_a_latin1_declaration_stay_utf8() {
        let bytes = "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><feed>Café</feed>".as_bytes();
        let (text, encoding, stale) = decode(bytes, None);
        assert!(text.contains("Café"));
        assert_eq!(encoding, "UTF-8");
        assert!(stale, "the declaration must be rewritten to utf-8");
    }

    #[test]
    fn ascii_under_a_latin1_declaration_is_stale() {
        // Plain ASCII reads the same in both, but feed-rs must never switch decoders.
        let bytes = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><feed>Cafe</feed>";
        let (_, encoding, stale) = decode(bytes, None);
        assert_eq!(encoding, "UTF-8");
        assert!(stale);
    }

    #[test]
    fn latin1_bytes_under_a_utf8_declaration_are_detected() {
        let bytes = b"<?xml version=\"1.0\" encoding=\"utf-8\"?><rss><title>Le caf\xe9 est tr\xe8s \xe0 la mode, d\xe9j\xe0</title></rss>";
        let (text, _, _) = decode(bytes, None);
        assert!(text.contains("café est très à la mode, déjà"), "{text}");
    }

    #[test]
    fn http_charset_is_used_when_there_is_no_declaration() {
        let bytes = b"<rss><title>\xc2\xe5\xf1\xf2\xe8</title></rss>";
        let (text, encoding, _) = decode(bytes, Some("text/xml; charset=windows-1251"));
        assert_eq!(encoding, "windows-1251");
        assert!(text.contains("Вести"), "{text}");
    }

    #[test]
    fn utf16_with_bom_is_transcoded() {
        let mut bytes = vec![0xFE, 0xFF];
        for unit in "<rss version=\"2.0\">é</rss>".encode_utf16() {
            bytes.extend_from_slice(&unit.to_be_bytes());
        }
        let (text, encoding, _) = decode(&bytes, None);
        assert_eq!(text, "<rss version=\"2.0\">é</rss>");
        assert_eq!(encoding, "UTF-16BE");
    }

    #[test]
    fn utf32_with_and_without_bom_is_transcoded() {
        let document = "<rss version=\"2.0\">ü €</rss>";
        let big: Vec<u8> = document
            .chars()
            .flat_map(|c| (c as u32).to_be_bytes())
            .collect();
        let little: Vec<u8> = document
            .chars()
            .flat_map(|c| (c as u32).to_le_bytes())
            .collect();
        let with_bom = [&[0xFF, 0xFE, 0, 0][..], &little].concat();
        assert_eq!(decode(&big, None), (document.to_string(), "UTF-32BE", true));
        assert_eq!(
            decode(&little, None),
            (document.to_string(), "UTF-32LE", true)
        );
        assert_eq!(
            decode(&with_bom, None),
            (document.to_string(), "UTF-32LE", true)
        );
    }

    #[test]
    fn utf16_without_bom_is_recognised() {
        let mut bytes = Vec::new();
        for unit in "<?xml version=\"1.0\"?><rss/>".encode_utf16() {
            bytes.extend_from_slice(&unit.to_le_bytes());
        }
        let (text, encoding, _) = decode(&bytes, None);
        assert_eq!(text, "<?xml version=\"1.0\"?><rss/>");
        assert_eq!(encoding, "UTF-16LE");
    }

    #[test]
    fn unknown_declared_encoding_marks_declaration_stale() {
        let bytes = b"<?xml version=\"1.0\" encoding=\"invalid\"?><feed/>";
        assert!(decode(bytes, None).2);
    }

    #[test]
    fn declaration_after_a_comment_is_found() {
        let bytes =
            b"\n<!-- c -->\n<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><rss>caf\xe9</rss>";
        assert_eq!(declared_encoding_label(bytes), Some(&b"ISO-8859-1"[..]));
        assert_eq!(
            declared_encoding_label(b"<?xml-stylesheet href=\"s\"?><rss/>"),
            None
        );
        assert!(decode(bytes, None).0.contains("café"));
    }

    #[test]
    fn charset_parameter_is_parsed() {
        let encoding = charset_from_content_type("application/rss+xml; Charset=\"KOI8-R\"");
        assert_eq!(encoding.map(|e| e.name()), Some("KOI8-R"));
        assert!(charset_from_content_type("application/rss+xml").is_none());
    }
}
