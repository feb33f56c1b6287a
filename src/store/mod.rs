//! The store: one code path over SQLite (default, embedded) and PostgreSQL.
//!
//! Error policy: store functions return [`StoreError`]; the API edge maps it once
//! (see `crate::error`). Query bodies are written once and run on either backend
//! through [`with_read!`]/[`with_write!`], which borrow a concrete connection.
//! SQLite gets a single-connection write pool (writes serialise in-process instead of
//! failing with SQLITE_BUSY) and a read pool; PostgreSQL uses one pool for both.

pub mod alerts;
pub mod audit;
pub mod events;
pub mod executions;
mod group_commit;
pub mod health;
pub mod integrations;
pub mod jobs;
pub mod logs;
mod migrate;
pub mod oauth_states;
pub mod pg;
pub mod projects;
mod rows;
mod timestamps;
pub(crate) use rows::LoadRows;
pub mod schema;
pub mod stats;
pub mod syncs;
pub mod templates;
pub mod tokens;
pub mod vault;
pub mod webhooks;

use std::path::{Path, PathBuf};
use std::time::Duration;

use diesel::SqliteConnection;
use diesel_async::AsyncPgConnection;
use diesel_async::pooled_connection::deadpool::{Hook, HookError, Pool};
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, PoolError, RecyclingMethod,
};
use diesel_async::sync_connection_wrapper::SyncConnectionWrapper;
use futures_util::FutureExt;

pub use migrate::{MigrationReport, connect_pg, revert_last, run_pending};

/// The SQLite connection as diesel-async drives it (on a blocking thread).
pub type SqliteConn = SyncConnectionWrapper<SqliteConnection>;

const POOL_WAIT: Duration = Duration::from_secs(10);
/// A pooled connection idle for longer than this is checked with `SELECT 1` before it is
/// handed out; one in steady use is not (HikariCP's "alive bypass window"). diesel-async's
/// default checks every checkout: a round trip per statement, three per list page.
const VERIFY_IDLE_AFTER: Duration = Duration::from_secs(1);
/// `busy_timeout` comes first: until it is set SQLite answers "database is locked" at once,
/// and `journal_mode` needs the file's lock, which a closing connection's WAL checkpoint (a
/// restart on the same file) holds for a moment.
const SQLITE_PRAGMAS: &str = "PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; \
     PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;";

/// Errors of the store layer.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("record not found")]
    NotFound,
    #[error("conflicts with an existing record ({0})")]
    Conflict(String),
    #[error("database error: {0}")]
    Query(#[source] diesel::result::Error),
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("stored value of {column} is not valid: {message}")]
    Corrupt {
        column: &'static str,
        message: String,
    },
    #[error("{0}")]
    Setup(String),
}

impl From<diesel::result::Error> for StoreError {
    fn from(err: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match err {
            Error::NotFound => StoreError::NotFound,
            Error::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
                StoreError::Conflict(info.constraint_name().unwrap_or("unique").to_owned())
            }
            other => StoreError::Query(other),
        }
    }
}

impl StoreError {
    pub(crate) fn pool(err: impl std::fmt::Display) -> Self {
        StoreError::Unavailable(err.to_string())
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Which database backs the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Where the store lives, parsed from `DATABASE_URL` (or the data directory).
#[derive(Clone)]
pub enum DatabaseTarget {
    Sqlite(PathBuf),
    Postgres(String),
}

impl std::fmt::Debug for DatabaseTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

impl DatabaseTarget {
    /// Parses a database URL; `None` means the default SQLite file under `data_dir`.
    pub fn parse(url: Option<&str>, data_dir: &Path) -> Result<Self, StoreError> {
        let Some(url) = url.map(str::trim).filter(|u| !u.is_empty()) else {
            return Ok(DatabaseTarget::Sqlite(data_dir.join("patchbay.db")));
        };
        if let Some(rest) = url.strip_prefix("sqlite:") {
            let path = rest.strip_prefix("//").unwrap_or(rest);
            if path.is_empty() {
                return Err(StoreError::Setup(
                    "DATABASE_URL `sqlite:` needs a file path, e.g. sqlite://./data/patchbay.db"
                        .into(),
                ));
            }
            return Ok(DatabaseTarget::Sqlite(PathBuf::from(path)));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let parsed = url::Url::parse(url).map_err(|e| {
                StoreError::Setup(format!("DATABASE_URL is not a valid PostgreSQL URL: {e}"))
            })?;
            if parsed.host_str().is_none_or(str::is_empty) {
                return Err(StoreError::Setup("DATABASE_URL has no host".into()));
            }
            return Ok(DatabaseTarget::Postgres(url.to_owned()));
        }
        Err(StoreError::Setup(
            "DATABASE_URL must start with postgres://, postgresql:// or sqlite:".into(),
        ))
    }

    /// A printable description that never includes a password.
    pub fn describe(&self) -> String {
        match self {
            DatabaseTarget::Sqlite(path) => format!("SQLite file {}", path.display()),
            DatabaseTarget::Postgres(url) => format!("PostgreSQL {}", redact_url(url)),
        }
    }
}

/// Replaces the password of a URL with `***`.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) => {
            if parsed.password().is_some() {
                let _ = parsed.set_password(Some("***"));
            }
            parsed.to_string()
        }
        Err(_) => "<unparseable url>".to_owned(),
    }
}

pub(crate) enum Pools {
    Postgres(Pool<AsyncPgConnection>),
    Sqlite(SqlitePools),
}

/// SQLite: many readers, one writer.
pub(crate) struct SqlitePools {
    read: Pool<SqliteConn>,
    write: Pool<SqliteConn>,
}

impl SqlitePools {
    pub(crate) fn read(&self) -> &Pool<SqliteConn> {
        &self.read
    }

    pub(crate) fn write(&self) -> &Pool<SqliteConn> {
        &self.write
    }
}

/// A handle on the database; cheap to clone.
#[derive(Clone)]
pub struct Store {
    pools: std::sync::Arc<Pools>,
    target: DatabaseTarget,
    latest_migration: std::sync::Arc<str>,
    /// Standalone journals waiting to be written together.
    group_commit: std::sync::Arc<group_commit::GroupCommit>,
}

/// Rows per multi-row INSERT (PostgreSQL allows 65,535 bound values per statement).
pub(crate) const ROWS_PER_INSERT: usize = 1000;

impl Store {
    /// Opens the store and applies pending migrations: the start-up path.
    pub async fn open(target: DatabaseTarget, pool_size: usize) -> Result<Self, StoreError> {
        migrate::run_pending(&target).await?;
        Self::connect(target, pool_size).await
    }

    /// Opens pools without migrating (the CLI's `migrate --revert` path uses this).
    pub async fn connect(target: DatabaseTarget, pool_size: usize) -> Result<Self, StoreError> {
        let pools = match &target {
            DatabaseTarget::Postgres(url) => {
                let mut config = ManagerConfig::<AsyncPgConnection>::default();
                config.recycling_method = RecyclingMethod::Fast;
                let manager = AsyncDieselConnectionManager::new_with_config(url.clone(), config);
                Pools::Postgres(build_pool(manager, pool_size.max(1))?)
            }
            DatabaseTarget::Sqlite(path) => {
                let url = path.to_string_lossy().into_owned();
                let read = build_pool(sqlite_manager(&url), pool_size.max(1))?;
                let write = build_pool(sqlite_manager(&url), 1)?;
                Pools::Sqlite(SqlitePools { read, write })
            }
        };
        let store = Store {
            pools: std::sync::Arc::new(pools),
            latest_migration: migrate::latest_version(target.backend())?.into(),
            group_commit: std::sync::Arc::default(),
            target,
        };
        store.ping().await?;
        Ok(store)
    }

    pub(crate) fn pools(&self) -> &Pools {
        &self.pools
    }

    pub fn backend(&self) -> Backend {
        self.target.backend()
    }

    pub fn target(&self) -> &DatabaseTarget {
        &self.target
    }

    /// Checks the store answers a trivial query.
    pub async fn ping(&self) -> StoreResult<()> {
        use diesel_async::RunQueryDsl;
        with_read!(self, |conn| {
            diesel::sql_query("SELECT 1").execute(conn).await?;
            Ok(())
        })
    }

    /// True when every embedded migration has been applied (for `/readyz`).
    pub async fn migrations_current(&self) -> StoreResult<bool> {
        let applied = migrate::latest_applied(self).await?;
        Ok(applied.as_deref() == Some(&*self.latest_migration))
    }
}

impl DatabaseTarget {
    pub fn backend(&self) -> Backend {
        match self {
            DatabaseTarget::Sqlite(_) => Backend::Sqlite,
            DatabaseTarget::Postgres(_) => Backend::Postgres,
        }
    }
}

fn sqlite_manager(url: &str) -> AsyncDieselConnectionManager<SqliteConn> {
    let mut config = ManagerConfig::<SqliteConn>::default();
    config.recycling_method = RecyclingMethod::Fast;
    config.custom_setup = Box::new(|url| {
        async move {
            use diesel_async::{AsyncConnection, SimpleAsyncConnection};
            let mut conn = SqliteConn::establish(url).await?;
            conn.batch_execute(SQLITE_PRAGMAS)
                .await
                .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
            Ok(conn)
        }
        .boxed()
    });
    AsyncDieselConnectionManager::new_with_config(url, config)
}

/// A pool whose manager recycles with `RecyclingMethod::Fast` (a broken transaction or a
/// closed PostgreSQL socket still discards the connection) plus [`verify_when_idle`].
fn build_pool<C>(manager: AsyncDieselConnectionManager<C>, size: usize) -> StoreResult<Pool<C>>
where
    C: diesel_async::AsyncConnection + Send + 'static,
    diesel::query_builder::SqlQuery: diesel_async::methods::ExecuteDsl<C>,
    AsyncDieselConnectionManager<C>: deadpool::managed::Manager<Type = C, Error = PoolError>,
{
    Pool::builder(manager)
        .max_size(size)
        .pre_recycle(verify_when_idle::<C>())
        .runtime(deadpool::Runtime::Tokio1)
        .wait_timeout(Some(POOL_WAIT))
        .create_timeout(Some(POOL_WAIT))
        .build()
        .map_err(|e| StoreError::Setup(format!("cannot build the connection pool: {e}")))
}

/// `SELECT 1` on a connection about to be handed out that has been idle longer than
/// [`VERIFY_IDLE_AFTER`]; a failure discards it and the pool takes or opens another.
fn verify_when_idle<C>() -> Hook<C>
where
    C: diesel_async::AsyncConnection + Send + 'static,
    diesel::query_builder::SqlQuery: diesel_async::methods::ExecuteDsl<C>,
    AsyncDieselConnectionManager<C>: deadpool::managed::Manager<Type = C, Error = PoolError>,
{
    Hook::async_fn(|conn: &mut C, metrics| {
        let idle = metrics.last_used() >= VERIFY_IDLE_AFTER;
        Box::pin(async move {
            if idle {
                use diesel_async::RunQueryDsl;
                diesel::sql_query("SELECT 1")
                    .execute(conn)
                    .await
                    .map_err(|e| HookError::Backend(PoolError::QueryError(e)))?;
            }
            Ok(())
        })
    })
}

/// Runs `$body` with `$conn` bound to a pooled connection fit for reading.
#[macro_export]
#[doc(hidden)]
macro_rules! with_read {
    ($store:expr, |$conn:ident| $body:block) => {
        $crate::__with_conn!($store, read, |$conn| $body)
    };
}

/// Runs `$body` with `$conn` bound to a pooled connection fit for writing.
#[macro_export]
#[doc(hidden)]
macro_rules! with_write {
    ($store:expr, |$conn:ident| $body:block) => {
        $crate::__with_conn!($store, write, |$conn| $body)
    };
}

#[macro_export]
#[doc(hidden)]
macro_rules! __with_conn {
    ($store:expr, $mode:ident, |$conn:ident| $body:block) => {{
        match $store.pools() {
            $crate::store::Pools::Postgres(pool) => {
                let mut guard = pool.get().await.map_err($crate::store::StoreError::pool)?;
                let $conn: &mut diesel_async::AsyncPgConnection = &mut guard;
                $body
            }
            $crate::store::Pools::Sqlite(sqlite) => {
                let mut guard = sqlite
                    .$mode()
                    .get()
                    .await
                    .map_err($crate::store::StoreError::pool)?;
                let $conn: &mut $crate::store::SqliteConn = &mut guard;
                $body
            }
        }
    }};
}

pub(crate) use with_read;
pub(crate) use with_write;

/// `$query` (boxed) filtered to rows whose `$column` is one of `$ids`: `= ?` for a single id
/// (a project-scoped caller's case), `IN (…)` otherwise. diesel renders `IN` on SQLite with one
/// placeholder per id and marks the statement uncacheable, so every scoped list was parsed and
/// planned again on each call; `= ?` is prepared once.
macro_rules! filter_one_of {
    ($query:expr, $column:expr, $ids:expr) => {
        match &$ids[..] {
            [one] => $query.filter($column.eq(one)),
            ids => $query.filter($column.eq_any(ids)),
        }
    };
}
pub(crate) use filter_one_of;

/// Decodes a JSON text column, reporting which column held bad data.
pub(crate) fn decode_json<T: serde::de::DeserializeOwned>(
    column: &'static str,
    text: &str,
) -> StoreResult<T> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt {
        column,
        message: e.to_string(),
    })
}

diesel::define_sql_function! {
    /// SQL `lower()`, the same on both backends (for case-insensitive search).
    fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text;
}
diesel::define_sql_function! {
    /// SQL `lower()` of a nullable column.
    #[sql_name = "lower"]
    fn lower_nullable(x: diesel::sql_types::Nullable<diesel::sql_types::Text>) -> diesel::sql_types::Nullable<diesel::sql_types::Text>;
}

/// A condition of fixed SQL text around one bound text value, for what diesel's DSL cannot
/// spell (`tags::jsonb @> $1::jsonb`, an FTS5 `MATCH` subquery). diesel's `sql()` literals
/// make the whole statement uncacheable (it cannot know their text is fixed), so every
/// execution was parsed and planned again; this text is `'static`, so the prepared statement
/// is cached like any other.
#[derive(Debug, Clone)]
pub(crate) struct FixedSqlCondition<Table> {
    pub head: &'static str,
    pub value: String,
    pub tail: &'static str,
    pub table: std::marker::PhantomData<Table>,
}

impl<Table> FixedSqlCondition<Table> {
    pub fn new(head: &'static str, value: String, tail: &'static str) -> Self {
        Self {
            head,
            value,
            tail,
            table: std::marker::PhantomData,
        }
    }
}

impl<Table> diesel::Expression for FixedSqlCondition<Table> {
    type SqlType = diesel::sql_types::Bool;
}

impl<Table> diesel::AppearsOnTable<Table> for FixedSqlCondition<Table> {}

impl<Table> diesel::SelectableExpression<Table> for FixedSqlCondition<Table> {}

impl<Table> diesel::expression::ValidGrouping<()> for FixedSqlCondition<Table> {
    type IsAggregate = diesel::expression::is_aggregate::Never;
}

// No static query id: the statement cache keys it by its SQL text, which differs per use.
impl<Table> diesel::query_builder::QueryId for FixedSqlCondition<Table> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Table, DB> diesel::query_builder::QueryFragment<DB> for FixedSqlCondition<Table>
where
    DB: diesel::backend::Backend,
    String: diesel::serialize::ToSql<diesel::sql_types::Text, DB>,
{
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, DB>,
    ) -> diesel::QueryResult<()> {
        out.push_sql(self.head);
        out.push_bind_param::<diesel::sql_types::Text, _>(&self.value)?;
        out.push_sql(self.tail);
        Ok(())
    }
}

/// An aggregate of fixed SQL text and type `ST` on `Table`, for what diesel's DSL types
/// awkwardly (PostgreSQL's `SUM` of a BIGINT is NUMERIC): like [`FixedSqlCondition`], the
/// text is `'static`, so the statement stays cacheable where a `sql()` literal would be
/// parsed and planned on every execution.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FixedSqlAggregate<ST, Table> {
    sql: &'static str,
    marker: std::marker::PhantomData<(ST, Table)>,
}

impl<ST, Table> FixedSqlAggregate<ST, Table> {
    pub const fn new(sql: &'static str) -> Self {
        Self {
            sql,
            marker: std::marker::PhantomData,
        }
    }
}

impl<ST: diesel::expression::TypedExpressionType, Table> diesel::Expression
    for FixedSqlAggregate<ST, Table>
{
    type SqlType = ST;
}

impl<ST, Table> diesel::AppearsOnTable<Table> for FixedSqlAggregate<ST, Table> where
    Self: diesel::Expression
{
}

impl<ST, Table> diesel::SelectableExpression<Table> for FixedSqlAggregate<ST, Table> where
    Self: diesel::Expression
{
}

impl<ST, Table, GroupBy> diesel::expression::ValidGrouping<GroupBy>
    for FixedSqlAggregate<ST, Table>
{
    type IsAggregate = diesel::expression::is_aggregate::Yes;
}

// No static query id, as for FixedSqlCondition: the cache keys the statement by its text.
impl<ST, Table> diesel::query_builder::QueryId for FixedSqlAggregate<ST, Table> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<ST, Table, DB> diesel::query_builder::QueryFragment<DB> for FixedSqlAggregate<ST, Table>
where
    DB: diesel::backend::Backend,
{
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, DB>,
    ) -> diesel::QueryResult<()> {
        out.push_sql(self.sql);
        Ok(())
    }
}

diesel::define_sql_function! {
    /// PostgreSQL's `strpos()`: the 1-based position of `needle` in `text`, 0 if absent.
    fn strpos(text: diesel::sql_types::Text, needle: diesel::sql_types::Text) -> diesel::sql_types::Integer;
}
diesel::define_sql_function! {
    /// `strpos()` in a nullable text.
    #[sql_name = "strpos"]
    fn strpos_nullable(text: diesel::sql_types::Nullable<diesel::sql_types::Text>, needle: diesel::sql_types::Text) -> diesel::sql_types::Nullable<diesel::sql_types::Integer>;
}

/// Escapes `%`, `_` and `\` for a LIKE pattern used with `ESCAPE '\'`.
pub(crate) fn like_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    for ch in text.chars() {
        if matches!(ch, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(ch);
    }
    out
}

/// The current time, truncated to microseconds (what both backends store).
pub fn now() -> chrono::NaiveDateTime {
    let now = chrono::Utc::now().naive_utc();
    now.with_nanosecond_truncated()
}

trait TruncateMicros {
    fn with_nanosecond_truncated(self) -> Self;
}

impl TruncateMicros for chrono::NaiveDateTime {
    fn with_nanosecond_truncated(self) -> Self {
        use chrono::Timelike;
        let micros = self.nanosecond() / 1_000 * 1_000;
        self.with_nanosecond(micros).unwrap_or(self)
    }
}

/// Declares a closed set stored as its SCREAMING_CASE name and exposed as a GraphQL enum.
macro_rules! stored_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, async_graphql::Enum,
            strum::EnumString, strum::IntoStaticStr, serde::Serialize, serde::Deserialize,
        )]
        #[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
        #[serde(rename_all = "SCREAMING_SNAKE_CASE")]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            /// The stored (and GraphQL) name.
            pub fn as_str(self) -> &'static str {
                self.into()
            }

            /// Decodes a stored value.
            pub fn from_stored(column: &'static str, value: &str) -> Result<Self, $crate::store::StoreError> {
                value.parse().map_err(|_| $crate::store::StoreError::Corrupt {
                    column,
                    message: format!("unknown value `{value}`"),
                })
            }
        }
    };
}
pub(crate) use stored_enum;

/// One page of a keyset-paginated listing (IDs sort by creation, so they are the keys).
#[derive(Debug, Clone, Default)]
pub struct PageRequest {
    pub after: Option<String>,
    pub before: Option<String>,
    /// Rows wanted (the query fetches one more to learn whether more exist).
    pub limit: i64,
    /// `last`/`before` paging: take rows from the end.
    pub from_end: bool,
    /// Also count every matching row (a second query; only when a client asks).
    pub count_total: bool,
}

/// A page of rows in ascending ID order.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub rows: Vec<T>,
    /// More rows exist in the paging direction.
    pub has_more: bool,
    /// Every matching row, when the request asked for the count.
    pub total: Option<i64>,
}

impl<T> Page<T> {
    pub(crate) fn from_rows(mut rows: Vec<T>, total: Option<i64>, request: &PageRequest) -> Self {
        let limit = usize::try_from(request.limit).unwrap_or(0);
        let has_more = rows.len() > limit;
        rows.truncate(limit);
        if request.from_end {
            rows.reverse();
        }
        Page {
            rows,
            has_more,
            total,
        }
    }

    /// Converts every row, failing on the first row that does not convert.
    pub fn try_map<U, E>(self, f: impl FnMut(T) -> Result<U, E>) -> Result<Page<U>, E> {
        Ok(Page {
            rows: self.rows.into_iter().map(f).collect::<Result<_, E>>()?,
            has_more: self.has_more,
            total: self.total,
        })
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            rows: self.rows.into_iter().map(f).collect(),
            has_more: self.has_more,
            total: self.total,
        }
    }
}

/// Applies keyset bounds, order and limit (+1) of a [`PageRequest`] to a boxed query.
macro_rules! paged {
    ($query:expr, $id:expr, $request:expr) => {{
        let request: &$crate::store::PageRequest = $request;
        let mut q = $query;
        if let Some(after) = &request.after {
            q = q.filter($id.gt(after.clone()));
        }
        if let Some(before) = &request.before {
            q = q.filter($id.lt(before.clone()));
        }
        let q = if request.from_end {
            q.order($id.desc())
        } else {
            q.order($id.asc())
        };
        q.limit(request.limit + 1)
    }};
}
pub(crate) use paged;

/// What every mutation leaves besides its change: log entries and an audit record,
/// written in the same transaction (the outbox rule).
#[derive(Debug, Clone)]
pub struct Journal {
    pub logs: Vec<logs::LogRow>,
    pub audit: audit::AuditRow,
    /// Outbox events of the change (published and delivered after commit).
    pub events: Vec<events::EventRow>,
}

/// Inserts a [`Journal`] on the connection of the surrounding transaction.
macro_rules! write_journal {
    ($conn:ident, $journal:expr) => {{
        let journal: &$crate::store::Journal = $journal;
        for log in &journal.logs {
            diesel::insert_into($crate::store::schema::logs::table)
                .values(log)
                .execute(&mut *$conn)
                .await?;
        }
        diesel::insert_into($crate::store::schema::audit_log::table)
            .values(&journal.audit)
            .execute(&mut *$conn)
            .await?;
        for event in &journal.events {
            diesel::insert_into($crate::store::schema::events::table)
                .values(event)
                .execute(&mut *$conn)
                .await?;
        }
    }};
}
pub(crate) use write_journal;

/// Runs `$body` and writes `$journal` in one write transaction (the outbox rule): the
/// shape of every journaled change. `$body` may `return` early (nothing is journaled
/// then); its value is the result.
macro_rules! journaled {
    ($store:expr, $journal:expr, |$conn:ident| $body:block) => {
        $crate::store::with_write!($store, |conn| {
            conn.transaction::<_, $crate::store::StoreError, _>(async |$conn| {
                let result = $body;
                $crate::store::write_journal!($conn, $journal);
                Ok(result)
            })
            .await
        })
    };
}
pub(crate) use journaled;

/// One page of a filtered listing: loads the page, then counts the matches when the
/// request asks for it. `$filtered` builds the boxed, filtered query (it is expanded
/// twice: once to page, once to count). A first page without cursors that holds every
/// match (no more rows than asked for) is its own count: no second query then.
macro_rules! filtered_page {
    ($store:expr, $request:expr, $id:expr, $row:ty, $filtered:expr) => {{
        let request: &$crate::store::PageRequest = $request;
        $crate::store::with_read!($store, |conn| {
            let rows: Vec<$row> = $crate::store::LoadRows::load_rows(
                conn,
                $crate::store::paged!($filtered, $id, request).select(<$row>::as_select()),
            )
            .await?;
            let total: Option<i64> = if !request.count_total {
                None
            } else if let Some(all) = $crate::store::whole_result(request, rows.len()) {
                Some(all)
            } else {
                Some($filtered.count().get_result(conn).await?)
            };
            Ok($crate::store::Page::from_rows(rows, total, request))
        })
    }};
}
pub(crate) use filtered_page;

/// The number of matches when a page's `loaded` rows are all of them: a request without
/// cursors got no more rows than it asked for (the query asks for one more).
pub(crate) fn whole_result(request: &PageRequest, loaded: usize) -> Option<i64> {
    let limit = usize::try_from(request.limit).ok()?;
    (request.after.is_none() && request.before.is_none() && loaded <= limit)
        .then(|| i64::try_from(loaded).ok())
        .flatten()
}

/// Deletes rows of a per-integration table beyond the newest `keep` per integration and
/// older than a cutoff (retention of logs, execution records, …). IDs sort by creation.
macro_rules! prune_per_integration {
    ($store:expr, $table:ident, $integration:expr, $id:expr, $at:expr, $keep:expr, $cutoff:expr) => {{
        use diesel::NullableExpressionMethods;
        let keep: i64 = $keep;
        let crowded: Vec<Option<String>> = $crate::store::with_read!($store, |conn| {
            $table::table
                .group_by($integration)
                .having(diesel::dsl::count_star().gt(keep))
                .select($integration.nullable())
                .load(conn)
                .await
        })?;
        let mut removed = 0;
        $crate::store::with_write!($store, |conn| {
            removed += diesel::delete($table::table.filter($at.lt($cutoff)))
                .execute(conn)
                .await?;
            for integration_id in crowded.iter().flatten() {
                // The id of the oldest row to keep; everything before it goes.
                let boundary: Option<String> = $table::table
                    .filter($integration.eq(integration_id))
                    .order($id.desc())
                    .offset(keep - 1)
                    .select($id)
                    .first(conn)
                    .await
                    .optional()?;
                if let Some(boundary) = boundary {
                    removed += diesel::delete(
                        $table::table
                            .filter($integration.eq(integration_id))
                            .filter($id.lt(boundary)),
                    )
                    .execute(conn)
                    .await?;
                }
            }
            Ok(removed)
        })
    }};
}
pub(crate) use prune_per_integration;

/// A fresh PostgreSQL database for a unit test, on the server of `PATCHBAY_TEST_DATABASE_URL`.
#[cfg(test)]
pub(crate) struct TestDatabase {
    pub url: String,
    pub name: String,
    admin: AsyncPgConnection,
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
impl TestDatabase {
    /// The database, or `None` after a loud SKIPPED line when the variable is not set.
    pub async fn create(test: &str) -> Option<Self> {
        let Ok(admin_url) = std::env::var("PATCHBAY_TEST_DATABASE_URL") else {
            eprintln!(
                "\n*** SKIPPED: PATCHBAY_TEST_DATABASE_URL is not set; the PostgreSQL {test} \
                 test did not run ***\n"
            );
            return None;
        };
        let name = format!("patchbay_unit_{}", uuid::Uuid::new_v4().simple());
        let mut db = TestDatabase {
            url: String::new(),
            admin: connect_pg(&admin_url).await.unwrap(),
            name,
        };
        db.admin_execute(&format!("CREATE DATABASE {}", db.name))
            .await;
        let mut url = url::Url::parse(&admin_url).unwrap();
        url.set_path(&db.name);
        db.url = url.to_string();
        Some(db)
    }

    /// Runs a statement on the administrative connection (outside the test database).
    pub async fn admin_execute(&mut self, sql: &str) {
        use diesel_async::RunQueryDsl;
        diesel::sql_query(sql)
            .execute(&mut self.admin)
            .await
            .unwrap();
    }

    pub async fn drop_database(mut self) {
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        self.admin_execute(&sql).await;
    }
}

#[cfg(test)]
mod tests {
    use super::{PageRequest, whole_result};

    #[test]
    fn a_first_page_with_every_match_is_its_own_count() {
        let first = |limit| PageRequest {
            limit,
            count_total: true,
            ..PageRequest::default()
        };
        assert_eq!(whole_result(&first(50), 13), Some(13));
        assert_eq!(whole_result(&first(50), 50), Some(50));
        assert_eq!(whole_result(&first(50), 0), Some(0));
        // One more than asked for: more exist, count them.
        assert_eq!(whole_result(&first(50), 51), None);
        assert_eq!(whole_result(&first(0), 1), None);
        // Pages after or before a cursor do not see the rows on the other side.
        let after = PageRequest {
            after: Some("int_1".into()),
            ..first(50)
        };
        assert_eq!(whole_result(&after, 3), None);
        let before = PageRequest {
            before: Some("int_9".into()),
            from_end: true,
            ..first(50)
        };
        assert_eq!(whole_result(&before, 3), None);
    }

    /// Checkouts skip the `SELECT 1` of a connection in steady use; a connection the server
    /// dropped must still never be handed out (closed socket, or verified after idling).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres_connections_the_server_dropped_are_replaced() {
        let Some(mut db) = super::TestDatabase::create("pool recycling").await else {
            return;
        };
        let store = super::Store::connect(super::DatabaseTarget::Postgres(db.url.clone()), 2)
            .await
            .unwrap();
        let terminate = format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = '{}' AND pid <> pg_backend_pid()",
            db.name
        );
        for pause in [
            std::time::Duration::from_millis(100),
            super::VERIFY_IDLE_AFTER + std::time::Duration::from_millis(200),
        ] {
            // Both pooled connections open, then dropped by the server.
            tokio::try_join!(store.ping(), store.ping()).unwrap();
            db.admin_execute(&terminate).await;
            tokio::time::sleep(pause).await;
            tokio::try_join!(store.ping(), store.ping())
                .unwrap_or_else(|e| panic!("after {pause:?}: {e}"));
        }
        drop(store);
        db.drop_database().await;
    }

    /// A new connection waits for a lock another connection holds for a moment (a restart
    /// meets the old pool's closing checkpoint) instead of failing with "database is locked".
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite_connections_wait_for_a_briefly_held_lock() {
        use diesel::{Connection, connection::SimpleConnection};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("patchbay.db");
        let target = super::DatabaseTarget::Sqlite(path.clone());
        drop(super::Store::open(target.clone(), 2).await.unwrap());

        let (locked, is_locked) = std::sync::mpsc::channel();
        let holder = std::thread::spawn(move || {
            let mut conn = diesel::SqliteConnection::establish(&path.to_string_lossy()).unwrap();
            // Exclusive locking mode in WAL keeps even readers out until the connection closes.
            conn.batch_execute("PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE; COMMIT;")
                .unwrap();
            locked.send(()).unwrap();
            std::thread::sleep(std::time::Duration::from_millis(300));
        });
        is_locked.recv().unwrap();
        let store = super::Store::connect(target, 2).await;
        holder.join().unwrap();
        store.expect("the connection waited for the lock");
    }
}
