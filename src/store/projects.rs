//! The `projects` table.

use chrono::NaiveDateTime;
use diesel::{ExpressionMethods, OptionalExtension, QueryDsl, SelectableHelper};
use diesel_async::{AsyncConnection, RunQueryDsl};

use super::schema::projects;
use super::{Journal, Page, PageRequest, Store, StoreResult, filtered_page, journaled, with_read};

#[derive(Debug, Clone, diesel::Queryable, diesel::Selectable, diesel::Insertable)]
#[diesel(table_name = projects)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct ProjectRow {
    pub id: String,
    pub name: String,
    pub slug: String,
    pub description: Option<String>,
    #[diesel(deserialize_as = super::timestamps::StoredTime)]
    pub created_at: NaiveDateTime,
    #[diesel(deserialize_as = super::timestamps::StoredTime)]
    pub updated_at: NaiveDateTime,
}

/// Inserts a project with its journal in one transaction.
pub async fn insert(store: &Store, row: &ProjectRow, journal: &Journal) -> StoreResult<()> {
    journaled!(store, journal, |conn| {
        diesel::insert_into(projects::table)
            .values(row)
            .execute(&mut *conn)
            .await?;
    })
}

pub async fn get(store: &Store, id: &str) -> StoreResult<Option<ProjectRow>> {
    with_read!(store, |conn| {
        Ok(projects::table
            .find(id)
            .select(ProjectRow::as_select())
            .first(conn)
            .await
            .optional()?)
    })
}

/// Loads several projects in one query (the data loader's batch).
pub async fn get_many(store: &Store, ids: &[String]) -> StoreResult<Vec<ProjectRow>> {
    with_read!(store, |conn| {
        Ok(projects::table
            .filter(projects::id.eq_any(ids))
            .select(ProjectRow::as_select())
            .load(conn)
            .await?)
    })
}

/// Lists projects, optionally only the given ones (a project-scoped caller).
pub async fn page(
    store: &Store,
    only: Option<&str>,
    request: &PageRequest,
) -> StoreResult<Page<ProjectRow>> {
    macro_rules! filtered {
        () => {{
            let mut q = projects::table.into_boxed();
            if let Some(id) = only {
                q = q.filter(projects::id.eq(id));
            }
            q
        }};
    }
    filtered_page!(store, request, projects::id, ProjectRow, filtered!())
}
