//! The `audit_log` table: one row per mutation, written in the mutation's transaction.

use chrono::NaiveDateTime;
use diesel::{
    BoolExpressionMethods, EscapeExpressionMethods, ExpressionMethods, QueryDsl, SelectableHelper,
    TextExpressionMethods,
};
use diesel_async::RunQueryDsl;

use super::schema::audit_log;
use super::{Page, PageRequest, Store, StoreResult, filtered_page, with_read, with_write};

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
    #[diesel(deserialize_as = super::timestamps::StoredTime)]
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

/// Writes an audit record on its own (a change whose state lives elsewhere).
pub async fn insert(store: &Store, row: &AuditRow) -> StoreResult<()> {
    with_write!(store, |conn| {
        diesel::insert_into(audit_log::table)
            .values(row)
            .execute(conn)
            .await?;
        Ok(())
    })
}

/// Which audit records a listing wants.
#[derive(Debug, Default, Clone)]
pub struct AuditQuery {
    /// Restrict to these projects (`None`: all, including unscoped records).
    pub project_ids: Option<Vec<String>>,
    /// A token ID or an actor name.
    pub actor: Option<String>,
    /// An action (`integration.update`) or a prefix with `.*` (`integration.*`).
    pub action: Option<String>,
    pub target_id: Option<String>,
    pub since: Option<NaiveDateTime>,
    pub until: Option<NaiveDateTime>,
}

pub async fn page(
    store: &Store,
    query: &AuditQuery,
    request: &PageRequest,
) -> StoreResult<Page<AuditRow>> {
    let action_prefix = query
        .action
        .as_deref()
        .and_then(|a| a.strip_suffix(".*"))
        .map(|prefix| format!("{}.%", super::like_escape(prefix)));
    macro_rules! filtered {
        () => {{
            let mut q = audit_log::table.into_boxed();
            if let Some(ids) = &query.project_ids {
                q = crate::store::filter_one_of!(q, audit_log::project_id, ids);
            }
            if let Some(actor) = &query.actor {
                q = q.filter(
                    audit_log::actor_id
                        .eq(actor)
                        .or(audit_log::actor_name.eq(actor)),
                );
            }
            match (&action_prefix, &query.action) {
                (Some(pattern), _) => q = q.filter(audit_log::action.like(pattern).escape('\\')),
                (None, Some(action)) => q = q.filter(audit_log::action.eq(action)),
                (None, None) => {}
            }
            if let Some(id) = &query.target_id {
                q = q.filter(audit_log::target_id.eq(id));
            }
            if let Some(at) = query.since {
                q = q.filter(audit_log::at.ge(at));
            }
            if let Some(at) = query.until {
                q = q.filter(audit_log::at.lt(at));
            }
            q
        }};
    }
    filtered_page!(store, request, audit_log::id, AuditRow, filtered!())
}
