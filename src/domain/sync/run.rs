//! Executing a sync run: claim, page through the operation, store each page with its
//! cursor, finish (deletions, events). Entry points for the sync worker (`crate::jobs`).
//!
//! Policy:
//! - Each page is one call through the outbound engine (`Operation::Sync` execution
//!   records): SSRF guard, credentials, retries and the integration's rate limit apply.
//!   A recoverable failure (rate limited, network, timeout, 5xx) is retried up to
//!   [`PAGE_ATTEMPTS`] times, waiting `Retry-After` when the upstream gives one; each
//!   failed attempt counts in `errors`. Anything else fails the run.
//! - A record without an id counts in `errors` and is skipped; the run goes on.
//! - The run's lease is renewed every [`HEARTBEAT`]; a worker that dies leaves the run to
//!   be claimed again after [`LEASE`] and resumed from its cursor. On a graceful
//!   shutdown the run stops at the next page boundary and gives its lease back at once.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use super::pagination::{self, PageRequest, PageState};
use super::{SyncDefinition, SyncRunStatus, SyncTrigger, content_hash, shape};
use crate::app::App;
use crate::domain::executions::{self, CallSpec, Operation, RequestBody};
use crate::domain::integrations::Integration;
use crate::domain::logs::{LogEntry, LogLevel};
use crate::domain::templates::definition::OperationDef;
use crate::error::AppResult;
use crate::events::BusEvent;
use crate::ids::{IdKind, new_id};
use crate::store::syncs::{self as sync_store, FinishWrite, NewRecordRow, PageWrite, SyncRunRow};
use crate::store::{StoreResult, now};

/// How long a claimed run stays claimed without a heartbeat.
pub const LEASE: Duration = Duration::from_secs(15);
/// How often a running run renews its lease.
pub const HEARTBEAT: Duration = Duration::from_secs(5);
/// Attempts per page before the run fails.
pub const PAGE_ATTEMPTS: u32 = 5;
/// A run reads at most this many pages (a guard against an upstream that never ends).
const MAX_PAGES: i32 = 1_000_000;

fn lease_until() -> chrono::NaiveDateTime {
    now() + chrono::Duration::from_std(LEASE).unwrap_or_default()
}

/// Claims work for `owner`: due scheduled syncs (a new run each) and unclaimed or
/// abandoned runs.
pub async fn claim(app: &App, owner: &str, limit: i64) -> StoreResult<Vec<SyncRunRow>> {
    let at = now();
    let mut runs = sync_store::claim_due(&app.store, at, owner, lease_until(), limit, &|sync| {
        super::new_run(sync, SyncTrigger::Schedule)
    })
    .await?;
    for run in &runs {
        app.events.publish(BusEvent::SyncRun(Box::new(run.clone())));
    }
    let room = limit - runs.len() as i64;
    if room > 0 {
        runs.extend(sync_store::claim_runs(&app.store, at, owner, lease_until(), room).await?);
    }
    Ok(runs)
}

/// Why a page could not be read.
enum PageFailure {
    /// Worth another attempt after a pause.
    Retry { message: String, wait: Duration },
    /// The run fails.
    Fatal(String),
}

/// A page as read: its body and headers.
struct Fetched {
    body: Value,
    headers: Vec<(String, String)>,
}

/// Reads one page through the outbound engine.
async fn fetch(
    app: &App,
    integration: &Integration,
    sync: &SyncDefinition,
    op: &OperationDef,
    state: &PageState,
) -> Result<Fetched, PageFailure> {
    let (method, path, query, body) = match pagination::request(
        sync.pagination.as_ref(),
        sync.page_size,
        &sync.params,
        state,
    ) {
        PageRequest::Operation(params) => {
            let call = crate::domain::templates::deploy::operation_call(op, &params)
                .map_err(|e| PageFailure::Fatal(e.to_string()))?;
            (call.method, call.path, call.query, call.body)
        }
        PageRequest::Path(path) => (op.method, path, Vec::new(), None),
    };
    let spec = CallSpec {
        operation: Operation::Sync,
        method,
        path,
        query,
        headers: http::HeaderMap::new(),
        body: body.map(RequestBody::Json),
        timeout: Duration::from_millis(integration.timeout_ms.max(100) as u64),
        idempotency_key: None,
        cache: Some(false),
        retries: true,
    };
    let outcome = executions::call(app, integration, spec)
        .await
        .map_err(|e| PageFailure::Fatal(e.to_string()))?;
    if let Some(err) = outcome.error {
        let message = format!("{} ({})", err.message, err.class.as_str());
        return Err(if err.class.recoverable() {
            PageFailure::Retry {
                message,
                wait: err
                    .retry_after
                    .unwrap_or(Duration::from_secs(1))
                    .min(Duration::from_secs(60)),
            }
        } else {
            PageFailure::Fatal(message)
        });
    }
    let Some(response) = outcome.response else {
        return Err(PageFailure::Fatal("no answer from the upstream".to_owned()));
    };
    match response.json {
        Some(body) if !response.truncated => Ok(Fetched {
            body,
            headers: response.headers,
        }),
        _ if response.truncated => Err(PageFailure::Fatal(
            "the page was larger than the response limit; ask for smaller pages (pageSize)"
                .to_owned(),
        )),
        _ => Err(PageFailure::Fatal(
            "the page is not JSON (a sync reads JSON answers)".to_owned(),
        )),
    }
}

/// Reads a page, retrying recoverable failures; `Err` is the run's failure message.
/// `errors` counts the failed attempts.
async fn fetch_with_retries(
    app: &App,
    integration: &Integration,
    sync: &SyncDefinition,
    op: &OperationDef,
    state: &PageState,
    errors: &mut i32,
) -> Result<Fetched, String> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        match fetch(app, integration, sync, op, state).await {
            Ok(page) => return Ok(page),
            Err(PageFailure::Fatal(message)) => {
                *errors += 1;
                return Err(message);
            }
            Err(PageFailure::Retry { message, wait }) => {
                *errors += 1;
                if attempt >= PAGE_ATTEMPTS {
                    return Err(format!("{message}; gave up after {attempt} attempts"));
                }
                tokio::time::sleep(wait.max(Duration::from_millis(100) * attempt)).await;
            }
        }
    }
}

/// The records of a page, split by what they change.
#[derive(Default)]
struct Sorted {
    inserted: Vec<NewRecordRow>,
    changed: Vec<(String, String, String)>,
    unchanged: Vec<String>,
    created: i64,
    updated: i64,
    errors: i32,
}

async fn sort_page(
    app: &App,
    run: &SyncRunRow,
    sync: &SyncDefinition,
    items: &[Value],
) -> StoreResult<Sorted> {
    let mut sorted = Sorted::default();
    // One entry per record id (the last wins when a page repeats one).
    let mut order: Vec<String> = Vec::with_capacity(items.len());
    let mut shaped: HashMap<String, Value> = HashMap::with_capacity(items.len());
    for item in items {
        match shape(item, &sync.record_id_pointer, sync.field_mapping.as_ref()) {
            Ok((id, data)) => {
                if shaped.insert(id.clone(), data).is_none() {
                    order.push(id);
                }
            }
            Err(_) => sorted.errors += 1,
        }
    }
    let known: HashMap<String, sync_store::KnownRecord> =
        sync_store::known(&app.store, &sync.id, &order)
            .await?
            .into_iter()
            .map(|k| (k.record_id.clone(), k))
            .collect();
    let at = now();
    for record_id in order {
        let Some(data) = shaped.remove(&record_id) else {
            continue;
        };
        let hash = content_hash(&data);
        match known.get(&record_id) {
            None => {
                sorted.created += 1;
                sorted.inserted.push(NewRecordRow {
                    id: new_id(IdKind::SyncRecord),
                    integration_id: sync.integration_id.clone(),
                    sync_id: sync.id.clone(),
                    project_id: sync.project_id.clone(),
                    record_id,
                    hash,
                    data: data.to_string(),
                    first_seen: at,
                    last_seen: at,
                    changed_at: at,
                    seen_run_id: run.id.clone(),
                });
            }
            Some(known) if known.deleted.is_some() => {
                // Back after a deletion: created again.
                sorted.created += 1;
                sorted.changed.push((record_id, hash, data.to_string()));
            }
            Some(known) if known.hash != hash => {
                if known.seen_run_id != run.id {
                    sorted.updated += 1;
                }
                sorted.changed.push((record_id, hash, data.to_string()));
            }
            Some(_) => sorted.unchanged.push(record_id),
        }
    }
    Ok(sorted)
}

/// Renews a run's lease until dropped; `lost` turns true when another worker holds it.
struct Heartbeat {
    task: tokio::task::JoinHandle<()>,
    lost: Arc<AtomicBool>,
}

impl Heartbeat {
    fn start(app: &App, run_id: &str, owner: &str) -> Self {
        let lost = Arc::new(AtomicBool::new(false));
        let (store, run_id, owner, flag) = (
            app.store.clone(),
            run_id.to_owned(),
            owner.to_owned(),
            lost.clone(),
        );
        let task = tokio::spawn(async move {
            loop {
                tokio::time::sleep(HEARTBEAT).await;
                match sync_store::renew_lease(&store, &run_id, &owner, lease_until()).await {
                    Ok(true) => {}
                    Ok(false) => {
                        flag.store(true, Ordering::SeqCst);
                        return;
                    }
                    Err(err) => {
                        tracing::warn!(run = %run_id, error = %err, "renewing a sync run's lease failed");
                    }
                }
            }
        });
        Heartbeat { task, lost }
    }

    fn lost(&self) -> bool {
        self.lost.load(Ordering::SeqCst)
    }
}

impl Drop for Heartbeat {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Runs (or resumes) a claimed run to its end, or until shutdown (then the run is given
/// back for the next worker).
pub async fn execute(app: &App, run: SyncRunRow, owner: &str, shutdown: &CancellationToken) {
    let run_id = run.id.clone();
    if let Err(err) = execute_inner(app, run, owner, shutdown).await {
        tracing::warn!(run = %run_id, error = %err, "a sync run could not be recorded; it resumes after its lease");
    }
}

async fn execute_inner(
    app: &App,
    mut run: SyncRunRow,
    owner: &str,
    shutdown: &CancellationToken,
) -> AppResult<()> {
    let Some(sync_row) = sync_store::get(&app.store, &run.sync_id).await? else {
        // Deleted meanwhile: its runs went with it.
        return Ok(());
    };
    let sync = SyncDefinition::from_row(sync_row)?;
    let heartbeat = Heartbeat::start(app, &run.id, owner);
    let mut errors = 0;
    let integration = crate::domain::integrations::get_many_unchecked(
        &app.store,
        std::slice::from_ref(&sync.integration_id),
    )
    .await?
    .pop();
    let Some(integration) = integration else {
        return Ok(());
    };
    let op = match super::operation_of(&app.store, &integration, &sync.operation).await {
        Ok(op) => op,
        Err(err) => {
            let message = err.to_string();
            return finish(
                app,
                &run,
                &sync,
                &integration,
                owner,
                Ending::Failed(message),
                0,
            )
            .await;
        }
    };
    let mut state = match PageState::decode(run.cursor.as_deref()) {
        Ok(state) => state,
        Err(message) => {
            return finish(
                app,
                &run,
                &sync,
                &integration,
                owner,
                Ending::Failed(message),
                0,
            )
            .await;
        }
    };
    loop {
        if heartbeat.lost() {
            return Ok(());
        }
        if run.cancel_requested {
            return finish(
                app,
                &run,
                &sync,
                &integration,
                owner,
                Ending::Cancelled,
                errors,
            )
            .await;
        }
        if state == PageState::Done {
            return finish(
                app,
                &run,
                &sync,
                &integration,
                owner,
                Ending::Succeeded,
                errors,
            )
            .await;
        }
        if shutdown.is_cancelled() {
            sync_store::release(&app.store, &run.id, owner).await?;
            return Ok(());
        }
        if run.pages >= MAX_PAGES {
            let message = format!("stopped after {MAX_PAGES} pages");
            return finish(
                app,
                &run,
                &sync,
                &integration,
                owner,
                Ending::Failed(message),
                errors,
            )
            .await;
        }
        let page =
            match fetch_with_retries(app, &integration, &sync, &op, &state, &mut errors).await {
                Ok(page) => page,
                Err(message) => {
                    return finish(
                        app,
                        &run,
                        &sync,
                        &integration,
                        owner,
                        Ending::Failed(message),
                        errors,
                    )
                    .await;
                }
            };
        let items = match pagination::items(&page.body, &sync.records_pointer) {
            Ok(items) => items,
            Err(message) => {
                return finish(
                    app,
                    &run,
                    &sync,
                    &integration,
                    owner,
                    Ending::Failed(message),
                    errors + 1,
                )
                .await;
            }
        };
        let next = match pagination::next(
            sync.pagination.as_ref(),
            sync.page_size,
            &state,
            &page.body,
            items.len(),
            &page.headers,
            integration.base_url.as_deref(),
        ) {
            Ok(next) => next,
            Err(message) => {
                return finish(
                    app,
                    &run,
                    &sync,
                    &integration,
                    owner,
                    Ending::Failed(message),
                    errors + 1,
                )
                .await;
            }
        };
        let sorted = sort_page(app, &run, &sync, items).await?;
        let cursor = next.encode();
        let written = sync_store::write_page(
            &app.store,
            &PageWrite {
                run_id: &run.id,
                owner,
                at: now(),
                inserted: &sorted.inserted,
                changed: &sorted.changed,
                unchanged: &sorted.unchanged,
                sync_id: &sync.id,
                fetched: items.len() as i64,
                created: sorted.created,
                updated: sorted.updated,
                errors: errors + sorted.errors,
                cursor: &cursor,
                lease_until: lease_until(),
            },
        )
        .await?;
        errors = 0;
        let Some(written) = written else {
            // Another worker holds the run now (this one was presumed dead).
            return Ok(());
        };
        app.events
            .publish(BusEvent::SyncRun(Box::new(written.clone())));
        run = written;
        state = next;
    }
}

/// How a run ends.
enum Ending {
    Succeeded,
    Failed(String),
    Cancelled,
}

async fn finish(
    app: &App,
    run: &SyncRunRow,
    sync: &SyncDefinition,
    integration: &Integration,
    owner: &str,
    ending: Ending,
    errors: i32,
) -> AppResult<()> {
    let (status, error) = match &ending {
        Ending::Succeeded => (SyncRunStatus::Succeeded, None),
        Ending::Failed(message) => (SyncRunStatus::Failed, Some(message.as_str())),
        Ending::Cancelled => (SyncRunStatus::Cancelled, None),
    };
    let (level, message) = match &ending {
        Ending::Succeeded => (LogLevel::Info, format!("sync `{}` completed", sync.name)),
        Ending::Failed(reason) => (
            LogLevel::Error,
            format!("sync `{}` failed: {reason}", sync.name),
        ),
        Ending::Cancelled => (
            LogLevel::Warn,
            format!("sync `{}` was stopped before it finished", sync.name),
        ),
    };
    let log = LogEntry::new(
        &sync.project_id,
        Some(&sync.integration_id),
        level,
        message,
        json!({ "syncId": sync.id, "runId": run.id, "status": status.as_str() }),
    )
    .to_row();
    let event_type = match ending {
        Ending::Succeeded => Some("sync.completed"),
        Ending::Failed(_) => Some("sync.failed"),
        Ending::Cancelled => None,
    };
    let subject = json!({ "id": sync.id, "name": sync.name, "operation": sync.operation });
    let integration_subject = json!({ "id": integration.id, "name": integration.name });
    let events = |finished: &SyncRunRow| match event_type {
        None => Vec::new(),
        Some(event_type) => vec![crate::events::outbox::event(
            &finished.project_id,
            event_type,
            json!({
                "integration": integration_subject,
                "sync": subject,
                "run": run_payload(finished),
            }),
        )],
    };
    let finished = sync_store::finish(
        &app.store,
        &FinishWrite {
            run_id: &run.id,
            sync_id: &sync.id,
            owner,
            status: status.as_str(),
            last_error: error,
            errors,
            mark_deleted: matches!(status, SyncRunStatus::Succeeded),
            at: now(),
            logs: std::slice::from_ref(&log),
            events: &events,
        },
    )
    .await?;
    if let Some(finished) = finished {
        app.events.publish(BusEvent::SyncRun(Box::new(finished)));
        app.events.publish(BusEvent::Log(Box::new(log)));
        app.workers.wake.dispatcher.notify_one();
    }
    Ok(())
}

/// A run as events carry it.
pub(crate) fn run_payload(run: &SyncRunRow) -> Value {
    let time = |t: chrono::NaiveDateTime| {
        t.and_utc()
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    };
    json!({
        "id": run.id, "status": run.status, "trigger": run.trigger_kind,
        "startedAt": time(run.started_at), "finishedAt": run.finished_at.map(time),
        "pages": run.pages, "fetched": run.fetched, "created": run.created,
        "updated": run.updated, "deleted": run.deleted, "errors": run.errors,
        "error": run.last_error,
    })
}

/// Reads the first page of a sync afresh (for `verifySync`): its records, shaped as the
/// sync keeps them, at most `sample`.
pub(crate) async fn sample(
    app: &App,
    integration: &Integration,
    sync: &SyncDefinition,
    sample: usize,
) -> AppResult<Vec<(String, Value)>> {
    let op = super::operation_of(&app.store, integration, &sync.operation).await?;
    let mut errors = 0;
    let page = fetch_with_retries(app, integration, sync, &op, &PageState::First, &mut errors)
        .await
        .map_err(|message| crate::error::AppError::Execution {
            class: crate::outbound::classify::ErrorClass::InvalidResponse,
            message,
            retry_after_seconds: None,
            execution_id: None,
        })?;
    let items = pagination::items(&page.body, &sync.records_pointer).map_err(|message| {
        crate::error::AppError::Execution {
            class: crate::outbound::classify::ErrorClass::InvalidResponse,
            message,
            retry_after_seconds: None,
            execution_id: None,
        }
    })?;
    Ok(items
        .iter()
        .filter_map(|item| shape(item, &sync.record_id_pointer, sync.field_mapping.as_ref()).ok())
        .take(sample)
        .collect())
}
