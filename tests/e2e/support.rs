//! The test harness: a real server on 127.0.0.1:0 over a fresh store (a temp SQLite
//! file, or a fresh PostgreSQL database created for the test and dropped afterwards),
//! and a real HTTP client.

use std::io::Write;
use std::sync::Once;

use patchbay::config::{Config, Settings};
use patchbay::domain::access::{Caller, Role};
use patchbay::domain::tokens;
use patchbay::server::RunningServer;
use serde_json::{Value, json};

pub const PG_ENV: &str = "PATCHBAY_TEST_DATABASE_URL";

/// Part of every credential value the tests set; no response or log may ever contain it.
pub const SECRET_MARKER: &str = "zz-secret-marker-5b1e";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Generates one test per backend from an `async fn name(backend: Backend)`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::support::Backend::Sqlite).await
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if $crate::support::postgres_available(stringify!($name)) {
                        super::$name($crate::support::Backend::Postgres).await
                    }
                }
            )+
        }
    };
}

/// Whether the PostgreSQL suite runs; says so loudly (past the test harness's output
/// capture) when it does not.
pub fn postgres_available(test: &str) -> bool {
    if std::env::var(PG_ENV).is_ok_and(|v| !v.is_empty()) {
        return true;
    }
    static WARN: Once = Once::new();
    WARN.call_once(|| {
        let _ = writeln!(
            std::io::stderr(),
            "\n*** SKIPPED: the PostgreSQL suite did not run ({PG_ENV} is not set).\n\
             *** Set it to a server this test may create databases on, e.g.\n\
             ***   {PG_ENV}=postgres://postgres@127.0.0.1:5432/postgres cargo test\n"
        );
    });
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED postgres::{test}: {PG_ENV} is not set"
    );
    false
}

/// A PostgreSQL database that exists for one test.
pub struct PgDatabase {
    admin_url: String,
    name: String,
    pub url: String,
}

impl PgDatabase {
    pub async fn create() -> Self {
        let admin_url = std::env::var(PG_ENV).expect("PATCHBAY_TEST_DATABASE_URL");
        let name = format!("patchbay_test_{}", uuid_simple());
        let mut conn = patchbay::store::connect_pg(&admin_url)
            .await
            .unwrap_or_else(|e| panic!("{PG_ENV} is set but PostgreSQL is unreachable: {e}"));
        use diesel_async::RunQueryDsl;
        diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await
            .expect("create the test database");
        let mut url = url::Url::parse(&admin_url).expect("valid PostgreSQL URL");
        url.set_path(&name);
        PgDatabase {
            admin_url,
            name,
            url: url.to_string(),
        }
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let name = self.name.clone();
        // Drop runs outside any async context we may block; use a private runtime.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(async move {
                use diesel_async::RunQueryDsl;
                let mut conn = patchbay::store::connect_pg(&admin_url).await.ok()?;
                diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut conn)
                    .await
                    .ok()
            })
        })
        .join();
        if !matches!(dropped, Ok(Some(_))) {
            let _ = writeln!(
                std::io::stderr(),
                "warning: could not drop test database {}",
                self.name
            );
        }
    }
}

fn uuid_simple() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// Where a test server keeps its data.
pub enum TestStore {
    Sqlite(tempfile::TempDir),
    /// The database, and a data directory for the master key file.
    Postgres(PgDatabase, tempfile::TempDir),
}

impl TestStore {
    pub async fn new(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => TestStore::Sqlite(tempfile::tempdir().expect("temp dir")),
            Backend::Postgres => TestStore::Postgres(
                PgDatabase::create().await,
                tempfile::tempdir().expect("temp dir"),
            ),
        }
    }

    pub fn settings(&self) -> Settings {
        let mut settings = Settings {
            listen: Some("127.0.0.1:0".parse().unwrap()),
            db_pool_size: Some(4),
            // Tests call local endpoints (OAuth2 token servers) on 127.0.0.1.
            allow_private_networks: Some(true),
            ..Settings::default()
        };
        match self {
            TestStore::Sqlite(dir) => settings.data_dir = Some(dir.path().to_path_buf()),
            TestStore::Postgres(db, dir) => {
                settings.database_url = Some(db.url.clone());
                settings.data_dir = Some(dir.path().to_path_buf());
            }
        }
        settings
    }
}

/// A running server with an ADMIN token and an HTTP client.
pub struct TestServer {
    pub server: Option<RunningServer>,
    pub url: String,
    pub admin: String,
    pub http: reqwest::Client,
    pub store: TestStore,
}

impl TestServer {
    pub async fn start(backend: Backend) -> Self {
        Self::start_with(backend, |_| {}).await
    }

    pub async fn start_with(backend: Backend, adjust: impl FnOnce(&mut Settings)) -> Self {
        let store = TestStore::new(backend).await;
        let mut settings = store.settings();
        adjust(&mut settings);
        let config = Config::from_settings(settings).expect("valid test config");
        let server = patchbay::server::start(config)
            .await
            .expect("server starts");
        let admin = server
            .bootstrap_token
            .as_ref()
            .expect("a fresh store creates the first admin token")
            .secret
            .clone();
        TestServer {
            url: format!("http://{}", server.addr),
            server: Some(server),
            admin,
            http: reqwest::Client::new(),
            store,
        }
    }

    pub fn app(&self) -> &patchbay::app::App {
        &self.server.as_ref().expect("running").app
    }

    pub fn graphql_url(&self) -> String {
        format!("{}/graphql", self.url)
    }

    /// POSTs a GraphQL request as `application/json`; returns the body. Every response
    /// of the suite is checked for [`SECRET_MARKER`], which only credential values carry.
    pub async fn gql(&self, token: &str, query: &str, variables: Value) -> Value {
        let response = self
            .http
            .post(self.graphql_url())
            .bearer_auth(token)
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .expect("request sent");
        let text = response.text().await.expect("body");
        assert!(
            !text.contains(SECRET_MARKER),
            "a secret leaked into a response: {text}"
        );
        serde_json::from_str(&text).expect("JSON body")
    }

    /// Like [`Self::gql`], but fails the test on any error; returns `data`.
    pub async fn ok(&self, token: &str, query: &str, variables: Value) -> Value {
        let body = self.gql(token, query, variables).await;
        assert!(body.get("errors").is_none(), "unexpected errors: {body:#}");
        body["data"].clone()
    }

    /// Creates a token directly in the store (as the local operator would).
    pub async fn token(&self, role: Role, project: Option<&str>) -> String {
        tokens::create(
            &self.app().store,
            &Caller::local_operator(),
            "test",
            role,
            project,
        )
        .await
        .expect("token created")
        .secret
    }

    pub async fn create_project(&self, name: &str) -> String {
        let data = self
            .ok(
                &self.admin,
                "mutation($n: String!) { createProject(input: { name: $n }) { project { id } } }",
                json!({ "n": name }),
            )
            .await;
        data["createProject"]["project"]["id"]
            .as_str()
            .expect("project id")
            .to_owned()
    }

    pub async fn create_integration(&self, project: &str, name: &str) -> String {
        let data = self
            .ok(
                &self.admin,
                "mutation($p: ID!, $n: String!) { createIntegration(input: { projectId: $p, name: $n, category: PROJECT_MANAGEMENT }) { integration { id } } }",
                json!({ "p": project, "n": name }),
            )
            .await;
        data["createIntegration"]["integration"]["id"]
            .as_str()
            .expect("integration id")
            .to_owned()
    }

    /// Stops the server gracefully and starts a new one on the same store (same data
    /// directory and master key); the admin token stays valid.
    pub async fn restart(mut self) -> Self {
        if let Some(server) = self.server.take() {
            server.stop().await;
        }
        let config = Config::from_settings(self.store.settings()).expect("valid test config");
        let server = patchbay::server::start(config)
            .await
            .expect("server restarts");
        self.url = format!("http://{}", server.addr);
        self.server = Some(server);
        self
    }

    /// Kills the server as a crash would (every task aborted, nothing handed over) and
    /// starts a new one on the same store.
    pub async fn crash_and_restart(mut self) -> Self {
        if let Some(server) = self.server.take() {
            server.kill().await;
        }
        let config = Config::from_settings(self.store.settings()).expect("valid test config");
        let server = patchbay::server::start(config)
            .await
            .expect("server restarts");
        self.url = format!("http://{}", server.addr);
        self.server = Some(server);
        self
    }

    pub async fn stop(mut self) {
        if let Some(server) = self.server.take() {
            server.stop().await;
        }
    }
}

/// The `extensions.code` of the first error.
pub fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("<none>")
}

/// How many integrations the store holds (to prove a refused write wrote nothing).
pub async fn integration_count(server: &TestServer) -> i64 {
    let data = server
        .ok(&server.admin, "{ integrations { totalCount } }", json!({}))
        .await;
    data["integrations"]["totalCount"].as_i64().expect("count")
}
