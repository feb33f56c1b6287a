//! Aggregates for `stats`: counts over integrations, calls, webhooks, deliveries and
//! alerts, of some projects (`None`: all). Each is one grouped query on an index.

use chrono::NaiveDateTime;
use diesel::dsl::{count_star, sql};
use diesel::sql_types::BigInt;
use diesel::{ExpressionMethods, QueryDsl};
use diesel_async::RunQueryDsl;

use super::schema::{deliveries, executions, webhooks};
use super::{Store, StoreResult, with_read};

/// Runs a grouped count by one column, optionally only in some projects.
macro_rules! grouped_count {
    ($store:expr, $table:ident, $column:expr, $project:expr, $projects:expr $(, $filter:expr)*) => {{
        let projects: Option<&[String]> = $projects;
        with_read!($store, |conn| {
            let q = $table::table
                $(.filter($filter))*
                .group_by($column)
                .select(($column, count_star()));
            let rows: Vec<(String, i64)> = match projects {
                Some(ids) => q.filter($project.eq_any(ids)).load(conn).await?,
                None => q.load(conn).await?,
            };
            Ok::<_, super::StoreError>(rows)
        })
    }};
}

/// Integrations counted by (category, status, enabled), from the projects' counts (kept by
/// triggers, `integration_counts`) rather than a scan of every row; kinds whose count is
/// back to zero are left out.
pub async fn integration_counts(
    store: &Store,
    projects: Option<&[String]>,
) -> StoreResult<Vec<(String, String, bool, i64)>> {
    use super::schema::integration_counts as counts;
    let rows: Vec<(String, String, bool, i64)> = with_read!(store, |conn| {
        let q = counts::table
            .group_by((counts::category, counts::status, counts::enabled))
            .select((
                counts::category,
                counts::status,
                counts::enabled,
                super::integrations::COUNTS_SUM,
            ));
        Ok::<_, super::StoreError>(match projects {
            Some(ids) => q.filter(counts::project_id.eq_any(ids)).load(conn).await?,
            None => q.load(conn).await?,
        })
    })?;
    Ok(rows.into_iter().filter(|(.., n)| *n != 0).collect())
}

pub async fn webhooks_by_status(
    store: &Store,
    projects: Option<&[String]>,
) -> StoreResult<Vec<(String, i64)>> {
    grouped_count!(
        store,
        webhooks,
        webhooks::status,
        webhooks::project_id,
        projects
    )
}

/// Deliveries created since a time, by status.
pub async fn deliveries_by_status(
    store: &Store,
    projects: Option<&[String]>,
    since: NaiveDateTime,
) -> StoreResult<Vec<(String, i64)>> {
    grouped_count!(
        store,
        deliveries,
        deliveries::status,
        deliveries::project_id,
        projects,
        deliveries::created_at.ge(since)
    )
}

/// Calls since a time: (count, successes, latency sum in ms).
pub async fn calls(
    store: &Store,
    projects: Option<&[String]>,
    since: NaiveDateTime,
) -> StoreResult<(i64, i64, i64)> {
    with_read!(store, |conn| {
        let q = executions::table
            .filter(executions::started_at.ge(since))
            .select((
                count_star(),
                sql::<BigInt>(
                    "CAST(COALESCE(SUM(CASE WHEN success THEN 1 ELSE 0 END), 0) AS BIGINT)",
                ),
                sql::<BigInt>("CAST(COALESCE(SUM(latency_ms), 0) AS BIGINT)"),
            ));
        Ok(match projects {
            Some(ids) => {
                q.filter(executions::project_id.eq_any(ids))
                    .get_result(conn)
                    .await?
            }
            None => q.get_result(conn).await?,
        })
    })
}
