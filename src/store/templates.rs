//! The template tables: families (slug, owner, sharing), their versions, and shares.

use chrono::NaiveDateTime;
use diesel::expression_methods::EscapeExpressionMethods;
use diesel::{
    BoolExpressionMethods, ExpressionMethods, NullableExpressionMethods, OptionalExtension,
    QueryDsl, SelectableHelper, TextExpressionMethods,
};
use diesel_async::{AsyncConnection, RunQueryDsl};

use super::schema::{integrations, template_families, template_shares, templates};
use super::{
    Journal, Page, PageRequest, Store, StoreError, StoreResult, filtered_page, journaled,
    like_escape, lower, lower_nullable, with_read, with_write,
};

/// The owner of built-in families (a custom family's owner is its project's id).
pub const BUILTIN_OWNER: &str = "builtin";
const DRAFT: &str = "DRAFT";
const PUBLISHED: &str = "PUBLISHED";
const DEPRECATED: &str = "DEPRECATED";

#[derive(Debug, Clone, diesel::Queryable, diesel::Selectable, diesel::Insertable)]
#[diesel(table_name = template_families)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct FamilyRow {
    pub id: String,
    pub owner: String,
    pub project_id: Option<String>,
    pub slug: String,
    pub built_in: bool,
    pub shared_with_all: bool,
    pub created_at: NaiveDateTime,
}

#[derive(
    Debug, Clone, diesel::Queryable, diesel::Selectable, diesel::Insertable, diesel::AsChangeset,
)]
#[diesel(table_name = templates)]
#[diesel(treat_none_as_null = true)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct TemplateRow {
    pub id: String,
    pub family_id: String,
    pub project_id: Option<String>,
    pub version: i32,
    pub state: String,
    pub is_current: bool,
    pub built_in: bool,
    pub support_level: String,
    pub slug: String,
    pub name: String,
    pub description: Option<String>,
    pub category: String,
    pub protocol: String,
    pub icon: Option<String>,
    /// JSON: the validated template document.
    pub definition: String,
    pub content_hash: String,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub published_at: Option<NaiveDateTime>,
    pub deprecated_at: Option<NaiveDateTime>,
}

/// Which templates a caller may see: built-ins, every version of its projects' own
/// templates, and the published (or deprecated) versions shared with them.
#[derive(Debug, Clone, Default)]
pub struct Visibility {
    /// The caller's projects (`None`: every project, drafts included).
    pub projects: Option<Vec<String>>,
}

/// What a listing wants (all given parts must hold).
#[derive(Debug, Clone, Default)]
pub struct TemplateQuery {
    pub visibility: Visibility,
    pub category: Option<String>,
    /// Case-insensitive text in slug, name or description.
    pub search: Option<String>,
    pub built_in: Option<bool>,
    pub state: Option<String>,
    /// Only the current version of each family (the default of listings).
    pub current_only: bool,
    pub family_id: Option<String>,
}

/// The visibility predicate as a boxable SQL condition.
macro_rules! visible_to {
    ($projects:expr) => {{
        let projects: &Vec<String> = $projects;
        templates::built_in
            .eq(true)
            .or(templates::project_id
                .assume_not_null()
                .eq_any(projects.clone()))
            .or(templates::state.ne(DRAFT).and(
                templates::family_id
                    .eq_any(
                        template_families::table
                            .filter(template_families::shared_with_all.eq(true))
                            .select(template_families::id),
                    )
                    .or(templates::family_id.eq_any(
                        template_shares::table
                            .filter(template_shares::project_id.eq_any(projects.clone()))
                            .select(template_shares::family_id),
                    )),
            ))
    }};
}

pub async fn get(store: &Store, id: &str) -> StoreResult<Option<TemplateRow>> {
    with_read!(store, |conn| {
        Ok(templates::table
            .find(id)
            .select(TemplateRow::as_select())
            .first(conn)
            .await
            .optional()?)
    })
}

/// Whether `visibility` covers the template `id`.
pub async fn is_visible(store: &Store, id: &str, visibility: &Visibility) -> StoreResult<bool> {
    let Some(projects) = &visibility.projects else {
        return Ok(get(store, id).await?.is_some());
    };
    with_read!(store, |conn| {
        let found: Option<String> = templates::table
            .find(id)
            .filter(visible_to!(projects))
            .select(templates::id)
            .first(conn)
            .await
            .optional()?;
        Ok(found.is_some())
    })
}

pub async fn get_many(store: &Store, ids: &[String]) -> StoreResult<Vec<TemplateRow>> {
    with_read!(store, |conn| {
        Ok(templates::table
            .filter(templates::id.eq_any(ids))
            .select(TemplateRow::as_select())
            .load(conn)
            .await?)
    })
}

pub async fn get_family(store: &Store, id: &str) -> StoreResult<Option<FamilyRow>> {
    with_read!(store, |conn| {
        Ok(template_families::table
            .find(id)
            .select(FamilyRow::as_select())
            .first(conn)
            .await
            .optional()?)
    })
}

/// The projects a family is shared with, one by one.
pub async fn shares(store: &Store, family_id: &str) -> StoreResult<Vec<String>> {
    with_read!(store, |conn| {
        Ok(template_shares::table
            .filter(template_shares::family_id.eq(family_id))
            .order(template_shares::project_id)
            .select(template_shares::project_id)
            .load(conn)
            .await?)
    })
}

/// A page of templates matching `query`, in ID order (built-ins first).
pub async fn page(
    store: &Store,
    query: &TemplateQuery,
    request: &PageRequest,
) -> StoreResult<Page<TemplateRow>> {
    let search = query
        .search
        .as_ref()
        .map(|text| format!("%{}%", like_escape(&text.to_lowercase())));
    macro_rules! filtered {
        () => {{
            let mut q = templates::table.into_boxed();
            if let Some(projects) = &query.visibility.projects {
                q = q.filter(visible_to!(projects));
            }
            if let Some(category) = &query.category {
                q = q.filter(templates::category.eq(category));
            }
            if let Some(built_in) = query.built_in {
                q = q.filter(templates::built_in.eq(built_in));
            }
            if let Some(state) = &query.state {
                q = q.filter(templates::state.eq(state));
            }
            if query.current_only {
                q = q.filter(templates::is_current.eq(true));
            }
            if let Some(family) = &query.family_id {
                q = q.filter(templates::family_id.eq(family));
            }
            if let Some(pattern) = &search {
                q = q.filter(
                    lower(templates::name)
                        .like(pattern)
                        .escape('\\')
                        .or(templates::slug.like(pattern).escape('\\'))
                        .or(lower_nullable(templates::description)
                            .like(pattern)
                            .escape('\\')),
                );
            }
            q
        }};
    }
    filtered_page!(store, request, templates::id, TemplateRow, filtered!())
}

/// The current versions with this slug the visibility covers (built-ins first).
pub async fn current_by_slug(
    store: &Store,
    slug: &str,
    visibility: &Visibility,
) -> StoreResult<Vec<TemplateRow>> {
    with_read!(store, |conn| {
        let mut q = templates::table
            .filter(templates::slug.eq(slug))
            .filter(templates::is_current.eq(true))
            .into_boxed();
        if let Some(projects) = &visibility.projects {
            q = q.filter(visible_to!(projects));
        }
        Ok(q.order(templates::id)
            .select(TemplateRow::as_select())
            .load(conn)
            .await?)
    })
}

/// Every version of a family, oldest first.
pub async fn versions(store: &Store, family_id: &str) -> StoreResult<Vec<TemplateRow>> {
    with_read!(store, |conn| {
        Ok(templates::table
            .filter(templates::family_id.eq(family_id))
            .order(templates::version)
            .select(TemplateRow::as_select())
            .load(conn)
            .await?)
    })
}

/// The newest published version of a family.
pub async fn latest_published(store: &Store, family_id: &str) -> StoreResult<Option<TemplateRow>> {
    with_read!(store, |conn| {
        Ok(templates::table
            .filter(templates::family_id.eq(family_id))
            .filter(templates::state.eq(PUBLISHED))
            .order(templates::version.desc())
            .select(TemplateRow::as_select())
            .first(conn)
            .await
            .optional()?)
    })
}

/// Integrations made from any version of a family, in the given projects (`None`: all).
pub async fn usage_count(
    store: &Store,
    family_id: &str,
    projects: Option<&[String]>,
) -> StoreResult<i64> {
    with_read!(store, |conn| {
        let mut q = integrations::table
            .filter(
                integrations::template_id.eq_any(
                    templates::table
                        .filter(templates::family_id.eq(family_id))
                        .select(templates::id.nullable()),
                ),
            )
            .into_boxed();
        if let Some(projects) = projects {
            q = q.filter(integrations::project_id.eq_any(projects));
        }
        Ok(q.count().get_result(conn).await?)
    })
}

/// Creates a family with its first version.
pub async fn insert_family(
    store: &Store,
    family: &FamilyRow,
    first: &TemplateRow,
    journal: &Journal,
) -> StoreResult<()> {
    journaled!(store, journal, |conn| {
        diesel::insert_into(template_families::table)
            .values(family)
            .execute(&mut *conn)
            .await?;
        diesel::insert_into(templates::table)
            .values(first)
            .execute(&mut *conn)
            .await?;
    })
}

/// Adds a (draft) version to a family; CONFLICT when that version number exists.
pub async fn insert_version(
    store: &Store,
    row: &TemplateRow,
    journal: &Journal,
) -> StoreResult<()> {
    journaled!(store, journal, |conn| {
        diesel::insert_into(templates::table)
            .values(row)
            .execute(&mut *conn)
            .await?;
    })
}

/// Replaces a draft if it is still a draft last changed at `expected_updated_at`; false
/// when it was published or changed meanwhile.
pub async fn update_draft(
    store: &Store,
    row: &TemplateRow,
    expected_updated_at: NaiveDateTime,
    journal: &Journal,
) -> StoreResult<bool> {
    journaled!(store, journal, |conn| {
        let changed = diesel::update(
            templates::table
                .find(&row.id)
                .filter(templates::state.eq(DRAFT))
                .filter(templates::updated_at.eq(expected_updated_at)),
        )
        .set(row)
        .execute(&mut *conn)
        .await?;
        if changed == 0 {
            return Ok(false);
        }
        true
    })
}

/// DRAFT → PUBLISHED; the version becomes its family's current one. False when it was
/// no longer a draft.
pub async fn publish(
    store: &Store,
    id: &str,
    family_id: &str,
    at: NaiveDateTime,
    journal: &Journal,
) -> StoreResult<bool> {
    journaled!(store, journal, |conn| {
        let changed = diesel::update(templates::table.find(id).filter(templates::state.eq(DRAFT)))
            .set((
                templates::state.eq(PUBLISHED),
                templates::published_at.eq(Some(at)),
                templates::updated_at.eq(at),
            ))
            .execute(&mut *conn)
            .await?;
        if changed == 0 {
            return Ok(false);
        }
        // The published version becomes the family's current one.
        diesel::update(templates::table.filter(templates::family_id.eq(family_id)))
            .set(templates::is_current.eq(false))
            .execute(&mut *conn)
            .await?;
        diesel::update(templates::table.find(id))
            .set(templates::is_current.eq(true))
            .execute(&mut *conn)
            .await?;
        true
    })
}

/// PUBLISHED → DEPRECATED; false when it was not published.
pub async fn deprecate(
    store: &Store,
    id: &str,
    at: NaiveDateTime,
    journal: &Journal,
) -> StoreResult<bool> {
    journaled!(store, journal, |conn| {
        let changed = diesel::update(
            templates::table
                .find(id)
                .filter(templates::state.eq(PUBLISHED)),
        )
        .set((
            templates::state.eq(DEPRECATED),
            templates::deprecated_at.eq(Some(at)),
            templates::updated_at.eq(at),
        ))
        .execute(&mut *conn)
        .await?;
        if changed == 0 {
            return Ok(false);
        }
        true
    })
}

/// Replaces who a family is shared with.
pub async fn set_sharing(
    store: &Store,
    family_id: &str,
    all_projects: bool,
    projects: &[String],
    journal: &Journal,
) -> StoreResult<()> {
    journaled!(store, journal, |conn| {
        diesel::update(template_families::table.find(family_id))
            .set(template_families::shared_with_all.eq(all_projects))
            .execute(&mut *conn)
            .await?;
        diesel::delete(template_shares::table.filter(template_shares::family_id.eq(family_id)))
            .execute(&mut *conn)
            .await?;
        for project in projects {
            diesel::insert_into(template_shares::table)
                .values((
                    template_shares::family_id.eq(family_id),
                    template_shares::project_id.eq(project),
                ))
                .execute(&mut *conn)
                .await?;
        }
    })
}

/// What start-up did with one built-in template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Installed {
    /// The stored current version has this content already.
    Unchanged,
    /// A new version was written (the first, or the file changed); older ones are
    /// DEPRECATED.
    NewVersion(i32),
}

/// Built-in families' current content hashes, by slug (one read at start-up).
pub async fn builtin_hashes(store: &Store) -> StoreResult<Vec<(String, String)>> {
    with_read!(store, |conn| {
        Ok(templates::table
            .filter(templates::built_in.eq(true))
            .filter(templates::is_current.eq(true))
            .select((templates::slug, templates::content_hash))
            .load(conn)
            .await?)
    })
}

/// Writes a built-in template unless its current version has the same content. Several
/// replicas starting at once converge: the family and the version IDs are derived from
/// the slug and the content, so a second writer's inserts do nothing.
pub async fn install_builtin(
    store: &Store,
    family: &FamilyRow,
    version: &TemplateRow,
) -> StoreResult<Installed> {
    with_write!(store, |conn| {
        conn.transaction::<_, StoreError, _>(async |conn| {
            diesel::insert_into(template_families::table)
                .values(family)
                .on_conflict_do_nothing()
                .execute(&mut *conn)
                .await?;
            let existing: Vec<(String, String, i32)> = templates::table
                .filter(templates::family_id.eq(&family.id))
                .select((templates::id, templates::content_hash, templates::version))
                .load(&mut *conn)
                .await?;
            if existing
                .iter()
                .any(|(_, hash, _)| *hash == version.content_hash)
            {
                return Ok(Installed::Unchanged);
            }
            let next = existing.iter().map(|(_, _, v)| *v).max().unwrap_or(0) + 1;
            diesel::update(
                templates::table
                    .filter(templates::family_id.eq(&family.id))
                    .filter(templates::state.eq(PUBLISHED)),
            )
            .set((
                templates::state.eq(DEPRECATED),
                templates::deprecated_at.eq(Some(version.created_at)),
            ))
            .execute(&mut *conn)
            .await?;
            diesel::update(templates::table.filter(templates::family_id.eq(&family.id)))
                .set(templates::is_current.eq(false))
                .execute(&mut *conn)
                .await?;
            let mut row = version.clone();
            row.version = next;
            diesel::insert_into(templates::table)
                .values(&row)
                .on_conflict_do_nothing()
                .execute(&mut *conn)
                .await?;
            Ok(Installed::NewVersion(next))
        })
        .await
    })
}
