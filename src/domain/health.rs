//! Health: is each integration working, right now? Scheduled checks (the integration's
//! health check, sent through the outbound engine) and real traffic (passive health)
//! move a small state machine with thresholds, so one blip does not flap:
//! UNHEALTHY after `failureThreshold` consecutive failures, back after `successThreshold`
//! successes, DEGRADED when checks pass but slowly (or real traffic fails too often), and
//! UNHEALTHY at once when the circuit breaker opens. Every transition is stored with its
//! reason, logged, and emitted as `integration.health_changed`.

use async_graphql::{Enum, InputObject, SimpleObject};
use chrono::{DateTime, NaiveDateTime, Utc};
use rand::Rng;
use serde::{Deserialize, Serialize};

use super::access::{Caller, Role};
use super::call_options::HttpMethod;
use super::integrations::Integration;
use super::logs::{LogEntry, LogLevel};
use super::{AuthKind, IntegrationStatus, stored_enum, utc, validate};
use crate::app::App;
use crate::error::{AppError, AppResult};
use crate::events::BusEvent;
use crate::ids::{IdKind, new_id};
use crate::outbound::classify::ErrorClass;
use crate::outbound::engine::{self, RawResponse};
use crate::store::health::{
    self as health_store, BucketTotals, HealthStateRow, HealthWrite, LATENCY_BINS_MS, Observation,
    TransitionRow,
};
use crate::store::{Store, now};

stored_enum! {
    /// How an integration is doing.
    HealthStatus { Healthy, Degraded, Unhealthy, Unknown }
}

stored_enum! {
    /// How a body condition compares the value at its pointer.
    Comparison { Equals, NotEquals, Contains, Exists, LessThan, GreaterThan }
}

/// A condition on the JSON body of a check's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, SimpleObject, InputObject)]
#[graphql(input_name = "BodyConditionInput")]
#[serde(rename_all = "camelCase")]
pub struct BodyCondition {
    /// An RFC 6901 JSON pointer into the body, e.g. `/status` or `/checks/0/ok`.
    pub pointer: String,
    pub comparison: Comparison,
    /// The value compared with (not needed for EXISTS).
    pub value: Option<async_graphql::Json<serde_json::Value>>,
}

/// The request a health check sends and what counts as healthy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, SimpleObject)]
#[serde(rename_all = "camelCase")]
pub struct HealthCheck {
    pub method: HttpMethod,
    /// Relative to the base URL.
    pub path: String,
    /// Statuses that pass (empty: any 2xx).
    pub expected_status: Vec<i32>,
    /// Slower passing answers make the integration DEGRADED.
    pub max_latency_ms: Option<i32>,
    pub body_condition: Option<BodyCondition>,
    /// Seconds between scheduled checks (at least 10).
    pub interval_seconds: i32,
    pub timeout_ms: i32,
    /// Consecutive failures that make the integration UNHEALTHY.
    pub failure_threshold: i32,
    /// Consecutive successes that make an UNHEALTHY integration HEALTHY again.
    pub success_threshold: i32,
    /// A JSON body to send (a template's RPC-style check, e.g. a GraphQL `{ __typename }`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<async_graphql::Json<serde_json::Value>>,
}

/// A health check; omitted fields take their defaults (GET /, any 2xx, every 300 s,
/// 3000 ms timeout, 3 failures, 2 successes).
#[derive(Debug, Clone, InputObject)]
pub struct HealthCheckInput {
    pub method: Option<HttpMethod>,
    pub path: Option<String>,
    pub expected_status: Option<Vec<i32>>,
    pub max_latency_ms: Option<i32>,
    pub body_condition: Option<BodyCondition>,
    pub interval_seconds: Option<i32>,
    pub timeout_ms: Option<i32>,
    pub failure_threshold: Option<i32>,
    pub success_threshold: Option<i32>,
}

/// Checks a health check input (every problem named by its path).
pub fn validate_check(field: &str, input: HealthCheckInput) -> AppResult<HealthCheck> {
    let path = input.path.unwrap_or_else(|| "/".to_owned());
    if path.is_empty() || path.len() > 2000 {
        return Err(AppError::invalid(
            format!("{field}.path"),
            "must be 1-2000 characters",
        ));
    }
    let expected_status = input.expected_status.unwrap_or_default();
    if let Some((i, bad)) = expected_status
        .iter()
        .enumerate()
        .find(|(_, c)| !(100..=599).contains(*c))
    {
        return Err(AppError::invalid(
            format!("{field}.expectedStatus[{i}]"),
            format!("{bad} is not an HTTP status"),
        ));
    }
    if let Some(condition) = &input.body_condition {
        if !(condition.pointer.is_empty() || condition.pointer.starts_with('/')) {
            return Err(AppError::invalid(
                format!("{field}.bodyCondition.pointer"),
                "a JSON pointer starts with `/` (or is empty for the whole body)",
            ));
        }
        if condition.comparison != Comparison::Exists && condition.value.is_none() {
            return Err(AppError::invalid(
                format!("{field}.bodyCondition.value"),
                "give the value to compare with",
            ));
        }
    }
    let max_latency_ms = input
        .max_latency_ms
        .map(|ms| validate::within(&format!("{field}.maxLatencyMs"), ms, 1, 300_000))
        .transpose()?;
    Ok(HealthCheck {
        method: input.method.unwrap_or(HttpMethod::Get),
        path,
        expected_status,
        max_latency_ms,
        body_condition: input.body_condition,
        interval_seconds: validate::within(
            &format!("{field}.intervalSeconds"),
            input.interval_seconds.unwrap_or(300),
            10,
            86_400,
        )?,
        timeout_ms: validate::within(
            &format!("{field}.timeoutMs"),
            input.timeout_ms.unwrap_or(3000),
            100,
            60_000,
        )?,
        failure_threshold: validate::within(
            &format!("{field}.failureThreshold"),
            input.failure_threshold.unwrap_or(3),
            1,
            100,
        )?,
        success_threshold: validate::within(
            &format!("{field}.successThreshold"),
            input.success_threshold.unwrap_or(2),
            1,
            100,
        )?,
        body: None,
    })
}

/// What one check or call said.
#[derive(Debug, Clone, PartialEq)]
pub enum Signal {
    /// A passing answer (slow: over the check's max latency).
    Pass { slow: bool },
    /// A failing check or an upstream fault of real traffic.
    Fail { error: String },
    /// The circuit breaker opened: calls are refused, so the integration is down.
    CircuitOpened { reason: String },
}

/// The thresholds a state moves by.
#[derive(Debug, Clone, Copy)]
pub struct Thresholds {
    pub failures: i32,
    pub successes: i32,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            failures: 3,
            successes: 2,
        }
    }
}

/// The state machine: the next status, counters and (when it changed) the reason.
pub fn next_status(
    status: HealthStatus,
    failures: i32,
    successes: i32,
    signal: &Signal,
    thresholds: Thresholds,
) -> (HealthStatus, i32, i32, Option<String>) {
    use HealthStatus::*;
    match signal {
        Signal::CircuitOpened { reason } => {
            let why = (status != Unhealthy).then(|| format!("circuit opened: {reason}"));
            (Unhealthy, failures.max(thresholds.failures), 0, why)
        }
        Signal::Fail { error } => {
            let failures = failures + 1;
            if status != Unhealthy && failures >= thresholds.failures {
                let why = format!("{failures} consecutive failures; last: {error}");
                (Unhealthy, failures, 0, Some(why))
            } else {
                (status, failures, 0, None)
            }
        }
        Signal::Pass { slow } => {
            // Leaving DEGRADED needs fast answers; leaving UNHEALTHY, any passing ones.
            let successes = if *slow && status != Unhealthy {
                0
            } else {
                successes + 1
            };
            let target = if *slow { Degraded } else { Healthy };
            let next = match status {
                // Recovery needs several successes in a row.
                Unhealthy if successes >= thresholds.successes => target,
                Unhealthy => Unhealthy,
                // No failure seen yet: the first answer tells.
                Unknown => target,
                // Slowness shows at once; leaving DEGRADED needs a streak of fast answers.
                Healthy if *slow => Degraded,
                Degraded if !*slow && successes >= thresholds.successes => Healthy,
                other => other,
            };
            let why = (next != status).then(|| match (next, status) {
                (Degraded, _) => "checks pass but are slower than the limit".to_owned(),
                (Healthy, Unknown) => "first check passed".to_owned(),
                (Healthy, Degraded) => format!("{successes} fast answers in a row"),
                (_, Unhealthy) => format!("{successes} successes in a row"),
                _ => "recovered".to_owned(),
            });
            (next, 0, successes, why)
        }
    }
}

/// The result of a check as the API shows it.
#[derive(Debug, Clone)]
pub struct CheckResult {
    pub ok: bool,
    pub status_code: Option<i32>,
    pub latency_ms: i32,
    pub error: Option<String>,
    pub health: HealthStatus,
    pub checked_at: DateTime<Utc>,
}

/// Interprets a check's answer: status, latency and body condition.
pub fn judge(check: &HealthCheck, answer: &Result<RawResponse, String>, latency_ms: i64) -> Signal {
    let raw = match answer {
        Ok(raw) => raw,
        Err(error) => {
            return Signal::Fail {
                error: error.clone(),
            };
        }
    };
    let status = i32::from(raw.status);
    let expected = if check.expected_status.is_empty() {
        (200..300).contains(&status)
    } else {
        check.expected_status.contains(&status)
    };
    if !expected {
        let wanted = if check.expected_status.is_empty() {
            "2xx".to_owned()
        } else {
            format!("{:?}", check.expected_status)
        };
        return Signal::Fail {
            error: format!("answered {status}, expected {wanted}"),
        };
    }
    if let Some(condition) = &check.body_condition
        && let Err(error) = body_holds(condition, &raw.body)
    {
        return Signal::Fail { error };
    }
    let slow = check
        .max_latency_ms
        .is_some_and(|max| latency_ms > i64::from(max));
    Signal::Pass { slow }
}

fn body_holds(condition: &BodyCondition, body: &[u8]) -> Result<(), String> {
    let json: serde_json::Value = serde_json::from_slice(body)
        .map_err(|_| "the body is not JSON, so its condition cannot hold".to_owned())?;
    let found = json.pointer(&condition.pointer);
    let wanted = condition.value.as_ref().map(|v| &v.0);
    let number = |v: Option<&serde_json::Value>| v.and_then(serde_json::Value::as_f64);
    let holds = match condition.comparison {
        Comparison::Exists => found.is_some_and(|v| !v.is_null()),
        Comparison::Equals => found == wanted,
        Comparison::NotEquals => found != wanted,
        Comparison::Contains => match (found, wanted) {
            (Some(serde_json::Value::String(s)), Some(serde_json::Value::String(w))) => {
                s.contains(w.as_str())
            }
            (Some(serde_json::Value::Array(items)), Some(w)) => items.contains(w),
            _ => false,
        },
        Comparison::LessThan => {
            matches!((number(found), number(wanted)), (Some(a), Some(b)) if a < b)
        }
        Comparison::GreaterThan => {
            matches!((number(found), number(wanted)), (Some(a), Some(b)) if a > b)
        }
    };
    if holds {
        Ok(())
    } else {
        Err(format!(
            "body condition failed: {} {} {}",
            if condition.pointer.is_empty() {
                "(body)"
            } else {
                &condition.pointer
            },
            condition.comparison.as_str(),
            wanted.map(|w| w.to_string()).unwrap_or_default()
        ))
    }
}

/// Why an integration is not checked now, if it is not.
pub fn skipped_because(integration: &Integration) -> Option<String> {
    if !integration.enabled {
        return Some("not checked: the integration is disabled".to_owned());
    }
    match integration.status {
        IntegrationStatus::Maintenance => {
            Some("not checked: the integration is in MAINTENANCE".to_owned())
        }
        IntegrationStatus::Deprecated => {
            Some("not checked: the integration is DEPRECATED".to_owned())
        }
        IntegrationStatus::Inactive => Some("not checked: the integration is INACTIVE".to_owned()),
        IntegrationStatus::Active => None,
    }
}

/// When the next scheduled check is due: one interval on, with up to 5% jitter either
/// way (at most 15 s), so checks of integrations created together spread out.
pub fn next_due(from: NaiveDateTime, interval_seconds: i32) -> NaiveDateTime {
    let interval_ms = i64::from(interval_seconds.max(10)) * 1000;
    let spread = (interval_ms / 20).min(15_000);
    let jitter = rand::rng().random_range(-spread..=spread);
    from + chrono::Duration::milliseconds(interval_ms + jitter)
}

/// The first check of a newly configured integration: within a few seconds, spread.
fn first_due(from: NaiveDateTime, interval_seconds: i32) -> NaiveDateTime {
    let spread_ms = (i64::from(interval_seconds) * 1000 / 10).clamp(1, 5000);
    from + chrono::Duration::milliseconds(rand::rng().random_range(0..=spread_ms))
}

/// Keeps the schedule in step with an integration's settings (after a create or update).
pub async fn schedule(store: &Store, integration: &Integration) -> AppResult<()> {
    let at = now();
    let next = integration
        .call_options
        .health_check
        .as_ref()
        .map(|check| first_due(at, check.interval_seconds));
    health_store::schedule(store, &integration.id, &integration.project_id, next, at).await?;
    Ok(())
}

/// Runs an integration's check now (the "check now" button; EDITOR) and returns its result.
pub async fn run_now(app: &App, caller: &Caller, id: &str) -> AppResult<CheckResult> {
    caller.principal.require(Role::Editor)?;
    let integration = super::integrations::get(&app.store, caller, id).await?;
    if integration.call_options.health_check.is_none() {
        return Err(AppError::invalid(
            "id",
            "the integration has no health check; set healthCheck with updateIntegration",
        ));
    }
    if let Some(reason) = skipped_because(&integration) {
        return Err(AppError::Unavailable(reason));
    }
    schedule_if_missing(&app.store, &integration).await?;
    check(app, &integration).await
}

async fn schedule_if_missing(store: &Store, integration: &Integration) -> AppResult<()> {
    if health_store::get(store, &integration.id).await?.is_none() {
        schedule(store, integration).await?;
    }
    Ok(())
}

/// Sends the integration's health check once and applies what it says.
pub async fn check(app: &App, integration: &Integration) -> AppResult<CheckResult> {
    let Some(check) = integration.call_options.health_check.clone() else {
        return Err(AppError::invalid(
            "id",
            "the integration has no health check",
        ));
    };
    let request = engine::Request {
        method: check.method,
        path: check.path.clone(),
        query: Vec::new(),
        headers: http::HeaderMap::new(),
        body: check
            .body
            .as_ref()
            .map(|b| (b.0.to_string().into_bytes(), "application/json")),
        timeout: std::time::Duration::from_millis(check.timeout_ms.max(100) as u64),
        idempotency_key: None,
        cache: Some(false),
        retries: false,
    };
    let target = engine::Target {
        integration_id: &integration.id,
        version: integration.version,
        base_url: integration.base_url.as_deref(),
        headers: &integration.headers,
        allow_absolute_urls: integration.call_options.allow_absolute_urls,
        oauth2: integration.auth_kind == AuthKind::Oauth2,
        retry_policy: &integration.retry_policy,
        // A check is not held by the integration's own rate limit (it would fail as
        // RATE_LIMITED and say nothing about the upstream).
        rate_limit: None,
        cache: &integration.cache,
        unsaved_credentials: None,
    };
    let (answer, latency_ms) = match engine::send(&app.outbound, &target, request).await {
        Ok(sent) => {
            if let Some(failure) = &sent.refresh_failure {
                super::credentials::record_refresh_failure(app, &integration.id, failure).await;
            }
            let latency = sent.latency.as_millis().min(i64::MAX as u128) as i64;
            (sent.answer.map_err(|e| e.message), latency)
        }
        Err(engine::OutboundError::Target(e)) => {
            (Err(format!("the check's path is not valid: {e}")), 0)
        }
        Err(engine::OutboundError::Vault(e)) => return Err(AppError::internal(e)),
    };
    let signal = judge(&check, &answer, latency_ms);
    app.telemetry.health_check(
        !matches!(signal, Signal::Fail { .. }),
        latency_ms as f64 / 1000.0,
    );
    let status_code = answer.as_ref().ok().map(|raw| i32::from(raw.status));
    let traffic = traffic_signal(app, integration, &signal).await?;
    let signal = traffic.unwrap_or(signal);
    let observation = Observation {
        at: now(),
        check: true,
        failed: matches!(signal, Signal::Fail { .. }),
        latency_ms: Some(latency_ms),
    };
    let thresholds = Thresholds {
        failures: check.failure_threshold,
        successes: check.success_threshold,
    };
    let next = Some(next_due(observation.at, check.interval_seconds));
    let health = apply(
        app,
        integration,
        &signal,
        thresholds,
        Some(observation),
        Next::At(next),
    )
    .await?;
    Ok(CheckResult {
        ok: !matches!(signal, Signal::Fail { .. }),
        status_code,
        latency_ms: latency_ms.min(i64::from(i32::MAX)) as i32,
        error: match &signal {
            Signal::Fail { error } => Some(error.clone()),
            _ => None,
        },
        health,
        checked_at: observation.at.and_utc(),
    })
}

/// Real traffic failing often makes a passing check DEGRADED: over the last 15 minutes,
/// at least 10 calls and 10% or more upstream faults.
async fn traffic_signal(
    app: &App,
    integration: &Integration,
    signal: &Signal,
) -> AppResult<Option<Signal>> {
    let Signal::Pass { slow: false } = signal else {
        return Ok(None);
    };
    let since = now() - chrono::Duration::minutes(15);
    let totals =
        health_store::totals(&app.store, std::slice::from_ref(&integration.id), 60, since).await?;
    let Some(t) = totals.get(&integration.id) else {
        return Ok(None);
    };
    Ok((t.calls >= 10 && t.call_failures * 10 >= t.calls).then_some(Signal::Pass { slow: true }))
}

/// When the state row's next check is due after this observation.
enum Next {
    /// Keep the schedule as it is (passive observations).
    Keep,
    At(Option<NaiveDateTime>),
}

/// Applies a signal to an integration's state: transition, log entries, outbox event and
/// buckets in one transaction, then the live events. Retries on a concurrent change.
async fn apply(
    app: &App,
    integration: &Integration,
    signal: &Signal,
    thresholds: Thresholds,
    observation: Option<Observation>,
    next: Next,
) -> AppResult<HealthStatus> {
    for _ in 0..5 {
        let Some(current) = health_store::get(&app.store, &integration.id).await? else {
            schedule(&app.store, integration).await?;
            continue;
        };
        let status = HealthStatus::from_stored("health_states.status", &current.status)?;
        let (next_status, failures, successes, reason) = next_status(
            status,
            current.consecutive_failures,
            current.consecutive_successes,
            signal,
            thresholds,
        );
        let at = now();
        let mut state = HealthStateRow {
            status: next_status.as_str().to_owned(),
            consecutive_failures: failures,
            consecutive_successes: successes,
            changed_at: at,
            ..current.clone()
        };
        if observation.is_some_and(|o| o.check) {
            state.last_checked_at = Some(at);
            state.last_latency_ms = observation
                .and_then(|o| o.latency_ms)
                .map(|l| l.min(i64::from(i32::MAX)) as i32);
            state.lease_until = None;
        }
        if let Signal::Fail { error } | Signal::CircuitOpened { reason: error } = signal {
            state.last_error = Some(error.chars().take(1000).collect());
        }
        if let Next::At(due) = next {
            state.next_check_at = due;
        }
        let mut transition = None;
        let mut logs = Vec::new();
        let mut events = Vec::new();
        if let Some(reason) = &reason {
            state.reason = Some(reason.clone());
            let row = TransitionRow {
                id: new_id(IdKind::HealthTransition),
                integration_id: integration.id.clone(),
                project_id: integration.project_id.clone(),
                previous: status.as_str().to_owned(),
                current: next_status.as_str().to_owned(),
                reason: reason.clone(),
                at,
            };
            let level = match next_status {
                HealthStatus::Unhealthy => LogLevel::Error,
                HealthStatus::Degraded => LogLevel::Warn,
                _ => LogLevel::Info,
            };
            logs.push(
                LogEntry::new(
                    &integration.project_id,
                    Some(&integration.id),
                    level,
                    format!("health {} → {}: {reason}", status.as_str(), next_status.as_str()),
                    serde_json::json!({ "event": "integration.health_changed", "previous": status.as_str(), "current": next_status.as_str(), "reason": reason }),
                )
                .to_row(),
            );
            events.push(crate::events::outbox::event(
                &integration.project_id,
                "integration.health_changed",
                serde_json::json!({
                    "integration": { "id": integration.id, "name": integration.name, "category": integration.category.as_str() },
                    "previous": status.as_str(),
                    "current": next_status.as_str(),
                    "reason": reason,
                }),
            ));
            transition = Some(row);
        }
        let written = health_store::write(
            &app.store,
            &HealthWrite {
                state: &state,
                expected: &current,
                transition: transition.as_ref(),
                logs: &logs,
                events: &events,
                observation,
            },
        )
        .await?;
        if !written {
            continue;
        }
        if !events.is_empty() {
            app.workers.wake.dispatcher.notify_one();
        }
        for log in logs {
            app.events.publish(BusEvent::Log(Box::new(log)));
        }
        if let Some(row) = transition {
            app.events
                .publish(BusEvent::HealthChanged(Box::new(row.clone())));
            super::alerts::on_health_transition(app, integration, &row).await;
        }
        return Ok(next_status);
    }
    Err(AppError::Conflict(
        "the integration's health changed concurrently too often; try again".to_owned(),
    ))
}

/// Passive health: what a real call through the integration said. Upstream faults count
/// as failures, successes count towards recovery, an opened circuit is UNHEALTHY at once.
pub async fn observe_call(
    app: &App,
    integration: &Integration,
    error_class: Option<ErrorClass>,
    latency_ms: i64,
    circuit_opened: Option<&str>,
) {
    let observation = Observation {
        at: now(),
        check: false,
        failed: error_class.is_some_and(ErrorClass::is_upstream_fault),
        latency_ms: Some(latency_ms),
    };
    let thresholds =
        integration
            .call_options
            .health_check
            .as_ref()
            .map_or_else(Thresholds::default, |c| Thresholds {
                failures: c.failure_threshold,
                successes: c.success_threshold,
            });
    let signal = match (circuit_opened, error_class) {
        (Some(reason), _) => Some(Signal::CircuitOpened {
            reason: reason.to_owned(),
        }),
        (None, Some(class)) if class.is_upstream_fault() => Some(Signal::Fail {
            error: format!("a call failed ({})", class.as_str()),
        }),
        // Client errors (4xx, bad input) say nothing about the upstream's health.
        (None, Some(_)) => None,
        (None, None) => Some(Signal::Pass { slow: false }),
    };
    let result = match signal {
        // A success changes nothing while the integration is HEALTHY (or never checked):
        // only the buckets are written.
        Some(Signal::Pass { .. }) => match health_store::get(&app.store, &integration.id).await {
            Ok(Some(state)) if state.status == "UNHEALTHY" || state.status == "DEGRADED" => apply(
                app,
                integration,
                &Signal::Pass { slow: false },
                thresholds,
                Some(observation),
                Next::Keep,
            )
            .await
            .map(|_| ()),
            Ok(_) => health_store::observe(&app.store, &integration.id, observation)
                .await
                .map_err(AppError::from),
            Err(err) => Err(err.into()),
        },
        Some(signal) => apply(
            app,
            integration,
            &signal,
            thresholds,
            Some(observation),
            Next::Keep,
        )
        .await
        .map(|_| ()),
        None => health_store::observe(&app.store, &integration.id, observation)
            .await
            .map_err(AppError::from),
    };
    if let Err(err) = result {
        tracing::warn!(integration = %integration.id, error = %err, "recording passive health failed");
    }
}

/// A time window of health figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Enum)]
pub enum HealthWindow {
    Hour,
    #[default]
    Day,
    Week,
}

impl HealthWindow {
    pub fn duration(self) -> chrono::Duration {
        match self {
            HealthWindow::Hour => chrono::Duration::hours(1),
            HealthWindow::Day => chrono::Duration::days(1),
            HealthWindow::Week => chrono::Duration::days(7),
        }
    }

    /// The bucket size the window is summed from: minutes for an hour, hours beyond.
    pub fn span_seconds(self) -> i32 {
        match self {
            HealthWindow::Hour => 60,
            _ => 3600,
        }
    }

    /// The start of the first bucket in the window.
    pub fn since(self) -> NaiveDateTime {
        let span = i64::from(self.span_seconds());
        let start = (now() - self.duration()).and_utc().timestamp();
        let floored = start - start.rem_euclid(span) + span;
        chrono::DateTime::from_timestamp(floored, 0).map_or_else(now, |t| t.naive_utc())
    }
}

/// Health figures over a window.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Figures {
    pub checks: i64,
    pub check_failures: i64,
    pub calls: i64,
    pub call_failures: i64,
    /// Passing checks over all checks, 0-1 (null without checks).
    pub uptime: Option<f64>,
    /// Failed checks and calls over all of them, 0-1.
    pub error_rate: Option<f64>,
    pub latency_p50_ms: Option<f64>,
    pub latency_p95_ms: Option<f64>,
    pub latency_p99_ms: Option<f64>,
    pub average_latency_ms: Option<f64>,
}

impl Figures {
    pub fn from_totals(totals: &BucketTotals) -> Self {
        let ratio = |part: i64, whole: i64| (whole > 0).then(|| part as f64 / whole as f64);
        Figures {
            checks: totals.checks,
            check_failures: totals.check_failures,
            calls: totals.calls,
            call_failures: totals.call_failures,
            uptime: ratio(totals.checks - totals.check_failures, totals.checks),
            error_rate: ratio(
                totals.check_failures + totals.call_failures,
                totals.checks + totals.calls,
            ),
            latency_p50_ms: percentile(&totals.histogram, 0.50),
            latency_p95_ms: percentile(&totals.histogram, 0.95),
            latency_p99_ms: percentile(&totals.histogram, 0.99),
            average_latency_ms: ratio(totals.latency_sum, totals.latency_count),
        }
    }
}

/// A percentile from the latency histogram, interpolated linearly within its bin (the
/// open last bin reports its lower bound).
pub fn percentile(histogram: &[i64; 16], p: f64) -> Option<f64> {
    let total: i64 = histogram.iter().sum();
    if total == 0 {
        return None;
    }
    let rank = (p * total as f64).ceil().max(1.0);
    let mut seen = 0.0;
    for (i, count) in histogram.iter().enumerate() {
        let count = *count as f64;
        if count > 0.0 && seen + count >= rank {
            let lower = if i == 0 {
                0.0
            } else {
                LATENCY_BINS_MS[i - 1] as f64
            };
            let Some(upper) = LATENCY_BINS_MS.get(i) else {
                return Some(lower);
            };
            let within = (rank - seen) / count;
            return Some(lower + (*upper as f64 - lower) * within);
        }
        seen += count;
    }
    None
}

/// The 0-100 health score (README "Health score"): 60 points of uptime over the last
/// day, 25 of latency (p95 within the check's max, or 1 s), 15 of error rate; capped at
/// 40 while UNHEALTHY and 80 while DEGRADED; null without any data.
pub fn score(status: HealthStatus, figures: &Figures, max_latency_ms: Option<i32>) -> Option<i32> {
    if figures.checks + figures.calls == 0 {
        return None;
    }
    let uptime = figures
        .uptime
        .unwrap_or(1.0 - figures.error_rate.unwrap_or(0.0));
    let limit = f64::from(max_latency_ms.unwrap_or(1000));
    let latency = match figures.latency_p95_ms {
        Some(p95) if p95 > limit => (1.0 - (p95 - limit) / (4.0 * limit)).max(0.0),
        _ => 1.0,
    };
    let errors = 1.0 - figures.error_rate.unwrap_or(0.0);
    let raw = 100.0 * (0.60 * uptime + 0.25 * latency + 0.15 * errors);
    let cap = match status {
        HealthStatus::Unhealthy => 40.0,
        HealthStatus::Degraded => 80.0,
        _ => 100.0,
    };
    Some(raw.min(cap).round() as i32)
}

/// An integration's health state as the API reads it (UNKNOWN without a state yet).
#[derive(Debug, Clone)]
pub struct Health {
    pub integration_id: String,
    pub status: HealthStatus,
    pub reason: Option<String>,
    pub consecutive_failures: i32,
    pub last_checked_at: Option<DateTime<Utc>>,
    pub last_latency_ms: Option<i32>,
    pub last_error: Option<String>,
    pub next_check_at: Option<DateTime<Utc>>,
    pub changed_at: Option<DateTime<Utc>>,
}

impl Health {
    pub fn unknown(integration_id: &str) -> Self {
        Health {
            integration_id: integration_id.to_owned(),
            status: HealthStatus::Unknown,
            reason: None,
            consecutive_failures: 0,
            last_checked_at: None,
            last_latency_ms: None,
            last_error: None,
            next_check_at: None,
            changed_at: None,
        }
    }

    pub fn from_row(row: HealthStateRow) -> AppResult<Self> {
        Ok(Health {
            status: HealthStatus::from_stored("health_states.status", &row.status)?,
            integration_id: row.integration_id,
            reason: row.reason,
            consecutive_failures: row.consecutive_failures,
            last_checked_at: row.last_checked_at.map(utc),
            last_latency_ms: row.last_latency_ms,
            last_error: row.last_error,
            next_check_at: row.next_check_at.map(utc),
            changed_at: Some(utc(row.changed_at)),
        })
    }
}

/// Health states by integration ID (for a data loader; the integrations were already
/// read through a scope check).
pub async fn states_unchecked(store: &Store, ids: &[String]) -> AppResult<Vec<Health>> {
    health_store::get_many(store, ids)
        .await?
        .into_iter()
        .map(Health::from_row)
        .collect()
}

/// Figures by integration ID over a window (for a data loader).
pub async fn figures_unchecked(
    store: &Store,
    ids: &[String],
    window: HealthWindow,
) -> AppResult<std::collections::HashMap<String, Figures>> {
    Ok(
        health_store::totals(store, ids, window.span_seconds(), window.since())
            .await?
            .into_iter()
            .map(|(id, totals)| (id, Figures::from_totals(&totals)))
            .collect(),
    )
}

/// A point of a health chart.
#[derive(Debug, Clone, SimpleObject)]
pub struct HealthPoint {
    pub at: DateTime<Utc>,
    pub checks: i64,
    pub check_failures: i64,
    pub calls: i64,
    pub call_failures: i64,
    pub uptime: Option<f64>,
    pub latency_p95_ms: Option<f64>,
    pub average_latency_ms: Option<f64>,
}

/// An integration's chart points over a window (the caller holds the integration).
pub async fn history(
    store: &Store,
    caller: &Caller,
    integration: &Integration,
    window: HealthWindow,
) -> AppResult<Vec<HealthPoint>> {
    if !caller.principal.sees_project(&integration.project_id) {
        return Err(AppError::not_found("integration", &integration.id));
    }
    Ok(health_store::history(
        store,
        &integration.id,
        window.span_seconds(),
        window.since(),
    )
    .await?
    .into_iter()
    .map(|bucket| {
        let figures = Figures::from_totals(&bucket.totals);
        HealthPoint {
            at: utc(bucket.start),
            checks: figures.checks,
            check_failures: figures.check_failures,
            calls: figures.calls,
            call_failures: figures.call_failures,
            uptime: figures.uptime,
            latency_p95_ms: figures.latency_p95_ms,
            average_latency_ms: figures.average_latency_ms,
        }
    })
    .collect())
}

/// A stored transition as the API shows it.
#[derive(Debug, Clone)]
pub struct HealthChange {
    pub id: String,
    pub integration_id: String,
    pub project_id: String,
    pub previous: HealthStatus,
    pub current: HealthStatus,
    pub reason: String,
    pub at: DateTime<Utc>,
}

impl HealthChange {
    pub fn from_row(row: &TransitionRow) -> AppResult<Self> {
        Ok(HealthChange {
            id: row.id.clone(),
            integration_id: row.integration_id.clone(),
            project_id: row.project_id.clone(),
            previous: HealthStatus::from_stored("health_transitions.previous", &row.previous)?,
            current: HealthStatus::from_stored("health_transitions.current", &row.current)?,
            reason: row.reason.clone(),
            at: utc(row.at),
        })
    }
}

/// An integration's newest transitions (the caller holds the integration).
pub async fn transitions(
    store: &Store,
    caller: &Caller,
    integration: &Integration,
    limit: i64,
) -> AppResult<Vec<HealthChange>> {
    if !caller.principal.sees_project(&integration.project_id) {
        return Err(AppError::not_found("integration", &integration.id));
    }
    health_store::transitions(store, &integration.id, limit.clamp(1, 500))
        .await?
        .iter()
        .map(HealthChange::from_row)
        .collect()
}

/// Which health changes a live subscriber wants, within what it may see.
#[derive(Debug, Clone)]
pub struct HealthChangeSelection {
    project_ids: Option<Vec<String>>,
    integration_id: Option<String>,
}

impl HealthChangeSelection {
    pub async fn visible(
        store: &Store,
        caller: &Caller,
        project_id: Option<&str>,
        integration_id: Option<&str>,
    ) -> AppResult<Self> {
        Ok(HealthChangeSelection {
            project_ids: super::visible_projects(store, caller, project_id, integration_id).await?,
            integration_id: integration_id.map(str::to_owned),
        })
    }

    pub fn live(&self, row: &TransitionRow) -> Option<HealthChange> {
        let wanted = self
            .project_ids
            .as_ref()
            .is_none_or(|ids| ids.contains(&row.project_id))
            && self
                .integration_id
                .as_ref()
                .is_none_or(|id| *id == row.integration_id);
        wanted.then(|| HealthChange::from_row(row).ok()).flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use HealthStatus::*;

    fn run(signals: &[Signal]) -> Vec<HealthStatus> {
        let (mut status, mut failures, mut successes) = (Unknown, 0, 0);
        signals
            .iter()
            .map(|signal| {
                (status, failures, successes, _) =
                    next_status(status, failures, successes, signal, Thresholds::default());
                status
            })
            .collect()
    }

    fn fail() -> Signal {
        Signal::Fail {
            error: "down".into(),
        }
    }

    fn pass(slow: bool) -> Signal {
        Signal::Pass { slow }
    }

    #[test]
    fn one_blip_does_not_flap_and_recovery_needs_a_streak() {
        assert_eq!(
            run(&[pass(false), fail(), pass(false), fail(), fail()]),
            [Healthy, Healthy, Healthy, Healthy, Healthy]
        );
        assert_eq!(
            run(&[
                pass(false),
                fail(),
                fail(),
                fail(),
                pass(false),
                pass(false)
            ]),
            [Healthy, Healthy, Healthy, Unhealthy, Unhealthy, Healthy]
        );
        // Unknown stays unknown until the threshold says otherwise.
        assert_eq!(
            run(&[fail(), fail(), fail()]),
            [Unknown, Unknown, Unhealthy]
        );
    }

    #[test]
    fn slow_answers_degrade_and_an_open_circuit_is_unhealthy_at_once() {
        assert_eq!(
            run(&[pass(false), pass(true), pass(false), pass(false)]),
            [Healthy, Degraded, Degraded, Healthy]
        );
        let opened = Signal::CircuitOpened {
            reason: "5 failures".into(),
        };
        assert_eq!(run(&[pass(false), opened]), [Healthy, Unhealthy]);
    }

    #[test]
    fn checks_judge_status_latency_and_body() {
        let mut check = validate_check(
            "c",
            HealthCheckInput {
                method: None,
                path: None,
                expected_status: None,
                max_latency_ms: Some(100),
                body_condition: Some(BodyCondition {
                    pointer: "/status".into(),
                    comparison: Comparison::Equals,
                    value: Some(async_graphql::Json(serde_json::json!("ok"))),
                }),
                interval_seconds: None,
                timeout_ms: None,
                failure_threshold: None,
                success_threshold: None,
            },
        )
        .unwrap();
        let answer = |status: u16, body: &str| {
            Ok(RawResponse {
                status,
                headers: http::HeaderMap::new(),
                body: body.as_bytes().to_vec(),
                truncated: false,
            })
        };
        assert_eq!(
            judge(&check, &answer(200, r#"{"status":"ok"}"#), 20),
            pass(false)
        );
        assert_eq!(
            judge(&check, &answer(200, r#"{"status":"ok"}"#), 200),
            pass(true)
        );
        assert!(matches!(
            judge(&check, &answer(200, r#"{"status":"bad"}"#), 20),
            Signal::Fail { .. }
        ));
        assert!(matches!(
            judge(&check, &answer(503, "{}"), 20),
            Signal::Fail { .. }
        ));
        check.expected_status = vec![503];
        check.body_condition = None;
        assert_eq!(judge(&check, &answer(503, ""), 20), pass(false));
        assert!(matches!(
            judge(&check, &Err("refused".into()), 0),
            Signal::Fail { .. }
        ));
    }

    #[test]
    fn checks_are_validated_with_paths() {
        let input = |interval| HealthCheckInput {
            method: None,
            path: None,
            expected_status: Some(vec![200, 42]),
            max_latency_ms: None,
            body_condition: None,
            interval_seconds: interval,
            timeout_ms: None,
            failure_threshold: None,
            success_threshold: None,
        };
        let err = validate_check("input.healthCheck", input(None)).unwrap_err();
        assert!(
            matches!(err, AppError::BadUserInput { field: Some(f), .. } if f == "input.healthCheck.expectedStatus[1]")
        );
        let mut ok = input(Some(5));
        ok.expected_status = None;
        let err = validate_check("input.healthCheck", ok).unwrap_err();
        assert!(
            matches!(err, AppError::BadUserInput { field: Some(f), .. } if f == "input.healthCheck.intervalSeconds")
        );
    }

    #[test]
    fn percentiles_scores_and_jitter() {
        let mut histogram = [0i64; 16];
        histogram[3] = 90; // 50-100 ms
        histogram[8] = 10; // 750-1000 ms
        let p50 = percentile(&histogram, 0.5).unwrap();
        assert!((50.0..=100.0).contains(&p50), "{p50}");
        let p99 = percentile(&histogram, 0.99).unwrap();
        assert!((750.0..=1000.0).contains(&p99), "{p99}");
        assert_eq!(percentile(&[0; 16], 0.5), None);
        let perfect = Figures {
            checks: 10,
            uptime: Some(1.0),
            error_rate: Some(0.0),
            latency_p95_ms: Some(50.0),
            ..Figures::default()
        };
        assert_eq!(score(Healthy, &perfect, None), Some(100));
        assert_eq!(score(Unhealthy, &perfect, None), Some(40));
        assert_eq!(score(Healthy, &Figures::default(), None), None);
        let at = now();
        for _ in 0..1000 {
            let due = next_due(at, 60);
            let offset = (due - at).num_milliseconds();
            assert!((57_000..=63_000).contains(&offset), "{offset}");
        }
    }
}
