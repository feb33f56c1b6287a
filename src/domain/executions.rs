//! Outgoing calls as the API asks for them (`executeRequest`, `batchExecute`,
//! `testConnection`: who may call, what a valid request is), and the execution records
//! and metrics they leave.

use async_graphql::{Enum, SimpleObject};
use chrono::{DateTime, Utc};

use super::access::{Caller, Role};
use super::call_options::HttpMethod;
use super::stored_enum;
use super::validate;
use crate::app::App;
use crate::error::{AppError, AppResult};
use crate::outbound::classify::ErrorClass;
use crate::outbound::engine::{self, CallOutcome, CallSpec, RequestBody};
use crate::store::executions::{ExecutionRow, ExecutionTotals};
use crate::store::{StoreResult, now};

stored_enum! {
    /// Which API operation made a call.
    Operation { ExecuteRequest, BatchExecute, TestConnection }
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
    /// only when the integration allows it.
    pub path: String,
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
    if input.path.is_empty() || input.path.len() > 4096 {
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
        path: input.path,
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
    let spec = spec(input, &integration, operation)?;
    engine::call(app, &integration, spec).await
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
    let outcome = engine::call(app, &integration, spec).await?;
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
