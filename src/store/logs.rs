//! The `logs` table: bounded per integration and by age (see [`prune`]).

use chrono::NaiveDateTime;
use diesel::{ExpressionMethods, OptionalExtension, QueryDsl, SelectableHelper};
use diesel_async::RunQueryDsl;

use super::schema::logs;
use super::{Page, PageRequest, Store, StoreResult, paged, with_read, with_write};

#[derive(Debug, Clone, diesel::Queryable, diesel::Selectable, diesel::Insertable)]
#[diesel(table_name = logs)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct LogRow {
    pub id: String,
    pub project_id: String,
    pub integration_id: Option<String>,
    pub level: String,
    pub level_rank: i32,
    pub message: String,
    pub metadata: String,
    pub created_at: NaiveDateTime,
}

/// Which log entries a listing wants.
#[derive(Debug, Default, Clone)]
pub struct LogQuery {
    /// Restrict to these projects (`None`: all).
    pub project_ids: Option<Vec<String>>,
    pub integration_id: Option<String>,
    pub min_rank: Option<i32>,
}

/// Lists log entries, oldest first.
pub async fn page(
    store: &Store,
    query: &LogQuery,
    request: &PageRequest,
) -> StoreResult<Page<LogRow>> {
    macro_rules! filtered {
        () => {{
            let mut q = logs::table.into_boxed();
            if let Some(ids) = &query.project_ids {
                q = q.filter(logs::project_id.eq_any(ids));
            }
            if let Some(id) = &query.integration_id {
                q = q.filter(logs::integration_id.eq(id));
            }
            if let Some(rank) = query.min_rank {
                q = q.filter(logs::level_rank.ge(rank));
            }
            q
        }};
    }
    with_read!(store, |conn| {
        let total: Option<i64> = if request.count_total {
            Some(filtered!().count().get_result(conn).await?)
        } else {
            None
        };
        let rows = paged!(filtered!(), logs::id, request)
            .select(LogRow::as_select())
            .load(conn)
            .await?;
        Ok(Page::from_rows(rows, total, request))
    })
}

/// Deletes entries beyond `keep_per_integration` (newest kept) and older than `older_than`.
/// Returns how many rows went.
pub async fn prune(
    store: &Store,
    keep_per_integration: i64,
    older_than: NaiveDateTime,
) -> StoreResult<usize> {
    super::prune_per_integration!(
        store,
        logs,
        logs::integration_id,
        logs::id,
        logs::created_at,
        keep_per_integration,
        older_than
    )
}

/// Writes a journal on its own (for events that change nothing else, such as a failed refresh).
pub async fn insert_journal(store: &Store, journal: &super::Journal) -> StoreResult<()> {
    use diesel_async::AsyncConnection;
    with_write!(store, |conn| {
        conn.transaction::<_, super::StoreError, _>(async |conn| {
            super::write_journal!(conn, journal);
            Ok(())
        })
        .await
    })
}
