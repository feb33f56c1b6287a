//! The `logs` table: bounded per integration and by age (see [`prune`]).

use chrono::NaiveDateTime;
use diesel::{
    BoolExpressionMethods, EscapeExpressionMethods, ExpressionMethods, OptionalExtension, QueryDsl,
    SelectableHelper, TextExpressionMethods,
};
use diesel_async::RunQueryDsl;

use super::schema::logs;
use super::{Page, PageRequest, Store, StoreResult, filtered_page, lower};

#[derive(
    Debug,
    Clone,
    diesel::Queryable,
    diesel::Selectable,
    diesel::Insertable,
    serde::Serialize,
    serde::Deserialize,
)]
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
    #[diesel(deserialize_as = super::timestamps::StoredTime)]
    pub created_at: NaiveDateTime,
}

/// Which log entries a listing wants.
#[derive(Debug, Default, Clone)]
pub struct LogQuery {
    /// Restrict to these projects (`None`: all).
    pub project_ids: Option<Vec<String>>,
    pub integration_id: Option<String>,
    pub min_rank: Option<i32>,
    pub since: Option<NaiveDateTime>,
    pub until: Option<NaiveDateTime>,
    /// Text in the message or the metadata, any case.
    pub search: Option<String>,
}

impl LogQuery {
    /// Whether a row belongs to this listing (the live subscription's filter).
    pub fn matches(&self, row: &LogRow) -> bool {
        self.project_ids
            .as_ref()
            .is_none_or(|ids| ids.contains(&row.project_id))
            && self
                .integration_id
                .as_ref()
                .is_none_or(|id| row.integration_id.as_ref() == Some(id))
            && self.min_rank.is_none_or(|rank| row.level_rank >= rank)
            && self.since.is_none_or(|at| row.created_at >= at)
            && self.until.is_none_or(|at| row.created_at < at)
            && self.search.as_deref().is_none_or(|text| {
                let text = text.to_lowercase();
                row.message.to_lowercase().contains(&text)
                    || row.metadata.to_lowercase().contains(&text)
            })
    }
}

/// Lists log entries, oldest first.
pub async fn page(
    store: &Store,
    query: &LogQuery,
    request: &PageRequest,
) -> StoreResult<Page<LogRow>> {
    let pattern = query
        .search
        .as_deref()
        .map(|text| format!("%{}%", super::like_escape(&text.to_lowercase())));
    macro_rules! filtered {
        () => {{
            let mut q = logs::table.into_boxed();
            if let Some(ids) = &query.project_ids {
                q = crate::store::filter_one_of!(q, logs::project_id, ids);
            }
            if let Some(id) = &query.integration_id {
                q = q.filter(logs::integration_id.eq(id));
            }
            if let Some(rank) = query.min_rank {
                q = q.filter(logs::level_rank.ge(rank));
            }
            if let Some(at) = query.since {
                q = q.filter(logs::created_at.ge(at));
            }
            if let Some(at) = query.until {
                q = q.filter(logs::created_at.lt(at));
            }
            if let Some(pattern) = &pattern {
                q = q.filter(
                    lower(logs::message)
                        .like(pattern)
                        .escape('\\')
                        .or(lower(logs::metadata).like(pattern).escape('\\')),
                );
            }
            q
        }};
    }
    filtered_page!(store, request, logs::id, LogRow, filtered!())
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

/// Writes a journal on its own (for events that change nothing else, such as a failed
/// refresh or a published event), together with others written meanwhile.
pub async fn insert_journal(store: &Store, journal: &super::Journal) -> StoreResult<()> {
    store.write_journal(journal.clone()).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(project: &str, integration: Option<&str>, rank: i32) -> LogRow {
        LogRow {
            id: "log_1".into(),
            project_id: project.into(),
            integration_id: integration.map(str::to_owned),
            level: String::new(),
            level_rank: rank,
            message: "m".into(),
            metadata: "{}".into(),
            created_at: super::super::now(),
        }
    }

    #[test]
    fn the_live_filter_matches_project_integration_and_level() {
        // Ranks: DEBUG 0, INFO 1, WARN 2, ERROR 3, CRITICAL 4.
        let query = LogQuery {
            project_ids: Some(vec!["prj_a".into()]),
            integration_id: Some("int_1".into()),
            min_rank: Some(2),
            ..LogQuery::default()
        };
        assert!(query.matches(&row("prj_a", Some("int_1"), 3)));
        assert!(query.matches(&row("prj_a", Some("int_1"), 2)));
        assert!(!query.matches(&row("prj_a", Some("int_1"), 1)));
        assert!(!query.matches(&row("prj_a", Some("int_2"), 3)));
        assert!(!query.matches(&row("prj_b", Some("int_1"), 4)));
        assert!(LogQuery::default().matches(&row("prj_b", None, 0)));
    }
}
