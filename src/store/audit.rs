//! The `audit_log` table: one row per mutation, written in the mutation's transaction.

use chrono::NaiveDateTime;
use diesel::{ExpressionMethods, QueryDsl, SelectableHelper};
use diesel_async::RunQueryDsl;

use super::schema::audit_log;
use super::{Store, StoreResult, with_read};

#[derive(Debug, Clone, diesel::Queryable, diesel::Selectable, diesel::Insertable)]
#[diesel(table_name = audit_log)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct AuditRow {
    pub id: String,
    pub actor_id: Option<String>,
    pub actor_name: String,
    pub action: String,
    pub target_type: String,
    pub target_id: Option<String>,
    pub project_id: Option<String>,
    pub request_id: Option<String>,
    /// Non-secret facts about the change (e.g. which fields an update touched).
    pub details: String,
    pub at: NaiveDateTime,
}

/// The newest audit records, newest first.
pub async fn recent(store: &Store, limit: i64) -> StoreResult<Vec<AuditRow>> {
    with_read!(store, |conn| {
        Ok(audit_log::table
            .order(audit_log::id.desc())
            .limit(limit)
            .select(AuditRow::as_select())
            .load(conn)
            .await?)
    })
}

/// How many audit records exist for an action (tests and operators use it).
pub async fn count_action(store: &Store, action: &str) -> StoreResult<i64> {
    with_read!(store, |conn| {
        Ok(audit_log::table
            .filter(audit_log::action.eq(action))
            .count()
            .get_result(conn)
            .await?)
    })
}
