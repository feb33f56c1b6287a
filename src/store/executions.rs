//! The `executions` table: one record per outgoing call, bounded by retention.

use chrono::NaiveDateTime;
use diesel::dsl::{count_star, max, sql};
use diesel::sql_types::BigInt;
use diesel::{ExpressionMethods, OptionalExtension, QueryDsl, SelectableHelper};
use diesel_async::{AsyncConnection, RunQueryDsl};

use super::logs::LogRow;
use super::schema::{executions, logs};
use super::{
    Page, PageRequest, Store, StoreError, StoreResult, filtered_page, with_read, with_write,
};

#[derive(
    Debug,
    Clone,
    diesel::Queryable,
    diesel::Selectable,
    diesel::Insertable,
    serde::Serialize,
    serde::Deserialize,
)]
#[diesel(table_name = executions)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct ExecutionRow {
    pub id: String,
    pub project_id: String,
    pub integration_id: String,
    pub operation: String,
    pub method: String,
    /// Path without query string (queries can carry secrets).
    pub path: String,
    pub status_code: Option<i32>,
    pub success: bool,
    pub latency_ms: i32,
    pub bytes_in: i64,
    pub bytes_out: i64,
    pub retries: i32,
    pub cached: bool,
    pub truncated: bool,
    pub error_class: Option<String>,
    pub error_message: Option<String>,
    #[diesel(deserialize_as = super::timestamps::StoredTime)]
    pub started_at: NaiveDateTime,
    #[diesel(deserialize_as = super::timestamps::StoredTime)]
    pub finished_at: NaiveDateTime,
}

/// Which executions a listing wants.
#[derive(Debug, Default, Clone)]
pub struct ExecutionQuery {
    pub integration_id: Option<String>,
    /// Restrict to these projects (`None`: all).
    pub project_ids: Option<Vec<String>>,
    pub success: Option<bool>,
}

/// Stores execution records with the log entries and outbox events about them, in one
/// transaction.
pub async fn insert(
    store: &Store,
    rows: &[ExecutionRow],
    entries: &[LogRow],
    new_events: &[super::events::EventRow],
) -> StoreResult<()> {
    with_write!(store, |conn| {
        conn.transaction::<_, StoreError, _>(async |conn| {
            // Row by row: SQLite has no multi-row insert with DEFAULT in diesel.
            for row in rows {
                diesel::insert_into(executions::table)
                    .values(row)
                    .execute(&mut *conn)
                    .await?;
            }
            for entry in entries {
                diesel::insert_into(logs::table)
                    .values(entry)
                    .execute(&mut *conn)
                    .await?;
            }
            for event in new_events {
                diesel::insert_into(super::schema::events::table)
                    .values(event)
                    .execute(&mut *conn)
                    .await?;
            }
            Ok(())
        })
        .await
    })
}

pub async fn get(store: &Store, id: &str) -> StoreResult<Option<ExecutionRow>> {
    with_read!(store, |conn| {
        Ok(executions::table
            .find(id)
            .select(ExecutionRow::as_select())
            .first(conn)
            .await
            .optional()?)
    })
}

/// Lists executions, oldest first.
pub async fn page(
    store: &Store,
    query: &ExecutionQuery,
    request: &PageRequest,
) -> StoreResult<Page<ExecutionRow>> {
    macro_rules! filtered {
        () => {{
            let mut q = executions::table.into_boxed();
            if let Some(id) = &query.integration_id {
                q = q.filter(executions::integration_id.eq(id));
            }
            if let Some(ids) = &query.project_ids {
                q = crate::store::filter_one_of!(q, executions::project_id, ids);
            }
            if let Some(success) = query.success {
                q = q.filter(executions::success.eq(success));
            }
            q
        }};
    }
    filtered_page!(store, request, executions::id, ExecutionRow, filtered!())
}

/// Aggregates of one integration's executions since a moment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExecutionTotals {
    pub total: i64,
    pub successes: i64,
    pub latency_sum_ms: i64,
    pub p95_latency_ms: Option<i32>,
    pub bytes_in: i64,
    pub bytes_out: i64,
    pub last_at: Option<NaiveDateTime>,
}

// SUM over BIGINT is NUMERIC on PostgreSQL; casting keeps one integer type on both backends.
const SUCCESSES: &str = "CAST(COALESCE(SUM(CASE WHEN success THEN 1 ELSE 0 END), 0) AS BIGINT)";
const LATENCY_SUM: &str = "CAST(COALESCE(SUM(latency_ms), 0) AS BIGINT)";
const BYTES_IN_SUM: &str = "CAST(COALESCE(SUM(bytes_in), 0) AS BIGINT)";
const BYTES_OUT_SUM: &str = "CAST(COALESCE(SUM(bytes_out), 0) AS BIGINT)";

pub async fn totals(
    store: &Store,
    integration_id: &str,
    since: NaiveDateTime,
) -> StoreResult<ExecutionTotals> {
    with_read!(store, |conn| {
        let (total, successes, latency_sum_ms, bytes_in, bytes_out, last_at): (
            i64,
            i64,
            i64,
            i64,
            i64,
            Option<NaiveDateTime>,
        ) = executions::table
            .filter(executions::integration_id.eq(integration_id))
            .filter(executions::started_at.ge(since))
            .select((
                count_star(),
                sql::<BigInt>(SUCCESSES),
                sql::<BigInt>(LATENCY_SUM),
                sql::<BigInt>(BYTES_IN_SUM),
                sql::<BigInt>(BYTES_OUT_SUM),
                max(executions::started_at),
            ))
            .get_result(conn)
            .await?;
        // Nearest-rank p95: the value at rank ceil(0.95 n).
        let p95_latency_ms = if total > 0 {
            let rank = ((total * 95 + 99) / 100).max(1);
            executions::table
                .filter(executions::integration_id.eq(integration_id))
                .filter(executions::started_at.ge(since))
                .order(executions::latency_ms.asc())
                .offset(rank - 1)
                .select(executions::latency_ms)
                .first::<i32>(conn)
                .await
                .optional()?
        } else {
            None
        };
        Ok(ExecutionTotals {
            total,
            successes,
            latency_sum_ms,
            p95_latency_ms,
            bytes_in,
            bytes_out,
            last_at,
        })
    })
}

/// Deletes records beyond `keep_per_integration` (newest kept) and older than `older_than`.
pub async fn prune(
    store: &Store,
    keep_per_integration: i64,
    older_than: NaiveDateTime,
) -> StoreResult<usize> {
    super::prune_per_integration!(
        store,
        executions,
        executions::integration_id,
        executions::id,
        executions::started_at,
        keep_per_integration,
        older_than
    )
}
