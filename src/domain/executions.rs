//! Outgoing calls as the API asks for them (`executeRequest`, `batchExecute`,
//! `testConnection`: who may call, what a valid request is), what an answer means (error
//! rules, transforms), and the execution records, log entries, events and metrics they
//! leave. The outbound room sends; this module decides.

use async_graphql::{Enum, SimpleObject};
use chrono::{DateTime, Utc};

use super::access::{Caller, Role};
use super::call_options::HttpMethod;
use super::integrations::Integration;
use super::logs::{LogEntry, LogLevel};
use super::stored_enum;
use super::validate;
use super::{AuthKind, IntegrationStatus};
use crate::app::App;
use crate::error::{AppError, AppResult};
use crate::events::BusEvent;
use crate::ids::{IdKind, new_id};
use crate::outbound::classify::{CallError, ErrorClass};
use crate::outbound::engine::{self, OutboundError, RawResponse, Sent};
use crate::outbound::guard::CircuitChange;
use crate::outbound::{target, transform};
use crate::store::executions::{self as execution_store, ExecutionRow, ExecutionTotals};
use crate::store::{StoreResult, now};

stored_enum! {
    /// Which API operation made a call.
    Operation {
        ExecuteRequest,
        BatchExecute,
        TestConnection,
        /// A page read by a sync run.
        Sync,
    }
}

/// A request body.
#[derive(Debug, Clone)]
pub enum RequestBody {
    Json(serde_json::Value),
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
    pub headers: http::HeaderMap,
    pub body: Option<RequestBody>,
    pub timeout: std::time::Duration,
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
    pub json: Option<serde_json::Value>,
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

/// One outgoing call (retries included), as recorded.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Execution {
    pub id: String,
    pub project_id: String,
    pub integration_id: String,
    pub operation: Operation,
    pub method: HttpMethod,
    pub path: String,
    pub status_code: Option<i32>,
    pub success: bool,
    pub latency_ms: i32,
    pub bytes_in: i64,
    pub bytes_out: i64,
    pub retries: i32,
    pub cached: bool,
    pub truncated: bool,
    pub error_class: Option<ErrorClass>,
    pub error_message: Option<String>,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
}

impl Execution {
    pub(crate) fn to_row(&self) -> ExecutionRow {
        ExecutionRow {
            id: self.id.clone(),
            project_id: self.project_id.clone(),
            integration_id: self.integration_id.clone(),
            operation: self.operation.as_str().to_owned(),
            method: self.method.as_str().to_owned(),
            path: self.path.clone(),
            status_code: self.status_code,
            success: self.success,
            latency_ms: self.latency_ms,
            bytes_in: self.bytes_in,
            bytes_out: self.bytes_out,
            retries: self.retries,
            cached: self.cached,
            truncated: self.truncated,
            error_class: self.error_class.map(|c| c.as_str().to_owned()),
            error_message: self.error_message.clone(),
            started_at: self.started_at.naive_utc(),
            finished_at: self.finished_at.naive_utc(),
        }
    }

    pub(crate) fn from_row(row: ExecutionRow) -> StoreResult<Self> {
        Ok(Execution {
            operation: Operation::from_stored("executions.operation", &row.operation)?,
            method: HttpMethod::from_stored("executions.method", &row.method)?,
            error_class: row
                .error_class
                .as_deref()
                .map(|c| ErrorClass::from_stored("executions.error_class", c))
                .transpose()?,
            id: row.id,
            project_id: row.project_id,
            integration_id: row.integration_id,
            path: row.path,
            status_code: row.status_code,
            success: row.success,
            latency_ms: row.latency_ms,
            bytes_in: row.bytes_in,
            bytes_out: row.bytes_out,
            retries: row.retries,
            cached: row.cached,
            truncated: row.truncated,
            error_message: row.error_message,
            started_at: row.started_at.and_utc(),
            finished_at: row.finished_at.and_utc(),
        })
    }
}

/// A period metrics are computed over, ending now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Enum)]
pub enum TimeWindow {
    LastHour,
    #[default]
    LastDay,
    LastWeek,
    LastMonth,
}

impl TimeWindow {
    pub fn duration(self) -> chrono::Duration {
        match self {
            TimeWindow::LastHour => chrono::Duration::hours(1),
            TimeWindow::LastDay => chrono::Duration::days(1),
            TimeWindow::LastWeek => chrono::Duration::days(7),
            TimeWindow::LastMonth => chrono::Duration::days(30),
        }
    }

    pub fn since(self) -> chrono::NaiveDateTime {
        now() - self.duration()
    }
}

/// Call metrics of one integration over a window.
#[derive(Debug, Clone, SimpleObject)]
pub struct Metrics {
    pub window: TimeWindow,
    pub total_requests: i64,
    pub success_count: i64,
    pub failure_count: i64,
    /// Successes over all calls, 0-1; null without calls.
    pub success_rate: Option<f64>,
    pub average_latency_ms: Option<f64>,
    pub p95_latency_ms: Option<i32>,
    pub bytes_in: i64,
    pub bytes_out: i64,
    pub last_activity_at: Option<DateTime<Utc>>,
}

impl Metrics {
    pub fn from_totals(window: TimeWindow, totals: ExecutionTotals) -> Self {
        let calls = (totals.total > 0).then_some(totals.total as f64);
        Metrics {
            window,
            total_requests: totals.total,
            success_count: totals.successes,
            failure_count: totals.total - totals.successes,
            success_rate: calls.map(|n| totals.successes as f64 / n),
            average_latency_ms: calls.map(|n| totals.latency_sum_ms as f64 / n),
            p95_latency_ms: totals.p95_latency_ms,
            bytes_in: totals.bytes_in,
            bytes_out: totals.bytes_out,
            last_activity_at: totals.last_at.map(|t| t.and_utc()),
        }
    }
}

/// Input of `executeRequest` (and each item of `batchExecute`).
#[derive(Debug, Clone, async_graphql::InputObject)]
pub struct ExecuteRequestInput {
    pub integration_id: async_graphql::ID,
    /// Defaults to GET.
    #[graphql(default_with = "HttpMethod::Get")]
    pub method: HttpMethod,
    /// Path under the integration's base URL (an inline `?query` is kept); an absolute URL
    /// only when the integration allows it. Give a path or an `operation`.
    pub path: Option<String>,
    /// An operation of the integration's template, by name (instead of method and path).
    pub operation: Option<String>,
    /// The operation's parameters (a JSON object): path parameters are substituted,
    /// query parameters appended, body parameters sent as JSON body fields.
    pub params: Option<async_graphql::Json<serde_json::Value>>,
    /// Query parameters: an object of strings, numbers, booleans or arrays of them.
    pub query: Option<async_graphql::Json<serde_json::Value>>,
    /// Extra request headers: an object of strings (credentials come from the vault).
    pub headers: Option<async_graphql::Json<serde_json::Value>>,
    /// A JSON body (sent as application/json, after the integration's request transform).
    pub body: Option<async_graphql::Json<serde_json::Value>>,
    /// A text body (sent as text/plain unless a content-type header says otherwise).
    pub body_text: Option<String>,
    /// Timeout of each attempt, 100-300000 ms (default: the integration's).
    pub timeout_ms: Option<i32>,
    /// Sent as `Idempotency-Key`; also makes 5xx answers to POST/PATCH retryable.
    pub idempotency_key: Option<String>,
    /// false bypasses the response cache for this call.
    pub cache: Option<bool>,
}

/// Input of `batchExecute`.
#[derive(Debug, async_graphql::InputObject)]
pub struct BatchExecuteInput {
    /// 1-500 requests; results come back in the same order.
    pub items: Vec<ExecuteRequestInput>,
    /// Calls in flight at once, 1-64 (default 8).
    pub concurrency: Option<i32>,
}

const MAX_BATCH: usize = 500;

fn query_pairs(value: serde_json::Value) -> AppResult<Vec<(String, String)>> {
    use serde_json::Value;
    let map = validate::json_object("input.query", value)?;
    let mut pairs = Vec::new();
    let scalar = |path: &str, value: &Value| -> AppResult<Option<String>> {
        match value {
            Value::Null => Ok(None),
            Value::String(s) => Ok(Some(s.clone())),
            Value::Number(n) => Ok(Some(n.to_string())),
            Value::Bool(b) => Ok(Some(b.to_string())),
            _ => Err(AppError::invalid(
                path,
                "query values must be strings, numbers, booleans or arrays of them",
            )),
        }
    };
    for (name, value) in map {
        let path = format!("input.query.{name}");
        match &value {
            Value::Array(items) => {
                for item in items {
                    if let Some(text) = scalar(&path, item)? {
                        pairs.push((name.clone(), text));
                    }
                }
            }
            other => {
                if let Some(text) = scalar(&path, other)? {
                    pairs.push((name.clone(), text));
                }
            }
        }
    }
    Ok(pairs)
}

/// Checks an execute input and turns it into a call.
fn spec(
    input: ExecuteRequestInput,
    integration: &super::integrations::Integration,
    operation: Operation,
) -> AppResult<CallSpec> {
    let path = input.path.unwrap_or_default();
    if path.is_empty() || path.len() > 4096 {
        return Err(AppError::invalid("input.path", "must be 1-4096 characters"));
    }
    let body = match (input.body, input.body_text) {
        (Some(_), Some(_)) => {
            return Err(AppError::invalid(
                "input.bodyText",
                "give either body or bodyText, not both",
            ));
        }
        (Some(json), None) => Some(RequestBody::Json(json.0)),
        (None, Some(text)) => Some(RequestBody::Text(text)),
        (None, None) => None,
    };
    let mut headers = http::HeaderMap::new();
    if let Some(given) = input.headers {
        for (name, value) in validate::headers("input.headers", given.0)? {
            if let (Ok(name), Ok(value)) = (
                http::HeaderName::from_bytes(name.as_bytes()),
                http::HeaderValue::from_str(&value),
            ) {
                headers.insert(name, value);
            }
        }
    }
    let timeout_ms = match input.timeout_ms {
        Some(ms) => validate::within("input.timeoutMs", ms, 100, 300_000)?,
        None => integration.timeout_ms,
    };
    let idempotency_key = input
        .idempotency_key
        .map(|key| {
            if key.is_empty() || key.len() > 255 || http::HeaderValue::from_str(&key).is_err() {
                Err(AppError::invalid(
                    "input.idempotencyKey",
                    "must be 1-255 visible characters",
                ))
            } else {
                Ok(key)
            }
        })
        .transpose()?;
    Ok(CallSpec {
        operation,
        method: input.method,
        path,
        query: input
            .query
            .map(|q| query_pairs(q.0))
            .transpose()?
            .unwrap_or_default(),
        headers,
        body,
        timeout: std::time::Duration::from_millis(timeout_ms.max(100) as u64),
        idempotency_key,
        cache: input.cache,
        retries: true,
    })
}

/// Calls an upstream through an integration (EDITOR; viewers cannot execute).
pub async fn execute(
    app: &App,
    caller: &Caller,
    input: ExecuteRequestInput,
    operation: Operation,
) -> AppResult<CallOutcome> {
    caller.principal.require(Role::Editor)?;
    let id = validate::id(
        "input.integrationId",
        &input.integration_id,
        crate::ids::IdKind::Integration,
    )?;
    let integration = super::integrations::get(&app.store, caller, &id).await?;
    let input = resolve_operation(&app.store, &integration, input).await?;
    let spec = spec(input, &integration, operation)?;
    call(app, &integration, spec).await
}

/// Turns `operation` + `params` into method, path, query and body (the template's
/// operation, its parameters checked); a path-only input passes through.
async fn resolve_operation(
    store: &crate::store::Store,
    integration: &Integration,
    mut input: ExecuteRequestInput,
) -> AppResult<ExecuteRequestInput> {
    let Some(name) = input.operation.take() else {
        if input.path.is_none() {
            return Err(AppError::invalid(
                "input.path",
                "give a path, or the name of a template operation",
            ));
        }
        return Ok(input);
    };
    if input.path.is_some()
        || input.query.is_some()
        || input.body.is_some()
        || input.body_text.is_some()
    {
        return Err(AppError::invalid(
            "input.operation",
            "an operation takes its path, query and body from `params`; leave path, query, body and bodyText out",
        ));
    }
    let call = super::templates::deploy::call_for(
        store,
        integration,
        &name,
        input.params.take().map(|p| p.0),
    )
    .await?;
    let mut query = serde_json::Map::new();
    for (key, value) in call.query {
        match query.get_mut(&key) {
            Some(serde_json::Value::Array(items)) => items.push(value.into()),
            Some(single) => *single = serde_json::json!([single.clone(), value]),
            None => {
                query.insert(key, value.into());
            }
        }
    }
    input.method = call.method;
    input.path = Some(call.path);
    input.query =
        (!query.is_empty()).then_some(async_graphql::Json(serde_json::Value::Object(query)));
    input.body = call.body.map(async_graphql::Json);
    Ok(input)
}

/// Runs many calls with bounded concurrency; results in input order, each on its own.
pub async fn batch(
    app: &App,
    caller: &Caller,
    input: BatchExecuteInput,
) -> AppResult<Vec<AppResult<CallOutcome>>> {
    use futures_util::StreamExt;
    caller.principal.require(Role::Editor)?;
    if input.items.is_empty() || input.items.len() > MAX_BATCH {
        return Err(AppError::invalid(
            "input.items",
            format!("give 1-{MAX_BATCH} items"),
        ));
    }
    let concurrency = validate::within("input.concurrency", input.concurrency.unwrap_or(8), 1, 64)?;
    Ok(futures_util::stream::iter(input.items)
        .map(|item| execute(app, caller, item, Operation::BatchExecute))
        .buffered(concurrency as usize)
        .collect()
        .await)
}

/// The result of `testConnection`.
#[derive(Debug, Clone)]
pub struct ConnectionTest {
    pub ok: bool,
    pub message: String,
    pub outcome: CallOutcome,
}

/// Sends the integration's connection check once (no retries, no cache).
pub async fn test_connection(app: &App, caller: &Caller, id: &str) -> AppResult<ConnectionTest> {
    caller.principal.require(Role::Editor)?;
    let integration = super::integrations::get(&app.store, caller, id).await?;
    let check = integration
        .call_options
        .connection_check
        .clone()
        .unwrap_or_default();
    let spec = CallSpec {
        operation: Operation::TestConnection,
        method: check.method,
        path: check.path.clone(),
        query: Vec::new(),
        headers: http::HeaderMap::new(),
        body: None,
        timeout: std::time::Duration::from_millis(integration.timeout_ms.max(100) as u64),
        idempotency_key: None,
        cache: Some(false),
        retries: false,
    };
    let outcome = call(app, &integration, spec).await?;
    let status = outcome.response.as_ref().map(|r| i32::from(r.status));
    let expected = match status {
        Some(code) if check.expected_status.is_empty() => (200..300).contains(&code),
        Some(code) => check.expected_status.contains(&code),
        None => false,
    };
    let ok = expected && (outcome.error.is_none() || !check.expected_status.is_empty());
    let message = match (&outcome.error, status) {
        _ if ok => format!(
            "connected: {} answered {} in {} ms",
            check.path,
            status.unwrap_or_default(),
            outcome.execution.latency_ms
        ),
        (Some(err), _) => err.message.clone(),
        (None, Some(code)) => format!(
            "{} answered {code}, expected {:?}",
            check.path, check.expected_status
        ),
        (None, None) => "no answer".to_owned(),
    };
    Ok(ConnectionTest {
        ok,
        message,
        outcome,
    })
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
    // The path is checked before the body is shaped, as the engine would.
    target::resolve(
        integration.base_url.as_deref(),
        &spec.path,
        integration.call_options.allow_absolute_urls,
    )
    .map_err(|e| AppError::invalid("input.path", e.to_string()))?;
    let request = engine::Request {
        method: spec.method,
        path: spec.path.clone(),
        query: spec.query.clone(),
        headers: spec.headers.clone(),
        body: encode_body(integration, &spec)?,
        timeout: spec.timeout,
        idempotency_key: spec.idempotency_key.clone(),
        cache: spec.cache,
        retries: spec.retries,
    };
    let target = engine::Target {
        integration_id: &integration.id,
        version: integration.version,
        base_url: integration.base_url.as_deref(),
        headers: &integration.headers,
        allow_absolute_urls: integration.call_options.allow_absolute_urls,
        oauth2: integration.auth_kind == AuthKind::Oauth2,
        retry_policy: &integration.retry_policy,
        rate_limit: integration.rate_limit.as_ref(),
        cache: &integration.cache,
        unsaved_credentials: None,
    };
    let sent = engine::send(&app.outbound, &target, request)
        .await
        .map_err(|err| match err {
            OutboundError::Target(e) => AppError::invalid("input.path", e.to_string()),
            OutboundError::Vault(e) => AppError::internal(e),
        })?;
    if let Some(failure) = &sent.refresh_failure {
        super::credentials::record_refresh_failure(app, &integration.id, failure).await;
    }
    let circuit_changes = sent.circuit_changes.clone();
    let outcome = finish(app, integration, &spec, sent).await?;
    // Passive health and alerts: what real traffic says about the integration.
    let mut opened = None;
    for change in &circuit_changes {
        match change {
            CircuitChange::Opened { reason } => {
                opened = Some(reason.as_str());
                super::alerts::on_circuit(app, integration, Some(reason)).await;
            }
            CircuitChange::Closed => super::alerts::on_circuit(app, integration, None).await,
        }
    }
    super::health::observe_call(
        app,
        integration,
        outcome.error.as_ref().map(|e| e.class),
        i64::from(outcome.execution.latency_ms),
        opened,
    )
    .await;
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
                Some(expression) => transform::apply(expression, value).map_err(|e| {
                    AppError::invalid("input.body", format!("the request transform failed: {e}"))
                })?,
                None => value.clone(),
            };
            Some((value.to_string().into_bytes(), "application/json"))
        }
    })
}

/// Turns what was sent into the answer, the record and its events.
async fn finish(
    app: &App,
    integration: &Integration,
    spec: &CallSpec,
    sent: Sent,
) -> AppResult<CallOutcome> {
    let mut bytes_in = 0;
    let mut truncated = false;
    let (response, error) = match sent.answer {
        Err(err) => (None, Some(err)),
        Ok(raw) => {
            bytes_in = raw.body.len() as i64;
            truncated = raw.truncated;
            let (response, error) = interpret(integration, spec, raw, sent.cached);
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
        latency_ms: sent.latency.as_millis().min(i32::MAX as u128) as i32,
        bytes_in,
        bytes_out: sent.bytes_out,
        retries: sent.retries,
        cached: sent.cached,
        truncated,
        error_class: error.as_ref().map(|e| e.class),
        error_message: error.as_ref().map(|e| e.message.clone()),
        started_at: sent.started_at,
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
    for change in &sent.circuit_changes {
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
    app.telemetry.execution(
        integration.category.as_str(),
        execution.error_class.map(|c| c.as_str()),
    );
    let rows: Vec<_> = entries.iter().map(LogEntry::to_row).collect();
    let execution_row = execution.to_row();
    execution_store::insert(
        &app.store,
        std::slice::from_ref(&execution_row),
        &rows,
        &new_events,
    )
    .await?;
    if !new_events.is_empty() {
        app.workers.wake.dispatcher.notify_one();
    }
    app.events
        .publish(BusEvent::Execution(Box::new(execution_row)));
    for row in rows {
        app.events.publish(BusEvent::Log(Box::new(row)));
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
    match url::Url::parse(without_query) {
        Ok(url) => target::describe(&url),
        Err(_) => without_query.chars().take(2000).collect(),
    }
}

/// Decodes the body, applies error rules and the response transform.
fn interpret(
    integration: &Integration,
    spec: &CallSpec,
    raw: RawResponse,
    cached: bool,
) -> (UpstreamResponse, Option<CallError>) {
    let options = &integration.call_options;
    let mut error = None;
    let mut json = None;
    let mut text = None;
    if spec.method != HttpMethod::Head && !raw.body.is_empty() {
        if engine::is_json(&raw.headers) && !raw.truncated {
            match serde_json::from_slice::<serde_json::Value>(&raw.body) {
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
        let rule = transform::matching_rule(
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
                .and_then(crate::outbound::classify::parse_retry_after)
        {
            err.retry_after = Some(wait);
        }
    }
    if error.is_none()
        && let (Some(expression), Some(value)) = (&options.transforms.response, &json)
    {
        match transform::apply(expression, value) {
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
    fn recorded_paths_carry_no_query_or_user_info() {
        assert_eq!(record_path("/search?api_key=s3cret"), "/search");
        assert_eq!(
            record_path("https://user:pw@h.example/x?token=1"),
            "https://h.example/x"
        );
    }
}

/// Call metrics of an integration the caller holds, over a window ending now.
pub async fn metrics(
    store: &crate::store::Store,
    caller: &Caller,
    integration: &Integration,
    window: TimeWindow,
) -> AppResult<Metrics> {
    if !caller.principal.sees_project(&integration.project_id) {
        return Err(AppError::not_found("integration", &integration.id));
    }
    let totals = execution_store::totals(store, &integration.id, window.since()).await?;
    Ok(Metrics::from_totals(window, totals))
}

/// An execution record the caller may see; NOT_FOUND otherwise.
pub async fn get(store: &crate::store::Store, caller: &Caller, id: &str) -> AppResult<Execution> {
    if let Some(row) = execution_store::get(store, id).await?
        && caller.principal.sees_project(&row.project_id)
    {
        return Ok(Execution::from_row(row)?);
    }
    Err(AppError::not_found("execution", id))
}

/// Which execution records a caller asked for, within what it may see: the listing's
/// query and the live subscription's filter in one.
#[derive(Debug, Clone)]
pub struct ExecutionSelection(execution_store::ExecutionQuery);

impl ExecutionSelection {
    /// What the caller asked for; NOT_FOUND for a project or integration it cannot see.
    pub async fn visible(
        store: &crate::store::Store,
        caller: &Caller,
        project_id: Option<&str>,
        integration_id: Option<&str>,
    ) -> AppResult<Self> {
        Ok(ExecutionSelection(execution_store::ExecutionQuery {
            project_ids: super::visible_projects(store, caller, project_id, integration_id).await?,
            integration_id: integration_id.map(str::to_owned),
            success: None,
        }))
    }

    /// The records of an integration the caller holds, optionally by outcome.
    pub fn of_integration(
        caller: &Caller,
        integration: &Integration,
        success: Option<bool>,
    ) -> AppResult<Self> {
        if !caller.principal.sees_project(&integration.project_id) {
            return Err(AppError::not_found("integration", &integration.id));
        }
        Ok(ExecutionSelection(execution_store::ExecutionQuery {
            integration_id: Some(integration.id.clone()),
            project_ids: None,
            success,
        }))
    }

    /// One page of records, oldest first.
    pub async fn page(
        &self,
        store: &crate::store::Store,
        request: &crate::store::PageRequest,
    ) -> AppResult<crate::store::Page<Execution>> {
        Ok(execution_store::page(store, &self.0, request)
            .await?
            .try_map(Execution::from_row)?)
    }

    /// A call that just finished, if it belongs to the selection.
    pub fn live(&self, row: &ExecutionRow) -> Option<Execution> {
        let query = &self.0;
        let wanted = query
            .project_ids
            .as_ref()
            .is_none_or(|ids| ids.contains(&row.project_id))
            && query
                .integration_id
                .as_ref()
                .is_none_or(|id| *id == row.integration_id)
            && query.success.is_none_or(|success| success == row.success);
        wanted
            .then(|| Execution::from_row(row.clone()).ok())
            .flatten()
    }
}
