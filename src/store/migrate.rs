//! Embedded migrations for both backends, applied at start-up and by `patchbay migrate`.

use std::time::Duration;

use diesel::migration::MigrationSource;
use diesel::{Connection, SqliteConnection};
use diesel_async::{AsyncConnection, AsyncMigrationHarness, AsyncPgConnection, RunQueryDsl};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use super::{Backend, DatabaseTarget, Store, StoreError, StoreResult, with_read};

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");
/// Serialises migrations of several replicas starting on one fresh database.
const MIGRATION_LOCK_KEY: i64 = 0x7061_7463_6862_6179; // "patchbay"
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);

/// What a migration command did.
#[derive(Debug, Default)]
pub struct MigrationReport {
    pub applied: Vec<String>,
}

fn migration_error(err: impl std::fmt::Display) -> StoreError {
    StoreError::Setup(format!("migration failed: {err}"))
}

/// The version of the newest embedded migration of a backend.
pub(super) fn latest_version(backend: Backend) -> StoreResult<String> {
    let names = match backend {
        Backend::Sqlite => {
            MigrationSource::<diesel::sqlite::Sqlite>::migrations(&SQLITE_MIGRATIONS)
                .map_err(migration_error)?
                .iter()
                .map(|m| m.name().version().to_string())
                .collect::<Vec<_>>()
        }
        Backend::Postgres => MigrationSource::<diesel::pg::Pg>::migrations(&POSTGRES_MIGRATIONS)
            .map_err(migration_error)?
            .iter()
            .map(|m| m.name().version().to_string())
            .collect(),
    };
    names
        .into_iter()
        .max()
        .ok_or_else(|| StoreError::Setup("no migrations embedded".into()))
}

#[derive(diesel::QueryableByName)]
struct AppliedVersion {
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    version: Option<String>,
}

/// The newest applied migration version, `None` on an empty database.
pub(super) async fn latest_applied(store: &Store) -> StoreResult<Option<String>> {
    let query = diesel::sql_query("SELECT MAX(version) AS version FROM __diesel_schema_migrations");
    with_read!(store, |conn| {
        let row: AppliedVersion = query.get_result(conn).await?;
        Ok(row.version)
    })
}

/// Applies every pending migration.
pub async fn run_pending(target: &DatabaseTarget) -> StoreResult<MigrationReport> {
    run(target, false).await
}

/// Reverts the newest applied migration.
pub async fn revert_last(target: &DatabaseTarget) -> StoreResult<MigrationReport> {
    run(target, true).await
}

async fn run(target: &DatabaseTarget, revert: bool) -> StoreResult<MigrationReport> {
    match target {
        DatabaseTarget::Sqlite(path) => {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|e| {
                    StoreError::Setup(format!(
                        "cannot create the data directory {}: {e}",
                        dir.display()
                    ))
                })?;
            }
            let path = path.clone();
            tokio::task::spawn_blocking(move || {
                let url = path.to_string_lossy().into_owned();
                let mut conn = SqliteConnection::establish(&url).map_err(|e| {
                    StoreError::Setup(format!(
                        "cannot open the SQLite database {}: {e}",
                        path.display()
                    ))
                })?;
                // Probe writability now: a read-only file would otherwise fail mid-migration.
                diesel::connection::SimpleConnection::batch_execute(
                    &mut conn,
                    "PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; \
                     CREATE TABLE IF NOT EXISTS __patchbay_write_probe (x INTEGER); \
                     DROP TABLE __patchbay_write_probe;",
                )
                .map_err(|e| {
                    StoreError::Setup(format!(
                        "the SQLite database {} is not writable: {e}",
                        path.display()
                    ))
                })?;
                apply(&mut conn, SQLITE_MIGRATIONS, revert)
            })
            .await
            .map_err(|e| StoreError::Setup(format!("migration task failed: {e}")))?
        }
        DatabaseTarget::Postgres(url) => {
            let mut conn = connect_pg(url).await?;
            diesel::sql_query(format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})"))
                .execute(&mut conn)
                .await?;
            let mut harness = AsyncMigrationHarness::new(conn);
            let result = apply(&mut harness, POSTGRES_MIGRATIONS, revert);
            let mut conn = harness.into_inner();
            diesel::sql_query(format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})"))
                .execute(&mut conn)
                .await?;
            result
        }
    }
}

fn apply<DB: diesel::backend::Backend>(
    harness: &mut impl MigrationHarness<DB>,
    migrations: EmbeddedMigrations,
    revert: bool,
) -> StoreResult<MigrationReport>
where
    EmbeddedMigrations: MigrationSource<DB>,
{
    let applied = if revert {
        vec![
            harness
                .revert_last_migration(migrations)
                .map_err(migration_error)?,
        ]
    } else {
        harness
            .run_pending_migrations(migrations)
            .map_err(migration_error)?
    };
    Ok(MigrationReport {
        applied: applied.iter().map(ToString::to_string).collect(),
    })
}

/// Opens a dedicated PostgreSQL connection with a clear error and a bounded wait.
pub async fn connect_pg(url: &str) -> StoreResult<AsyncPgConnection> {
    let describe = super::redact_url(url);
    match tokio::time::timeout(CONNECT_TIMEOUT, AsyncPgConnection::establish(url)).await {
        Ok(Ok(conn)) => Ok(conn),
        Ok(Err(e)) => Err(StoreError::Setup(format!(
            "cannot connect to PostgreSQL at {describe}: {}",
            scrub(&e.to_string(), url)
        ))),
        Err(_) => Err(StoreError::Setup(format!(
            "cannot connect to PostgreSQL at {describe}: no answer within {}s",
            CONNECT_TIMEOUT.as_secs()
        ))),
    }
}

/// Removes the URL's password from a driver message, in case it echoes it.
fn scrub(message: &str, url: &str) -> String {
    match url::Url::parse(url)
        .ok()
        .and_then(|u| u.password().map(str::to_owned))
    {
        Some(password) if !password.is_empty() => message.replace(&password, "***"),
        _ => message.to_owned(),
    }
}
