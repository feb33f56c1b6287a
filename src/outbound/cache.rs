//! The response cache for GET calls (moka): per-entry TTL from the integration's cache
//! policy, bounded by total body size. Keys include the integration's version, so a
//! changed integration never serves answers computed under its old settings.

use std::sync::Arc;
use std::time::{Duration, Instant};

use http::HeaderMap;
use url::Url;

/// Total bytes of cached bodies kept.
const CAPACITY_BYTES: u64 = 64 * 1024 * 1024;

/// A stored upstream answer.
pub struct CachedResponse {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    pub ttl: Duration,
}

pub type ResponseCache = moka::sync::Cache<String, Arc<CachedResponse>>;

struct PerEntryTtl;

impl moka::Expiry<String, Arc<CachedResponse>> for PerEntryTtl {
    fn expire_after_create(
        &self,
        _key: &String,
        value: &Arc<CachedResponse>,
        _created_at: Instant,
    ) -> Option<Duration> {
        Some(value.ttl)
    }
}

pub fn new_cache() -> ResponseCache {
    moka::sync::Cache::builder()
        .max_capacity(CAPACITY_BYTES)
        .weigher(|key: &String, value: &Arc<CachedResponse>| {
            u32::try_from(key.len() + value.body.len() + 256).unwrap_or(u32::MAX)
        })
        .expire_after(PerEntryTtl)
        .build()
}

/// The cache key: integration and version, URL (query included), and the caller's
/// headers (any of them may change the answer: Accept, Accept-Language, …).
pub fn key(integration_id: &str, version: i32, url: &Url, headers: &HeaderMap) -> String {
    let mut vary: Vec<(&str, &[u8])> = headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_bytes()))
        .collect();
    vary.sort();
    let mut key = format!("{integration_id}\u{1f}{version}\u{1f}{url}");
    for (name, value) in vary {
        key.push('\u{1f}');
        key.push_str(name);
        key.push('=');
        key.push_str(&String::from_utf8_lossy(value));
    }
    key
}
