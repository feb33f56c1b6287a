//! Data sync: per integration, sync definitions that page through a template operation
//! on a schedule (or now), keep the records they see (id, content hash, data, first and
//! last seen) and tell created, updated and deleted records apart by hash.
//!
//! - A definition names an operation of the integration's template, its parameters, an
//!   interval, the pagination (the operation's, or an override), where the records are in
//!   a page, the JSON pointer of a record's id and an optional field mapping.
//! - Runs execute on the sync worker ([`run`]): every page goes through the outbound
//!   engine (SSRF guard, credentials, retries, the integration's rate limit), and is
//!   stored with the run's cursor in one transaction, so a run left behind by a dead
//!   process resumes where it was.
//! - A record not seen by a complete (SUCCEEDED) run is marked deleted; a failed or
//!   cancelled run deletes nothing.
//! - Every change of a definition, and every run started by a caller, writes an audit
//!   row in its transaction.

pub mod pagination;
pub mod run;
pub mod verify;

use std::collections::BTreeMap;

use async_graphql::{ID, InputObject, Json};
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::access::{Caller, Role};
use super::integrations::Integration;
use super::templates::definition::{OperationDef, PaginationDef, PaginationStyle};
use super::{stored_enum, utc, validate};
use crate::app::App;
use crate::error::{AppError, AppResult, FieldProblem};
use crate::ids::{IdKind, new_id};
use crate::store::syncs::{self as sync_store, RecordQuery, SyncRecordRow, SyncRow, SyncRunRow};
use crate::store::{Journal, Page, PageRequest, Store, StoreResult, decode_json, now};

stored_enum! {
    /// Where a sync run is.
    SyncRunStatus { Running, Succeeded, Failed, Cancelled }
}

stored_enum! {
    /// What started a run.
    SyncTrigger {
        /// The sync's interval came round.
        Schedule,
        /// `runSync`.
        Manual,
        /// `syncAll`.
        SyncAll,
    }
}

/// Errors of sync definitions and runs, before they reach a caller.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("integration `{0}` was not made from a template; a sync calls a template operation")]
    NoTemplate(String),
    #[error("template `{template}` has no operation `{operation}`; it has: {known}")]
    UnknownOperation {
        template: String,
        operation: String,
        known: String,
    },
    #[error("`{0}` is not a valid JSON pointer ('' or starting with '/')")]
    BadPointer(String),
}

impl From<SyncError> for AppError {
    fn from(err: SyncError) -> Self {
        let field = match &err {
            SyncError::NoTemplate(_) => "input.integrationId",
            SyncError::UnknownOperation { .. } => "input.operation",
            SyncError::BadPointer(_) => "input",
        };
        AppError::invalid(field, err.to_string())
    }
}

/// Default and bounds of a sync's interval, in seconds.
const DEFAULT_INTERVAL: i32 = 3600;
const MIN_INTERVAL: i32 = 10;
const MAX_INTERVAL: i32 = 7 * 86_400;
/// Records per page a sync may ask for.
const MAX_PAGE_SIZE: i32 = 10_000;
/// Page size asked for by OFFSET pagination when the definition gives none.
const DEFAULT_OFFSET_PAGE: i32 = 100;
const MAX_MAPPED_FIELDS: usize = 100;

/// A sync definition.
#[derive(Debug, Clone)]
pub struct SyncDefinition {
    pub id: String,
    pub project_id: String,
    pub integration_id: String,
    pub name: String,
    pub operation: String,
    pub params: Map<String, Value>,
    pub interval_seconds: i32,
    /// `None`: the operation answers with one page.
    pub pagination: Option<PaginationDef>,
    pub records_pointer: String,
    pub record_id_pointer: String,
    pub field_mapping: Option<BTreeMap<String, String>>,
    pub page_size: Option<i32>,
    pub enabled: bool,
    pub next_run_at: Option<DateTime<Utc>>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl SyncDefinition {
    pub(crate) fn from_row(row: SyncRow) -> StoreResult<Self> {
        Ok(SyncDefinition {
            params: decode_json("syncs.params", &row.params)?,
            pagination: row
                .pagination
                .as_deref()
                .map(|p| decode_json("syncs.pagination", p))
                .transpose()?,
            field_mapping: row
                .field_mapping
                .as_deref()
                .map(|m| decode_json("syncs.field_mapping", m))
                .transpose()?,
            id: row.id,
            project_id: row.project_id,
            integration_id: row.integration_id,
            name: row.name,
            operation: row.operation,
            interval_seconds: row.interval_seconds,
            records_pointer: row.records_pointer,
            record_id_pointer: row.record_id_pointer,
            page_size: row.page_size,
            enabled: row.enabled,
            next_run_at: row.next_run_at.map(utc),
            created_by: row.created_by,
            created_at: utc(row.created_at),
            updated_at: utc(row.updated_at),
        })
    }

    fn to_row(&self) -> SyncRow {
        SyncRow {
            id: self.id.clone(),
            project_id: self.project_id.clone(),
            integration_id: self.integration_id.clone(),
            name: self.name.clone(),
            operation: self.operation.clone(),
            params: Value::Object(self.params.clone()).to_string(),
            interval_seconds: self.interval_seconds,
            pagination: self
                .pagination
                .as_ref()
                .and_then(|p| serde_json::to_string(p).ok()),
            records_pointer: self.records_pointer.clone(),
            record_id_pointer: self.record_id_pointer.clone(),
            field_mapping: self
                .field_mapping
                .as_ref()
                .and_then(|m| serde_json::to_string(m).ok()),
            page_size: self.page_size,
            enabled: self.enabled,
            next_run_at: self.next_run_at.map(|t| t.naive_utc()),
            lease_until: None,
            created_by: self.created_by.clone(),
            created_at: self.created_at.naive_utc(),
            updated_at: self.updated_at.naive_utc(),
        }
    }
}

/// One run of a sync, with its progress.
#[derive(Debug, Clone)]
pub struct SyncRun {
    pub id: String,
    pub sync_id: String,
    pub integration_id: String,
    pub project_id: String,
    pub status: SyncRunStatus,
    pub trigger: SyncTrigger,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub pages: i32,
    pub fetched: i64,
    pub created: i64,
    pub updated: i64,
    pub deleted: i64,
    pub errors: i32,
    /// Where the next page starts (null before the first page).
    pub cursor: Option<Value>,
    pub last_error: Option<String>,
    pub cancel_requested: bool,
    pub updated_at: DateTime<Utc>,
}

impl SyncRun {
    pub(crate) fn from_row(row: &SyncRunRow) -> StoreResult<Self> {
        Ok(SyncRun {
            status: SyncRunStatus::from_stored("sync_runs.status", &row.status)?,
            trigger: SyncTrigger::from_stored("sync_runs.trigger_kind", &row.trigger_kind)?,
            cursor: row
                .cursor
                .as_deref()
                .map(|c| decode_json("sync_runs.cursor", c))
                .transpose()?,
            id: row.id.clone(),
            sync_id: row.sync_id.clone(),
            integration_id: row.integration_id.clone(),
            project_id: row.project_id.clone(),
            started_at: utc(row.started_at),
            finished_at: row.finished_at.map(utc),
            pages: row.pages,
            fetched: row.fetched,
            created: row.created,
            updated: row.updated,
            deleted: row.deleted,
            errors: row.errors,
            last_error: row.last_error.clone(),
            cancel_requested: row.cancel_requested,
            updated_at: utc(row.updated_at),
        })
    }
}

/// A record a sync keeps.
#[derive(Debug, Clone)]
pub struct SyncRecord {
    pub id: String,
    pub integration_id: String,
    pub sync_id: String,
    pub record_id: String,
    pub hash: String,
    pub data: Value,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    pub changed_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
}

impl SyncRecord {
    fn from_row(row: SyncRecordRow) -> StoreResult<Self> {
        Ok(SyncRecord {
            data: decode_json("sync_records.data", &row.data)?,
            id: row.id,
            integration_id: row.integration_id,
            sync_id: row.sync_id,
            record_id: row.record_id,
            hash: row.hash,
            first_seen: utc(row.first_seen),
            last_seen: utc(row.last_seen),
            changed_at: utc(row.changed_at),
            deleted_at: row.deleted_at.map(utc),
        })
    }
}

/// Input of `createSync`.
#[derive(Debug, InputObject)]
pub struct CreateSyncInput {
    pub integration_id: ID,
    /// Unique within the integration, 1-100 characters.
    pub name: String,
    /// An operation of the integration's template, by name.
    pub operation: String,
    /// The operation's parameters (a JSON object), checked against its parameter schemas.
    pub params: Option<Json<Value>>,
    /// Seconds between scheduled runs, 10-604800 (default 3600).
    pub interval_seconds: Option<i32>,
    /// Overrides the operation's pagination (a JSON object like a template's
    /// `pagination`: `style` CURSOR, PAGE, OFFSET or LINK_HEADER and its fields).
    pub pagination: Option<Json<Value>>,
    /// JSON pointer to the records array in a page (default: the pagination's
    /// `itemsPointer`, else the body itself).
    pub records_pointer: Option<String>,
    /// JSON pointer to a record's id within a record (default `/id`).
    pub record_id_pointer: Option<String>,
    /// Output field → JSON pointer into the record (a JSON object); without it records
    /// are kept whole.
    pub field_mapping: Option<Json<Value>>,
    /// Records per page asked for through the pagination's `limitParam`, 1-10000.
    pub page_size: Option<i32>,
    /// Start the schedule at once (default false: use `startSync` or `runSync`).
    pub enabled: Option<bool>,
}

/// Input of `updateSync`: omitted fields keep their value.
#[derive(Debug, InputObject)]
pub struct UpdateSyncInput {
    pub id: ID,
    pub name: Option<String>,
    pub operation: Option<String>,
    pub params: Option<Json<Value>>,
    pub interval_seconds: Option<i32>,
    pub pagination: Option<Json<Value>>,
    pub records_pointer: Option<String>,
    pub record_id_pointer: Option<String>,
    pub field_mapping: Option<Json<Value>>,
    pub page_size: Option<i32>,
}

/// What a definition says before it is checked.
struct Draft {
    name: String,
    operation: String,
    params: Option<Value>,
    interval_seconds: Option<i32>,
    pagination: Option<Value>,
    records_pointer: Option<String>,
    record_id_pointer: Option<String>,
    field_mapping: Option<Value>,
    page_size: Option<i32>,
}

/// A checked definition's parts.
struct Checked {
    name: String,
    operation: String,
    params: Map<String, Value>,
    interval_seconds: i32,
    pagination: Option<PaginationDef>,
    records_pointer: String,
    record_id_pointer: String,
    field_mapping: Option<BTreeMap<String, String>>,
    page_size: Option<i32>,
}

fn valid_pointer(pointer: &str) -> bool {
    pointer.is_empty() || pointer.starts_with('/')
}

/// The template operation a sync of `integration` calls.
pub(crate) async fn operation_of(
    store: &Store,
    integration: &Integration,
    operation: &str,
) -> AppResult<OperationDef> {
    let template = match &integration.template_id {
        Some(id) => super::templates::get_unchecked(store, id).await?,
        None => None,
    };
    let Some(template) = template else {
        return Err(SyncError::NoTemplate(integration.name.clone()).into());
    };
    match template.definition.operation(operation) {
        Some(op) => Ok(op.clone()),
        None => Err(SyncError::UnknownOperation {
            template: template.definition.slug.clone(),
            operation: operation.to_owned(),
            known: template
                .definition
                .operations
                .iter()
                .map(|o| o.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        }
        .into()),
    }
}

fn style_name(style: PaginationStyle) -> &'static str {
    match style {
        PaginationStyle::Cursor => "CURSOR",
        PaginationStyle::Page => "PAGE",
        PaginationStyle::Offset => "OFFSET",
        PaginationStyle::LinkHeader => "LINK_HEADER",
    }
}

/// Checks the pagination override's fields for its style (every problem with its path).
fn check_pagination(value: Value, op: &OperationDef) -> AppResult<PaginationDef> {
    let pg: PaginationDef = serde_json::from_value(value)
        .map_err(|e| AppError::invalid("input.pagination", e.to_string()))?;
    let mut problems = Vec::new();
    let need = |problems: &mut Vec<FieldProblem>, present: bool, key: &str| {
        if !present {
            problems.push(FieldProblem::new(
                format!("input.pagination.{key}"),
                format!("is required for style {}", style_name(pg.style)),
            ));
        }
    };
    match pg.style {
        PaginationStyle::Cursor => {
            need(&mut problems, pg.cursor_param.is_some(), "cursorParam");
            if pg.next_cursor_pointer.is_some() == pg.next_cursor_from_last_item.is_some() {
                problems.push(FieldProblem::new(
                    "input.pagination",
                    "CURSOR needs exactly one of nextCursorPointer or nextCursorFromLastItem",
                ));
            }
        }
        PaginationStyle::Page => need(&mut problems, pg.page_param.is_some(), "pageParam"),
        PaginationStyle::Offset => {
            need(&mut problems, pg.offset_param.is_some(), "offsetParam");
            need(&mut problems, pg.limit_param.is_some(), "limitParam");
        }
        PaginationStyle::LinkHeader => {}
    }
    for (key, pointer) in [
        ("itemsPointer", Some(&pg.items_pointer)),
        ("nextCursorPointer", pg.next_cursor_pointer.as_ref()),
        (
            "nextCursorFromLastItem",
            pg.next_cursor_from_last_item.as_ref(),
        ),
        ("totalPointer", pg.total_pointer.as_ref()),
    ] {
        if let Some(pointer) = pointer
            && !valid_pointer(pointer)
        {
            problems.push(FieldProblem::new(
                format!("input.pagination.{key}"),
                SyncError::BadPointer(pointer.clone()).to_string(),
            ));
        }
    }
    for (key, param) in [
        ("cursorParam", pg.cursor_param.as_ref()),
        ("pageParam", pg.page_param.as_ref()),
        ("offsetParam", pg.offset_param.as_ref()),
        ("limitParam", pg.limit_param.as_ref()),
    ] {
        if let Some(name) = param
            && !op.parameters.iter().any(|p| {
                &p.name == name
                    && !p.required
                    && p.location != super::templates::definition::ParameterLocation::Path
            })
        {
            problems.push(FieldProblem::new(
                format!("input.pagination.{key}"),
                format!(
                    "`{name}` is not an optional query or body parameter of `{}`",
                    op.name
                ),
            ));
        }
    }
    if pg.xml == Some(true) {
        problems.push(FieldProblem::new(
            "input.pagination.xml",
            "XML pages are not supported by sync",
        ));
    }
    if problems.is_empty() {
        Ok(pg)
    } else {
        Err(AppError::invalid_all(problems))
    }
}

/// Checks a draft against the integration's template operation.
async fn check(store: &Store, integration: &Integration, draft: Draft) -> AppResult<Checked> {
    let name = validate::name("input.name", &draft.name, 100)?;
    let op = operation_of(store, integration, &draft.operation).await?;
    let params = match draft.params {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(map)) => map,
        Some(_) => return Err(AppError::invalid("input.params", "must be a JSON object")),
    };
    // The same checks (and field paths) as executeRequest's operation parameters.
    super::templates::deploy::operation_call(&op, &params)?;
    let pagination = match draft.pagination {
        Some(Value::Null) | None => op.pagination.clone(),
        Some(value) => Some(check_pagination(value, &op)?),
    };
    if pagination.as_ref().is_some_and(|p| p.xml == Some(true)) {
        return Err(AppError::invalid(
            "input.operation",
            format!("`{}` answers XML pages, which sync does not read", op.name),
        ));
    }
    let records_pointer = draft
        .records_pointer
        .or_else(|| pagination.as_ref().map(|p| p.items_pointer.clone()))
        .unwrap_or_default();
    if !valid_pointer(&records_pointer) {
        return Err(AppError::invalid(
            "input.recordsPointer",
            SyncError::BadPointer(records_pointer).to_string(),
        ));
    }
    let record_id_pointer = draft.record_id_pointer.unwrap_or_else(|| "/id".to_owned());
    if !valid_pointer(&record_id_pointer) {
        return Err(AppError::invalid(
            "input.recordIdPointer",
            SyncError::BadPointer(record_id_pointer).to_string(),
        ));
    }
    let field_mapping = match draft.field_mapping {
        None | Some(Value::Null) => None,
        Some(Value::Object(map)) => {
            if map.is_empty() || map.len() > MAX_MAPPED_FIELDS {
                return Err(AppError::invalid(
                    "input.fieldMapping",
                    format!("must map 1-{MAX_MAPPED_FIELDS} fields"),
                ));
            }
            let mut mapping = BTreeMap::new();
            for (field, pointer) in map {
                let path = format!("input.fieldMapping.{field}");
                match pointer {
                    Value::String(p) if valid_pointer(&p) && !field.is_empty() => {
                        mapping.insert(field, p);
                    }
                    _ => {
                        return Err(AppError::invalid(
                            path,
                            "must be a JSON pointer string ('' or starting with '/')",
                        ));
                    }
                }
            }
            Some(mapping)
        }
        Some(_) => {
            return Err(AppError::invalid(
                "input.fieldMapping",
                "must be a JSON object of output field to JSON pointer",
            ));
        }
    };
    let page_size = draft
        .page_size
        .map(|n| validate::within("input.pageSize", n, 1, MAX_PAGE_SIZE))
        .transpose()?
        .or_else(|| {
            pagination
                .as_ref()
                .is_some_and(|p| p.style == PaginationStyle::Offset)
                .then_some(DEFAULT_OFFSET_PAGE)
        });
    let interval_seconds = validate::within(
        "input.intervalSeconds",
        draft.interval_seconds.unwrap_or(DEFAULT_INTERVAL),
        MIN_INTERVAL,
        MAX_INTERVAL,
    )?;
    Ok(Checked {
        name,
        operation: op.name,
        params,
        interval_seconds,
        pagination,
        records_pointer,
        record_id_pointer,
        field_mapping,
        page_size,
    })
}

fn journal(caller: &Caller, action: &str, sync: &SyncDefinition, details: Value) -> Journal {
    let mut details = details;
    if let Value::Object(map) = &mut details {
        map.insert("name".into(), Value::from(sync.name.clone()));
        map.insert(
            "integrationId".into(),
            Value::from(sync.integration_id.clone()),
        );
    }
    Journal {
        logs: Vec::new(),
        audit: caller.audit(
            action,
            ("sync", Some(&sync.id)),
            Some(&sync.project_id),
            details,
        ),
        events: Vec::new(),
    }
}

fn conflict_on_name(err: crate::store::StoreError) -> AppError {
    match err {
        crate::store::StoreError::Conflict(_) => AppError::invalid(
            "input.name",
            "the integration already has a sync with this name",
        ),
        other => other.into(),
    }
}

/// Creates a sync definition (EDITOR).
pub async fn create(
    app: &App,
    caller: &Caller,
    input: CreateSyncInput,
) -> AppResult<SyncDefinition> {
    caller.principal.require(Role::Editor)?;
    let integration_id = validate::id(
        "input.integrationId",
        &input.integration_id,
        IdKind::Integration,
    )?;
    let integration = super::integrations::get(&app.store, caller, &integration_id).await?;
    let checked = check(
        &app.store,
        &integration,
        Draft {
            name: input.name,
            operation: input.operation,
            params: input.params.map(|p| p.0),
            interval_seconds: input.interval_seconds,
            pagination: input.pagination.map(|p| p.0),
            records_pointer: input.records_pointer,
            record_id_pointer: input.record_id_pointer,
            field_mapping: input.field_mapping.map(|m| m.0),
            page_size: input.page_size,
        },
    )
    .await?;
    let at = now();
    let enabled = input.enabled.unwrap_or(false);
    let sync = SyncDefinition {
        id: new_id(IdKind::Sync),
        project_id: integration.project_id.clone(),
        integration_id: integration.id.clone(),
        name: checked.name,
        operation: checked.operation,
        params: checked.params,
        interval_seconds: checked.interval_seconds,
        pagination: checked.pagination,
        records_pointer: checked.records_pointer,
        record_id_pointer: checked.record_id_pointer,
        field_mapping: checked.field_mapping,
        page_size: checked.page_size,
        enabled,
        next_run_at: enabled.then(|| utc(at)),
        created_by: caller.principal.name.clone(),
        created_at: utc(at),
        updated_at: utc(at),
    };
    let audit = journal(
        caller,
        "sync.create",
        &sync,
        serde_json::json!({ "operation": sync.operation, "enabled": enabled }),
    );
    sync_store::insert(&app.store, &sync.to_row(), &audit)
        .await
        .map_err(conflict_on_name)?;
    if enabled {
        app.workers.wake.syncs.notify_one();
    }
    Ok(sync)
}

async fn get_row(store: &Store, caller: &Caller, id: &str) -> AppResult<SyncRow> {
    if IdKind::of(id) == Some(IdKind::Sync)
        && let Some(row) = sync_store::get(store, id).await?
        && caller.principal.sees_project(&row.project_id)
    {
        return Ok(row);
    }
    Err(AppError::not_found("sync", id))
}

/// A sync the caller may see; NOT_FOUND otherwise (unknown and foreign look the same).
pub async fn get(store: &Store, caller: &Caller, id: &str) -> AppResult<SyncDefinition> {
    Ok(SyncDefinition::from_row(get_row(store, caller, id).await?)?)
}

/// The syncs of an integration the caller holds.
pub async fn of_integration(
    store: &Store,
    caller: &Caller,
    integration: &Integration,
) -> AppResult<Vec<SyncDefinition>> {
    if !caller.principal.sees_project(&integration.project_id) {
        return Err(AppError::not_found("integration", &integration.id));
    }
    Ok(sync_store::of_integration(store, &integration.id)
        .await?
        .into_iter()
        .map(SyncDefinition::from_row)
        .collect::<StoreResult<Vec<_>>>()?)
}

/// Changes a sync definition (EDITOR); every part is checked again.
pub async fn update(
    app: &App,
    caller: &Caller,
    input: UpdateSyncInput,
) -> AppResult<SyncDefinition> {
    caller.principal.require(Role::Editor)?;
    let current = get(&app.store, caller, &input.id).await?;
    let integration = super::integrations::get(&app.store, caller, &current.integration_id).await?;
    let pagination = match input.pagination {
        Some(p) => Some(p.0),
        // A changed operation takes its own pagination unless one is given.
        None if input.operation.is_some() => None,
        None => current
            .pagination
            .as_ref()
            .and_then(|p| serde_json::to_value(p).ok()),
    };
    let checked = check(
        &app.store,
        &integration,
        Draft {
            name: input.name.unwrap_or_else(|| current.name.clone()),
            operation: input.operation.unwrap_or_else(|| current.operation.clone()),
            params: Some(
                input
                    .params
                    .map_or_else(|| Value::Object(current.params.clone()), |p| p.0),
            ),
            interval_seconds: Some(input.interval_seconds.unwrap_or(current.interval_seconds)),
            pagination,
            records_pointer: Some(
                input
                    .records_pointer
                    .unwrap_or_else(|| current.records_pointer.clone()),
            ),
            record_id_pointer: Some(
                input
                    .record_id_pointer
                    .unwrap_or_else(|| current.record_id_pointer.clone()),
            ),
            field_mapping: match input.field_mapping {
                Some(m) => Some(m.0),
                None => current
                    .field_mapping
                    .as_ref()
                    .and_then(|m| serde_json::to_value(m).ok()),
            },
            page_size: input.page_size.or(current.page_size),
        },
    )
    .await?;
    let sync = SyncDefinition {
        name: checked.name,
        operation: checked.operation,
        params: checked.params,
        interval_seconds: checked.interval_seconds,
        pagination: checked.pagination,
        records_pointer: checked.records_pointer,
        record_id_pointer: checked.record_id_pointer,
        field_mapping: checked.field_mapping,
        page_size: checked.page_size,
        updated_at: utc(now()),
        ..current
    };
    let audit = journal(caller, "sync.update", &sync, serde_json::json!({}));
    if !sync_store::update(&app.store, &sync.to_row(), &audit)
        .await
        .map_err(conflict_on_name)?
    {
        return Err(AppError::not_found("sync", &sync.id));
    }
    Ok(sync)
}

/// Deletes a sync with its runs and records (EDITOR).
pub async fn delete(app: &App, caller: &Caller, id: &str) -> AppResult<SyncDefinition> {
    caller.principal.require(Role::Editor)?;
    let sync = get(&app.store, caller, id).await?;
    let audit = journal(caller, "sync.delete", &sync, serde_json::json!({}));
    if !sync_store::delete(&app.store, &sync.id, &audit).await? {
        return Err(AppError::not_found("sync", id));
    }
    Ok(sync)
}

/// Enables the schedule (EDITOR): the first run is due now, then one every interval.
pub async fn start(app: &App, caller: &Caller, id: &str) -> AppResult<SyncDefinition> {
    caller.principal.require(Role::Editor)?;
    let current = get(&app.store, caller, id).await?;
    let at = utc(now());
    let sync = SyncDefinition {
        enabled: true,
        next_run_at: if current.enabled {
            current.next_run_at.or(Some(at))
        } else {
            Some(at)
        },
        updated_at: at,
        ..current
    };
    let audit = journal(caller, "sync.start", &sync, serde_json::json!({}));
    if !sync_store::update(&app.store, &sync.to_row(), &audit).await? {
        return Err(AppError::not_found("sync", id));
    }
    app.workers.wake.syncs.notify_one();
    Ok(sync)
}

/// Disables the schedule (EDITOR) and asks a running run to stop: it ends CANCELLED
/// before its next page (what it stored stays; nothing is marked deleted).
pub async fn stop(app: &App, caller: &Caller, id: &str) -> AppResult<SyncDefinition> {
    caller.principal.require(Role::Editor)?;
    let current = get(&app.store, caller, id).await?;
    let sync = SyncDefinition {
        enabled: false,
        next_run_at: None,
        updated_at: utc(now()),
        ..current
    };
    let audit = journal(caller, "sync.stop", &sync, serde_json::json!({}));
    if !sync_store::stop(&app.store, &sync.to_row(), &audit).await? {
        return Err(AppError::not_found("sync", id));
    }
    Ok(sync)
}

/// A new run of a sync, not yet claimed by a worker.
pub(crate) fn new_run(sync: &SyncRow, trigger: SyncTrigger) -> SyncRunRow {
    let at = now();
    SyncRunRow {
        id: new_id(IdKind::SyncRun),
        sync_id: sync.id.clone(),
        integration_id: sync.integration_id.clone(),
        project_id: sync.project_id.clone(),
        status: SyncRunStatus::Running.as_str().to_owned(),
        trigger_kind: trigger.as_str().to_owned(),
        started_at: at,
        finished_at: None,
        pages: 0,
        fetched: 0,
        created: 0,
        updated: 0,
        deleted: 0,
        errors: 0,
        cursor: None,
        last_error: None,
        cancel_requested: false,
        lease_owner: None,
        lease_until: None,
        updated_at: at,
    }
}

async fn start_run(
    app: &App,
    caller: &Caller,
    row: &SyncRow,
    trigger: SyncTrigger,
) -> AppResult<SyncRun> {
    let run = new_run(row, trigger);
    let sync = SyncDefinition::from_row(row.clone())?;
    let audit = journal(
        caller,
        "sync.run",
        &sync,
        serde_json::json!({ "runId": run.id, "trigger": trigger.as_str() }),
    );
    let (run, created) = sync_store::start_run(&app.store, &run, &audit).await?;
    if created {
        app.events
            .publish(crate::events::BusEvent::SyncRun(Box::new(run.clone())));
        app.workers.wake.syncs.notify_one();
    }
    Ok(SyncRun::from_row(&run)?)
}

/// Runs a sync now (EDITOR), whether or not its schedule is enabled. A sync already
/// running is not started twice: its current run is returned.
pub async fn run_now(app: &App, caller: &Caller, id: &str) -> AppResult<SyncRun> {
    caller.principal.require(Role::Editor)?;
    let row = get_row(&app.store, caller, id).await?;
    start_run(app, caller, &row, SyncTrigger::Manual).await
}

/// Runs every enabled sync of a project now (EDITOR); returns their runs.
pub async fn run_all(app: &App, caller: &Caller, project_id: &str) -> AppResult<Vec<SyncRun>> {
    caller.principal.require(Role::Editor)?;
    let project_id = validate::id("projectId", project_id, IdKind::Project)?;
    super::projects::get(&app.store, caller, &project_id).await?;
    let mut runs = Vec::new();
    for row in sync_store::enabled_of_project(&app.store, &project_id).await? {
        runs.push(start_run(app, caller, &row, SyncTrigger::SyncAll).await?);
    }
    Ok(runs)
}

/// A run the caller may see.
pub async fn get_run(store: &Store, caller: &Caller, id: &str) -> AppResult<SyncRun> {
    if IdKind::of(id) == Some(IdKind::SyncRun)
        && let Some(row) = sync_store::get_run(store, id).await?
        && caller.principal.sees_project(&row.project_id)
    {
        return Ok(SyncRun::from_row(&row)?);
    }
    Err(AppError::not_found("sync run", id))
}

/// The newest runs of a sync the caller holds, newest first (default 20, at most 500).
pub async fn runs(
    store: &Store,
    sync: &SyncDefinition,
    first: Option<i32>,
) -> AppResult<Vec<SyncRun>> {
    let limit = validate::within("first", first.unwrap_or(20), 0, 500)?;
    sync_store::runs_of(store, &sync.id, i64::from(limit))
        .await?
        .iter()
        .map(|row| SyncRun::from_row(row).map_err(AppError::from))
        .collect()
}

/// Which records of an integration a listing wants.
#[derive(Debug, Default)]
pub struct RecordFilter {
    pub sync_id: Option<String>,
    /// Only records created, changed or deleted after this moment (deleted ones included,
    /// with `deletedAt`, so an incremental reader sees deletions).
    pub changed_since: Option<DateTime<Utc>>,
    /// Also list deleted records when no `changed_since` is given (default false).
    pub include_deleted: bool,
}

/// A page of an integration's records (the integration was loaded for this caller).
pub async fn records(
    store: &Store,
    caller: &Caller,
    integration: &Integration,
    filter: RecordFilter,
    request: &PageRequest,
) -> AppResult<Page<SyncRecord>> {
    if !caller.principal.sees_project(&integration.project_id) {
        return Err(AppError::not_found("integration", &integration.id));
    }
    if let Some(id) = &filter.sync_id {
        let sync = get(store, caller, id).await?;
        if sync.integration_id != integration.id {
            return Err(AppError::not_found("sync", id));
        }
    }
    let query = RecordQuery {
        integration_id: integration.id.clone(),
        sync_id: filter.sync_id,
        changed_since: filter.changed_since.map(|t| t.naive_utc()),
        include_deleted: filter.include_deleted,
    };
    Ok(sync_store::records_page(store, &query, request)
        .await?
        .try_map(SyncRecord::from_row)?)
}

/// The runs a `syncProgress` subscriber sees.
pub struct SyncRunSelection {
    project_ids: Option<Vec<String>>,
    sync_id: Option<String>,
}

impl SyncRunSelection {
    pub async fn visible(
        store: &Store,
        caller: &Caller,
        project_id: Option<&str>,
        sync_id: Option<&str>,
    ) -> AppResult<Self> {
        if let Some(id) = sync_id {
            get(store, caller, id).await?;
        }
        Ok(SyncRunSelection {
            project_ids: super::visible_projects(store, caller, project_id, None).await?,
            sync_id: sync_id.map(str::to_owned),
        })
    }

    pub fn live(&self, row: &SyncRunRow) -> Option<SyncRun> {
        let wanted = self
            .project_ids
            .as_ref()
            .is_none_or(|ids| ids.contains(&row.project_id))
            && self.sync_id.as_ref().is_none_or(|id| *id == row.sync_id);
        wanted.then(|| SyncRun::from_row(row).ok()).flatten()
    }
}

/// How one sync's stored records compare with a fresh sample.
#[derive(Debug, Clone)]
pub struct SyncCheck {
    pub sync: SyncDefinition,
    pub comparison: verify::Comparison,
}

/// The result of `verifySync`.
#[derive(Debug, Clone)]
pub struct SyncVerification {
    pub integration_id: String,
    /// Matching records over sampled records across the syncs checked, 0-1.
    pub score: f64,
    pub sampled: usize,
    pub matching: usize,
    pub syncs: Vec<SyncCheck>,
    pub checked_at: DateTime<Utc>,
}

/// Largest sample per sync.
const MAX_SAMPLE: i32 = 500;

/// Compares stored records with a fresh read of each sync's first page (EDITOR: it calls
/// the upstream): up to `sample` records per sync (default 20), by record id.
pub async fn verify_sync(
    app: &App,
    caller: &Caller,
    integration_id: &str,
    sync_id: Option<&str>,
    sample: Option<i32>,
) -> AppResult<SyncVerification> {
    caller.principal.require(Role::Editor)?;
    let integration_id = validate::id("integrationId", integration_id, IdKind::Integration)?;
    let integration = super::integrations::get(&app.store, caller, &integration_id).await?;
    let sample = validate::within("sample", sample.unwrap_or(20), 1, MAX_SAMPLE)?;
    let syncs = match sync_id {
        Some(id) => {
            let sync = get(&app.store, caller, id).await?;
            if sync.integration_id != integration.id {
                return Err(AppError::not_found("sync", id));
            }
            vec![sync]
        }
        None => of_integration(&app.store, caller, &integration).await?,
    };
    let mut checks = Vec::new();
    let (mut sampled, mut matching) = (0, 0);
    for sync in syncs {
        let fresh = run::sample(app, &integration, &sync, sample as usize).await?;
        let ids: Vec<String> = fresh.iter().map(|(id, _)| id.clone()).collect();
        let stored: BTreeMap<String, Option<Value>> =
            sync_store::records_by_record_id(&app.store, &sync.id, &ids)
                .await?
                .into_iter()
                .map(|row| {
                    let data = match row.deleted_at {
                        Some(_) => None,
                        None => serde_json::from_str(&row.data).ok(),
                    };
                    (row.record_id, data)
                })
                .collect();
        let comparison = verify::compare(&fresh, &stored);
        sampled += comparison.sampled;
        matching += comparison.matching;
        checks.push(SyncCheck { sync, comparison });
    }
    Ok(SyncVerification {
        integration_id: integration.id,
        score: if sampled == 0 {
            1.0
        } else {
            matching as f64 / sampled as f64
        },
        sampled,
        matching,
        syncs: checks,
        checked_at: utc(now()),
    })
}

/// A record's id and the data kept of it (mapped fields, or the record whole).
pub fn shape(
    item: &Value,
    id_pointer: &str,
    mapping: Option<&BTreeMap<String, String>>,
) -> Result<(String, Value), String> {
    let record_id = match item.pointer(id_pointer) {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => return Err(format!("a record has no id at `{id_pointer}`")),
    };
    if record_id.len() > 512 {
        return Err("a record id is longer than 512 characters".to_owned());
    }
    let data = match mapping {
        None => item.clone(),
        Some(mapping) => Value::Object(
            mapping
                .iter()
                .map(|(field, pointer)| {
                    (
                        field.clone(),
                        item.pointer(pointer).cloned().unwrap_or(Value::Null),
                    )
                })
                .collect(),
        ),
    };
    Ok((record_id, data))
}

/// SHA-256 (hex) of a value's canonical JSON (object keys sorted at every level), so
/// key order in the upstream's answer never reads as a change.
pub fn content_hash(data: &Value) -> String {
    use sha2::Digest;
    let mut text = String::new();
    canonical(data, &mut text);
    hex::encode(sha2::Sha256::digest(text.as_bytes()))
}

fn canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::from(key.as_str()).to_string());
                out.push(':');
                if let Some(v) = map.get(key) {
                    canonical(v, out);
                }
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical(item, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn records_are_shaped_by_id_pointer_and_mapping() {
        let item = json!({ "id": 7, "fields": { "title": "T", "n": 1 } });
        let (id, data) = shape(&item, "/id", None).unwrap();
        assert_eq!((id.as_str(), &data), ("7", &item));
        let mapping = BTreeMap::from([
            ("title".to_owned(), "/fields/title".to_owned()),
            ("missing".to_owned(), "/nope".to_owned()),
        ]);
        let (_, data) = shape(&item, "/id", Some(&mapping)).unwrap();
        assert_eq!(data, json!({ "title": "T", "missing": null }));
        assert!(shape(&json!({ "x": 1 }), "/id", None).is_err());
    }

    #[test]
    fn the_hash_ignores_key_order_but_not_values() {
        let a = json!({ "a": 1, "b": { "c": [1, 2], "d": "x" } });
        let b = json!({ "b": { "d": "x", "c": [1, 2] }, "a": 1 });
        assert_eq!(content_hash(&a), content_hash(&b));
        let c = json!({ "a": 1, "b": { "c": [2, 1], "d": "x" } });
        assert_ne!(content_hash(&a), content_hash(&c));
    }
}
