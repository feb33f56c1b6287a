//! One outgoing call through an integration's settings, start to finish: target URL,
//! SSRF guard, response cache, rate limit and upstream hold, circuit breaker, credentials
//! (one OAuth2 refresh after a 401), redirects re-checked hop by hop, retries (see
//! [`super::retry`]) and a capped body. It returns what happened ([`Sent`]); what the
//! answer means (error rules, transforms, records, logs, events) is the domain's.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use http::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, LOCATION};
use secrecy::ExposeSecret;
use url::Url;

use super::Outbound;
use super::auth::{AuthMaterial, MaterialError, RefreshError};
use super::cache::CachedResponse;
use super::classify::{CallError, ErrorClass};
use super::guard::{CircuitChange, IntegrationGuard};
use super::policy::{CachePolicy, HttpMethod, RateLimit, RetryPolicy};
use super::retry::Backoff;
use super::ssrf;
use super::target::{self, TargetError};
use crate::vault::VaultError;

/// The settings of the integration a call goes through.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    pub integration_id: &'a str,
    /// Part of the cache key: an edited integration never answers from old entries.
    pub version: i32,
    pub base_url: Option<&'a str>,
    pub headers: &'a BTreeMap<String, String>,
    pub allow_absolute_urls: bool,
    /// OAuth2 credentials: a 401 triggers one refresh and one more attempt.
    pub oauth2: bool,
    pub retry_policy: &'a RetryPolicy,
    pub rate_limit: Option<&'a RateLimit>,
    pub cache: &'a CachePolicy,
    /// Credentials not stored yet (a connection test before an integration is saved):
    /// used instead of the vault's, never refreshed.
    pub unsaved_credentials: Option<&'a crate::vault::credentials::CredentialSecret>,
}

/// What to send.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: HttpMethod,
    /// Relative to the base URL (or absolute, when the target allows it).
    pub path: String,
    pub query: Vec<(String, String)>,
    pub headers: HeaderMap,
    /// The encoded body and its content type.
    pub body: Option<(Vec<u8>, &'static str)>,
    pub timeout: Duration,
    pub idempotency_key: Option<String>,
    /// `Some(false)` bypasses the response cache; `None` follows the target.
    pub cache: Option<bool>,
    pub retries: bool,
}

/// A raw upstream answer.
#[derive(Debug, Clone)]
pub struct RawResponse {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    pub truncated: bool,
}

/// What sending produced: the final answer (or why none came) and how it got there.
#[derive(Debug)]
pub struct Sent {
    pub answer: Result<RawResponse, CallError>,
    pub retries: i32,
    pub bytes_out: i64,
    pub cached: bool,
    pub circuit_changes: Vec<CircuitChange>,
    /// A refresh at the token endpoint failed during the call (recorded on the
    /// credentials; the domain journals it).
    pub refresh_failure: Option<RefreshError>,
    pub started_at: DateTime<Utc>,
    /// Wall time, retries and waits included.
    pub latency: Duration,
}

/// Why a call could not be made at all.
#[derive(Debug, thiserror::Error)]
pub enum OutboundError {
    /// The path leaves the base URL or is not valid.
    #[error(transparent)]
    Target(#[from] TargetError),
    /// The vault could not open the credentials (ours, not the upstream's).
    #[error(transparent)]
    Vault(#[from] VaultError),
}

/// Sends `request` through `target`.
pub async fn send(
    outbound: &Outbound,
    target: &Target<'_>,
    request: Request,
) -> Result<Sent, OutboundError> {
    let mut url = target::resolve(target.base_url, &request.path, target.allow_absolute_urls)?;
    if !request.query.is_empty() {
        let mut pairs = url.query_pairs_mut();
        for (name, value) in &request.query {
            pairs.append_pair(name, value);
        }
    }
    let started_at = Utc::now();
    let clock = Instant::now();
    let attempts = Attempts {
        guard: outbound.guard(target.integration_id),
        outbound,
        target,
        request: &request,
        url: &url,
    };
    let mut sent = attempts.run().await?;
    sent.started_at = started_at;
    sent.latency = clock.elapsed();
    if let Ok(raw) = &sent.answer
        && !sent.cached
    {
        store_in_cache(outbound, target, &request, &url, raw);
    }
    Ok(sent)
}

struct Attempts<'a> {
    outbound: &'a Outbound,
    target: &'a Target<'a>,
    request: &'a Request,
    url: &'a Url,
    guard: Arc<IntegrationGuard>,
}

impl Attempts<'_> {
    fn cache_key(&self) -> Option<String> {
        let enabled = self.request.cache.unwrap_or(true) && self.target.cache.enabled;
        (enabled && self.request.method == HttpMethod::Get).then(|| {
            super::cache::key(
                self.target.integration_id,
                self.target.version,
                self.url,
                &self.request.headers,
            )
        })
    }

    async fn run(self) -> Result<Sent, OutboundError> {
        let mut sent = Sent {
            answer: Err(CallError::new(ErrorClass::Network, "not attempted")),
            retries: 0,
            bytes_out: self
                .request
                .body
                .as_ref()
                .map_or(0, |(b, _)| b.len() as i64),
            cached: false,
            circuit_changes: Vec::new(),
            refresh_failure: None,
            started_at: Utc::now(),
            latency: Duration::ZERO,
        };
        if let Some(key) = self.cache_key()
            && let Some(hit) = self.outbound.cache.get(&key)
        {
            sent.cached = true;
            sent.answer = Ok(RawResponse {
                status: hit.status,
                headers: hit.headers.clone(),
                body: hit.body.clone(),
                truncated: false,
            });
            return Ok(sent);
        }
        // Names are checked by the client's resolver when it connects.
        if let Err(refused) = ssrf::check_literal(self.url, &self.outbound.ssrf) {
            sent.answer = Err(CallError::new(ErrorClass::Blocked, refused.to_string()));
            return Ok(sent);
        }
        let refresher = &self.outbound.refresher;
        let material = match self.target.unsaved_credentials {
            Some(secret) => super::auth::build(secret),
            None => refresher.auth_material(self.target.integration_id).await,
        };
        let mut auth = match material {
            Ok(auth) => auth,
            Err(err) => {
                sent.answer = Err(material_failure(err, &mut sent.refresh_failure)?);
                return Ok(sent);
            }
        };
        let config = &self.outbound.config;
        let mut backoff = Backoff::new(
            self.target.retry_policy,
            self.request.retries,
            config.max_retry_after,
        );
        let mut refreshed = false;
        loop {
            if let Err(limited) = self
                .guard
                .acquire(self.target.rate_limit, config.queue_wait)
                .await
            {
                sent.answer = Err(limited);
                return Ok(sent);
            }
            let admission = match self.guard.admit(config) {
                Ok(admission) => admission,
                Err(open) => {
                    sent.answer = Err(open);
                    return Ok(sent);
                }
            };
            let answer = self.send(&auth).await;
            let fault = match &answer {
                Ok(raw) if raw.status == 429 => None,
                Ok(raw) => Some(raw.status >= 500),
                Err(err) => {
                    matches!(err.class, ErrorClass::Network | ErrorClass::Timeout).then_some(true)
                }
            };
            if let Some(change) = self.guard.record(admission, fault, config) {
                sent.circuit_changes.push(change);
            }
            let mut upstream_wait = None;
            if let Ok(raw) = &answer {
                upstream_wait = self.guard.learn(raw.status, &raw.headers);
            }
            if let Ok(raw) = &answer
                && raw.status == 401
                && self.target.oauth2
                && !refreshed
            {
                refreshed = true;
                match refresher
                    .after_unauthorized(self.target.integration_id, &auth)
                    .await
                {
                    Ok(fresh) => {
                        auth = fresh;
                        sent.retries += 1;
                        continue;
                    }
                    Err(err) => {
                        sent.answer = Err(material_failure(err, &mut sent.refresh_failure)?);
                        return Ok(sent);
                    }
                }
            }
            let retryable = super::retry::retryable(
                &answer.as_ref().map(|raw| raw.status),
                self.request.method,
                self.request.idempotency_key.is_some(),
            );
            sent.answer = answer;
            if !retryable {
                return Ok(sent);
            }
            match backoff.next_wait(upstream_wait) {
                super::retry::Wait::Sleep(wait) => {
                    tokio::time::sleep(wait).await;
                    sent.retries += 1;
                }
                super::retry::Wait::GiveUp => return Ok(sent),
                super::retry::Wait::TooLong(wait) => {
                    // Longer than we are willing to hold the caller: answer now, with the
                    // upstream's wait attached.
                    if let Err(err) = &mut sent.answer {
                        err.retry_after = Some(wait);
                    }
                    return Ok(sent);
                }
            }
        }
    }

    /// One attempt, following redirects (each hop SSRF-checked; credentials only go to
    /// the original origin).
    async fn send(&self, auth: &AuthMaterial) -> Result<RawResponse, CallError> {
        let config = &self.outbound.config;
        let deadline = Instant::now() + self.request.timeout;
        let origin = self.url.origin();
        let mut method = self.request.method.to_http();
        let mut url = self.url.clone();
        let mut body = self.request.body.clone();
        let mut hops = 0;
        loop {
            let same_origin = url.origin() == origin;
            let mut headers = self.target_headers();
            for (name, value) in &self.request.headers {
                headers.insert(name.clone(), value.clone());
            }
            if let Some(key) = &self.request.idempotency_key
                && let Ok(value) = HeaderValue::from_str(key)
            {
                headers.insert(HeaderName::from_static("idempotency-key"), value);
            }
            let mut request_url = url.clone();
            if same_origin {
                for (name, value) in &auth.headers {
                    headers.insert(name.clone(), value.clone());
                }
                if !auth.query.is_empty() {
                    let mut pairs = request_url.query_pairs_mut();
                    for (name, value) in &auth.query {
                        pairs.append_pair(name, value.expose_secret());
                    }
                }
            }
            let mut request = self
                .outbound
                .http
                .request(method.clone(), request_url)
                .timeout(deadline.saturating_duration_since(Instant::now()));
            if let Some((bytes, content_type)) = &body {
                if !headers.contains_key(CONTENT_TYPE) {
                    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
                }
                request = request.body(bytes.clone());
            }
            let response = request
                .headers(headers)
                .send()
                .await
                .map_err(CallError::from_transport)?;
            let status = response.status().as_u16();
            let location = response
                .headers()
                .get(LOCATION)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            if matches!(status, 301 | 302 | 303 | 307 | 308)
                && config.max_redirects > 0
                && let Some(location) = location
            {
                hops += 1;
                if hops > config.max_redirects {
                    return Err(CallError::new(
                        ErrorClass::InvalidResponse,
                        format!("more than {} redirects", config.max_redirects),
                    ));
                }
                let next = url.join(&location).map_err(|e| {
                    CallError::new(
                        ErrorClass::InvalidResponse,
                        format!("invalid redirect location: {e}"),
                    )
                })?;
                ssrf::check_url(&next, &self.outbound.ssrf)
                    .await
                    .map_err(|e| {
                        CallError::new(ErrorClass::Blocked, format!("redirect refused: {e}"))
                    })?;
                if status == 303 || (matches!(status, 301 | 302) && method == http::Method::POST) {
                    method = http::Method::GET;
                    body = None;
                }
                url = next;
                continue;
            }
            let headers = response.headers().clone();
            let (body, truncated) = read_capped(response, config.max_response_bytes).await?;
            return Ok(RawResponse {
                status,
                headers,
                body,
                truncated,
            });
        }
    }

    fn target_headers(&self) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in self.target.headers {
            if let (Ok(name), Ok(value)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(value),
            ) {
                headers.insert(name, value);
            }
        }
        headers
    }
}

/// Auth material that could not be produced: a failed refresh is the upstream's
/// AUTHENTICATION problem; a vault failure is ours.
fn material_failure(
    err: MaterialError,
    refresh_failure: &mut Option<RefreshError>,
) -> Result<CallError, OutboundError> {
    match err {
        MaterialError::Refresh(refresh) => {
            let message = MaterialError::Refresh(refresh.clone()).to_string();
            if refresh.from_token_endpoint() {
                *refresh_failure = Some(refresh);
            }
            Ok(CallError::new(ErrorClass::Authentication, message))
        }
        MaterialError::Unusable(_) => {
            Ok(CallError::new(ErrorClass::Authentication, err.to_string()))
        }
        MaterialError::Vault(err) => Err(OutboundError::Vault(err)),
    }
}

/// Reads at most `cap` bytes of a body; `true` when it was longer.
pub(crate) async fn read_capped(
    mut response: reqwest::Response,
    cap: usize,
) -> Result<(Vec<u8>, bool), CallError> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(CallError::from_transport)? {
        let room = cap.saturating_sub(body.len());
        if chunk.len() > room {
            body.extend_from_slice(&chunk[..room]);
            return Ok((body, true));
        }
        body.extend_from_slice(&chunk);
    }
    Ok((body, false))
}

/// The answer says it is JSON (`application/json` or a `+json` type).
pub fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<mime::Mime>().ok())
        .is_some_and(|m| m.subtype() == mime::JSON || m.suffix() == Some(mime::JSON))
}

fn store_in_cache(
    outbound: &Outbound,
    target: &Target<'_>,
    request: &Request,
    url: &Url,
    raw: &RawResponse,
) {
    let eligible = request.cache.unwrap_or(true)
        && target.cache.enabled
        && request.method == HttpMethod::Get
        && (200..300).contains(&raw.status)
        && !raw.truncated
        && !raw
            .headers
            .get(http::header::CACHE_CONTROL)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("no-store"));
    if eligible {
        let key = super::cache::key(target.integration_id, target.version, url, &request.headers);
        outbound.cache.insert(
            key,
            Arc::new(CachedResponse {
                status: raw.status,
                headers: raw.headers.clone(),
                body: raw.body.clone(),
                ttl: Duration::from_secs(target.cache.ttl_seconds.max(1) as u64),
            }),
        );
    }
}
