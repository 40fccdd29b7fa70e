//! WebSub publishing: telling the configured hub that the merged feeds changed, so it fetches
//! them and pushes them to subscribers. The only network call WebSub publishing makes.
//!
//! The request is the convention hubs share (the WebSub recommendation leaves publishing to
//! each hub): a form POST `hub.mode=publish` with one `hub.url` per changed feed.

use std::time::Duration;

use super::FetchError;

/// How long a hub may take to answer: a notification is a courtesy, never a reason to hold up
/// the daemon.
const HUB_TIMEOUT: Duration = Duration::from_secs(10);

/// The form body announcing `topics` (the feeds' absolute URLs).
pub fn publish_body(topics: &[String]) -> String {
    let mut form = url::form_urlencoded::Serializer::new(String::new());
    form.append_pair("hub.mode", "publish");
    for topic in topics {
        form.append_pair("hub.url", topic);
    }
    form.finish()
}

/// POSTs the publish notification for `topics` to `hub`; any 2xx is success. The hub is the
/// admin's choice, so it is reached wherever it is (no private-address guard).
pub async fn notify_hub(hub: &str, topics: &[String]) -> Result<(), FetchError> {
    let client = reqwest::Client::builder()
        .timeout(HUB_TIMEOUT)
        .user_agent(concat!("tributary/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|error| FetchError::Network(error.to_string()))?;
    let response = client
        .post(hub)
        .header(
            reqwest::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .body(publish_body(topics))
        .send()
        .await
        .map_err(|error| match error.is_timeout() {
            true => FetchError::Timeout(HUB_TIMEOUT),
            false => FetchError::Network(error.to_string()),
        })?;
    let status = response.status().as_u16();
    match response.status().is_success() {
        true => Ok(()),
        false => Err(FetchError::Status {
            status,
            retry_after: None,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_names_every_feed_form_encoded() {
        let topics = [
            "http://h.example/feed.atom".to_string(),
            "x&y=z".to_string(),
        ];
        assert_eq!(
            publish_body(&topics),
            "hub.mode=publish&hub.url=http%3A%2F%2Fh.example%2Ffeed.atom&hub.url=x%26y%3Dz"
        );
    }
}
