//! Canonical URLs: one spelling per article page, so links from different feeds can be compared.
//!
//! Only changes that cannot alter which page a server returns are made (RFC 3986 section 6
//! normalisation, fragment removal, well-known tracking parameters, parameter order), so the
//! canonical URL still works as a link.

/// Query parameters that only tell analytics where a click came from. Exact names, compared
/// case-insensitively; `utm_*` is matched by prefix. Ambiguous names such as `ref` or `source`
/// are deliberately absent: some sites use them to select content.
const TRACKING_PARAMETERS: &[&str] = &[
    "fbclid",
    "gclid",
    "gclsrc",
    "dclid",
    "gbraid",
    "wbraid",
    "msclkid",
    "twclid",
    "ttclid",
    "li_fat_id",
    "mc_cid",
    "mc_eid",
    "igshid",
    "yclid",
    "ysclid",
    "_ga",
    "_gl",
    "_hsenc",
    "_hsmi",
    "__hstc",
    "__hssc",
    "__hsfp",
    "mkt_tok",
    "oly_anon_id",
    "oly_enc_id",
    "vero_id",
    "vero_conv",
    "rb_clickid",
    "s_cid",
    "wt.mc_id",
    "wt_mc",
    "xtor",
    "at_medium",
    "at_campaign",
    "ref_src",
    "ref_url",
    "_openstat",
    "srsltid",
];

/// Canonical form of an http(s) URL for cross-source matching; `None` for anything else.
pub fn canonical_url(url: &str) -> Option<String> {
    let mut url = url::Url::parse(url.trim()).ok()?;
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    url.set_fragment(None);
    if let Some(host) = url.host_str()
        && host.ends_with('.')
        && host.len() > 1
    {
        let host = host.trim_end_matches('.').to_string();
        url.set_host(Some(&host)).ok()?;
    }
    let path = normalise_percent_encoding(url.path());
    url.set_path(&path);
    let query = url.query().map(canonical_query);
    url.set_query(query.as_deref().filter(|query| !query.is_empty()));
    Some(url.to_string())
}

/// Drops tracking parameters and empty pairs, and sorts the rest by name (stable, so repeated
/// names keep their order). Pairs are kept as written, so their meaning to the server is intact.
fn canonical_query(query: &str) -> String {
    let mut pairs: Vec<(String, String)> = query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(normalise_percent_encoding)
        .map(|pair| (decoded_name(&pair).to_lowercase(), pair))
        .filter(|(name, _)| !is_tracking_parameter(name))
        .collect();
    pairs.sort_by(|left, right| left.0.cmp(&right.0));
    pairs
        .into_iter()
        .map(|(_, pair)| pair)
        .collect::<Vec<_>>()
        .join("&")
}

fn decoded_name(pair: &str) -> String {
    let name = pair.split('=').next().unwrap_or_default();
    url::form_urlencoded::parse(name.as_bytes())
        .next()
        .map(|(name, _)| name.into_owned())
        .unwrap_or_default()
}

fn is_tracking_parameter(lower_name: &str) -> bool {
    lower_name.starts_with("utm_") || TRACKING_PARAMETERS.contains(&lower_name)
}

/// RFC 3986 6.2.2: percent-encoded unreserved characters are decoded and the hex digits of the
/// remaining escapes upper-cased, so `%7e`, `%7E` and `~` compare equal.
fn normalise_percent_encoding(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut output = String::with_capacity(text.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%'
            && let Some(value) = hex_byte(bytes.get(index + 1..index + 3))
        {
            if value.is_ascii_alphanumeric() || matches!(value, b'-' | b'.' | b'_' | b'~') {
                output.push(char::from(value));
            } else {
                output.push_str(&format!("%{value:02X}"));
            }
            index += 3;
            continue;
        }
        // Copy one whole character (the input is a str, so boundaries are safe to find).
        let character = text[index..].chars().next().unwrap_or_default();
        output.push(character);
        index += character.len_utf8();
    }
    output
}

fn hex_byte(digits: Option<&[u8]>) -> Option<u8> {
    let digits = std::str::from_utf8(digits?).ok()?;
    u8::from_str_radix(digits, 16).ok()
}

/// The registrable part of a host, approximately: the last two labels, or three when the
/// second-level label is a short public suffix part (`example.co.uk`, `example.com.au`).
/// Good enough to tell "this page is on the feed's site" without a public-suffix list.
fn site_of(host: &str) -> String {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let labels: Vec<&str> = host.split('.').collect();
    if labels.len() <= 2 || host.parse::<std::net::IpAddr>().is_ok() {
        return host;
    }
    let n = labels.len();
    let keep = if labels[n - 1].len() == 2 && labels[n - 2].len() <= 3 {
        3
    } else {
        2
    };
    labels[n.saturating_sub(keep)..].join(".")
}

/// Whether two URLs are on the same site (`feeds.example.org` and `www.example.org` are).
pub fn same_site(a: &url::Url, b: &url::Url) -> bool {
    match (a.host_str(), b.host_str()) {
        (Some(a), Some(b)) => site_of(a) == site_of(b),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn same_site_ignores_subdomains_but_not_sites() {
        let url = |text: &str| url::Url::parse(text).unwrap();
        assert!(super::same_site(
            &url("https://feeds.example.org/rss"),
            &url("https://www.example.org/a")
        ));
        assert!(super::same_site(
            &url("http://news.bbc.co.uk/x"),
            &url("https://www.bbc.co.uk/y")
        ));
        assert!(!super::same_site(
            &url("https://www.bbc.co.uk/"),
            &url("https://www.itv.co.uk/")
        ));
        assert!(!super::same_site(
            &url("https://example.org/"),
            &url("https://example.com/")
        ));
        assert!(super::same_site(
            &url("http://127.0.0.1:8080/f"),
            &url("http://127.0.0.1:9090/p")
        ));
    }

    use super::*;

    fn check(input: &str, expected: &str) {
        assert_eq!(canonical_url(input).as_deref(), Some(expected), "{input}");
    }

    #[test]
    fn lower_cases_scheme_and_host_and_drops_default_port_and_fragment() {
        check(
            "HTTPS://News.Example.ORG:443/Politique/Article.html#comments",
            "https://news.example.org/Politique/Article.html",
        );
        check("http://example.org:80", "http://example.org/");
        check("http://example.org:8080/a", "http://example.org:8080/a");
        check("https://example.org./a", "https://example.org/a");
    }

    #[test]
    fn removes_tracking_parameters_and_sorts_the_rest() {
        check(
            "https://example.org/a?utm_source=rss&id=42&UTM_Medium=feed&fbclid=x&gclid=y&page=2",
            "https://example.org/a?id=42&page=2",
        );
        check(
            "https://www.lemonde.example/x.html?xtor=RSS-3208&at_medium=rss",
            "https://www.lemonde.example/x.html",
        );
        check(
            "https://example.org/a?b=2&a=1&mc_cid=1&mc_eid=2&igshid=3&msclkid=4",
            "https://example.org/a?a=1&b=2",
        );
    }

    #[test]
    fn keeps_meaningful_parameters_and_repeated_names_in_order() {
        check(
            "https://example.org/search?q=r%C3%A9forme&ref=home&tag=b&tag=a",
            "https://example.org/search?q=r%C3%A9forme&ref=home&tag=b&tag=a",
        );
    }

    #[test]
    fn empty_query_is_removed() {
        check("https://example.org/a?", "https://example.org/a");
        check(
            "https://example.org/a?utm_source=x&&",
            "https://example.org/a",
        );
    }

    #[test]
    fn percent_encoding_is_normalised() {
        check(
            "https://example.org/%7euser/caf%c3%a9",
            "https://example.org/~user/caf%C3%A9",
        );
        check("https://example.org/café", "https://example.org/caf%C3%A9");
        check("https://example.org/a/./b/../c", "https://example.org/a/c");
    }

    #[test]
    fn two_spellings_of_one_page_agree() {
        assert_eq!(
            canonical_url("https://Site.example/story/123?utm_campaign=rss#top"),
            canonical_url("https://site.example:443/story/123?fbclid=abc")
        );
    }

    #[test]
    fn rejects_non_http_and_unparsable_urls() {
        assert_eq!(canonical_url("mailto:a@example.org"), None);
        assert_eq!(canonical_url("urn:uuid:1234"), None);
        assert_eq!(canonical_url("/relative/path"), None);
        assert_eq!(canonical_url("not a url"), None);
    }
}
