//! WebSub's network calls: publishing (telling the configured hub that the merged feeds
//! changed) and consuming (asking a source's hub to push its feed to tributary's callback).
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

/// What a subscription request asks of a hub.
#[derive(Debug, Clone, PartialEq)]
pub struct SubscribeRequest {
    pub hub: String,
    pub topic: String,
    pub callback: String,
    pub secret: String,
    pub lease_seconds: u64,
}

/// The form body of a `hub.mode=subscribe` request (the WebSub recommendation, section 5.1).
pub fn subscribe_body(request: &SubscribeRequest) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .append_pair("hub.mode", "subscribe")
        .append_pair("hub.topic", &request.topic)
        .append_pair("hub.callback", &request.callback)
        .append_pair("hub.secret", &request.secret)
        .append_pair("hub.lease_seconds", &request.lease_seconds.to_string())
        .finish()
}

/// POSTs a subscription request; the hub answers 202 Accepted (or any 2xx) and then verifies
/// the intent by calling the callback. The hub is named by a feed, not by the admin, so unless
/// the source allows private networks a hub at a loopback or private literal address (or
/// `localhost`) is refused, as the feed's own URL would be.
pub async fn subscribe(request: &SubscribeRequest, allow_private: bool) -> Result<(), FetchError> {
    if !allow_private && !is_public_host(&request.hub) {
        return Err(FetchError::PrivateAddress(request.hub.clone()));
    }
    post_form(&request.hub, subscribe_body(request)).await
}

/// The hub's host is a name other than `localhost` or a public literal address. (A name that
/// resolves to a private address is not caught here: hubs are few and named by the feed.)
fn is_public_host(hub: &str) -> bool {
    let Ok(url) = url::Url::parse(hub) else {
        return false;
    };
    match url.host() {
        Some(url::Host::Domain(name)) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            name != "localhost" && !name.ends_with(".localhost")
        }
        Some(url::Host::Ipv4(address)) => super::guard::is_public_ip(address.into()),
        Some(url::Host::Ipv6(address)) => super::guard::is_public_ip(address.into()),
        None => false,
    }
}

/// POSTs the publish notification for `topics` to `hub`; any 2xx is success. The hub is the
/// admin's choice, so it is reached wherever it is (no private-address guard).
pub async fn notify_hub(hub: &str, topics: &[String]) -> Result<(), FetchError> {
    post_form(hub, publish_body(topics)).await
}

/// One form POST to a hub; any 2xx is success.
async fn post_form(hub: &str, body: String) -> Result<(), FetchError> {
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
        .body(body)
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

    #[test]
    fn hubs_at_private_or_local_addresses_are_not_public() {
        assert!(is_public_host("https://pubsubhubbub.appspot.com/"));
        assert!(!is_public_host("http://127.0.0.1:8080/hub"));
        assert!(!is_public_host("http://10.1.2.3/hub"));
        assert!(!is_public_host("http://[::1]/hub"));
        assert!(!is_public_host("http://localhost/hub"));
    }

    #[test]
    fn a_subscription_names_topic_callback_secret_and_lease() {
        let request = SubscribeRequest {
            hub: "http://hub.example/".into(),
            topic: "http://t.example/feed?a=1".into(),
            callback: "http://me.example/websub/news".into(),
            secret: "s3cret".into(),
            lease_seconds: 864000,
        };
        assert_eq!(
            subscribe_body(&request),
            "hub.mode=subscribe&hub.topic=http%3A%2F%2Ft.example%2Ffeed%3Fa%3D1\
             &hub.callback=http%3A%2F%2Fme.example%2Fwebsub%2Fnews&hub.secret=s3cret\
             &hub.lease_seconds=864000"
        );
    }
}
