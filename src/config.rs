//! One typed configuration, loaded once: built-in defaults, then an optional TOML file
//! (`--config`), then `PATCHBAY_*` environment variables and command-line flags.
//! Every setting is documented here (it becomes `--help`) and in `config.default.toml`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use serde::Deserialize;

use crate::store::DatabaseTarget;

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Pretty,
    /// One JSON object per line.
    Json,
}

/// Settings as given on the command line, in the environment, or in the TOML file.
/// Every field is optional here; [`Config::resolve`] fills in defaults.
#[derive(Debug, Default, Clone, clap::Args, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// TOML file with settings (flags and environment variables override it).
    #[arg(long, env = "PATCHBAY_CONFIG", global = true, value_name = "FILE")]
    #[serde(skip)]
    pub config: Option<PathBuf>,

    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, env = "PATCHBAY_LISTEN", global = true, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,

    /// Directory for patchbay's files (the SQLite database, key file) [default: ./data].
    #[arg(long, env = "PATCHBAY_DATA_DIR", global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// postgres://user:pass@host/db for PostgreSQL, or sqlite://path; unset: SQLite file
    /// <data-dir>/patchbay.db. `DATABASE_URL` is read too.
    #[arg(
        long,
        env = "PATCHBAY_DATABASE_URL",
        global = true,
        hide_env_values = true,
        value_name = "URL"
    )]
    pub database_url: Option<String>,

    /// Connections per database pool [default: 10].
    #[arg(long, env = "PATCHBAY_DB_POOL_SIZE", global = true, value_name = "N")]
    pub db_pool_size: Option<usize>,

    /// Log format [default: pretty].
    #[arg(long, env = "PATCHBAY_LOG_FORMAT", global = true, value_enum)]
    pub log_format: Option<LogFormat>,

    /// Log filter, in tracing's EnvFilter syntax (e.g. `info,patchbay=debug`) [default: info].
    #[arg(long, env = "PATCHBAY_LOG_LEVEL", global = true, value_name = "FILTER")]
    pub log_level: Option<String>,

    /// URL under which users reach this server, for printed links [default: http://<listen>].
    #[arg(long, env = "PATCHBAY_PUBLIC_URL", global = true, value_name = "URL")]
    pub public_url: Option<String>,

    /// Largest accepted request body in bytes [default: 1048576].
    #[arg(
        long,
        env = "PATCHBAY_MAX_BODY_BYTES",
        global = true,
        value_name = "BYTES"
    )]
    pub max_body_bytes: Option<usize>,

    /// Deepest accepted GraphQL selection nesting, leaf fields counted [default: 16; the
    /// introspection query of GraphiQL and graphql-js nests 15 deep].
    #[arg(
        long,
        env = "PATCHBAY_MAX_QUERY_DEPTH",
        global = true,
        value_name = "N"
    )]
    pub max_query_depth: Option<usize>,

    /// Highest accepted GraphQL query complexity (connections count `first` × children)
    /// [default: 20000].
    #[arg(
        long,
        env = "PATCHBAY_MAX_QUERY_COMPLEXITY",
        global = true,
        value_name = "N"
    )]
    pub max_query_complexity: Option<usize>,

    /// Allow schema introspection (GraphiQL needs it) [default: true].
    #[arg(
        long,
        env = "PATCHBAY_INTROSPECTION",
        global = true,
        value_name = "BOOL",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true",
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    pub introspection: Option<bool>,

    /// Time limit of one HTTP request in seconds [default: 30].
    #[arg(
        long,
        env = "PATCHBAY_REQUEST_TIMEOUT_SECS",
        global = true,
        value_name = "SECS"
    )]
    pub request_timeout_secs: Option<u64>,

    /// Log entries kept per integration; older ones are pruned [default: 1000].
    #[arg(
        long,
        env = "PATCHBAY_LOG_RETENTION_PER_INTEGRATION",
        global = true,
        value_name = "N"
    )]
    pub log_retention_per_integration: Option<i64>,

    /// Log entries older than this many days are pruned [default: 30].
    #[arg(
        long,
        env = "PATCHBAY_LOG_RETENTION_DAYS",
        global = true,
        value_name = "DAYS"
    )]
    pub log_retention_days: Option<i64>,

    /// Passphrase the master key is derived from (PBKDF2-HMAC-SHA256); takes precedence
    /// over the key file. Only from the environment or the config file, never a flag.
    #[arg(skip)]
    pub master_key: Option<String>,

    /// Bearer token `GET /metrics` requires (`PATCHBAY_METRICS_TOKEN`; unset: open, like
    /// `/healthz`). Only from the environment or the config file, never a flag.
    #[arg(skip)]
    pub metrics_token: Option<String>,

    /// File holding the 32-byte master key [default: <data-dir>/master.key, created on
    /// first start when no master key is configured].
    #[arg(
        long,
        env = "PATCHBAY_MASTER_KEY_FILE",
        global = true,
        value_name = "FILE"
    )]
    pub master_key_file: Option<PathBuf>,

    /// Allow outgoing calls to loopback and private addresses (local development, tests)
    /// [default: false].
    #[arg(
        long,
        env = "PATCHBAY_ALLOW_PRIVATE_NETWORKS",
        global = true,
        value_name = "BOOL",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true",
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    pub allow_private_networks: Option<bool>,

    /// Serve the API (GraphQL, subscriptions, incoming webhooks, dashboard) in this
    /// process. Alone (without `--worker`) it runs no background work: an API-only
    /// replica for a PostgreSQL deployment. Neither flag: both roles [default: false].
    #[arg(
        long,
        env = "PATCHBAY_API",
        global = true,
        value_name = "BOOL",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true",
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    pub api: Option<bool>,

    /// Run the background work (event dispatch, webhook deliveries, health checks, alert
    /// evaluation, syncs, retention) in this process. Alone (without `--api`) the HTTP
    /// listener serves only /healthz, /readyz and /metrics: a worker-only replica for a
    /// PostgreSQL deployment. Neither flag: both roles [default: false].
    #[arg(
        long,
        env = "PATCHBAY_WORKER",
        global = true,
        value_name = "BOOL",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true",
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    pub worker: Option<bool>,

    /// Refresh OAuth2 access tokens this many seconds before they expire [default: 300].
    #[arg(
        long,
        env = "PATCHBAY_OAUTH_REFRESH_SKEW_SECS",
        global = true,
        value_name = "SECS"
    )]
    pub oauth_refresh_skew_secs: Option<u64>,

    /// Events a slow subscriber may fall behind before it is told it lagged [default: 1024].
    #[arg(long, env = "PATCHBAY_EVENT_BUFFER", global = true, value_name = "N")]
    pub event_buffer: Option<usize>,

    /// CIDR ranges outgoing calls may reach even though they are private (comma-separated,
    /// e.g. `10.20.0.0/16,fd00::/8`); narrower than --allow-private-networks [default: none].
    #[arg(
        long,
        env = "PATCHBAY_OUTBOUND_ALLOW_CIDRS",
        global = true,
        value_name = "CIDRS",
        value_delimiter = ','
    )]
    pub outbound_allow_cidrs: Option<Vec<ipnet::IpNet>>,

    /// Redirects an outgoing call follows, each re-checked by the SSRF guard; 0 returns the
    /// 3xx response as is [default: 5].
    #[arg(
        long,
        env = "PATCHBAY_OUTBOUND_MAX_REDIRECTS",
        global = true,
        value_name = "N"
    )]
    pub outbound_max_redirects: Option<u32>,

    /// Longest a call waits for its integration's rate limit (or an upstream's announced
    /// reset) before it fails RATE_LIMITED, in milliseconds [default: 5000].
    #[arg(
        long,
        env = "PATCHBAY_OUTBOUND_QUEUE_WAIT_MS",
        global = true,
        value_name = "MS"
    )]
    pub outbound_queue_wait_ms: Option<u64>,

    /// Largest response body kept from an outgoing call; longer bodies are cut and flagged
    /// `truncated` [default: 1048576].
    #[arg(
        long,
        env = "PATCHBAY_OUTBOUND_MAX_RESPONSE_BYTES",
        global = true,
        value_name = "BYTES"
    )]
    pub outbound_max_response_bytes: Option<usize>,

    /// Longest upstream `Retry-After` a retry waits for; longer ones end the call with
    /// RATE_LIMITED and the upstream's retryAfterSeconds [default: 30].
    #[arg(
        long,
        env = "PATCHBAY_OUTBOUND_MAX_RETRY_AFTER_SECS",
        global = true,
        value_name = "SECS"
    )]
    pub outbound_max_retry_after_secs: Option<u64>,

    /// Consecutive failures (network, timeout, 5xx) that open an integration's circuit
    /// [default: 5].
    #[arg(
        long,
        env = "PATCHBAY_CIRCUIT_FAILURE_THRESHOLD",
        global = true,
        value_name = "N"
    )]
    pub circuit_failure_threshold: Option<u32>,

    /// Failure percentage over the last `circuit_window` calls that opens the circuit
    /// (judged once half the window is filled) [default: 50].
    #[arg(
        long,
        env = "PATCHBAY_CIRCUIT_FAILURE_RATE",
        global = true,
        value_name = "PERCENT"
    )]
    pub circuit_failure_rate: Option<u32>,

    /// Calls the failure rate is measured over [default: 20].
    #[arg(long, env = "PATCHBAY_CIRCUIT_WINDOW", global = true, value_name = "N")]
    pub circuit_window: Option<u32>,

    /// Seconds an open circuit rejects calls before one probe is let through [default: 30].
    #[arg(
        long,
        env = "PATCHBAY_CIRCUIT_COOLDOWN_SECS",
        global = true,
        value_name = "SECS"
    )]
    pub circuit_cooldown_secs: Option<u64>,

    /// Execution records kept per integration; older ones are pruned [default: 10000].
    #[arg(
        long,
        env = "PATCHBAY_EXECUTION_RETENTION_PER_INTEGRATION",
        global = true,
        value_name = "N"
    )]
    pub execution_retention_per_integration: Option<i64>,

    /// Execution records older than this many days are pruned [default: 7].
    #[arg(
        long,
        env = "PATCHBAY_EXECUTION_RETENTION_DAYS",
        global = true,
        value_name = "DAYS"
    )]
    pub execution_retention_days: Option<i64>,

    /// Time limit of one webhook delivery attempt in seconds [default: 15].
    #[arg(
        long,
        env = "PATCHBAY_WEBHOOK_TIMEOUT_SECS",
        global = true,
        value_name = "SECS"
    )]
    pub webhook_timeout_secs: Option<u64>,

    /// Delays before each delivery attempt in seconds, comma-separated; the first is the
    /// initial attempt, jittered ±20% [default: 0,5,300,1800,7200,18000,36000,36000].
    #[arg(
        long,
        env = "PATCHBAY_WEBHOOK_RETRY_SCHEDULE_SECS",
        global = true,
        value_name = "SECS,…",
        value_delimiter = ','
    )]
    pub webhook_retry_schedule_secs: Option<Vec<u64>>,

    /// Failed attempts in a row that disable an endpoint [default: 50].
    #[arg(
        long,
        env = "PATCHBAY_WEBHOOK_DISABLE_AFTER_FAILURES",
        global = true,
        value_name = "N"
    )]
    pub webhook_disable_after_failures: Option<i32>,

    /// Hours of uninterrupted failure that disable an endpoint [default: 120].
    #[arg(
        long,
        env = "PATCHBAY_WEBHOOK_DISABLE_AFTER_HOURS",
        global = true,
        value_name = "HOURS"
    )]
    pub webhook_disable_after_hours: Option<i64>,

    /// Deliveries in flight at once to one endpoint [default: 8].
    #[arg(
        long,
        env = "PATCHBAY_WEBHOOK_ENDPOINT_CONCURRENCY",
        global = true,
        value_name = "N"
    )]
    pub webhook_endpoint_concurrency: Option<usize>,

    /// Hours a rotated-out webhook secret keeps signing beside the new one [default: 24].
    #[arg(
        long,
        env = "PATCHBAY_WEBHOOK_SECRET_GRACE_HOURS",
        global = true,
        value_name = "HOURS"
    )]
    pub webhook_secret_grace_hours: Option<i64>,

    /// Days events, deliveries and attempts are kept [default: 30].
    #[arg(
        long,
        env = "PATCHBAY_WEBHOOK_RETENTION_DAYS",
        global = true,
        value_name = "DAYS"
    )]
    pub webhook_retention_days: Option<i64>,

    /// Seconds between evaluations of metric alert rules (latency, error and success
    /// rate; m-of-n counts evaluations) [default: 15].
    #[arg(
        long,
        env = "PATCHBAY_ALERT_EVALUATION_SECS",
        global = true,
        value_name = "SECS"
    )]
    pub alert_evaluation_secs: Option<u64>,
}

/// The resolved, validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub database: DatabaseTarget,
    pub db_pool_size: usize,
    pub log_format: LogFormat,
    pub log_level: String,
    pub public_url: Option<String>,
    pub max_body_bytes: usize,
    pub max_query_depth: usize,
    pub max_query_complexity: usize,
    pub introspection: bool,
    pub request_timeout: Duration,
    pub log_retention_per_integration: i64,
    pub log_retention_days: i64,
    pub event_buffer: usize,
    pub master_key: Option<secrecy::SecretString>,
    pub master_key_file: Option<PathBuf>,
    pub metrics_token: Option<secrecy::SecretString>,
    pub allow_private_networks: bool,
    /// What this process runs (`--api` / `--worker`).
    pub roles: Roles,
    pub oauth_refresh_skew: Duration,
    pub outbound: OutboundConfig,
    pub webhooks: WebhookConfig,
    /// How often metric alert rules are evaluated.
    pub alert_evaluation: Duration,
}

/// What one process runs. A single server runs both; a PostgreSQL deployment may split
/// them into API-only and worker-only replicas that scale apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Roles {
    /// GraphQL, subscriptions, incoming webhooks, OAuth2 callback, dashboard.
    pub api: bool,
    /// Event dispatch, deliveries, health checks, alert evaluation, syncs, retention.
    pub workers: bool,
}

impl Roles {
    /// `--api` and/or `--worker`; neither (or both) means both roles.
    pub fn from_flags(api: Option<bool>, worker: Option<bool>) -> Self {
        let (api, worker) = (api.unwrap_or(false), worker.unwrap_or(false));
        if api || worker {
            Roles {
                api,
                workers: worker,
            }
        } else {
            Roles {
                api: true,
                workers: true,
            }
        }
    }

    /// Whether this process runs only part of the product.
    pub fn is_split(&self) -> bool {
        !(self.api && self.workers)
    }

    pub fn describe(&self) -> &'static str {
        match (self.api, self.workers) {
            (true, false) => "API only (--api)",
            (false, true) => "workers only (--worker)",
            _ => "API and workers",
        }
    }
}

/// Settings of webhook delivery.
#[derive(Debug, Clone)]
pub struct WebhookConfig {
    pub timeout: Duration,
    pub retry_schedule: Vec<Duration>,
    pub disable_after_failures: i32,
    pub disable_after: chrono::Duration,
    pub endpoint_concurrency: usize,
    pub secret_grace_hours: i64,
    pub retention_days: i64,
}

/// Settings of the outbound execution engine.
#[derive(Debug, Clone)]
pub struct OutboundConfig {
    pub allow_cidrs: Vec<ipnet::IpNet>,
    pub max_redirects: u32,
    pub queue_wait: Duration,
    pub max_response_bytes: usize,
    pub max_retry_after: Duration,
    pub circuit_failure_threshold: u32,
    pub circuit_failure_rate: u32,
    pub circuit_window: u32,
    pub circuit_cooldown: Duration,
    pub execution_retention_per_integration: i64,
    pub execution_retention_days: i64,
}

impl Config {
    /// Merges flags/environment over the optional TOML file over the defaults, and validates.
    pub fn resolve(cli: &Settings) -> anyhow::Result<Self> {
        let file = match &cli.config {
            Some(path) => Self::read_file(path)?,
            None => Settings::default(),
        };
        let mut cli = cli.clone();
        // A passphrase never travels on a command line (visible to every local user).
        cli.metrics_token = std::env::var("PATCHBAY_METRICS_TOKEN")
            .ok()
            .filter(|v| !v.is_empty());
        cli.master_key = std::env::var("PATCHBAY_MASTER_KEY")
            .ok()
            .filter(|v| !v.is_empty());
        let cli = &cli;
        let database_url = cli
            .database_url
            .clone()
            .or_else(|| std::env::var("DATABASE_URL").ok().filter(|v| !v.is_empty()))
            .or(file.database_url.clone());
        let pick = |a: &Settings, b: &Settings| Settings {
            config: None,
            listen: a.listen.or(b.listen),
            data_dir: a.data_dir.clone().or(b.data_dir.clone()),
            database_url: database_url.clone(),
            db_pool_size: a.db_pool_size.or(b.db_pool_size),
            log_format: a.log_format.or(b.log_format),
            log_level: a.log_level.clone().or(b.log_level.clone()),
            public_url: a.public_url.clone().or(b.public_url.clone()),
            max_body_bytes: a.max_body_bytes.or(b.max_body_bytes),
            max_query_depth: a.max_query_depth.or(b.max_query_depth),
            max_query_complexity: a.max_query_complexity.or(b.max_query_complexity),
            introspection: a.introspection.or(b.introspection),
            request_timeout_secs: a.request_timeout_secs.or(b.request_timeout_secs),
            log_retention_per_integration: a
                .log_retention_per_integration
                .or(b.log_retention_per_integration),
            log_retention_days: a.log_retention_days.or(b.log_retention_days),
            event_buffer: a.event_buffer.or(b.event_buffer),
            master_key: a.master_key.clone().or(b.master_key.clone()),
            metrics_token: a.metrics_token.clone().or(b.metrics_token.clone()),
            master_key_file: a.master_key_file.clone().or(b.master_key_file.clone()),
            allow_private_networks: a.allow_private_networks.or(b.allow_private_networks),
            api: a.api.or(b.api),
            worker: a.worker.or(b.worker),
            oauth_refresh_skew_secs: a.oauth_refresh_skew_secs.or(b.oauth_refresh_skew_secs),
            outbound_allow_cidrs: a
                .outbound_allow_cidrs
                .clone()
                .or(b.outbound_allow_cidrs.clone()),
            outbound_max_redirects: a.outbound_max_redirects.or(b.outbound_max_redirects),
            outbound_queue_wait_ms: a.outbound_queue_wait_ms.or(b.outbound_queue_wait_ms),
            outbound_max_response_bytes: a
                .outbound_max_response_bytes
                .or(b.outbound_max_response_bytes),
            outbound_max_retry_after_secs: a
                .outbound_max_retry_after_secs
                .or(b.outbound_max_retry_after_secs),
            circuit_failure_threshold: a.circuit_failure_threshold.or(b.circuit_failure_threshold),
            circuit_failure_rate: a.circuit_failure_rate.or(b.circuit_failure_rate),
            circuit_window: a.circuit_window.or(b.circuit_window),
            circuit_cooldown_secs: a.circuit_cooldown_secs.or(b.circuit_cooldown_secs),
            execution_retention_per_integration: a
                .execution_retention_per_integration
                .or(b.execution_retention_per_integration),
            execution_retention_days: a.execution_retention_days.or(b.execution_retention_days),
            webhook_timeout_secs: a.webhook_timeout_secs.or(b.webhook_timeout_secs),
            webhook_retry_schedule_secs: a
                .webhook_retry_schedule_secs
                .clone()
                .or(b.webhook_retry_schedule_secs.clone()),
            webhook_disable_after_failures: a
                .webhook_disable_after_failures
                .or(b.webhook_disable_after_failures),
            webhook_disable_after_hours: a
                .webhook_disable_after_hours
                .or(b.webhook_disable_after_hours),
            webhook_endpoint_concurrency: a
                .webhook_endpoint_concurrency
                .or(b.webhook_endpoint_concurrency),
            webhook_secret_grace_hours: a
                .webhook_secret_grace_hours
                .or(b.webhook_secret_grace_hours),
            webhook_retention_days: a.webhook_retention_days.or(b.webhook_retention_days),
            alert_evaluation_secs: a.alert_evaluation_secs.or(b.alert_evaluation_secs),
        };
        Self::from_settings(pick(cli, &file))
    }

    fn read_file(path: &Path) -> anyhow::Result<Settings> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the config file {}", path.display()))?;
        toml::from_str(&text).with_context(|| format!("invalid config file {}", path.display()))
    }

    /// Fills defaults into merged settings and validates them.
    pub fn from_settings(s: Settings) -> anyhow::Result<Self> {
        let data_dir = s.data_dir.unwrap_or_else(|| PathBuf::from("./data"));
        let database = DatabaseTarget::parse(s.database_url.as_deref(), &data_dir)?;
        let config = Config {
            listen: s
                .listen
                .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080))),
            database,
            data_dir,
            db_pool_size: s.db_pool_size.unwrap_or(10),
            log_format: s.log_format.unwrap_or(LogFormat::Pretty),
            log_level: s.log_level.unwrap_or_else(|| "info".to_owned()),
            public_url: s.public_url.map(|u| u.trim_end_matches('/').to_owned()),
            max_body_bytes: s.max_body_bytes.unwrap_or(1024 * 1024),
            max_query_depth: s.max_query_depth.unwrap_or(16),
            max_query_complexity: s.max_query_complexity.unwrap_or(20000),
            introspection: s.introspection.unwrap_or(true),
            request_timeout: Duration::from_secs(s.request_timeout_secs.unwrap_or(30)),
            log_retention_per_integration: s.log_retention_per_integration.unwrap_or(1000),
            log_retention_days: s.log_retention_days.unwrap_or(30),
            event_buffer: s.event_buffer.unwrap_or(1024),
            master_key: s.master_key.map(secrecy::SecretString::from),
            metrics_token: s.metrics_token.map(secrecy::SecretString::from),
            master_key_file: s.master_key_file,
            allow_private_networks: s.allow_private_networks.unwrap_or(false),
            roles: Roles::from_flags(s.api, s.worker),
            oauth_refresh_skew: Duration::from_secs(s.oauth_refresh_skew_secs.unwrap_or(300)),
            outbound: OutboundConfig {
                allow_cidrs: s.outbound_allow_cidrs.unwrap_or_default(),
                max_redirects: s.outbound_max_redirects.unwrap_or(5),
                queue_wait: Duration::from_millis(s.outbound_queue_wait_ms.unwrap_or(5000)),
                max_response_bytes: s.outbound_max_response_bytes.unwrap_or(1024 * 1024),
                max_retry_after: Duration::from_secs(s.outbound_max_retry_after_secs.unwrap_or(30)),
                circuit_failure_threshold: s.circuit_failure_threshold.unwrap_or(5),
                circuit_failure_rate: s.circuit_failure_rate.unwrap_or(50),
                circuit_window: s.circuit_window.unwrap_or(20),
                circuit_cooldown: Duration::from_secs(s.circuit_cooldown_secs.unwrap_or(30)),
                execution_retention_per_integration: s
                    .execution_retention_per_integration
                    .unwrap_or(10_000),
                execution_retention_days: s.execution_retention_days.unwrap_or(7),
            },
            webhooks: WebhookConfig {
                timeout: Duration::from_secs(s.webhook_timeout_secs.unwrap_or(15)),
                retry_schedule: s
                    .webhook_retry_schedule_secs
                    .unwrap_or_else(|| vec![0, 5, 300, 1800, 7200, 18000, 36000, 36000])
                    .into_iter()
                    .map(Duration::from_secs)
                    .collect(),
                disable_after_failures: s.webhook_disable_after_failures.unwrap_or(50),
                disable_after: chrono::Duration::hours(
                    s.webhook_disable_after_hours.unwrap_or(120),
                ),
                endpoint_concurrency: s.webhook_endpoint_concurrency.unwrap_or(8),
                secret_grace_hours: s.webhook_secret_grace_hours.unwrap_or(24),
                retention_days: s.webhook_retention_days.unwrap_or(30),
            },
            alert_evaluation: Duration::from_secs(s.alert_evaluation_secs.unwrap_or(15)),
        };
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> anyhow::Result<()> {
        let out = &self.outbound;
        let hooks = &self.webhooks;
        let checks: [(bool, &str); 21] = [
            (
                (1..=3600).contains(&self.alert_evaluation.as_secs()),
                "alert_evaluation_secs must be 1-3600",
            ),
            (
                (1..=1000).contains(&self.db_pool_size),
                "db_pool_size must be 1-1000",
            ),
            (
                self.max_body_bytes >= 1024,
                "max_body_bytes must be at least 1024",
            ),
            (
                (2..=100).contains(&self.max_query_depth),
                "max_query_depth must be 2-100",
            ),
            (
                self.max_query_complexity >= 10,
                "max_query_complexity must be at least 10",
            ),
            (
                !self.request_timeout.is_zero(),
                "request_timeout_secs must be positive",
            ),
            (
                self.log_retention_per_integration >= 1,
                "log_retention_per_integration must be at least 1",
            ),
            (
                self.log_retention_days >= 1,
                "log_retention_days must be at least 1",
            ),
            (self.event_buffer >= 16, "event_buffer must be at least 16"),
            (
                out.max_redirects <= 20,
                "outbound_max_redirects must be 0-20",
            ),
            (
                out.max_response_bytes >= 1024,
                "outbound_max_response_bytes must be at least 1024",
            ),
            (
                out.circuit_failure_threshold >= 1,
                "circuit_failure_threshold must be at least 1",
            ),
            (
                (1..=100).contains(&out.circuit_failure_rate),
                "circuit_failure_rate must be 1-100",
            ),
            (
                (2..=1000).contains(&out.circuit_window),
                "circuit_window must be 2-1000",
            ),
            (
                out.execution_retention_per_integration >= 1,
                "execution_retention_per_integration must be at least 1",
            ),
            (
                out.execution_retention_days >= 1,
                "execution_retention_days must be at least 1",
            ),
            (
                !hooks.timeout.is_zero(),
                "webhook_timeout_secs must be positive",
            ),
            (
                (1..=20).contains(&hooks.retry_schedule.len()),
                "webhook_retry_schedule_secs must list 1-20 delays",
            ),
            (
                hooks.disable_after_failures >= 1,
                "webhook_disable_after_failures must be at least 1",
            ),
            (
                (1..=1000).contains(&hooks.endpoint_concurrency),
                "webhook_endpoint_concurrency must be 1-1000",
            ),
            (
                hooks.retention_days >= 1 && hooks.secret_grace_hours >= 0,
                "webhook_retention_days must be at least 1, webhook_secret_grace_hours not negative",
            ),
        ];
        for (ok, message) in checks {
            anyhow::ensure!(ok, "invalid setting: {message}");
        }
        // Split roles meet through PostgreSQL (job leases, NOTIFY wake-ups and the live
        // event relay); processes sharing a SQLite file would not see each other's work
        // live, and one SQLite writer is the ceiling anyway.
        anyhow::ensure!(
            !self.roles.is_split() || matches!(self.database, DatabaseTarget::Postgres(_)),
            "invalid setting: --api / --worker split the roles across replicas of a PostgreSQL \
             deployment; on SQLite run one process with both (neither flag)"
        );
        if let Some(url) = &self.public_url {
            url::Url::parse(url).with_context(|| format!("invalid public_url `{url}`"))?;
        }
        tracing_subscriber::EnvFilter::try_new(&self.log_level)
            .with_context(|| format!("invalid log_level `{}`", self.log_level))?;
        Ok(())
    }

    /// Where the vault's master key comes from.
    pub fn master_key_settings(&self) -> crate::vault::MasterKeySettings {
        crate::vault::MasterKeySettings {
            passphrase: self.master_key.clone(),
            key_file: self.master_key_file.clone(),
            data_dir: self.data_dir.clone(),
        }
    }

    /// The base URL printed for users.
    pub fn base_url(&self, bound: SocketAddr) -> String {
        self.public_url
            .clone()
            .unwrap_or_else(|| format!("http://{bound}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(clap::Parser)]
    struct Cli {
        #[command(flatten)]
        settings: Settings,
        rest: Vec<String>,
    }

    fn parse(args: &[&str]) -> Cli {
        use clap::Parser;
        Cli::try_parse_from(std::iter::once("patchbay").chain(args.iter().copied())).unwrap()
    }

    #[test]
    fn boolean_settings_are_switches() {
        let on = parse(&["--allow-private-networks", "serve"]);
        assert_eq!(on.settings.allow_private_networks, Some(true));
        assert_eq!(on.rest, ["serve"]);
        let off = parse(&["--allow-private-networks=false", "--introspection=0"]);
        assert_eq!(off.settings.allow_private_networks, Some(false));
        assert_eq!(off.settings.introspection, Some(false));
        assert_eq!(
            parse(&["--introspection=yes"]).settings.introspection,
            Some(true)
        );
        assert_eq!(parse(&[]).settings.allow_private_networks, None);
        use clap::Parser;
        assert!(Cli::try_parse_from(["patchbay", "--introspection=maybe"]).is_err());
    }

    #[test]
    fn role_flags_pick_what_a_process_runs() {
        let both = Roles {
            api: true,
            workers: true,
        };
        let roles = |args: &[&str]| {
            let s = parse(args).settings;
            Roles::from_flags(s.api, s.worker)
        };
        assert_eq!(roles(&[]), both);
        assert_eq!(roles(&["--api", "--worker"]), both);
        assert_eq!(
            roles(&["--api"]),
            Roles {
                api: true,
                workers: false
            }
        );
        assert_eq!(
            roles(&["--worker"]),
            Roles {
                api: false,
                workers: true
            }
        );
        // A split needs PostgreSQL: on SQLite it is refused, naming the flags.
        let err = Config::from_settings(Settings {
            api: Some(true),
            ..Default::default()
        })
        .unwrap_err();
        assert!(err.to_string().contains("--api / --worker"), "{err}");
        let split = Config::from_settings(Settings {
            worker: Some(true),
            database_url: Some("postgres://postgres@127.0.0.1/x".into()),
            ..Default::default()
        })
        .unwrap();
        assert!(split.roles.is_split() && split.roles.workers && !split.roles.api);
    }

    #[test]
    fn the_shipped_default_file_matches_the_built_in_defaults() {
        let text = include_str!("../config.default.toml");
        let file: Settings = toml::from_str(text).expect("config.default.toml parses");
        let from_file = Config::from_settings(file).unwrap();
        let built_in = Config::from_settings(Settings::default()).unwrap();
        assert_eq!(format!("{from_file:?}"), format!("{built_in:?}"));
    }

    #[test]
    fn invalid_values_are_refused_with_their_name() {
        let err = Config::from_settings(Settings {
            max_query_depth: Some(1),
            ..Default::default()
        })
        .unwrap_err();
        assert!(err.to_string().contains("max_query_depth"));
        let err = Config::from_settings(Settings {
            database_url: Some("mysql://x".into()),
            ..Default::default()
        })
        .unwrap_err();
        assert!(err.to_string().contains("DATABASE_URL"));
    }
}
