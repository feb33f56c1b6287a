//! The `events` table: the outbox every state change appends to in its own transaction.

use chrono::NaiveDateTime;
use diesel::{ExpressionMethods, QueryDsl, SelectableHelper};
use diesel_async::RunQueryDsl;

use super::schema::events;
use super::{Store, StoreError, StoreResult, with_read, with_write};

#[derive(
    Debug,
    Clone,
    diesel::Queryable,
    diesel::Selectable,
    diesel::Insertable,
    serde::Serialize,
    serde::Deserialize,
)]
#[diesel(table_name = events)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct EventRow {
    pub id: String,
    pub project_id: String,
    pub event_type: String,
    /// The JSON document delivered: `{type, id, timestamp, projectId, data}`.
    pub payload: String,
    pub dispatched: bool,
    pub dedupe_key: Option<String>,
    pub created_at: NaiveDateTime,
}

/// Stores an event on its own (an incoming webhook). `false` when an event with the same
/// dedupe key exists already (a replayed request).
pub async fn insert_once(store: &Store, row: &EventRow) -> StoreResult<bool> {
    let result = with_write!(store, |conn| {
        diesel::insert_into(events::table)
            .values(row)
            .execute(conn)
            .await
            .map_err(StoreError::from)
    });
    match result {
        Ok(_) => Ok(true),
        Err(StoreError::Conflict(_)) => Ok(false),
        Err(other) => Err(other),
    }
}

pub async fn get(store: &Store, id: &str) -> StoreResult<Option<EventRow>> {
    use diesel::OptionalExtension;
    with_read!(store, |conn| {
        Ok(events::table
            .find(id)
            .select(EventRow::as_select())
            .first(conn)
            .await
            .optional()?)
    })
}

/// Events of a project in a time range (for replay), oldest first, at most `limit`.
pub async fn in_range(
    store: &Store,
    project_id: &str,
    since: NaiveDateTime,
    until: NaiveDateTime,
    limit: i64,
) -> StoreResult<Vec<EventRow>> {
    with_read!(store, |conn| {
        Ok(events::table
            .filter(events::project_id.eq(project_id))
            .filter(events::created_at.ge(since))
            .filter(events::created_at.le(until))
            .filter(events::dispatched.eq(true))
            .order(events::id.asc())
            .limit(limit)
            .select(EventRow::as_select())
            .load(conn)
            .await?)
    })
}

/// Deletes dispatched events older than `older_than` (their deliveries go with them).
pub async fn prune(store: &Store, older_than: NaiveDateTime) -> StoreResult<usize> {
    with_write!(store, |conn| {
        Ok(diesel::delete(
            events::table
                .filter(events::dispatched.eq(true))
                .filter(events::created_at.lt(older_than)),
        )
        .execute(conn)
        .await?)
    })
}
