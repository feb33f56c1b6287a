//! Plain data the engine is driven by: the method, and an integration's retry, rate-limit
//! and cache settings. The domain validates and stores them; the engine only reads them.

use async_graphql::SimpleObject;
use serde::{Deserialize, Serialize};

use crate::store::stored_enum;

stored_enum! {
    /// An HTTP method patchbay calls with.
    HttpMethod { Get, Post, Put, Patch, Delete, Head }
}

impl HttpMethod {
    pub fn to_http(self) -> http::Method {
        match self {
            HttpMethod::Get => http::Method::GET,
            HttpMethod::Post => http::Method::POST,
            HttpMethod::Put => http::Method::PUT,
            HttpMethod::Patch => http::Method::PATCH,
            HttpMethod::Delete => http::Method::DELETE,
            HttpMethod::Head => http::Method::HEAD,
        }
    }

    /// Safe to repeat (RFC 9110 idempotent methods).
    pub fn idempotent(self) -> bool {
        !matches!(self, HttpMethod::Post | HttpMethod::Patch)
    }
}

/// How failed calls are retried (exponential backoff with jitter).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, SimpleObject)]
#[serde(rename_all = "camelCase")]
pub struct RetryPolicy {
    /// Retries after the first attempt (0-10).
    pub max_retries: i32,
    /// First backoff delay in milliseconds.
    pub base_delay_ms: i32,
    /// Upper bound of any backoff delay in milliseconds.
    pub max_delay_ms: i32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 3,
            base_delay_ms: 200,
            max_delay_ms: 10_000,
        }
    }
}

/// The per-integration limit on outgoing calls (token bucket).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, SimpleObject)]
#[serde(rename_all = "camelCase")]
pub struct RateLimit {
    pub requests_per_minute: i32,
    /// Calls allowed at once above the steady rate.
    pub burst: i32,
}

/// Response caching of GET calls.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, SimpleObject)]
#[serde(rename_all = "camelCase")]
pub struct CachePolicy {
    pub enabled: bool,
    pub ttl_seconds: i32,
}

impl Default for CachePolicy {
    fn default() -> Self {
        CachePolicy {
            enabled: false,
            ttl_seconds: 300,
        }
    }
}
