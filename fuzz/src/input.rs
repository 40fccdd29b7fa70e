//! Splits a fuzz input into the HTTP `Content-Type` a server could send and the body bytes.
//!
//! Input layout: the first byte picks a content type. Below `CONTENT_TYPES.len()` it indexes
//! the list of common and tricky values; otherwise the content type is the input's next line
//! (up to `\n`, at most 120 bytes, read lossily), so the fuzzer can also explore headers
//! nobody listed. Seeds are written with a leading `\0` (no header), see `run.sh`.

/// Values seen in the wild, including wrong or contradictory charsets.
pub const CONTENT_TYPES: &[Option<&str>] = &[
    None,
    Some("text/html"),
    Some("text/html; charset=utf-8"),
    Some("text/html; charset=windows-1252"),
    Some("text/html; charset=iso-8859-1"),
    Some("text/html; charset=utf-16"),
    Some("text/html; charset=utf-16be"),
    Some("text/html; charset=shift_jis"),
    Some("text/html; charset=gb18030"),
    Some("text/html; charset=x-unknown-charset"),
    Some("application/xhtml+xml"),
    Some("application/rss+xml"),
    Some("application/rss+xml; charset=utf-8"),
    Some("application/atom+xml"),
    Some("application/xml; charset=iso-8859-1"),
    Some("text/xml"),
    Some("application/feed+json"),
    Some("application/json"),
    Some("text/plain"),
    Some("application/octet-stream"),
    Some("application/x-gzip"),
    Some(""),
    Some(";;charset=;"),
];

/// Longest free-form content type taken from the input.
const MAX_FREE_CONTENT_TYPE: usize = 120;

/// One fuzz case: the header (if any) and the body.
pub struct Case<'a> {
    pub content_type: Option<String>,
    pub body: &'a [u8],
}

/// Reads the content type and body out of raw fuzz bytes.
pub fn split_case(data: &[u8]) -> Case<'_> {
    let Some((&selector, rest)) = data.split_first() else {
        return Case {
            content_type: None,
            body: data,
        };
    };
    if let Some(listed) = CONTENT_TYPES.get(usize::from(selector)) {
        return Case {
            content_type: listed.map(str::to_owned),
            body: rest,
        };
    }
    let line_end = rest
        .iter()
        .take(MAX_FREE_CONTENT_TYPE)
        .position(|&byte| byte == b'\n')
        .unwrap_or(rest.len().min(MAX_FREE_CONTENT_TYPE));
    let (header, body) = rest.split_at(line_end);
    let body = body.strip_prefix(b"\n").unwrap_or(body);
    Case {
        content_type: Some(String::from_utf8_lossy(header).into_owned()),
        body,
    }
}
