//! Outgoing calls in the API: `executeRequest`, `batchExecute`, `testConnection`, the
//! execution records and the live `executions` subscription.

use async_graphql::dataloader::DataLoader;
use async_graphql::{Context, ID, Json, Object, SimpleObject, Subscription};
use chrono::{DateTime, Utc};
use futures_util::{FutureExt, Stream};

use super::connection::{ConnectionNode, IdConnection, PageArgs, connection};
use super::errors::{ApiError, ApiResult};
use super::integrations::Integration;
use super::loaders::IntegrationLoader;
use super::{app, caller};
use crate::domain::call_options::HttpMethod;
use crate::domain::executions::{
    self as domain, BatchExecuteInput, CallOutcome, ExecuteRequestInput, ExecutionSelection,
    Operation, UpstreamResponse,
};
use crate::error::{AppError, AppResult};
use crate::events::BusEvent;
use crate::ids::IdKind;
use crate::outbound::classify::{CallError, ErrorClass, RecoveryAction};

/// One recorded outgoing call (its retries included).
pub struct Execution(pub domain::Execution);

impl ConnectionNode for Execution {
    const IMMEDIATE_FIELDS: &'static [&'static str] = &[
        "id",
        "operation",
        "method",
        "path",
        "statusCode",
        "success",
        "latencyMs",
        "retries",
        "cached",
        "bytesIn",
        "bytesOut",
        "bytes",
        "truncated",
        "errorClass",
        "errorMessage",
        "recoverable",
        "recoveryAction",
        "startedAt",
        "finishedAt",
    ];
}

#[Object]
impl Execution {
    pub async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    /// The integration called through; null once it is deleted.
    async fn integration(&self, ctx: &Context<'_>) -> ApiResult<Option<Integration>> {
        let loader = ctx.data_unchecked::<DataLoader<IntegrationLoader>>();
        Ok(loader
            .load_one(self.0.integration_id.clone())
            .await?
            .map(Integration))
    }
    async fn operation(&self) -> Operation {
        self.0.operation
    }
    async fn method(&self) -> HttpMethod {
        self.0.method
    }
    /// The path called, without its query string.
    async fn path(&self) -> &str {
        &self.0.path
    }
    /// The final upstream status; null when no answer came.
    async fn status_code(&self) -> Option<i32> {
        self.0.status_code
    }
    async fn success(&self) -> bool {
        self.0.success
    }
    /// Wall time of the whole call, retries and waits included.
    async fn latency_ms(&self) -> i32 {
        self.0.latency_ms
    }
    async fn retries(&self) -> i32 {
        self.0.retries
    }
    async fn cached(&self) -> bool {
        self.0.cached
    }
    /// Response bytes received (at most the configured cap).
    async fn bytes_in(&self) -> i64 {
        self.0.bytes_in
    }
    async fn bytes_out(&self) -> i64 {
        self.0.bytes_out
    }
    /// Bytes sent and received together.
    async fn bytes(&self) -> i64 {
        self.0.bytes_in + self.0.bytes_out
    }
    /// The response body was longer than the cap and was cut.
    async fn truncated(&self) -> bool {
        self.0.truncated
    }
    async fn error_class(&self) -> Option<ErrorClass> {
        self.0.error_class
    }
    async fn error_message(&self) -> Option<&str> {
        self.0.error_message.as_deref()
    }
    /// Null for successful calls.
    async fn recoverable(&self) -> Option<bool> {
        self.0.error_class.map(ErrorClass::recoverable)
    }
    async fn recovery_action(&self) -> Option<RecoveryAction> {
        self.0.error_class.map(ErrorClass::recovery_action)
    }
    async fn started_at(&self) -> DateTime<Utc> {
        self.0.started_at
    }
    async fn finished_at(&self) -> DateTime<Utc> {
        self.0.finished_at
    }
}

/// Why a call failed.
#[derive(SimpleObject, Clone)]
pub struct ExecutionError {
    /// The `extensions.code` this failure has as a GraphQL error (UPSTREAM_ERROR,
    /// RATE_LIMITED, FORBIDDEN, NOT_FOUND, BAD_USER_INPUT, …).
    pub code: String,
    /// The failure class; null when the call was refused before it was made.
    pub error_class: Option<ErrorClass>,
    pub message: String,
    pub recoverable: bool,
    pub recovery_action: Option<RecoveryAction>,
    pub retry_after_seconds: Option<u64>,
    /// The execution record, when one was written.
    pub execution_id: Option<ID>,
}

fn seconds(err: &CallError) -> Option<u64> {
    err.retry_after
        .map(|d| d.as_secs() + u64::from(d.subsec_nanos() > 0))
}

impl ExecutionError {
    fn from_call(err: &CallError, execution_id: &str) -> Self {
        ExecutionError {
            code: err.class.api_code().to_owned(),
            error_class: Some(err.class),
            message: err.message.clone(),
            recoverable: err.class.recoverable(),
            recovery_action: Some(err.class.recovery_action()),
            retry_after_seconds: seconds(err),
            execution_id: Some(ID(execution_id.to_owned())),
        }
    }

    fn from_app(err: &AppError) -> Self {
        ExecutionError {
            code: err.code().to_owned(),
            error_class: None,
            message: err.to_string(),
            recoverable: false,
            recovery_action: None,
            retry_after_seconds: None,
            execution_id: None,
        }
    }
}

/// An upstream's answer to `executeRequest`.
pub struct ExecutionResult {
    execution: domain::Execution,
    response: UpstreamResponse,
    error: Option<ExecutionError>,
}

#[Object]
impl ExecutionResult {
    /// True when the call succeeded (2xx, no error rule matched, transforms applied).
    async fn ok(&self) -> bool {
        self.error.is_none()
    }
    async fn execution(&self) -> Execution {
        Execution(self.execution.clone())
    }
    /// The upstream's HTTP status.
    async fn status(&self) -> i32 {
        i32::from(self.response.status)
    }
    /// Response headers as an object (repeated headers joined with `, `; no set-cookie).
    async fn headers(&self) -> Json<serde_json::Map<String, serde_json::Value>> {
        let mut map = serde_json::Map::new();
        for (name, value) in &self.response.headers {
            match map.get_mut(name) {
                Some(serde_json::Value::String(existing)) => {
                    existing.push_str(", ");
                    existing.push_str(value);
                }
                _ => {
                    map.insert(name.clone(), serde_json::Value::String(value.clone()));
                }
            }
        }
        Json(map)
    }
    /// The JSON body (after the integration's response transform); null when not JSON.
    async fn body(&self) -> Option<Json<&serde_json::Value>> {
        self.response.json.as_ref().map(Json)
    }
    /// The body as text when it is not JSON, or was cut.
    async fn body_text(&self) -> Option<&str> {
        self.response.text.as_deref()
    }
    /// The body was longer than the configured cap and was cut.
    async fn truncated(&self) -> bool {
        self.response.truncated
    }
    /// Served from the response cache.
    async fn cached(&self) -> bool {
        self.response.cached
    }
    /// Why the call counts as failed (error status or rule, invalid response).
    async fn error(&self) -> Option<&ExecutionError> {
        self.error.as_ref()
    }
}

impl ExecutionResult {
    /// The API's view of an outcome: an upstream answer, or an error without one.
    fn from_outcome(outcome: CallOutcome) -> Result<Self, AppError> {
        let CallOutcome {
            execution,
            response,
            error,
        } = outcome;
        match response {
            Some(response) => Ok(ExecutionResult {
                error: error
                    .as_ref()
                    .map(|e| ExecutionError::from_call(e, &execution.id)),
                execution,
                response,
            }),
            None => {
                let err = error.unwrap_or_else(|| {
                    CallError::new(ErrorClass::InvalidResponse, "no answer was received")
                });
                Err(AppError::Execution {
                    retry_after_seconds: seconds(&err),
                    class: err.class,
                    message: err.message,
                    execution_id: Some(execution.id),
                })
            }
        }
    }
}

/// One item of a batch: a result, or the error it would have raised on its own.
#[derive(SimpleObject)]
pub struct BatchItemResult {
    /// Position in the input.
    pub index: i32,
    pub ok: bool,
    pub result: Option<ExecutionResult>,
    pub error: Option<ExecutionError>,
}

/// The results of `batchExecute`, in input order.
#[derive(SimpleObject)]
pub struct BatchExecutionResult {
    pub results: Vec<BatchItemResult>,
    pub succeeded: i32,
    pub failed: i32,
}

/// The result of `testConnection`.
#[derive(SimpleObject)]
pub struct ConnectionTest {
    pub ok: bool,
    pub status_code: Option<i32>,
    pub latency_ms: i32,
    pub error_class: Option<ErrorClass>,
    pub message: String,
    pub execution: Execution,
}

#[derive(Default)]
pub struct ExecutionMutation;

#[Object]
impl ExecutionMutation {
    /// Calls the integration's API with its stored credentials (EDITOR). Upstream
    /// answers of any status come back as a result (`ok`, `error`); a call that got no
    /// answer fails with UPSTREAM_ERROR, RATE_LIMITED (retryAfterSeconds) or FORBIDDEN
    /// (SSRF guard), with `errorClass`, `recoveryAction` and `executionId` in extensions.
    async fn execute_request(
        &self,
        ctx: &Context<'_>,
        input: ExecuteRequestInput,
    ) -> ApiResult<ExecutionResult> {
        let outcome = domain::execute(app(ctx), caller(ctx)?, input, Operation::ExecuteRequest)
            .boxed()
            .await?;
        Ok(ExecutionResult::from_outcome(outcome)?)
    }

    /// Runs many calls with bounded concurrency (EDITOR); one failure does not fail the batch.
    #[graphql(complexity = "input.items.len().max(1) * child_complexity")]
    async fn batch_execute(
        &self,
        ctx: &Context<'_>,
        input: BatchExecuteInput,
    ) -> ApiResult<BatchExecutionResult> {
        let outcomes = domain::batch(app(ctx), caller(ctx)?, input).await?;
        let mut results = Vec::with_capacity(outcomes.len());
        for (index, outcome) in outcomes.into_iter().enumerate() {
            let item = match outcome.and_then(ExecutionResult::from_outcome) {
                Ok(result) => BatchItemResult {
                    index: index as i32,
                    ok: result.error.is_none(),
                    error: result.error.clone(),
                    result: Some(result),
                },
                Err(AppError::Internal(cause)) => return Err(AppError::Internal(cause).into()),
                Err(err) => BatchItemResult {
                    index: index as i32,
                    ok: false,
                    error: Some(match &err {
                        AppError::Execution {
                            class,
                            message,
                            retry_after_seconds,
                            execution_id,
                        } => ExecutionError {
                            code: class.api_code().to_owned(),
                            error_class: Some(*class),
                            message: message.clone(),
                            recoverable: class.recoverable(),
                            recovery_action: Some(class.recovery_action()),
                            retry_after_seconds: *retry_after_seconds,
                            execution_id: execution_id.clone().map(ID),
                        },
                        other => ExecutionError::from_app(other),
                    }),
                    result: None,
                },
            };
            results.push(item);
        }
        let succeeded = results.iter().filter(|r| r.ok).count() as i32;
        Ok(BatchExecutionResult {
            failed: results.len() as i32 - succeeded,
            succeeded,
            results,
        })
    }

    /// Sends the integration's connection check once, without retries or cache (EDITOR).
    async fn test_connection(&self, ctx: &Context<'_>, id: ID) -> ApiResult<ConnectionTest> {
        let test = domain::test_connection(app(ctx), caller(ctx)?, &id)
            .boxed()
            .await?;
        let execution = test.outcome.execution;
        Ok(ConnectionTest {
            ok: test.ok,
            status_code: execution.status_code,
            latency_ms: execution.latency_ms,
            error_class: if test.ok { None } else { execution.error_class },
            message: test.message,
            execution: Execution(execution),
        })
    }
}

/// Execution records of a selection, oldest first.
pub(crate) async fn execution_connection(
    ctx: &Context<'_>,
    selection: &ExecutionSelection,
    args: PageArgs,
) -> ApiResult<IdConnection<Execution>> {
    let request = args.request(ctx, IdKind::Execution)?;
    let page = selection.page(&app(ctx).store, &request).await?;
    Ok(connection(page, &request, |e| e.id.clone(), Execution))
}

/// Loads an execution record the caller may see.
pub(crate) async fn get(ctx: &Context<'_>, id: &str) -> AppResult<Execution> {
    Ok(Execution(
        domain::get(&app(ctx).store, caller(ctx)?, id).await?,
    ))
}

#[derive(Default)]
pub struct ExecutionSubscription;

#[Subscription]
impl ExecutionSubscription {
    /// Calls as they finish, filtered by project and integration. A subscriber that
    /// falls behind gets a LAGGED error and the stream ends.
    async fn executions(
        &self,
        ctx: &Context<'_>,
        project_id: Option<ID>,
        integration_id: Option<ID>,
    ) -> Result<impl Stream<Item = async_graphql::Result<Execution>> + use<>, ApiError> {
        let app = app(ctx).clone();
        let selection = ExecutionSelection::visible(
            &app.store,
            caller(ctx)?,
            project_id.as_ref().map(|id| id.as_str()),
            integration_id.as_ref().map(|id| id.as_str()),
        )
        .await?;
        let receiver = app.events.subscribe();
        Ok(super::live(receiver, move |event| match event {
            BusEvent::Execution(row) => selection.live(row).map(Execution),
            _ => None,
        }))
    }
}
