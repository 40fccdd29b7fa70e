//! Pure readers of response headers: Retry-After, cache lifetime, validators.

use std::time::{Duration, SystemTime};

use reqwest::header::{AGE, CACHE_CONTROL, DATE, ETAG, EXPIRES, HeaderMap, LAST_MODIFIED};

use super::Validators;

/// `Retry-After` as a duration from `now`: either delay-seconds or an HTTP date. A date in the
/// past gives zero (the server allows a retry now); anything unreadable gives `None`.
pub fn retry_after(header_value: &str, now: SystemTime) -> Option<Duration> {
    let value = header_value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(date.duration_since(now).unwrap_or(Duration::ZERO))
}

/// How long the answer may be considered fresh, from `Cache-Control` (`max-age`, minus `Age`)
/// or else `Expires` (measured against the server's own `Date` when given, so a skewed local
/// clock does not matter). `no-store`/`no-cache` and unreadable `Expires` mean zero; no caching
/// headers at all mean `None`.
pub fn cache_lifetime(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let age = header_text(headers, AGE.as_str())
        .and_then(|value| value.trim().parse::<u64>().ok())
        .map(Duration::from_secs)
        .unwrap_or(Duration::ZERO);
    let cache_control: Vec<String> = headers
        .get_all(CACHE_CONTROL)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .map(str::to_string)
        .collect();
    if let Some(lifetime) = cache_control_lifetime(&cache_control.join(",")) {
        return Some(lifetime.saturating_sub(age));
    }
    let expires = header_text(headers, EXPIRES.as_str())?;
    let Ok(expires_at) = httpdate::parse_http_date(expires.trim()) else {
        // RFC 9111: an invalid Expires (often "0" or "-1") means already expired.
        return Some(Duration::ZERO);
    };
    let reference = header_text(headers, DATE.as_str())
        .and_then(|date| httpdate::parse_http_date(date.trim()).ok())
        .unwrap_or(now);
    Some(
        expires_at
            .duration_since(reference)
            .unwrap_or(Duration::ZERO),
    )
}

/// The lifetime a `Cache-Control` value gives, when it gives one.
fn cache_control_lifetime(value: &str) -> Option<Duration> {
    let mut max_age = None;
    for directive in value.split(',') {
        let (name, argument) = match directive.split_once('=') {
            Some((name, argument)) => (name, Some(argument)),
            None => (directive, None),
        };
        match name.trim().to_ascii_lowercase().as_str() {
            "no-store" | "no-cache" => return Some(Duration::ZERO),
            "max-age" => {
                let seconds = argument?.trim().trim_matches('"').parse::<u64>().ok()?;
                max_age = Some(Duration::from_secs(seconds));
            }
            _ => {}
        }
    }
    max_age
}

/// ETag and Last-Modified, kept verbatim to be sent back in a conditional GET.
pub(crate) fn validators(headers: &HeaderMap) -> Validators {
    Validators {
        etag: header_text(headers, ETAG.as_str()),
        last_modified: header_text(headers, LAST_MODIFIED.as_str()),
    }
}

pub(crate) fn header_text(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn at(seconds: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(seconds)
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_str(value).expect("test header"));
        }
        map
    }

    #[test]
    fn retry_after_reads_seconds() {
        assert_eq!(retry_after("120", at(0)), Some(Duration::from_secs(120)));
        assert_eq!(retry_after(" 0 ", at(0)), Some(Duration::ZERO));
    }

    #[test]
    fn retry_after_reads_http_date_relative_to_now() {
        // Sun, 06 Nov 1994 08:49:37 GMT is 784111777 seconds after the epoch.
        let value = "Sun, 06 Nov 1994 08:49:37 GMT";
        assert_eq!(
            retry_after(value, at(784_111_777 - 90)),
            Some(Duration::from_secs(90))
        );
        assert_eq!(
            retry_after(value, at(784_111_777 + 5)),
            Some(Duration::ZERO)
        );
    }

    #[test]
    fn retry_after_rejects_garbage() {
        assert_eq!(retry_after("soon", at(0)), None);
        assert_eq!(retry_after("-5", at(0)), None);
        assert_eq!(retry_after("", at(0)), None);
    }

    #[test]
    fn cache_lifetime_prefers_max_age_over_expires() {
        let map = headers(&[
            ("cache-control", "public, max-age=600"),
            ("expires", "Sun, 06 Nov 1994 08:49:37 GMT"),
        ]);
        assert_eq!(cache_lifetime(&map, at(0)), Some(Duration::from_secs(600)));
    }

    #[test]
    fn cache_lifetime_subtracts_age() {
        let map = headers(&[("cache-control", "max-age=600"), ("age", "100")]);
        assert_eq!(cache_lifetime(&map, at(0)), Some(Duration::from_secs(500)));
    }

    #[test]
    fn cache_lifetime_no_cache_is_zero() {
        let map = headers(&[("cache-control", "max-age=600, no-cache")]);
        assert_eq!(cache_lifetime(&map, at(0)), Some(Duration::ZERO));
    }

    #[test]
    fn cache_lifetime_from_expires_uses_server_date() {
        let map = headers(&[
            ("date", "Sun, 06 Nov 1994 08:49:37 GMT"),
            ("expires", "Sun, 06 Nov 1994 09:49:37 GMT"),
        ]);
        // The local clock is far off; the server's Date is the reference.
        assert_eq!(cache_lifetime(&map, at(0)), Some(Duration::from_secs(3600)));
    }

    #[test]
    fn cache_lifetime_from_expires_without_date_uses_now() {
        let map = headers(&[("expires", "Sun, 06 Nov 1994 09:49:37 GMT")]);
        assert_eq!(
            cache_lifetime(&map, at(784_111_777)),
            Some(Duration::from_secs(3600))
        );
    }

    #[test]
    fn cache_lifetime_invalid_expires_is_zero_and_absent_is_none() {
        assert_eq!(
            cache_lifetime(&headers(&[("expires", "0")]), at(0)),
            Some(Duration::ZERO)
        );
        assert_eq!(cache_lifetime(&HeaderMap::new(), at(0)), None);
        let private_only = headers(&[("cache-control", "private")]);
        assert_eq!(cache_lifetime(&private_only, at(0)), None);
    }
}
