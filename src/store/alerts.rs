//! Alert rules and alerts. An open alert (FIRING or ACKNOWLEDGED) holds its rule's and
//! subject's dedupe key, unique in the table, so one condition fires one alert however
//! many evaluations (or replicas) see it; resolving frees the key.

use chrono::NaiveDateTime;
use diesel::{
    BoolExpressionMethods, ExpressionMethods, OptionalExtension, QueryDsl, SelectableHelper,
};
use diesel_async::{AsyncConnection, RunQueryDsl};

use super::events::EventRow;
use super::logs::LogRow;
use super::schema::{alert_rules, alerts, events, logs};
use super::{
    Journal, Page, PageRequest, Store, StoreError, StoreResult, filtered_page, journaled,
    with_read, with_write,
};

#[derive(
    Debug, Clone, diesel::Queryable, diesel::Selectable, diesel::Insertable, diesel::AsChangeset,
)]
#[diesel(table_name = alert_rules)]
#[diesel(treat_none_as_null = true)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct AlertRuleRow {
    pub id: String,
    pub project_id: String,
    pub integration_id: Option<String>,
    pub name: String,
    pub kind: String,
    pub threshold: Option<f64>,
    pub window_seconds: i32,
    pub breaches: i32,
    pub evaluations: i32,
    pub severity: String,
    pub reminder_seconds: Option<i32>,
    pub enabled: bool,
    pub recent: String,
    pub created_by: String,
    #[diesel(deserialize_as = super::timestamps::StoredTime)]
    pub created_at: NaiveDateTime,
    #[diesel(deserialize_as = super::timestamps::StoredTime)]
    pub updated_at: NaiveDateTime,
}

#[derive(
    Debug,
    Clone,
    diesel::Queryable,
    diesel::Selectable,
    diesel::Insertable,
    diesel::AsChangeset,
    serde::Serialize,
    serde::Deserialize,
)]
#[diesel(table_name = alerts)]
#[diesel(treat_none_as_null = true)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct AlertRow {
    pub id: String,
    pub project_id: String,
    pub integration_id: Option<String>,
    pub rule_id: Option<String>,
    pub subject: String,
    pub dedupe_key: Option<String>,
    pub kind: String,
    pub severity: String,
    pub state: String,
    pub summary: String,
    pub details: String,
    #[diesel(deserialize_as = super::timestamps::StoredTime)]
    pub fired_at: NaiveDateTime,
    pub acknowledged_at: Option<NaiveDateTime>,
    pub acknowledged_by: Option<String>,
    pub resolved_at: Option<NaiveDateTime>,
    pub resolved_by: Option<String>,
    #[diesel(deserialize_as = super::timestamps::StoredTime)]
    pub last_notified_at: NaiveDateTime,
}

pub async fn insert_rule(store: &Store, row: &AlertRuleRow, journal: &Journal) -> StoreResult<()> {
    journaled!(store, journal, |conn| {
        diesel::insert_into(alert_rules::table)
            .values(row)
            .execute(&mut *conn)
            .await?;
    })
}

pub async fn update_rule(
    store: &Store,
    row: &AlertRuleRow,
    journal: &Journal,
) -> StoreResult<bool> {
    journaled!(store, journal, |conn| {
        let changed = diesel::update(alert_rules::table.find(&row.id))
            .set(row)
            .execute(&mut *conn)
            .await?;
        if changed == 0 {
            return Ok(false);
        }
        true
    })
}

pub async fn delete_rule(store: &Store, id: &str, journal: &Journal) -> StoreResult<bool> {
    journaled!(store, journal, |conn| {
        let changed = diesel::delete(alert_rules::table.find(id))
            .execute(&mut *conn)
            .await?;
        if changed == 0 {
            return Ok(false);
        }
        true
    })
}

/// Stores a rule's evaluation memory if it is still `previous` (another replica may have
/// evaluated the rule meanwhile); `false` otherwise.
pub async fn set_recent_if(
    store: &Store,
    id: &str,
    previous: &str,
    recent: &str,
) -> StoreResult<bool> {
    with_write!(store, |conn| {
        Ok(diesel::update(
            alert_rules::table
                .find(id)
                .filter(alert_rules::recent.eq(previous)),
        )
        .set(alert_rules::recent.eq(recent))
        .execute(conn)
        .await?
            > 0)
    })
}

pub async fn get_rule(store: &Store, id: &str) -> StoreResult<Option<AlertRuleRow>> {
    with_read!(store, |conn| {
        Ok(alert_rules::table
            .find(id)
            .select(AlertRuleRow::as_select())
            .first(conn)
            .await
            .optional()?)
    })
}

pub async fn get_rules(store: &Store, ids: &[String]) -> StoreResult<Vec<AlertRuleRow>> {
    with_read!(store, |conn| {
        Ok(alert_rules::table
            .filter(alert_rules::id.eq_any(ids))
            .select(AlertRuleRow::as_select())
            .load(conn)
            .await?)
    })
}

pub async fn rules_page(
    store: &Store,
    project_ids: Option<&[String]>,
    integration_id: Option<&str>,
    request: &PageRequest,
) -> StoreResult<Page<AlertRuleRow>> {
    macro_rules! filtered {
        () => {{
            let mut q = alert_rules::table.into_boxed();
            if let Some(ids) = project_ids {
                q = crate::store::filter_one_of!(q, alert_rules::project_id, ids);
            }
            if let Some(id) = integration_id {
                q = q.filter(alert_rules::integration_id.eq(id));
            }
            q
        }};
    }
    filtered_page!(store, request, alert_rules::id, AlertRuleRow, filtered!())
}

/// Enabled rules of given kinds that apply to an integration of a project (its own
/// rules and the project's), or to the whole project when `integration_id` is `None`.
pub async fn applicable_rules(
    store: &Store,
    project_id: &str,
    integration_id: Option<&str>,
    kinds: &[&str],
) -> StoreResult<Vec<AlertRuleRow>> {
    with_read!(store, |conn| {
        let base = alert_rules::table
            .filter(alert_rules::project_id.eq(project_id))
            .filter(alert_rules::enabled.eq(true))
            .filter(alert_rules::kind.eq_any(kinds))
            .select(AlertRuleRow::as_select());
        Ok(match integration_id {
            Some(id) => {
                base.filter(
                    alert_rules::integration_id
                        .is_null()
                        .or(alert_rules::integration_id.eq(id)),
                )
                .load(conn)
                .await?
            }
            None => {
                base.filter(alert_rules::integration_id.is_null())
                    .load(conn)
                    .await?
            }
        })
    })
}

/// Every enabled rule of these kinds (the periodic evaluator).
pub async fn enabled_rules(store: &Store, kinds: &[&str]) -> StoreResult<Vec<AlertRuleRow>> {
    with_read!(store, |conn| {
        Ok(alert_rules::table
            .filter(alert_rules::enabled.eq(true))
            .filter(alert_rules::kind.eq_any(kinds))
            .order(alert_rules::id.asc())
            .select(AlertRuleRow::as_select())
            .load(conn)
            .await?)
    })
}

pub async fn get(store: &Store, id: &str) -> StoreResult<Option<AlertRow>> {
    with_read!(store, |conn| {
        Ok(alerts::table
            .find(id)
            .select(AlertRow::as_select())
            .first(conn)
            .await
            .optional()?)
    })
}

/// The open alert holding a dedupe key.
pub async fn open_by_key(store: &Store, key: &str) -> StoreResult<Option<AlertRow>> {
    with_read!(store, |conn| {
        Ok(alerts::table
            .filter(alerts::dedupe_key.eq(key))
            .select(AlertRow::as_select())
            .first(conn)
            .await
            .optional()?)
    })
}

/// Open alerts of an integration (or, with `None`, about a subject) of some kinds.
pub async fn open_for_subject(
    store: &Store,
    subject: &str,
    kinds: &[&str],
) -> StoreResult<Vec<AlertRow>> {
    with_read!(store, |conn| {
        Ok(alerts::table
            .filter(alerts::subject.eq(subject))
            .filter(alerts::dedupe_key.is_not_null())
            .filter(alerts::kind.eq_any(kinds))
            .select(AlertRow::as_select())
            .load(conn)
            .await?)
    })
}

/// Writes log entries and outbox events on the connection of the surrounding transaction.
macro_rules! write_extras_body {
    ($conn:ident, $logs:expr, $events:expr) => {{
        for log in $logs {
            diesel::insert_into(logs::table)
                .values(log)
                .execute(&mut *$conn)
                .await?;
        }
        for event in $events {
            diesel::insert_into(events::table)
                .values(event)
                .execute(&mut *$conn)
                .await?;
        }
        Ok::<(), StoreError>(())
    }};
}

/// Inserts a firing alert with its log entries and events; `false` when an alert with
/// its dedupe key is already open (nothing written).
pub async fn insert(
    store: &Store,
    row: &AlertRow,
    logs_rows: &[LogRow],
    new_events: &[EventRow],
) -> StoreResult<bool> {
    let result = with_write!(store, |conn| {
        conn.transaction::<_, StoreError, _>(async |conn| {
            diesel::insert_into(alerts::table)
                .values(row)
                .execute(&mut *conn)
                .await?;
            write_extras_body!(conn, logs_rows, new_events)?;
            Ok(())
        })
        .await
    });
    match result {
        Ok(()) => Ok(true),
        Err(StoreError::Conflict(_)) => Ok(false),
        Err(other) => Err(other),
    }
}

/// Moves an alert from `from` to its new state (the row given), with log entries, events
/// and an audit record when a person did it; `false` when it was not in `from` any more.
pub async fn transition(
    store: &Store,
    row: &AlertRow,
    from: &[&str],
    logs_rows: &[LogRow],
    new_events: &[EventRow],
    audit: Option<&super::audit::AuditRow>,
) -> StoreResult<bool> {
    with_write!(store, |conn| {
        conn.transaction::<_, StoreError, _>(async |conn| {
            let changed = diesel::update(
                alerts::table
                    .find(&row.id)
                    .filter(alerts::state.eq_any(from)),
            )
            .set(row)
            .execute(&mut *conn)
            .await?;
            if changed == 0 {
                return Ok(false);
            }
            write_extras_body!(conn, logs_rows, new_events)?;
            if let Some(audit) = audit {
                diesel::insert_into(super::schema::audit_log::table)
                    .values(audit)
                    .execute(&mut *conn)
                    .await?;
            }
            Ok(true)
        })
        .await
    })
}

/// Which alerts a listing wants.
#[derive(Debug, Default, Clone)]
pub struct AlertQuery {
    pub project_ids: Option<Vec<String>>,
    pub integration_id: Option<String>,
    pub states: Option<Vec<String>>,
}

pub async fn page(
    store: &Store,
    query: &AlertQuery,
    request: &PageRequest,
) -> StoreResult<Page<AlertRow>> {
    macro_rules! filtered {
        () => {{
            let mut q = alerts::table.into_boxed();
            if let Some(ids) = &query.project_ids {
                q = crate::store::filter_one_of!(q, alerts::project_id, ids);
            }
            if let Some(id) = &query.integration_id {
                q = q.filter(alerts::integration_id.eq(id));
            }
            if let Some(states) = &query.states {
                q = q.filter(alerts::state.eq_any(states));
            }
            q
        }};
    }
    filtered_page!(store, request, alerts::id, AlertRow, filtered!())
}

/// Counts of open alerts (FIRING) in the given projects (`None`: all).
pub async fn firing_count(store: &Store, project_ids: Option<&[String]>) -> StoreResult<i64> {
    with_read!(store, |conn| {
        let q = alerts::table.filter(alerts::state.eq("FIRING")).count();
        Ok(match project_ids {
            Some(ids) => {
                q.filter(alerts::project_id.eq_any(ids))
                    .get_result(conn)
                    .await?
            }
            None => q.get_result(conn).await?,
        })
    })
}

/// FIRING alerts whose last notification is older than `before` (reminder candidates).
pub async fn firing_notified_before(
    store: &Store,
    before: NaiveDateTime,
) -> StoreResult<Vec<AlertRow>> {
    with_read!(store, |conn| {
        Ok(alerts::table
            .filter(alerts::state.eq("FIRING"))
            .filter(alerts::last_notified_at.lt(before))
            .filter(alerts::rule_id.is_not_null())
            .order(alerts::id.asc())
            .limit(1000)
            .select(AlertRow::as_select())
            .load(conn)
            .await?)
    })
}

/// Marks a reminder sent (if nobody else sent it since `previous`) with its event.
pub async fn remind(
    store: &Store,
    row: &AlertRow,
    previous: NaiveDateTime,
    event: &EventRow,
) -> StoreResult<bool> {
    with_write!(store, |conn| {
        conn.transaction::<_, StoreError, _>(async |conn| {
            let changed = diesel::update(
                alerts::table
                    .find(&row.id)
                    .filter(alerts::state.eq("FIRING"))
                    .filter(alerts::last_notified_at.eq(previous)),
            )
            .set(alerts::last_notified_at.eq(row.last_notified_at))
            .execute(&mut *conn)
            .await?;
            if changed == 0 {
                return Ok(false);
            }
            diesel::insert_into(events::table)
                .values(event)
                .execute(&mut *conn)
                .await?;
            Ok(true)
        })
        .await
    })
}
