//! The `integrations` table.

use chrono::NaiveDateTime;
use diesel::expression_methods::EscapeExpressionMethods;
use diesel::{
    BoolExpressionMethods, ExpressionMethods, OptionalExtension, QueryDsl, SelectableHelper,
    TextExpressionMethods,
};
use diesel_async::{AsyncConnection, RunQueryDsl};

use super::schema::{integration_tags, integrations};
use super::{
    Backend, FixedSqlCondition, Journal, Page, PageRequest, Store, StoreResult, filtered_page,
    journaled, like_escape, lower, lower_nullable, strpos, strpos_nullable, with_read,
};

#[derive(
    Debug, Clone, diesel::Queryable, diesel::Selectable, diesel::Insertable, diesel::AsChangeset,
)]
#[diesel(table_name = integrations)]
#[diesel(treat_none_as_null = true)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct IntegrationRow {
    pub id: String,
    pub project_id: String,
    pub name: String,
    pub description: Option<String>,
    pub category: String,
    pub protocol: String,
    pub status: String,
    pub enabled: bool,
    pub auth_kind: String,
    /// JSON array of lowercase tags.
    pub tags: String,
    pub base_url: Option<String>,
    pub config: String,
    pub headers: String,
    pub timeout_ms: i32,
    pub retry_policy: String,
    pub rate_limit: Option<String>,
    pub cache_policy: String,
    pub created_by: String,
    pub version: i32,
    #[diesel(deserialize_as = super::timestamps::StoredTime)]
    pub created_at: NaiveDateTime,
    #[diesel(deserialize_as = super::timestamps::StoredTime)]
    pub updated_at: NaiveDateTime,
    /// JSON: transforms, error rules, connection check, absolute-URL switch.
    pub call_options: String,
    /// The template version the integration was made from.
    pub template_id: Option<String>,
}

/// Which integrations a listing wants (every part optional, all must hold).
#[derive(Debug, Default, Clone)]
pub struct IntegrationQuery {
    /// Restrict to these projects (`None`: every project).
    pub project_ids: Option<Vec<String>>,
    pub category: Option<String>,
    pub status: Option<String>,
    pub enabled: Option<bool>,
    /// One tag (already validated to `[a-z0-9._:-]`).
    pub tag: Option<String>,
    /// Case-insensitive substring of name or description.
    pub text: Option<String>,
    /// Made from any version of this template family.
    pub template_family: Option<String>,
}

pub async fn insert(store: &Store, row: &IntegrationRow, journal: &Journal) -> StoreResult<()> {
    insert_with_credentials(store, row, None, journal).await
}

/// Inserts an integration and its sealed credentials in one transaction (an integration
/// made from a template gets both at once, or neither).
pub async fn insert_with_credentials(
    store: &Store,
    row: &IntegrationRow,
    credentials: Option<&super::vault::CredentialRow>,
    journal: &Journal,
) -> StoreResult<()> {
    journaled!(store, journal, |conn| {
        diesel::insert_into(integrations::table)
            .values(row)
            .execute(&mut *conn)
            .await?;
        if let Some(credentials) = credentials {
            diesel::insert_into(super::schema::credentials::table)
                .values(credentials)
                .execute(&mut *conn)
                .await?;
        }
    })
}

/// Replaces a row if it is still at `expected_version`; false when it moved on or vanished.
pub async fn update(
    store: &Store,
    row: &IntegrationRow,
    expected_version: i32,
    journal: &Journal,
) -> StoreResult<bool> {
    journaled!(store, journal, |conn| {
        let changed = diesel::update(
            integrations::table
                .find(&row.id)
                .filter(integrations::version.eq(expected_version)),
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

/// Deletes a row; false when it did not exist.
pub async fn delete(store: &Store, id: &str, journal: &Journal) -> StoreResult<bool> {
    journaled!(store, journal, |conn| {
        let changed = diesel::delete(integrations::table.find(id))
            .execute(&mut *conn)
            .await?;
        if changed == 0 {
            return Ok(false);
        }
        true
    })
}

pub async fn get(store: &Store, id: &str) -> StoreResult<Option<IntegrationRow>> {
    with_read!(store, |conn| {
        Ok(integrations::table
            .find(id)
            .select(IntegrationRow::as_select())
            .first(conn)
            .await
            .optional()?)
    })
}

/// The SQLite text filter through the FTS5 trigram index (`integrations_fts`, migration
/// 2026-11-27-000011): the phrase is bound between these two halves.
const FTS_FILTER_HEAD: &str = "integrations.id IN (SELECT s.integration_id FROM integration_search s \
     WHERE s.search_id IN (SELECT rowid FROM integrations_fts WHERE integrations_fts MATCH ";
const FTS_FILTER_TAIL: &str = "))";

/// How the tag filter runs.
enum TagFilter {
    /// SQLite: the `integration_tags` rows of the tag, and of the category when the query
    /// has one (kept by triggers), in id order.
    Table(String),
    /// PostgreSQL: `tags::jsonb @> '["tag"]'` through the GIN index on `tags::jsonb`,
    /// which the planner ANDs with the other filters' bitmaps.
    Jsonb(String),
    /// PostgreSQL with a category too: the `"CATEGORY tag"` key of the expression GIN
    /// index `integration_category_tags(category, tags)` (migration 000013), the rows of
    /// the tag in the category only, as SQLite's tag table gives them.
    CategoryTag(String),
}

/// The PostgreSQL tag filters bound between these halves (see [`TagFilter`]).
const TAGS_CONTAIN: (&str, &str) = ("integrations.tags::jsonb @> ", "::jsonb");
const CATEGORY_TAGS_CONTAIN: (&str, &str) = (
    "integration_category_tags(integrations.category, integrations.tags) @> ARRAY[",
    "::text]",
);

/// How the text filter runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TextFilter {
    /// `lower(name) LIKE '%…%' OR lower(description) LIKE '%…%'` (escaped pattern). On
    /// PostgreSQL the trigram GIN indexes on both expressions serve it; on SQLite it runs
    /// on the rows the tag filter narrowed down, or for terms too short for trigrams.
    Like(String),
    /// SQLite: an FTS5 phrase over the trigram index of the lowercased texts, which finds
    /// exactly the rows the LIKE finds.
    Fts(String),
    /// PostgreSQL: `strpos(lower(name), …) > 0 OR strpos(lower(description), …) > 0` (the
    /// lowercased text), the same rows as the LIKE but out of the trigram indexes' reach.
    /// For rows a tag already narrowed down, and for terms too short for trigrams: the
    /// statement is prepared once and PostgreSQL then reuses a generic plan, which would
    /// put a trigram scan in front of a 1-character pattern (157 ms on 100,000 rows,
    /// every trigram entry) or of 48 tag rows (1 ms of 1.2).
    Contains(String),
}

/// Chooses how to run the text filter: `text` as given by the caller (not yet lowercased).
pub(crate) fn text_filter(backend: Backend, text: &str, narrowed_by_tag: bool) -> TextFilter {
    let lowered = text.to_lowercase();
    // Trigrams match nothing for phrases shorter than 3 characters (FTS5's tokenizer) or
    // scan every entry (pg_trgm). With a tag filter, the tag's index rows (few, in id order) drive the query and checking
    // the LIKE on them is cheaper than materialising every FTS match.
    let trigram_worthy = !narrowed_by_tag && lowered.chars().count() >= 3;
    match backend {
        Backend::Sqlite if trigram_worthy => TextFilter::Fts(fts_phrase(&lowered)),
        Backend::Postgres if !trigram_worthy => TextFilter::Contains(lowered),
        _ => TextFilter::Like(format!("%{}%", like_escape(&lowered))),
    }
}

/// An FTS5 string literal (a phrase): the whole text, double quotes doubled, no operators.
pub(crate) fn fts_phrase(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}

/// Lists integrations matching `query`, in creation order. Every filter is served by an
/// index (bench/README.md shows the plans): project, category, status, enabled and the
/// template each have an index ending in `id`; tags the `integration_tags` table (SQLite)
/// or a GIN index on `tags::jsonb` (PostgreSQL); text the FTS5 trigram index (SQLite) or
/// the trigram GIN indexes (PostgreSQL).
pub async fn page(
    store: &Store,
    query: &IntegrationQuery,
    request: &PageRequest,
) -> StoreResult<Page<IntegrationRow>> {
    let tag_filter = query.tag.as_deref().map(|tag| match store.backend() {
        Backend::Sqlite => TagFilter::Table(tag.to_owned()),
        Backend::Postgres => match &query.category {
            Some(category) => TagFilter::CategoryTag(format!("{category} {tag}")),
            None => TagFilter::Jsonb(serde_json::json!([tag]).to_string()),
        },
    });
    let text_filter = query
        .text
        .as_deref()
        .map(|text| text_filter(store.backend(), text, query.tag.is_some()));
    macro_rules! filtered {
        () => {{
            let mut q = integrations::table.into_boxed();
            if let Some(ids) = &query.project_ids {
                q = crate::store::filter_one_of!(q, integrations::project_id, ids);
            }
            if let Some(category) = &query.category {
                q = q.filter(integrations::category.eq(category));
            }
            if let Some(status) = &query.status {
                q = q.filter(integrations::status.eq(status));
            }
            if let Some(enabled) = query.enabled {
                q = q.filter(integrations::enabled.eq(enabled));
            }
            if let Some(family) = &query.template_family {
                use super::schema::templates;
                use diesel::NullableExpressionMethods;
                q = q.filter(
                    integrations::template_id.eq_any(
                        templates::table
                            .filter(templates::family_id.eq(family))
                            .select(templates::id.nullable()),
                    ),
                );
            }
            match &tag_filter {
                Some(TagFilter::Table(tag)) => {
                    let mut rows = integration_tags::table
                        .filter(integration_tags::tag.eq(tag))
                        .into_boxed();
                    // The tag's rows of the category only (migration 000012): the few the
                    // page keeps, instead of every row of the tag probed against the category.
                    if let Some(category) = &query.category {
                        rows = rows.filter(integration_tags::category.eq(category));
                    }
                    q = q.filter(
                        integrations::id.eq_any(rows.select(integration_tags::integration_id)),
                    );
                }
                Some(TagFilter::Jsonb(array)) => {
                    let (head, tail) = TAGS_CONTAIN;
                    q = q.filter(FixedSqlCondition::<integrations::table>::new(
                        head,
                        array.clone(),
                        tail,
                    ));
                }
                Some(TagFilter::CategoryTag(key)) => {
                    let (head, tail) = CATEGORY_TAGS_CONTAIN;
                    q = q.filter(FixedSqlCondition::<integrations::table>::new(
                        head,
                        key.clone(),
                        tail,
                    ));
                }
                None => {}
            }
            match &text_filter {
                Some(TextFilter::Like(pattern)) => {
                    q = q.filter(
                        lower(integrations::name)
                            .like(pattern)
                            .escape('\\')
                            .or(lower_nullable(integrations::description)
                                .like(pattern)
                                .escape('\\')),
                    );
                }
                Some(TextFilter::Contains(text)) => {
                    q = q.filter(strpos(lower(integrations::name), text).gt(0).or(
                        strpos_nullable(lower_nullable(integrations::description), text).gt(0),
                    ));
                }
                Some(TextFilter::Fts(phrase)) => {
                    q = q.filter(FixedSqlCondition::<integrations::table>::new(
                        FTS_FILTER_HEAD,
                        phrase.clone(),
                        FTS_FILTER_TAIL,
                    ));
                }
                None => {}
            }
            q
        }};
    }
    // Without a filter the total is the projects' counts (kept by triggers), not a count
    // of every row: the dashboard's lists ask for it on every refresh.
    let unfiltered = query.category.is_none()
        && query.status.is_none()
        && query.enabled.is_none()
        && query.tag.is_none()
        && query.text.is_none()
        && query.template_family.is_none();
    let from_counts = unfiltered && request.count_total;
    let rows_request = PageRequest {
        count_total: request.count_total && !from_counts,
        ..request.clone()
    };
    let page: StoreResult<Page<IntegrationRow>> = filtered_page!(
        store,
        &rows_request,
        integrations::id,
        IntegrationRow,
        filtered!()
    );
    let mut page = page?;
    if from_counts {
        // The rows loaded, the one beyond the page included, as `whole_result` counts them.
        let loaded = page.rows.len() + usize::from(page.has_more);
        page.total = Some(match crate::store::whole_result(request, loaded) {
            Some(all) => all,
            None => total(store, query.project_ids.as_deref()).await?,
        });
    }
    Ok(page)
}

/// The sum of `integration_counts.integrations` as a BIGINT (PostgreSQL's `SUM` of a BIGINT
/// is NUMERIC), 0 over no rows; the lists' totals and `stats` read it.
pub(crate) const COUNTS_SUM: crate::store::FixedSqlAggregate<
    diesel::sql_types::BigInt,
    super::schema::integration_counts::table,
> = crate::store::FixedSqlAggregate::new("CAST(COALESCE(SUM(integrations), 0) AS BIGINT)");

/// How many integrations `project_ids` (or every project) have, from `integration_counts`
/// (summed by the store: a project has a row per category, status, enabled and shard).
async fn total(store: &Store, project_ids: Option<&[String]>) -> StoreResult<i64> {
    use super::schema::integration_counts;
    with_read!(store, |conn| {
        let mut q = integration_counts::table.select(COUNTS_SUM).into_boxed();
        if let Some(ids) = project_ids {
            q = crate::store::filter_one_of!(q, integration_counts::project_id, ids);
        }
        Ok::<i64, super::StoreError>(q.get_result(conn).await?)
    })
}

/// Loads several integrations in one query (the data loader's batch).
pub async fn get_many(store: &Store, ids: &[String]) -> StoreResult<Vec<IntegrationRow>> {
    with_read!(store, |conn| {
        Ok(crate::store::LoadRows::load_rows(
            conn,
            integrations::table
                .filter(integrations::id.eq_any(ids))
                .select(IntegrationRow::as_select()),
        )
        .await?)
    })
}

/// IDs of a project's integrations (the alert evaluator's subjects of a project-wide rule).
pub async fn ids_of_project(store: &Store, project_id: &str) -> StoreResult<Vec<String>> {
    with_read!(store, |conn| {
        Ok(integrations::table
            .filter(integrations::project_id.eq(project_id))
            .select(integrations::id)
            .load(conn)
            .await?)
    })
}

#[cfg(test)]
mod tests {
    use diesel::connection::SimpleConnection;
    use diesel::{Connection, RunQueryDsl, SqliteConnection};
    use proptest::prelude::*;

    use super::{Backend, TextFilter, text_filter};

    #[derive(diesel::QueryableByName, Debug, PartialEq)]
    struct Hit {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        id: i32,
    }

    /// The migration's FTS5 table and a plain one holding the same rows.
    fn store_of(rows: &[(String, Option<String>)]) -> SqliteConnection {
        let mut conn = SqliteConnection::establish(":memory:").unwrap();
        conn.batch_execute(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL, description TEXT);
             CREATE VIRTUAL TABLE f USING fts5(name, description, tokenize = 'trigram case_sensitive 1');",
        )
        .unwrap();
        for (i, (name, description)) in rows.iter().enumerate() {
            let id = i32::try_from(i).unwrap();
            diesel::sql_query("INSERT INTO t VALUES (?, ?, ?)")
                .bind::<diesel::sql_types::Integer, _>(id)
                .bind::<diesel::sql_types::Text, _>(name)
                .bind::<diesel::sql_types::Nullable<diesel::sql_types::Text>, _>(description)
                .execute(&mut conn)
                .unwrap();
            diesel::sql_query(
                "INSERT INTO f (rowid, name, description) VALUES (?, lower(?), lower(?))",
            )
            .bind::<diesel::sql_types::Integer, _>(id)
            .bind::<diesel::sql_types::Text, _>(name)
            .bind::<diesel::sql_types::Nullable<diesel::sql_types::Text>, _>(description)
            .execute(&mut conn)
            .unwrap();
        }
        conn
    }

    fn like_hits(conn: &mut SqliteConnection, pattern: &str) -> Vec<Hit> {
        diesel::sql_query(
            "SELECT id FROM t WHERE lower(name) LIKE ?1 ESCAPE '\\' OR lower(description) LIKE ?1 ESCAPE '\\' ORDER BY id",
        )
        .bind::<diesel::sql_types::Text, _>(pattern)
        .load(conn)
        .unwrap()
    }

    fn fts_hits(conn: &mut SqliteConnection, phrase: &str) -> Vec<Hit> {
        diesel::sql_query("SELECT rowid AS id FROM f WHERE f MATCH ? ORDER BY rowid")
            .bind::<diesel::sql_types::Text, _>(phrase)
            .load(conn)
            .unwrap()
    }

    /// The counts' sum (lists' unfiltered totals, `stats`) is prepared once on both stores,
    /// as a `sql()` literal of the same text was not.
    #[test]
    fn the_counts_sum_keeps_statements_cacheable() {
        use super::COUNTS_SUM;
        use crate::store::schema::integration_counts as counts;
        use diesel::pg::Pg;
        use diesel::query_builder::QueryFragment;
        use diesel::sqlite::Sqlite;
        use diesel::{ExpressionMethods, QueryDsl};
        fn cacheable_pg(query: &impl QueryFragment<Pg>) -> bool {
            query.is_safe_to_cache_prepared(&Pg).unwrap()
        }
        fn cacheable_sqlite(query: &impl QueryFragment<Sqlite>) -> bool {
            query.is_safe_to_cache_prepared(&Sqlite).unwrap()
        }
        let total = counts::table
            .select(COUNTS_SUM)
            .filter(counts::project_id.eq("prj_1"))
            .into_boxed::<Pg>();
        assert!(cacheable_pg(&total));
        assert_eq!(
            diesel::debug_query::<Pg, _>(&total).to_string(),
            "SELECT CAST(COALESCE(SUM(integrations), 0) AS BIGINT) FROM \"integration_counts\" \
             WHERE (\"integration_counts\".\"project_id\" = $1) -- binds: [\"prj_1\"]"
        );
        let by_kind = counts::table
            .group_by((counts::category, counts::status, counts::enabled))
            .select((
                counts::category,
                counts::status,
                counts::enabled,
                COUNTS_SUM,
            ));
        assert!(cacheable_sqlite(&by_kind));
        let literal = counts::table
            .select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
                "CAST(COALESCE(SUM(integrations), 0) AS BIGINT)",
            ))
            .into_boxed::<Pg>();
        assert!(!cacheable_pg(&literal));
    }

    #[test]
    fn fixed_sql_conditions_keep_statements_cacheable() {
        use super::{FixedSqlCondition, TAGS_CONTAIN, integrations};
        use diesel::pg::Pg;
        use diesel::query_builder::QueryFragment;
        use diesel::{QueryDsl, sql_types};
        fn cacheable(query: &impl QueryFragment<Pg>) -> bool {
            query.is_safe_to_cache_prepared(&Pg).unwrap()
        }
        let array = "[\"team-042\"]".to_owned();
        let fixed = integrations::table
            .into_boxed::<Pg>()
            .filter(FixedSqlCondition::<integrations::table>::new(
                TAGS_CONTAIN.0,
                array.clone(),
                TAGS_CONTAIN.1,
            ))
            .select(integrations::id);
        assert!(cacheable(&fixed));
        assert!(
            diesel::debug_query::<Pg, _>(&fixed)
                .to_string()
                .contains("WHERE integrations.tags::jsonb @> $1::jsonb")
        );
        // What it replaces: the same text as a `sql()` literal is never cached, so each
        // execution was parsed and planned again.
        let literal = integrations::table
            .into_boxed::<Pg>()
            .filter(
                diesel::dsl::sql::<sql_types::Bool>(TAGS_CONTAIN.0)
                    .bind::<sql_types::Text, _>(array)
                    .sql(TAGS_CONTAIN.1),
            )
            .select(integrations::id);
        assert!(!cacheable(&literal));
    }

    /// A project-scoped caller's lists stay prepared once on SQLite: one project is `= ?`;
    /// `IN (?, …)` (several) is the statement diesel will not cache.
    #[test]
    fn one_project_scopes_a_cacheable_statement() {
        use super::integrations;
        use diesel::query_builder::QueryFragment;
        use diesel::sqlite::Sqlite;
        use diesel::{ExpressionMethods, QueryDsl};
        fn cacheable(query: &impl QueryFragment<Sqlite>) -> bool {
            query.is_safe_to_cache_prepared(&Sqlite).unwrap()
        }
        macro_rules! scoped {
            ($ids:expr) => {
                crate::store::filter_one_of!(
                    integrations::table.into_boxed::<Sqlite>(),
                    integrations::project_id,
                    $ids
                )
                .select(integrations::id)
                .limit(51)
            };
        }
        let (one_id, two_ids, no_ids) = (
            vec!["prj_a".to_owned()],
            vec!["prj_a".to_owned(), "prj_b".to_owned()],
            Vec::<String>::new(),
        );
        let one = scoped!(one_id);
        assert!(cacheable(&one));
        let sql = diesel::debug_query::<Sqlite, _>(&one).to_string();
        assert!(sql.contains("`integrations`.`project_id` = ?"), "{sql}");
        let two = scoped!(two_ids);
        assert!(!cacheable(&two));
        let sql = diesel::debug_query::<Sqlite, _>(&two).to_string();
        assert!(
            sql.contains("`integrations`.`project_id` IN (?, ?)"),
            "{sql}"
        );
        // No project at all matches nothing (diesel renders an empty IN as false).
        let none = scoped!(no_ids);
        let sql = diesel::debug_query::<Sqlite, _>(&none).to_string();
        assert!(sql.contains("1=0"), "{sql}");
    }

    #[test]
    fn the_bundled_sqlite_has_fts5() {
        #[derive(diesel::QueryableByName)]
        struct CompileOption {
            #[diesel(sql_type = diesel::sql_types::Text)]
            compile_options: String,
        }
        let mut conn = SqliteConnection::establish(":memory:").unwrap();
        let options: Vec<CompileOption> = diesel::sql_query("PRAGMA compile_options")
            .load(&mut conn)
            .unwrap();
        assert!(
            options.iter().any(|o| o.compile_options == "ENABLE_FTS5"),
            "FTS5 is compiled in"
        );
    }

    #[test]
    fn short_terms_and_tag_narrowed_queries_keep_the_like() {
        assert!(matches!(
            text_filter(Backend::Sqlite, "Jira", false),
            TextFilter::Fts(p) if p == "\"jira\""
        ));
        assert!(matches!(
            text_filter(Backend::Sqlite, "ji", false),
            TextFilter::Like(p) if p == "%ji%"
        ));
        assert!(matches!(
            text_filter(Backend::Sqlite, "Jira", true),
            TextFilter::Like(p) if p == "%jira%"
        ));
        assert!(matches!(
            text_filter(Backend::Postgres, "50%_a\"", false),
            TextFilter::Like(p) if p == "%50\\%\\_a\"%"
        ));
        assert!(matches!(
            text_filter(Backend::Postgres, "Jira", true),
            TextFilter::Contains(t) if t == "jira"
        ));
        assert!(matches!(
            text_filter(Backend::Postgres, "5%", false),
            TextFilter::Contains(t) if t == "5%"
        ));
        assert!(matches!(
            text_filter(Backend::Sqlite, "say \"hi\"", false),
            TextFilter::Fts(p) if p == "\"say \"\"hi\"\"\""
        ));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// The FTS5 phrase finds exactly the rows the LIKE finds, whatever the characters
        /// (wildcards, quotes, backslashes, spaces, case, non-ASCII).
        #[test]
        fn the_fts_phrase_finds_what_the_like_finds(
            rows in prop::collection::vec(
                ("[aAbB _%\"\\\\éÉ1]{0,12}", prop::option::of("[aAbB _%\"\\\\éÉ1]{0,12}")),
                1..12,
            ),
            term in "[aAbB _%\"\\\\éÉ1]{3,6}",
        ) {
            let mut conn = store_of(&rows);
            let TextFilter::Fts(phrase) = text_filter(Backend::Sqlite, &term, false) else {
                panic!("a term of 3 characters or more goes through FTS");
            };
            let TextFilter::Like(pattern) = text_filter(Backend::Sqlite, &term, true) else {
                panic!("a tag-narrowed query keeps the LIKE");
            };
            prop_assert_eq!(fts_hits(&mut conn, &phrase), like_hits(&mut conn, &pattern));
        }
    }
}
