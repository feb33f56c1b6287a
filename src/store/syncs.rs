//! Data sync: sync definitions, their runs and the records they keep.
//!
//! A RUNNING run row is also the unit of work of the sync worker: it is claimed under a
//! lease (`FOR UPDATE SKIP LOCKED` on PostgreSQL, the single writer on SQLite), the lease
//! is renewed while the run goes on, and a run whose lease expired (its process died) is
//! claimed again and resumed from its `cursor`, which is written in the transaction of
//! each page's records: a page is either stored with its cursor or not at all.

use chrono::NaiveDateTime;
use diesel::{
    BoolExpressionMethods, ExpressionMethods, OptionalExtension, QueryDsl, SelectableHelper,
};
use diesel_async::{AsyncConnection, RunQueryDsl};

use super::events::EventRow;
use super::logs::LogRow;
use super::pg::claiming;
use super::schema::{events, logs, sync_records, sync_runs, syncs};
use super::{
    Journal, Page, PageRequest, Store, StoreError, StoreResult, filtered_page, journaled,
    with_read, with_write,
};

/// Run statuses as stored.
pub const RUNNING: &str = "RUNNING";

#[derive(
    Debug, Clone, diesel::Queryable, diesel::Selectable, diesel::Insertable, diesel::AsChangeset,
)]
#[diesel(table_name = syncs)]
#[diesel(treat_none_as_null = true)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct SyncRow {
    pub id: String,
    pub project_id: String,
    pub integration_id: String,
    pub name: String,
    pub operation: String,
    pub params: String,
    pub interval_seconds: i32,
    pub pagination: Option<String>,
    pub records_pointer: String,
    pub record_id_pointer: String,
    pub field_mapping: Option<String>,
    pub page_size: Option<i32>,
    pub enabled: bool,
    pub next_run_at: Option<NaiveDateTime>,
    pub lease_until: Option<NaiveDateTime>,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(
    Debug,
    Clone,
    PartialEq,
    diesel::Queryable,
    diesel::Selectable,
    diesel::Insertable,
    diesel::AsChangeset,
    serde::Serialize,
    serde::Deserialize,
)]
#[diesel(table_name = sync_runs)]
#[diesel(treat_none_as_null = true)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct SyncRunRow {
    pub id: String,
    pub sync_id: String,
    pub integration_id: String,
    pub project_id: String,
    pub status: String,
    pub trigger_kind: String,
    pub started_at: NaiveDateTime,
    pub finished_at: Option<NaiveDateTime>,
    pub pages: i32,
    pub fetched: i64,
    pub created: i64,
    pub updated: i64,
    pub deleted: i64,
    pub errors: i32,
    pub cursor: Option<String>,
    pub last_error: Option<String>,
    pub cancel_requested: bool,
    pub lease_owner: Option<String>,
    pub lease_until: Option<NaiveDateTime>,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, diesel::Queryable, diesel::Selectable, diesel::Insertable)]
#[diesel(table_name = sync_records)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct SyncRecordRow {
    pub id: String,
    pub integration_id: String,
    pub sync_id: String,
    pub project_id: String,
    pub record_id: String,
    pub hash: String,
    pub data: String,
    pub first_seen: NaiveDateTime,
    pub last_seen: NaiveDateTime,
    pub changed_at: NaiveDateTime,
    pub deleted_at: Option<NaiveDateTime>,
    pub seen_run_id: String,
}

/// A record seen for the first time (not deleted, so no `deleted_at`).
#[derive(Debug, Clone, diesel::Insertable)]
#[diesel(table_name = sync_records)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct NewRecordRow {
    pub id: String,
    pub integration_id: String,
    pub sync_id: String,
    pub project_id: String,
    pub record_id: String,
    pub hash: String,
    pub data: String,
    pub first_seen: NaiveDateTime,
    pub last_seen: NaiveDateTime,
    pub changed_at: NaiveDateTime,
    pub seen_run_id: String,
}

/// What is known of a stored record when a page arrives.
#[derive(Debug, Clone, diesel::Queryable)]
pub struct KnownRecord {
    pub record_id: String,
    pub hash: String,
    pub deleted: Option<NaiveDateTime>,
    pub seen_run_id: String,
}

pub async fn insert(store: &Store, row: &SyncRow, journal: &Journal) -> StoreResult<()> {
    journaled!(store, journal, |conn| {
        diesel::insert_into(syncs::table)
            .values(row)
            .execute(&mut *conn)
            .await?;
    })
}

/// Replaces a sync definition (false: it is gone).
pub async fn update(store: &Store, row: &SyncRow, journal: &Journal) -> StoreResult<bool> {
    journaled!(store, journal, |conn| {
        let changed = diesel::update(syncs::table.find(&row.id))
            .set(row)
            .execute(&mut *conn)
            .await?;
        if changed == 0 {
            return Ok(false);
        }
        true
    })
}

/// Stops a sync: writes the (disabled) row and asks its running run to stop.
pub async fn stop(store: &Store, row: &SyncRow, journal: &Journal) -> StoreResult<bool> {
    journaled!(store, journal, |conn| {
        let changed = diesel::update(syncs::table.find(&row.id))
            .set(row)
            .execute(&mut *conn)
            .await?;
        if changed == 0 {
            return Ok(false);
        }
        diesel::update(
            sync_runs::table
                .filter(sync_runs::sync_id.eq(&row.id))
                .filter(sync_runs::status.eq(RUNNING)),
        )
        .set(sync_runs::cancel_requested.eq(true))
        .execute(&mut *conn)
        .await?;
        true
    })
}

/// Deletes a sync with its runs and records.
pub async fn delete(store: &Store, id: &str, journal: &Journal) -> StoreResult<bool> {
    journaled!(store, journal, |conn| {
        diesel::delete(sync_records::table.filter(sync_records::sync_id.eq(id)))
            .execute(&mut *conn)
            .await?;
        diesel::delete(sync_runs::table.filter(sync_runs::sync_id.eq(id)))
            .execute(&mut *conn)
            .await?;
        let removed = diesel::delete(syncs::table.find(id))
            .execute(&mut *conn)
            .await?;
        if removed == 0 {
            return Ok(false);
        }
        true
    })
}

pub async fn get(store: &Store, id: &str) -> StoreResult<Option<SyncRow>> {
    with_read!(store, |conn| {
        Ok(syncs::table
            .find(id)
            .select(SyncRow::as_select())
            .first(conn)
            .await
            .optional()?)
    })
}

/// The syncs of an integration, oldest first.
pub async fn of_integration(store: &Store, integration_id: &str) -> StoreResult<Vec<SyncRow>> {
    with_read!(store, |conn| {
        Ok(syncs::table
            .filter(syncs::integration_id.eq(integration_id))
            .order(syncs::id.asc())
            .select(SyncRow::as_select())
            .load(conn)
            .await?)
    })
}

/// The enabled syncs of a project, oldest first.
pub async fn enabled_of_project(store: &Store, project_id: &str) -> StoreResult<Vec<SyncRow>> {
    with_read!(store, |conn| {
        Ok(syncs::table
            .filter(syncs::project_id.eq(project_id))
            .filter(syncs::enabled.eq(true))
            .order(syncs::id.asc())
            .select(SyncRow::as_select())
            .load(conn)
            .await?)
    })
}

/// Inserts a run unless the sync already has a RUNNING one, which is returned instead
/// (`(run, true)` when this call created it).
pub async fn start_run(
    store: &Store,
    run: &SyncRunRow,
    journal: &Journal,
) -> StoreResult<(SyncRunRow, bool)> {
    journaled!(store, journal, |conn| {
        let running: Option<SyncRunRow> = sync_runs::table
            .filter(sync_runs::sync_id.eq(&run.sync_id))
            .filter(sync_runs::status.eq(RUNNING))
            .select(SyncRunRow::as_select())
            .first(&mut *conn)
            .await
            .optional()?;
        match running {
            Some(existing) => (existing, false),
            None => {
                diesel::insert_into(sync_runs::table)
                    .values(run)
                    .execute(&mut *conn)
                    .await?;
                (run.clone(), true)
            }
        }
    })
}

/// Claims due enabled syncs: each gets its next due time one interval on and, unless it
/// is already running, a new run leased to `owner` (returned).
pub async fn claim_due(
    store: &Store,
    now: NaiveDateTime,
    owner: &str,
    lease_until: NaiveDateTime,
    limit: i64,
    new_run: &(dyn Fn(&SyncRow) -> SyncRunRow + Sync),
) -> StoreResult<Vec<SyncRunRow>> {
    claiming!(store, |conn, lock| {
        conn.transaction::<_, StoreError, _>(async |conn| {
            let due: Vec<SyncRow> = lock!(
                syncs::table
                    .filter(syncs::enabled.eq(true))
                    .filter(syncs::next_run_at.le(now))
                    .order(syncs::next_run_at.asc())
                    .limit(limit)
                    .select(SyncRow::as_select())
            )
            .load(&mut *conn)
            .await?;
            let mut started = Vec::new();
            for sync in due {
                let next = now + chrono::Duration::seconds(i64::from(sync.interval_seconds));
                diesel::update(syncs::table.find(&sync.id))
                    .set(syncs::next_run_at.eq(next))
                    .execute(&mut *conn)
                    .await?;
                let running: i64 = sync_runs::table
                    .filter(sync_runs::sync_id.eq(&sync.id))
                    .filter(sync_runs::status.eq(RUNNING))
                    .count()
                    .get_result(&mut *conn)
                    .await?;
                if running > 0 {
                    continue;
                }
                let mut run = new_run(&sync);
                run.lease_owner = Some(owner.to_owned());
                run.lease_until = Some(lease_until);
                diesel::insert_into(sync_runs::table)
                    .values(&run)
                    .execute(&mut *conn)
                    .await?;
                started.push(run);
            }
            Ok(started)
        })
        .await
    })
}

/// Claims RUNNING runs nobody holds (new manual runs, and runs whose worker died).
pub async fn claim_runs(
    store: &Store,
    now: NaiveDateTime,
    owner: &str,
    lease_until: NaiveDateTime,
    limit: i64,
) -> StoreResult<Vec<SyncRunRow>> {
    claiming!(store, |conn, lock| {
        conn.transaction::<_, StoreError, _>(async |conn| {
            let ids: Vec<String> = lock!(
                sync_runs::table
                    .filter(sync_runs::status.eq(RUNNING))
                    .filter(
                        sync_runs::lease_until
                            .is_null()
                            .or(sync_runs::lease_until.lt(now)),
                    )
                    .order(sync_runs::id.asc())
                    .limit(limit)
                    .select(sync_runs::id)
            )
            .load(&mut *conn)
            .await?;
            if ids.is_empty() {
                return Ok(Vec::new());
            }
            diesel::update(sync_runs::table.filter(sync_runs::id.eq_any(&ids)))
                .set((
                    sync_runs::lease_owner.eq(owner),
                    sync_runs::lease_until.eq(lease_until),
                ))
                .execute(&mut *conn)
                .await?;
            Ok(sync_runs::table
                .filter(sync_runs::id.eq_any(&ids))
                .order(sync_runs::id.asc())
                .select(SyncRunRow::as_select())
                .load(&mut *conn)
                .await?)
        })
        .await
    })
}

/// Extends a run's lease; false when `owner` no longer holds the run (or it ended).
pub async fn renew_lease(
    store: &Store,
    run_id: &str,
    owner: &str,
    lease_until: NaiveDateTime,
) -> StoreResult<bool> {
    with_write!(store, |conn| {
        let changed = diesel::update(
            sync_runs::table
                .find(run_id)
                .filter(sync_runs::status.eq(RUNNING))
                .filter(sync_runs::lease_owner.eq(owner)),
        )
        .set(sync_runs::lease_until.eq(lease_until))
        .execute(conn)
        .await?;
        Ok(changed > 0)
    })
}

/// Gives a run back (graceful shutdown): the next worker resumes it from its cursor.
pub async fn release(store: &Store, run_id: &str, owner: &str) -> StoreResult<()> {
    with_write!(store, |conn| {
        diesel::update(
            sync_runs::table
                .find(run_id)
                .filter(sync_runs::lease_owner.eq(owner)),
        )
        .set((
            sync_runs::lease_owner.eq(None::<String>),
            sync_runs::lease_until.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)
        .await?;
        Ok(())
    })
}

pub async fn get_run(store: &Store, id: &str) -> StoreResult<Option<SyncRunRow>> {
    with_read!(store, |conn| {
        Ok(sync_runs::table
            .find(id)
            .select(SyncRunRow::as_select())
            .first(conn)
            .await
            .optional()?)
    })
}

/// The newest runs of a sync, newest first.
pub async fn runs_of(store: &Store, sync_id: &str, limit: i64) -> StoreResult<Vec<SyncRunRow>> {
    with_read!(store, |conn| {
        Ok(sync_runs::table
            .filter(sync_runs::sync_id.eq(sync_id))
            .order(sync_runs::id.desc())
            .limit(limit)
            .select(SyncRunRow::as_select())
            .load(conn)
            .await?)
    })
}

/// What the store knows of these records of a sync.
pub async fn known(
    store: &Store,
    sync_id: &str,
    record_ids: &[String],
) -> StoreResult<Vec<KnownRecord>> {
    let mut found = Vec::with_capacity(record_ids.len());
    for chunk in record_ids.chunks(CHUNK) {
        let rows: Vec<KnownRecord> = with_read!(store, |conn| {
            Ok::<_, StoreError>(
                sync_records::table
                    .filter(sync_records::sync_id.eq(sync_id))
                    .filter(sync_records::record_id.eq_any(chunk))
                    .select((
                        sync_records::record_id,
                        sync_records::hash,
                        sync_records::deleted_at,
                        sync_records::seen_run_id,
                    ))
                    .load(conn)
                    .await?,
            )
        })?;
        found.extend(rows);
    }
    Ok(found)
}

/// Stored records of a sync by record id (for verification).
pub async fn records_by_record_id(
    store: &Store,
    sync_id: &str,
    record_ids: &[String],
) -> StoreResult<Vec<SyncRecordRow>> {
    with_read!(store, |conn| {
        Ok(sync_records::table
            .filter(sync_records::sync_id.eq(sync_id))
            .filter(sync_records::record_id.eq_any(record_ids))
            .select(SyncRecordRow::as_select())
            .load(conn)
            .await?)
    })
}

/// Rows per statement (SQLite and PostgreSQL both bound the parameters of one statement).
const CHUNK: usize = 500;

/// One page of a run, written in one transaction: its new and changed records, the
/// unchanged ones touched, and the run's counters and cursor.
pub struct PageWrite<'a> {
    pub run_id: &'a str,
    pub owner: &'a str,
    pub at: NaiveDateTime,
    pub inserted: &'a [NewRecordRow],
    /// (record id, hash, data) of records whose content changed (or came back).
    pub changed: &'a [(String, String, String)],
    /// Record ids seen unchanged.
    pub unchanged: &'a [String],
    pub sync_id: &'a str,
    pub fetched: i64,
    pub created: i64,
    pub updated: i64,
    pub errors: i32,
    pub cursor: &'a str,
    pub lease_until: NaiveDateTime,
}

/// Like `with_write!`, with `$insert!(conn, rows)` inserting new records: one multi-row
/// INSERT per chunk on PostgreSQL (a round trip per row would dominate a page), one
/// statement per row on SQLite (diesel's multi-row INSERT does not build for SQLite through
/// diesel-async; SQLite is in-process and caches the statement, so rows cost little).
macro_rules! with_record_writes {
    ($store:expr, |$conn:ident, $insert:ident| $body:block) => {{
        match $store.pools() {
            super::Pools::Postgres(pool) => {
                let mut guard = pool.get().await.map_err(StoreError::pool)?;
                let $conn: &mut diesel_async::AsyncPgConnection = &mut guard;
                macro_rules! $insert {
                    ($c:expr, $rows:expr) => {
                        for chunk in $rows.chunks(CHUNK) {
                            diesel::insert_into(sync_records::table)
                                .values(chunk)
                                .execute($c)
                                .await?;
                        }
                    };
                }
                $body
            }
            super::Pools::Sqlite(sqlite) => {
                let mut guard = sqlite.write().get().await.map_err(StoreError::pool)?;
                let $conn: &mut super::SqliteConn = &mut guard;
                macro_rules! $insert {
                    ($c:expr, $rows:expr) => {
                        for row in $rows {
                            diesel::insert_into(sync_records::table)
                                .values(row)
                                .execute($c)
                                .await?;
                        }
                    };
                }
                $body
            }
        }
    }};
}

/// Writes a page; `None` when the run is no longer this worker's (nothing written).
pub async fn write_page(store: &Store, page: &PageWrite<'_>) -> StoreResult<Option<SyncRunRow>> {
    with_record_writes!(store, |conn, insert_records| {
        conn.transaction::<_, StoreError, _>(async |conn| {
            let changed = diesel::update(
                sync_runs::table
                    .find(page.run_id)
                    .filter(sync_runs::status.eq(RUNNING))
                    .filter(sync_runs::lease_owner.eq(page.owner)),
            )
            .set((
                sync_runs::pages.eq(sync_runs::pages + 1),
                sync_runs::fetched.eq(sync_runs::fetched + page.fetched),
                sync_runs::created.eq(sync_runs::created + page.created),
                sync_runs::updated.eq(sync_runs::updated + page.updated),
                sync_runs::errors.eq(sync_runs::errors + page.errors),
                sync_runs::cursor.eq(page.cursor),
                sync_runs::lease_until.eq(page.lease_until),
                sync_runs::updated_at.eq(page.at),
            ))
            .execute(&mut *conn)
            .await?;
            if changed == 0 {
                return Ok(None);
            }
            insert_records!(&mut *conn, page.inserted);
            for (record_id, hash, data) in page.changed {
                diesel::update(
                    sync_records::table
                        .filter(sync_records::sync_id.eq(page.sync_id))
                        .filter(sync_records::record_id.eq(record_id)),
                )
                .set((
                    sync_records::hash.eq(hash),
                    sync_records::data.eq(data),
                    sync_records::last_seen.eq(page.at),
                    sync_records::changed_at.eq(page.at),
                    sync_records::deleted_at.eq(None::<NaiveDateTime>),
                    sync_records::seen_run_id.eq(page.run_id),
                ))
                .execute(&mut *conn)
                .await?;
            }
            for chunk in page.unchanged.chunks(CHUNK) {
                diesel::update(
                    sync_records::table
                        .filter(sync_records::sync_id.eq(page.sync_id))
                        .filter(sync_records::record_id.eq_any(chunk)),
                )
                .set((
                    sync_records::last_seen.eq(page.at),
                    sync_records::seen_run_id.eq(page.run_id),
                ))
                .execute(&mut *conn)
                .await?;
            }
            Ok(Some(
                sync_runs::table
                    .find(page.run_id)
                    .select(SyncRunRow::as_select())
                    .first(&mut *conn)
                    .await?,
            ))
        })
        .await
    })
}

/// The end of a run, written in one transaction with its log entries and outbox events.
pub struct FinishWrite<'a> {
    pub run_id: &'a str,
    pub sync_id: &'a str,
    pub owner: &'a str,
    pub status: &'a str,
    pub last_error: Option<&'a str>,
    /// Failed attempts since the last page was written.
    pub errors: i32,
    /// A complete run: records it did not see are marked deleted.
    pub mark_deleted: bool,
    pub at: NaiveDateTime,
    pub logs: &'a [LogRow],
    /// Built from the run as finished (its counters known only inside the transaction).
    pub events: &'a (dyn Fn(&SyncRunRow) -> Vec<EventRow> + Sync),
}

/// Ends a run; `None` when the run is no longer this worker's (nothing written).
pub async fn finish(store: &Store, end: &FinishWrite<'_>) -> StoreResult<Option<SyncRunRow>> {
    with_write!(store, |conn| {
        conn.transaction::<_, StoreError, _>(async |conn| {
            let held: Option<String> = sync_runs::table
                .find(end.run_id)
                .filter(sync_runs::status.eq(RUNNING))
                .filter(sync_runs::lease_owner.eq(end.owner))
                .select(sync_runs::id)
                .first(&mut *conn)
                .await
                .optional()?;
            if held.is_none() {
                return Ok(None);
            }
            let mut deleted = 0i64;
            if end.mark_deleted {
                deleted = diesel::update(
                    sync_records::table
                        .filter(sync_records::sync_id.eq(end.sync_id))
                        .filter(sync_records::deleted_at.is_null())
                        .filter(sync_records::seen_run_id.ne(end.run_id)),
                )
                .set((
                    sync_records::deleted_at.eq(end.at),
                    sync_records::changed_at.eq(end.at),
                ))
                .execute(&mut *conn)
                .await? as i64;
            }
            diesel::update(sync_runs::table.find(end.run_id))
                .set((
                    sync_runs::status.eq(end.status),
                    sync_runs::finished_at.eq(end.at),
                    sync_runs::deleted.eq(deleted),
                    sync_runs::errors.eq(sync_runs::errors + end.errors),
                    sync_runs::last_error.eq(end.last_error),
                    sync_runs::lease_owner.eq(None::<String>),
                    sync_runs::lease_until.eq(None::<NaiveDateTime>),
                    sync_runs::updated_at.eq(end.at),
                ))
                .execute(&mut *conn)
                .await?;
            let run: SyncRunRow = sync_runs::table
                .find(end.run_id)
                .select(SyncRunRow::as_select())
                .first(&mut *conn)
                .await?;
            for log in end.logs {
                diesel::insert_into(logs::table)
                    .values(log)
                    .execute(&mut *conn)
                    .await?;
            }
            for event in (end.events)(&run) {
                diesel::insert_into(events::table)
                    .values(&event)
                    .execute(&mut *conn)
                    .await?;
            }
            Ok(Some(run))
        })
        .await
    })
}

/// Which records a listing wants.
#[derive(Debug, Clone, Default)]
pub struct RecordQuery {
    pub integration_id: String,
    pub sync_id: Option<String>,
    /// Records created, changed or deleted after this moment (deleted ones included).
    pub changed_since: Option<NaiveDateTime>,
    pub include_deleted: bool,
}

/// One page of an integration's records, in the order they were first seen.
pub async fn records_page(
    store: &Store,
    query: &RecordQuery,
    request: &PageRequest,
) -> StoreResult<Page<SyncRecordRow>> {
    macro_rules! filtered {
        () => {{
            let mut q = sync_records::table
                .filter(sync_records::integration_id.eq(&query.integration_id))
                .into_boxed();
            if let Some(id) = &query.sync_id {
                q = q.filter(sync_records::sync_id.eq(id));
            }
            if let Some(since) = query.changed_since {
                q = q.filter(sync_records::changed_at.gt(since));
            } else if !query.include_deleted {
                q = q.filter(sync_records::deleted_at.is_null());
            }
            q
        }};
    }
    filtered_page!(store, request, sync_records::id, SyncRecordRow, filtered!())
}

/// Deletes finished runs older than `older_than`, and runs beyond the newest
/// `keep_per_integration` of each integration (run history is bounded like executions).
pub async fn prune_runs(
    store: &Store,
    keep_per_integration: i64,
    older_than: NaiveDateTime,
) -> StoreResult<usize> {
    super::prune_per_integration!(
        store,
        sync_runs,
        sync_runs::integration_id,
        sync_runs::id,
        sync_runs::finished_at,
        keep_per_integration,
        older_than
    )
}
