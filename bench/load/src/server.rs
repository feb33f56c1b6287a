//! The server under load: started from `--server-bin` on a fresh store (a temp data dir for
//! SQLite, a fresh database for PostgreSQL, dropped afterwards), or an already running one
//! (`--url` + `--token`). Its CPU time and RSS come from `/proc/<pid>/{stat,status}`, its
//! counters from `GET /metrics`.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use clap::Args;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::report::progress;

#[derive(Args, Debug, Clone)]
pub struct ServerOpts {
    /// The patchbay binary to start (a fresh store per run).
    #[arg(
        long,
        global = true,
        env = "PATCHBAY_LOAD_SERVER_BIN",
        default_value = "target/release/patchbay"
    )]
    pub server_bin: PathBuf,
    /// PostgreSQL URL of a server where the tool may create databases (e.g.
    /// postgres://postgres@127.0.0.1:5432/postgres): the run gets a fresh database there,
    /// dropped afterwards. Without it: SQLite in a temp dir.
    #[arg(long, global = true, env = "PATCHBAY_LOAD_PG")]
    pub pg: Option<String>,
    /// Use an already running server at this base URL (e.g. http://127.0.0.1:8080)
    /// instead of starting one; needs --token (ADMIN). Give --pid for CPU and RSS figures.
    #[arg(long, global = true, requires = "token")]
    pub url: Option<String>,
    /// ADMIN token of the server given with --url.
    #[arg(long, global = true, env = "PATCHBAY_TOKEN")]
    pub token: Option<String>,
    /// Process id of the server given with --url (for CPU time and RSS).
    #[arg(long, global = true)]
    pub pid: Option<u32>,
    /// Extra flag for the started server, repeatable
    /// (e.g. --server-arg=--webhook-endpoint-concurrency=16).
    #[arg(long = "server-arg", global = true, allow_hyphen_values = true)]
    pub server_args: Vec<String>,
}

/// A database created for one run on a PostgreSQL server, dropped by `Target::stop`.
struct PgDatabase {
    admin_url: String,
    name: String,
}

pub struct Target {
    /// `http://127.0.0.1:port`, no trailing slash.
    pub base: String,
    pub token: String,
    pub pid: Option<u32>,
    /// Which store and binary, for the table.
    pub describe: String,
    child: Option<Child>,
    data_dir: Option<tempfile::TempDir>,
    pg: Option<PgDatabase>,
}

impl Target {
    pub async fn start(opts: &ServerOpts) -> anyhow::Result<Target> {
        if let Some(url) = &opts.url {
            let token = opts.token.clone().context("--url needs --token")?;
            return Ok(Target {
                base: url.trim_end_matches('/').to_owned(),
                token,
                pid: opts.pid,
                describe: format!("running server at {url}"),
                child: None,
                data_dir: None,
                pg: None,
            });
        }
        let bin = &opts.server_bin;
        ensure!(
            bin.exists(),
            "server binary {} not found (build it with `cargo build --release`, or pass --server-bin)",
            bin.display()
        );
        let data_dir = tempfile::Builder::new()
            .prefix("patchbay-load-")
            .tempdir()?;
        let pg = match &opts.pg {
            Some(admin_url) => Some(create_database(admin_url).await?),
            None => None,
        };
        let database_url = pg
            .as_ref()
            .map(|db| database_url(&db.admin_url, &db.name))
            .transpose()?;
        // A free port: bind, note it, let go (the server binds it a moment later).
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let listen = format!("127.0.0.1:{port}");
        let log_path = data_dir.path().join("server.log");
        let mut cmd = Command::new(bin);
        cmd.arg("serve")
            .args(["--listen", &listen])
            .arg("--data-dir")
            .arg(data_dir.path())
            .args(["--log-level", "warn", "--allow-private-networks"])
            .env_remove("PATCHBAY_DATABASE_URL")
            .env_remove("DATABASE_URL")
            .env_remove("PATCHBAY_CONFIG");
        if let Some(url) = &database_url {
            cmd.args(["--database-url", url]);
        }
        cmd.args(&opts.server_args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log_path)?)
            .kill_on_drop(true);
        let mut child = cmd
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        let pid = child.id();
        let stdout = child.stdout.take().context("server stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        // The banner: "… is ready", then (fresh store) the bootstrap ADMIN token.
        let mut token = None;
        let mut ready = false;
        let started = Instant::now();
        loop {
            let wait = if ready {
                Duration::from_secs(2)
            } else {
                Duration::from_secs(120).saturating_sub(started.elapsed())
            };
            match tokio::time::timeout(wait, lines.next_line()).await {
                Ok(Ok(Some(line))) => {
                    if line.contains("is ready") {
                        ready = true;
                    }
                    if let Some(found) = find_token(&line) {
                        token = Some(found);
                        break;
                    }
                }
                Ok(Ok(None)) | Ok(Err(_)) => {
                    let log = std::fs::read_to_string(&log_path).unwrap_or_default();
                    bail!("the server exited during start-up; its log:\n{log}");
                }
                Err(_) if ready => break,
                Err(_) => bail!("the server did not get ready within 120 s"),
            }
        }
        // Keep draining stdout so the server never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let token = match token {
            Some(token) => token,
            None => cli_token(bin, data_dir.path(), database_url.as_deref()).await?,
        };
        let base = format!("http://{listen}");
        wait_ready(&base).await?;
        let store = match &pg {
            Some(db) => format!("PostgreSQL (fresh database {})", db.name),
            None => "SQLite (fresh temp dir)".to_owned(),
        };
        Ok(Target {
            base,
            token,
            pid,
            describe: format!("{store}, {}", bin.display()),
            child: Some(child),
            data_dir: Some(data_dir),
            pg,
        })
    }

    /// SIGTERM (graceful), SIGKILL after 15 s; then drops the run's database.
    pub async fn stop(mut self) {
        if let Some(mut child) = self.child.take() {
            if let Some(pid) = child.id() {
                // SAFETY: kill(2) on the id of a child this process spawned and has not reaped.
                unsafe {
                    libc::kill(pid as libc::pid_t, libc::SIGTERM);
                }
            }
            if tokio::time::timeout(Duration::from_secs(15), child.wait())
                .await
                .is_err()
            {
                let _ = child.kill().await;
            }
        }
        if let Some(db) = self.pg.take() {
            let _ = psql(
                &db.admin_url,
                &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", db.name),
            )
            .await;
        }
        drop(self.data_dir.take());
    }

    /// `VACUUM ANALYZE` of the database this run created (PostgreSQL only; otherwise
    /// nothing): what autovacuum would have done by now in a deployment. This machine's
    /// PostgreSQL runs with `autovacuum = off`, so tables filled during a run would be
    /// planned on default selectivities (a 50-row page's uptime read took the time index over
    /// 10,000 rows instead of the primary key: 10.8 ms against 0.17 ms) and tables updated in
    /// place (health states) would grow dead rows without end. Returns whether it ran.
    pub async fn vacuum_analyze(&self) -> anyhow::Result<bool> {
        let Some(db) = &self.pg else {
            return Ok(false);
        };
        psql(&database_url(&db.admin_url, &db.name)?, "VACUUM ANALYZE").await?;
        Ok(true)
    }

    pub fn graphql_url(&self) -> String {
        format!("{}/graphql", self.base)
    }

    pub fn ws_url(&self) -> String {
        format!("{}/graphql", self.base.replacen("http", "ws", 1))
    }

    /// Server CPU time (user + system) in seconds.
    pub fn cpu_seconds(&self) -> Option<f64> {
        process_cpu_seconds(&self.pid?.to_string())
    }

    /// Resident set size in KB (`VmRSS`).
    pub fn rss_kb(&self) -> Option<u64> {
        status_kb(self.pid?, "VmRSS:")
    }

    /// Peak resident set size in KB (`VmHWM`).
    pub fn peak_rss_kb(&self) -> Option<u64> {
        status_kb(self.pid?, "VmHWM:")
    }

    /// `GET /metrics` (bearer PATCHBAY_METRICS_TOKEN when set).
    pub async fn metrics(&self, client: &reqwest::Client) -> anyhow::Result<Metrics> {
        let mut request = client.get(format!("{}/metrics", self.base));
        if let Ok(token) = std::env::var("PATCHBAY_METRICS_TOKEN") {
            request = request.bearer_auth(token);
        }
        let response = request.send().await?;
        ensure!(
            response.status().is_success(),
            "/metrics answered {}",
            response.status()
        );
        Ok(Metrics(response.text().await?))
    }
}

/// CPU time (user + system) in seconds of `/proc/<pid>` (`self` for this tool).
fn process_cpu_seconds(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces): state is the first,
    // utime and stime are the 12th and 13th.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    Some(ticks / hz)
}

pub fn status_kb(pid: u32, key: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(key))?;
    line[key.len()..].split_whitespace().next()?.parse().ok()
}

/// Machine-wide CPU jiffies (busy, total) from `/proc/stat`: PostgreSQL and this tool share
/// the cores with the server.
pub fn machine_cpu() -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().next()?;
    let v: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|f| f.parse().ok())
        .collect();
    let total: u64 = v.iter().take(8).sum();
    let idle = v.get(3)? + v.get(4)?;
    Some((total - idle, total))
}

/// A CPU sample of the server and of the machine.
#[derive(Clone, Copy)]
pub struct CpuSample {
    at: Instant,
    server: Option<f64>,
    client: Option<f64>,
    machine: Option<(u64, u64)>,
}

impl CpuSample {
    pub fn take(target: &Target) -> Self {
        Self {
            at: Instant::now(),
            server: target.cpu_seconds(),
            client: process_cpu_seconds("self"),
            machine: machine_cpu(),
        }
    }

    /// The server's CPU seconds between two samples.
    pub fn server_seconds_since(&self, earlier: &CpuSample) -> Option<f64> {
        Some(self.server? - earlier.server?)
    }

    /// "85 % of one core (load tool 20 %; machine: 70 % of 2 cores)" between two samples.
    pub fn describe_since(&self, earlier: &CpuSample) -> String {
        let wall = self.at.duration_since(earlier.at).as_secs_f64();
        let percent = |b: Option<f64>, a: Option<f64>| match (b, a) {
            (Some(b), Some(a)) if wall > 0.0 => Some((b - a) / wall * 100.0),
            _ => None,
        };
        let server = percent(self.server, earlier.server)
            .map_or("n/a".to_owned(), |p| format!("{p:.0} % of one core"));
        let client =
            percent(self.client, earlier.client).map_or("n/a".to_owned(), |p| format!("{p:.0} %"));
        let machine = match (self.machine, earlier.machine) {
            (Some((b1, t1)), Some((b0, t0))) if t1 > t0 => {
                let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
                format!(
                    "{:.0} % of {cores} cores",
                    (b1 - b0) as f64 / (t1 - t0) as f64 * 100.0
                )
            }
            _ => "n/a".to_owned(),
        };
        format!("{server} (load tool {client}; machine: {machine})")
    }
}

/// The Prometheus text of one scrape.
pub struct Metrics(pub String);

impl Metrics {
    /// The sum over all label sets of a metric, or None when absent.
    pub fn sum(&self, name: &str) -> Option<f64> {
        let mut found = false;
        let mut total = 0.0;
        for (_, value) in self.samples(name) {
            found = true;
            total += value;
        }
        found.then_some(total)
    }

    /// Cumulative histogram buckets `(le, count)` summed over label sets, in `le` order.
    pub fn buckets(&self, histogram: &str) -> Vec<(f64, f64)> {
        let mut out: Vec<(f64, f64)> = Vec::new();
        for (labels, value) in self.samples(&format!("{histogram}_bucket")) {
            let Some(le) = labels
                .split(',')
                .find_map(|l| l.trim().strip_prefix("le=\""))
                .map(|l| l.trim_end_matches('"'))
            else {
                continue;
            };
            let le = if le == "+Inf" {
                f64::INFINITY
            } else {
                le.parse().unwrap_or(f64::INFINITY)
            };
            match out.iter_mut().find(|(b, _)| *b == le) {
                Some(entry) => entry.1 += value,
                None => out.push((le, value)),
            }
        }
        out.sort_by(|a, b| a.0.total_cmp(&b.0));
        out
    }

    fn samples<'a>(&'a self, name: &'a str) -> impl Iterator<Item = (&'a str, f64)> + 'a {
        self.0.lines().filter_map(move |line| {
            if line.starts_with('#') {
                return None;
            }
            let rest = line.strip_prefix(name)?;
            let (labels, value) = if let Some(inner) = rest.strip_prefix('{') {
                let end = inner.find('}')?;
                (&inner[..end], &inner[end + 1..])
            } else if rest.starts_with(' ') {
                ("", rest)
            } else {
                return None;
            };
            Some((labels, value.split_whitespace().next()?.parse().ok()?))
        })
    }
}

/// The quantile of the observations between two scrapes of a histogram, as the upper bound
/// of the bucket it falls in (what Prometheus' buckets allow); None without observations.
pub fn bucket_quantile(before: &[(f64, f64)], after: &[(f64, f64)], q: f64) -> Option<f64> {
    let delta: Vec<(f64, f64)> = after
        .iter()
        .map(|(le, count)| {
            let earlier = before
                .iter()
                .find(|(b, _)| b == le)
                .map_or(0.0, |(_, c)| *c);
            (*le, count - earlier)
        })
        .collect();
    let total = delta.last()?.1;
    if total <= 0.0 {
        return None;
    }
    delta
        .iter()
        .find(|(_, count)| *count >= q * total)
        .map(|(le, _)| *le)
}

fn find_token(line: &str) -> Option<String> {
    let start = line.find("pbk_")?;
    let token: String = line[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    (token.len() > 8).then_some(token)
}

/// `patchbay token create --role ADMIN` against the run's store (when start-up printed none).
async fn cli_token(
    bin: &std::path::Path,
    data_dir: &std::path::Path,
    database_url: Option<&str>,
) -> anyhow::Result<String> {
    let mut cmd = Command::new(bin);
    cmd.args([
        "token",
        "create",
        "--role",
        "ADMIN",
        "--name",
        "patchbay-load",
    ])
    .arg("--data-dir")
    .arg(data_dir)
    .env_remove("PATCHBAY_DATABASE_URL")
    .env_remove("DATABASE_URL");
    if let Some(url) = database_url {
        cmd.args(["--database-url", url]);
    }
    let out = cmd.output().await?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .find_map(find_token)
        .with_context(|| format!("`token create` printed no token: {text}"))
}

async fn wait_ready(base: &str) -> anyhow::Result<()> {
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(response) = client.get(format!("{base}/readyz")).send().await
            && response.status().is_success()
        {
            return Ok(());
        }
        ensure!(
            Instant::now() < deadline,
            "{base}/readyz not 200 within 60 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn psql(admin_url: &str, sql: &str) -> anyhow::Result<()> {
    let out = Command::new("psql")
        .args([admin_url, "-qXc", sql])
        .output()
        .await
        .context("running psql (is the PostgreSQL client installed?)")?;
    ensure!(
        out.status.success(),
        "psql `{sql}`: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(())
}

async fn create_database(admin_url: &str) -> anyhow::Result<PgDatabase> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .subsec_nanos();
    let name = format!("patchbay_load_{}_{nanos}", std::process::id());
    progress(format!("creating PostgreSQL database {name}"));
    psql(admin_url, &format!("CREATE DATABASE {name}")).await?;
    Ok(PgDatabase {
        admin_url: admin_url.to_owned(),
        name,
    })
}

/// The admin URL with its database name replaced.
fn database_url(admin_url: &str, name: &str) -> anyhow::Result<String> {
    let (base, query) = match admin_url.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (admin_url, String::new()),
    };
    let authority_start = base.find("://").context("a postgres:// URL")? + 3;
    let server = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    Ok(format!("{server}/{name}{query}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_urls() {
        assert_eq!(
            database_url("postgres://postgres@127.0.0.1:5432/postgres", "x").unwrap(),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            database_url("postgres://u:p@h/db?sslmode=disable", "x").unwrap(),
            "postgres://u:p@h/x?sslmode=disable"
        );
        assert_eq!(
            database_url("postgres://h:5432", "x").unwrap(),
            "postgres://h:5432/x"
        );
    }

    #[test]
    fn metrics_parse() {
        let m = Metrics(
            "# HELP x\nfoo_total{a=\"1\"} 2\nfoo_total{a=\"2\"} 3\nfoo_totalx 9\nh_bucket{le=\"0.5\"} 1\nh_bucket{le=\"+Inf\"} 4\n"
                .to_owned(),
        );
        assert_eq!(m.sum("foo_total"), Some(5.0));
        assert_eq!(m.sum("bar"), None);
        let b = m.buckets("h");
        assert_eq!(b, vec![(0.5, 1.0), (f64::INFINITY, 4.0)]);
        assert_eq!(bucket_quantile(&[], &b, 0.25), Some(0.5));
        assert_eq!(bucket_quantile(&[], &b, 0.99), Some(f64::INFINITY));
    }

    #[test]
    fn tokens_in_banner() {
        assert_eq!(
            find_token("  Or send the header:   Authorization: Bearer pbk_15489804beeb").as_deref(),
            Some("pbk_15489804beeb")
        );
    }
}
