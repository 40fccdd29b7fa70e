//! Lead images for the river, fetched through the `Fetcher` and kept in memory, so the pages
//! load every picture from tributary's own origin and readers' browsers never contact the
//! sites (or their trackers).
//!
//! Only URLs the current snapshot names (a story's lead image) are fetched: the route is not an
//! open proxy. Only raster images are passed on; SVG could carry script.

use std::collections::VecDeque;
use std::sync::Mutex;

use super::{FetchError, Fetcher};
use crate::config::FetchSettings;

/// Images kept at most, and their total size.
const MAX_IMAGES: usize = 256;
const MAX_BYTES: usize = 32 << 20;

/// One image as served.
#[derive(Debug, Clone)]
pub struct Image {
    pub body: bytes::Bytes,
    pub content_type: String,
}

/// Fetches lead images once and remembers the most recent ones.
pub struct ImageProxy {
    fetcher: Fetcher,
    settings: FetchSettings,
    /// The newest images last; never held across an `.await`.
    cache: Mutex<VecDeque<(String, Image)>>,
}

impl ImageProxy {
    pub fn new(fetcher: Fetcher, settings: FetchSettings) -> ImageProxy {
        ImageProxy {
            fetcher,
            settings,
            cache: Mutex::new(VecDeque::new()),
        }
    }

    /// The image at `url`, from memory or fetched now (with the fetcher's politeness, SSRF
    /// guard, robots.txt and size cap).
    pub async fn get(&self, url: &str) -> Result<Image, FetchError> {
        if let Some(image) = self.cached(url) {
            return Ok(image);
        }
        let parsed =
            url::Url::parse(url).map_err(|error| FetchError::InvalidUrl(error.to_string()))?;
        let fetched = self.fetcher.fetch_page(&parsed, &self.settings).await?;
        let content_type = fetched
            .content_type
            .unwrap_or_default()
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        if !is_raster_image(&content_type) {
            return Err(FetchError::Network(format!(
                "{url} is not an image ({content_type:?})"
            )));
        }
        let image = Image {
            body: bytes::Bytes::from(fetched.body),
            content_type,
        };
        self.remember(url, image.clone());
        Ok(image)
    }

    fn cached(&self, url: &str) -> Option<Image> {
        let cache = self
            .cache
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        cache
            .iter()
            .find(|(known, _)| known == url)
            .map(|(_, image)| image.clone())
    }

    /// Keeps `image`, dropping the oldest ones past the count and size budgets.
    fn remember(&self, url: &str, image: Image) {
        let mut cache = self
            .cache
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        cache.retain(|(known, _)| known != url);
        cache.push_back((url.to_string(), image));
        let mut total: usize = cache.iter().map(|(_, image)| image.body.len()).sum();
        while cache.len() > MAX_IMAGES || (total > MAX_BYTES && cache.len() > 1) {
            if let Some((_, dropped)) = cache.pop_front() {
                total -= dropped.body.len();
            }
        }
    }
}

/// The image types every browser shows and none can run script in.
fn is_raster_image(content_type: &str) -> bool {
    matches!(
        content_type,
        "image/jpeg" | "image/png" | "image/gif" | "image/webp" | "image/avif"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_raster_images_pass() {
        assert!(is_raster_image("image/png"));
        assert!(is_raster_image("image/jpeg"));
        assert!(!is_raster_image("image/svg+xml"));
        assert!(!is_raster_image("text/html"));
        assert!(!is_raster_image(""));
    }
}
