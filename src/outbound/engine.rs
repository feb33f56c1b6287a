//! One outgoing call through an integration, start to finish: target URL, SSRF guard,
//! response cache, rate limit and upstream hold, circuit breaker, credentials from the
//! vault (one OAuth2 refresh after a 401), redirects re-checked hop by hop, retries with
//! full-jitter exponential backoff honouring `Retry-After`, capped body, error rules and
//! transforms, then the execution record (+ log entries) and its live event.

use std::time::{Duration, Instant};

use backon::{BackoffBuilder, ExponentialBuilder};
use http::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, LOCATION};
use rand::Rng;
use secrecy::ExposeSecret;
use serde_json::Value;
use url::Url;

use super::cache::CachedResponse;
use super::classify::{CallError, ErrorClass};
use super::guard::{CircuitChange, IntegrationGuard};
use super::{ssrf, target};
use crate::app::App;
use crate::domain::call_options::HttpMethod;
use crate::domain::executions::{Execution, Operation};
use crate::domain::integrations::Integration;
use crate::domain::logs::{LogEntry, LogLevel};
use crate::domain::{AuthKind, IntegrationStatus};
use crate::error::{AppError, AppResult};
use crate::events::BusEvent;
use crate::ids::{IdKind, new_id};
use crate::store::{executions as execution_store, now};
use crate::vault::material::{self, AuthMaterial, MaterialError};

/// A request body.
#[derive(Debug, Clone)]
pub enum RequestBody {
    Json(Value),
    Text(String),
}

/// What to call.
#[derive(Debug, Clone)]
pub struct CallSpec {
    pub operation: Operation,
    pub method: HttpMethod,
    /// Relative to the base URL (or absolute, when the integration allows it).
    pub path: String,
    pub query: Vec<(String, String)>,
    pub headers: HeaderMap,
    pub body: Option<RequestBody>,
    pub timeout: Duration,
    pub idempotency_key: Option<String>,
    /// `Some(false)` bypasses the response cache; `None` follows the integration.
    pub cache: Option<bool>,
    pub retries: bool,
}

/// An upstream answer as the API returns it.
#[derive(Debug, Clone)]
pub struct UpstreamResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    /// The (transformed) JSON body, when the answer was JSON.
    pub json: Option<Value>,
    /// The body as text, when it was not JSON (or was cut).
    pub text: Option<String>,
    pub truncated: bool,
    pub cached: bool,
}

/// The result of a call: always recorded; `response` is `None` when no upstream answer
/// came back, `error` is set for every failure (including failing upstream answers).
#[derive(Debug, Clone)]
pub struct CallOutcome {
    pub execution: Execution,
    pub response: Option<UpstreamResponse>,
    pub error: Option<CallError>,
}

/// A raw upstream answer.
struct Raw {
    status: u16,
    headers: HeaderMap,
    body: Vec<u8>,
    truncated: bool,
}

/// Calls through `integration` and records the call. Refusals before any call (a
/// disabled integration, a path that leaves the base URL) are errors, not records.
pub async fn call(app: &App, integration: &Integration, spec: CallSpec) -> AppResult<CallOutcome> {
    if !integration.enabled {
        return Err(AppError::Unavailable(format!(
            "integration `{}` is disabled",
            integration.name
        )));
    }
    if matches!(
        integration.status,
        IntegrationStatus::Maintenance | IntegrationStatus::Deprecated
    ) {
        return Err(AppError::Unavailable(format!(
            "integration `{}` is in {} status and takes no calls",
            integration.name,
            integration.status.as_str()
        )));
    }
    let mut url = target::resolve(
        integration.base_url.as_deref(),
        &spec.path,
        integration.call_options.allow_absolute_urls,
    )
    .map_err(|e| AppError::invalid("input.path", e.to_string()))?;
    if !spec.query.is_empty() {
        let mut pairs = url.query_pairs_mut();
        for (name, value) in &spec.query {
            pairs.append_pair(name, value);
        }
    }
    let body = encode_body(integration, &spec)?;
    let started_at = now().and_utc();
    let clock = Instant::now();
    let run = Attempts::new(app, integration, &spec, &url, body)
        .run()
        .await?;
    let latency = clock.elapsed();
    let outcome = finish(app, integration, &spec, &url, started_at, latency, run).await?;
    Ok(outcome)
}

/// The encoded request body and its content type, request transform applied.
fn encode_body(
    integration: &Integration,
    spec: &CallSpec,
) -> AppResult<Option<(Vec<u8>, &'static str)>> {
    Ok(match &spec.body {
        None => None,
        Some(RequestBody::Text(text)) => {
            Some((text.as_bytes().to_vec(), "text/plain; charset=utf-8"))
        }
        Some(RequestBody::Json(value)) => {
            let value = match &integration.call_options.transforms.request {
                Some(expression) => super::transform::apply(expression, value).map_err(|e| {
                    AppError::invalid("input.body", format!("the request transform failed: {e}"))
                })?,
                None => value.clone(),
            };
            Some((value.to_string().into_bytes(), "application/json"))
        }
    })
}

/// What the attempt loop produced.
struct RunResult {
    answer: Result<Raw, CallError>,
    retries: i32,
    bytes_out: i64,
    cached: bool,
    circuit_changes: Vec<CircuitChange>,
}

struct Attempts<'a> {
    app: &'a App,
    integration: &'a Integration,
    spec: &'a CallSpec,
    url: &'a Url,
    body: Option<(Vec<u8>, &'static str)>,
    guard: std::sync::Arc<IntegrationGuard>,
}

impl<'a> Attempts<'a> {
    fn new(
        app: &'a App,
        integration: &'a Integration,
        spec: &'a CallSpec,
        url: &'a Url,
        body: Option<(Vec<u8>, &'static str)>,
    ) -> Self {
        Attempts {
            guard: app.outbound.guard(&integration.id),
            app,
            integration,
            spec,
            url,
            body,
        }
    }

    fn cache_key(&self) -> Option<String> {
        let enabled = self.spec.cache.unwrap_or(true) && self.integration.cache.enabled;
        (enabled && self.spec.method == HttpMethod::Get).then(|| {
            super::cache::key(
                &self.integration.id,
                self.integration.version,
                self.url,
                &self.spec.headers,
            )
        })
    }

    async fn run(self) -> AppResult<RunResult> {
        let bytes_out = self.body.as_ref().map_or(0, |(b, _)| b.len() as i64);
        let mut result = RunResult {
            answer: Err(CallError::new(ErrorClass::Network, "not attempted")),
            retries: 0,
            bytes_out,
            cached: false,
            circuit_changes: Vec::new(),
        };
        let cache_key = self.cache_key();
        if let Some(key) = &cache_key
            && let Some(hit) = self.app.outbound.cache.get(key)
        {
            result.cached = true;
            result.answer = Ok(Raw {
                status: hit.status,
                headers: hit.headers.clone(),
                body: hit.body.clone(),
                truncated: false,
            });
            return Ok(result);
        }
        // Names are checked by the client's resolver when it connects.
        if let Err(refused) = ssrf::check_literal(self.url, &self.app.ssrf) {
            result.answer = Err(CallError::new(ErrorClass::Blocked, refused.to_string()));
            return Ok(result);
        }
        let mut auth = match material::auth_material(self.app, &self.integration.id).await {
            Ok(auth) => auth,
            Err(err) => {
                result.answer = Err(material_failure(err)?);
                return Ok(result);
            }
        };
        let config = &self.app.config.outbound;
        let policy = &self.integration.retry_policy;
        let mut backoff = ExponentialBuilder::default()
            .with_min_delay(Duration::from_millis(policy.base_delay_ms.max(1) as u64))
            .with_max_delay(Duration::from_millis(policy.max_delay_ms.max(1) as u64))
            .with_factor(2.0)
            .with_max_times(if self.spec.retries {
                policy.max_retries.max(0) as usize
            } else {
                0
            })
            .build();
        let mut refreshed = false;
        loop {
            if let Err(limited) = self
                .guard
                .acquire(self.integration.rate_limit.as_ref(), config.queue_wait)
                .await
            {
                result.answer = Err(limited);
                return Ok(result);
            }
            let admission = match self.guard.admit(config) {
                Ok(admission) => admission,
                Err(open) => {
                    result.answer = Err(open);
                    return Ok(result);
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
                result.circuit_changes.push(change);
            }
            let mut upstream_wait = None;
            if let Ok(raw) = &answer {
                upstream_wait = self.guard.learn(raw.status, &raw.headers);
            }
            if let Ok(raw) = &answer
                && raw.status == 401
                && self.integration.auth_kind == AuthKind::Oauth2
                && !refreshed
            {
                refreshed = true;
                match material::after_unauthorized(self.app, &self.integration.id, &auth).await {
                    Ok(fresh) => {
                        auth = fresh;
                        result.retries += 1;
                        continue;
                    }
                    Err(err) => {
                        result.answer = Err(material_failure(err)?);
                        return Ok(result);
                    }
                }
            }
            let retryable = self.retryable(&answer);
            result.answer = answer;
            if !retryable {
                return Ok(result);
            }
            let Some(delay) = backoff.next() else {
                return Ok(result);
            };
            let wait = match upstream_wait {
                Some(wait) if wait > config.max_retry_after => {
                    // Longer than we are willing to hold the caller: answer now, with the
                    // upstream's wait attached.
                    if let Err(err) = &mut result.answer {
                        err.retry_after = Some(wait);
                    }
                    return Ok(result);
                }
                Some(wait) => wait,
                None => full_jitter(delay),
            };
            tokio::time::sleep(wait).await;
            result.retries += 1;
        }
    }

    /// Network failures, timeouts, 429 and 502/503/504 are retried; other 5xx only when
    /// repeating is safe (idempotent method or an idempotency key).
    fn retryable(&self, answer: &Result<Raw, CallError>) -> bool {
        match answer {
            Err(err) => matches!(err.class, ErrorClass::Network | ErrorClass::Timeout),
            Ok(raw) => match raw.status {
                429 | 502..=504 => true,
                501 | 505 => false,
                500..=599 => self.spec.method.idempotent() || self.spec.idempotency_key.is_some(),
                _ => false,
            },
        }
    }

    /// One attempt, following redirects (each hop SSRF-checked; credentials only go to
    /// the original origin).
    async fn send(&self, auth: &AuthMaterial) -> Result<Raw, CallError> {
        let config = &self.app.config.outbound;
        let deadline = Instant::now() + self.spec.timeout;
        let origin = self.url.origin();
        let mut method = self.spec.method.to_http();
        let mut url = self.url.clone();
        let mut body = self.body.clone();
        let mut hops = 0;
        loop {
            let same_origin = url.origin() == origin;
            let mut headers = self.integration_headers();
            for (name, value) in &self.spec.headers {
                headers.insert(name.clone(), value.clone());
            }
            if let Some(key) = &self.spec.idempotency_key
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
                .app
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
                ssrf::check_url(&next, &self.app.ssrf).await.map_err(|e| {
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
            return Ok(Raw {
                status,
                headers,
                body,
                truncated,
            });
        }
    }

    fn integration_headers(&self) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in &self.integration.headers {
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
/// AUTHENTICATION problem; a vault failure is ours (INTERNAL).
fn material_failure(err: MaterialError) -> AppResult<CallError> {
    match err {
        MaterialError::Refresh(message) => Ok(CallError::new(ErrorClass::Authentication, message)),
        MaterialError::Unusable(message) => Ok(CallError::new(ErrorClass::Authentication, message)),
        MaterialError::Vault(err) => Err(AppError::internal(err)),
    }
}

/// A random delay in `[0, cap]` ("full jitter": spreads retries of many callers).
fn full_jitter(cap: Duration) -> Duration {
    let millis = cap.as_millis().min(u128::from(u64::MAX)) as u64;
    Duration::from_millis(rand::rng().random_range(0..=millis))
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

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<mime::Mime>().ok())
        .is_some_and(|m| m.subtype() == mime::JSON || m.suffix() == Some(mime::JSON))
}

/// Turns the attempt loop's result into the answer, the record and its events.
async fn finish(
    app: &App,
    integration: &Integration,
    spec: &CallSpec,
    url: &Url,
    started_at: chrono::DateTime<chrono::Utc>,
    latency: Duration,
    run: RunResult,
) -> AppResult<CallOutcome> {
    let mut bytes_in = 0;
    let mut truncated = false;
    let (response, error) = match run.answer {
        Err(err) => (None, Some(err)),
        Ok(raw) => {
            bytes_in = raw.body.len() as i64;
            truncated = raw.truncated;
            if !run.cached {
                store_in_cache(app, integration, spec, url, &raw);
            }
            let (response, error) = interpret(integration, spec, raw, run.cached);
            (Some(response), error)
        }
    };
    let execution = Execution {
        id: new_id(IdKind::Execution),
        project_id: integration.project_id.clone(),
        integration_id: integration.id.clone(),
        operation: spec.operation,
        method: spec.method,
        path: record_path(&spec.path),
        status_code: response.as_ref().map(|r| i32::from(r.status)),
        success: error.is_none(),
        latency_ms: latency.as_millis().min(i32::MAX as u128) as i32,
        bytes_in,
        bytes_out: run.bytes_out,
        retries: run.retries,
        cached: run.cached,
        truncated,
        error_class: error.as_ref().map(|e| e.class),
        error_message: error.as_ref().map(|e| e.message.clone()),
        started_at,
        finished_at: now().and_utc(),
    };
    let mut entries = Vec::new();
    let mut new_events = Vec::new();
    let subject = serde_json::json!({ "id": integration.id, "name": integration.name, "category": integration.category.as_str() });
    if let Some(err) = &error {
        new_events.push(crate::events::outbox::event(
            &integration.project_id,
            "execution.failed",
            serde_json::json!({
                "integration": subject,
                "execution": {
                    "id": execution.id, "integrationId": integration.id,
                    "method": spec.method.as_str(), "path": execution.path,
                    "statusCode": execution.status_code, "errorClass": err.class.as_str(),
                    "retries": execution.retries,
                },
            }),
        ));
        let level = if err.class.recoverable() {
            LogLevel::Warn
        } else {
            LogLevel::Error
        };
        entries.push(LogEntry::new(
            &integration.project_id,
            Some(&integration.id),
            level,
            format!(
                "{} {} failed: {}",
                spec.method.as_str(),
                execution.path,
                err.message
            ),
            serde_json::json!({
                "executionId": execution.id,
                "errorClass": err.class.as_str(),
                "statusCode": execution.status_code,
                "retries": execution.retries,
                "recoveryAction": err.class.recovery_action().as_str(),
            }),
        ));
    }
    for change in &run.circuit_changes {
        entries.push(circuit_log(integration, change));
        let (event_type, reason) = match change {
            CircuitChange::Opened { reason } => ("integration.circuit_opened", Some(reason)),
            CircuitChange::Closed => ("integration.circuit_closed", None),
        };
        new_events.push(crate::events::outbox::event(
            &integration.project_id,
            event_type,
            serde_json::json!({ "integration": subject, "reason": reason }),
        ));
    }
    let rows: Vec<_> = entries.iter().map(LogEntry::to_row).collect();
    execution_store::insert(&app.store, &[execution.to_row()], &rows, &new_events).await?;
    if !new_events.is_empty() {
        app.wake.dispatcher.notify_one();
    }
    app.events
        .publish(BusEvent::Execution(Box::new(execution.clone())));
    for entry in entries {
        app.events.publish(BusEvent::Log(entry));
    }
    Ok(CallOutcome {
        execution,
        response,
        error,
    })
}

fn circuit_log(integration: &Integration, change: &CircuitChange) -> LogEntry {
    match change {
        CircuitChange::Opened { reason } => LogEntry::new(
            &integration.project_id,
            Some(&integration.id),
            LogLevel::Warn,
            format!("circuit opened: {reason}"),
            serde_json::json!({ "event": "integration.circuit_opened", "reason": reason }),
        ),
        CircuitChange::Closed => LogEntry::new(
            &integration.project_id,
            Some(&integration.id),
            LogLevel::Info,
            "circuit closed: the probe call succeeded",
            serde_json::json!({ "event": "integration.circuit_closed" }),
        ),
    }
}

/// The path as recorded: no query string, no user info.
fn record_path(path: &str) -> String {
    let without_query = path.split(['?', '#']).next().unwrap_or_default();
    match Url::parse(without_query) {
        Ok(url) => target::describe(&url),
        Err(_) => without_query.chars().take(2000).collect(),
    }
}

fn store_in_cache(app: &App, integration: &Integration, spec: &CallSpec, url: &Url, raw: &Raw) {
    let eligible = spec.cache.unwrap_or(true)
        && integration.cache.enabled
        && spec.method == HttpMethod::Get
        && (200..300).contains(&raw.status)
        && !raw.truncated
        && !raw
            .headers
            .get(http::header::CACHE_CONTROL)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("no-store"));
    if eligible {
        let key = super::cache::key(&integration.id, integration.version, url, &spec.headers);
        app.outbound.cache.insert(
            key,
            std::sync::Arc::new(CachedResponse {
                status: raw.status,
                headers: raw.headers.clone(),
                body: raw.body.clone(),
                ttl: Duration::from_secs(integration.cache.ttl_seconds.max(1) as u64),
            }),
        );
    }
}

/// Decodes the body, applies error rules and the response transform.
fn interpret(
    integration: &Integration,
    spec: &CallSpec,
    raw: Raw,
    cached: bool,
) -> (UpstreamResponse, Option<CallError>) {
    let options = &integration.call_options;
    let mut error = None;
    let mut json = None;
    let mut text = None;
    if spec.method != HttpMethod::Head && !raw.body.is_empty() {
        if is_json(&raw.headers) && !raw.truncated {
            match serde_json::from_slice::<Value>(&raw.body) {
                Ok(value) => json = Some(value),
                Err(e) => {
                    text = Some(String::from_utf8_lossy(&raw.body).into_owned());
                    if (200..300).contains(&raw.status) {
                        error = Some(CallError::new(
                            ErrorClass::InvalidResponse,
                            format!("the upstream sent invalid JSON: {e}"),
                        ));
                    }
                }
            }
        } else {
            text = Some(String::from_utf8_lossy(&raw.body).into_owned());
        }
    }
    if error.is_none() {
        let reason = http::StatusCode::from_u16(raw.status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("");
        let rule = super::transform::matching_rule(
            &options.error_rules,
            raw.status,
            text.as_deref(),
            json.as_ref(),
        );
        error = match (rule, ErrorClass::of_status(raw.status)) {
            (Some(rule), _) => Some(CallError::new(
                rule.class,
                rule.message.clone().unwrap_or_else(|| {
                    format!(
                        "the upstream answered {} {reason} (matched an error rule)",
                        raw.status
                    )
                }),
            )),
            (None, Some(class)) => Some(CallError::new(
                class,
                format!("the upstream answered {} {reason}", raw.status)
                    .trim_end()
                    .to_owned(),
            )),
            (None, None) => None,
        };
        if let Some(err) = &mut error
            && let Some(wait) = raw
                .headers
                .get(http::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(super::classify::parse_retry_after)
        {
            err.retry_after = Some(wait);
        }
    }
    if error.is_none()
        && let (Some(expression), Some(value)) = (&options.transforms.response, &json)
    {
        match super::transform::apply(expression, value) {
            Ok(shaped) => json = Some(shaped),
            Err(e) => {
                error = Some(CallError::new(
                    ErrorClass::InvalidResponse,
                    format!("the response transform failed: {e}"),
                ))
            }
        }
    }
    let headers = raw
        .headers
        .iter()
        .filter(|(name, _)| *name != http::header::SET_COOKIE)
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    (
        UpstreamResponse {
            status: raw.status,
            headers,
            json,
            text,
            truncated: raw.truncated,
            cached,
        },
        error,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_stays_within_the_cap() {
        for _ in 0..1000 {
            assert!(full_jitter(Duration::from_millis(50)) <= Duration::from_millis(50));
        }
        assert_eq!(full_jitter(Duration::ZERO), Duration::ZERO);
    }

    #[test]
    fn recorded_paths_carry_no_query_or_user_info() {
        assert_eq!(record_path("/search?api_key=s3cret"), "/search");
        assert_eq!(
            record_path("https://user:pw@h.example/x?token=1"),
            "https://h.example/x"
        );
    }
}
