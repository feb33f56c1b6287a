//! `graphql`: GraphQL list-page load at data scale (issue 12). Seeds the store up to
//! `--integrations` (batched `createIntegration` calls through the API, several in flight),
//! then measures the plain 50-row page and a filtered page (category + tag + text,
//! `totalCount`, health and credentials info) flat out (closed loop, `--connections`) and at
//! a fixed rate (open loop, `--rate`; latency counted from each request's scheduled send
//! time, so a stall shows instead of being waited out). With `--bare URL` (the bare handler
//! of `bench_server`, bench/README.md) it runs the same pages there and prints the
//! GraphQL/bare ratio the way bench/run.sh does (flat-out requests/s), with the flat-out
//! time split into `--rounds` alternating GraphQL and bare slices so that the machine's
//! drift over a run weighs on both sides alike.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Args;
use hdrhistogram::Histogram;
use serde_json::{Value, json};

use crate::gql::{Gql, http_client, lit};
use crate::report::{self, Table, histogram, int, progress, rate};
use crate::server::{CpuSample, Target};

/// The plain page of bench/run.sh.
const PLAIN: &str = "{ integrations(first: 50) { edges { node { id name status } } } }";

#[derive(Args, Debug)]
pub struct GraphqlArgs {
    /// Concurrent connections of the flat-out runs, one request in flight each.
    #[arg(long, default_value_t = 64)]
    connections: usize,
    /// Seconds of each run (flat out, then at the fixed rate, per page).
    #[arg(long, default_value_t = 20)]
    duration: u64,
    /// Integrations in the store: the tool creates what is missing (see `seed_input`).
    #[arg(long, default_value_t = 1000)]
    integrations: usize,
    /// createIntegration fields (aliases) per seeding request.
    #[arg(long, default_value_t = 100)]
    seed_batch: usize,
    /// Seeding requests in flight.
    #[arg(long, default_value_t = 4)]
    seed_parallel: usize,
    /// Requests per second of the fixed-rate runs (0: skip them).
    #[arg(long, default_value_t = 1000)]
    rate: u64,
    /// Which pages: `plain`, `filtered`, `dashboard`, `grid` (comma-separated; the last two
    /// are the dashboard's own queries, to compare with `--executor`).
    #[arg(long, default_value = "plain,filtered")]
    pages: String,
    /// Replaces the plain page's query.
    #[arg(long)]
    query: Option<String>,
    /// Selects `__typename` beside each page's root field: the same page (one key more)
    /// answered by async-graphql's executor, since the server compiles only documents
    /// whose one root field is the list (`graphql::compiled`); compares the two paths
    /// in one binary.
    #[arg(long)]
    executor: bool,
    /// The bare handler's base URL (bench_server's `bare` address without `/bare`): the
    /// same pages without GraphQL and auth, for the GraphQL/bare ratio.
    #[arg(long)]
    bare: Option<String>,
    /// With `--bare`: the flat-out `--duration` is split into this many GraphQL slices
    /// alternated with as many bare slices (each side still gets `--duration` in all).
    #[arg(long, default_value_t = 4)]
    rounds: u32,
}

/// What the seeded store looks like (shared with bench/bench_server.rs).
#[path = "../../seed_rows.rs"]
mod seed_rows;
pub use seed_rows::seed_row;

fn seed_input(project: &str, i: usize) -> String {
    let (name, description, category, tags) = seed_row(i);
    format!(
        "{{ projectId: {}, name: {}, description: {}, category: {category}, baseUrl: \"https://example.com/api\", tags: [{}, {}] }}",
        lit(project),
        lit(&name),
        lit(&description),
        lit(&tags[0]),
        lit(&tags[1]),
    )
}

/// The filtered page: ~2.5 % of the rows are jira (all PROJECT_MANAGEMENT), 0.5 % carry
/// team-042, so about 12 per 100,000 match all three.
const FILTERED: &str = "{ integrations(first: 50, filter: { category: PROJECT_MANAGEMENT, tag: \"team-042\", text: \"jira\" }) { totalCount edges { node { id name status category tags health { status } credentials { kind } } } } }";
const FILTERED_BARE: &str = "/bare/filtered?category=PROJECT_MANAGEMENT&tag=team-042&text=jira";

/// The dashboard's own pages (web-client/src/api/operations.ts, `Integrations` and
/// `HealthGrid`) with 50 rows, the bare page's size. Their bare side is the plain bare page,
/// which reads neither the total, projects nor health figures: compare them with
/// `--executor` (the same page through async-graphql's executor), not with bare.
const DASHBOARD: &str = "{ integrations(first: 50) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id name description category protocol status enabled tags baseUrl authKind circuitState updatedAt version project { id name } health { status reason } } } } }";
const HEALTH_GRID: &str = "{ integrations(first: 50) { totalCount nodes { id name enabled status category project { id name } health { status reason checked score changedAt lastCheckedAt } } } }";

struct Page {
    name: &'static str,
    graphql: String,
    bare_path: &'static str,
}

pub async fn run(target: &Target, args: GraphqlArgs) -> anyhow::Result<Table> {
    let gql = Gql::new(target.graphql_url(), &target.token);
    let existing = gql
        .run("{ integrations(first: 0) { totalCount } }", json!({}))
        .await?["integrations"]["totalCount"]
        .as_u64()
        .context("totalCount")? as usize;
    let seeding = if existing < args.integrations {
        let missing = args.integrations - existing;
        progress(format!(
            "creating {missing} integrations ({} per request, {} in flight)",
            args.seed_batch, args.seed_parallel
        ));
        let project = gql.create_project("load graphql").await?;
        let (_, took) = gql
            .create_integrations(missing, args.seed_batch, args.seed_parallel, |i| {
                seed_input(&project, existing + i)
            })
            .await?;
        let analyzed = if target.vacuum_analyze().await? {
            ", then VACUUM ANALYZE"
        } else {
            ""
        };
        format!(
            "{} created at {} ({} per createIntegration batch, {} in flight){analyzed}",
            int(missing as u64),
            rate(missing as f64, took),
            args.seed_batch,
            args.seed_parallel
        )
    } else {
        format!("{} already there", int(existing as u64))
    };

    let mut pages = Vec::new();
    for name in args.pages.split(',').map(str::trim) {
        match name {
            "plain" => pages.push(Page {
                name: "plain",
                graphql: args.query.clone().unwrap_or_else(|| PLAIN.to_owned()),
                bare_path: "/bare",
            }),
            "filtered" => pages.push(Page {
                name: "filtered",
                graphql: FILTERED.to_owned(),
                bare_path: FILTERED_BARE,
            }),
            "dashboard" => pages.push(Page {
                name: "dashboard",
                graphql: DASHBOARD.to_owned(),
                bare_path: "/bare",
            }),
            "grid" => pages.push(Page {
                name: "grid",
                graphql: HEALTH_GRID.to_owned(),
                bare_path: "/bare",
            }),
            other => bail!("unknown page `{other}` (plain, filtered, dashboard, grid)"),
        }
    }
    if args.executor {
        for page in &mut pages {
            match page.graphql.trim_start().strip_prefix('{') {
                Some(rest) => page.graphql = format!("{{ __typename{rest}"),
                None => bail!("--executor needs a query in shorthand form (`{{ … }}`)"),
            }
        }
    }

    let mut t = Table::new(format!(
        "graphql: {} integrations, {} connections flat out, {} req/s fixed, {} s per run",
        int(args.integrations as u64),
        args.connections,
        args.rate,
        args.duration
    ));
    t.row("server", &target.describe);
    t.row("store", seeding);
    let http = http_client();
    for page in &pages {
        // One check that the query answers without errors before loading it.
        let data = gql.run(&page.graphql, json!({})).await?;
        let list = &data["integrations"];
        let rows = list["edges"]
            .as_array()
            .or(list["nodes"].as_array())
            .map_or(0, Vec::len);
        let total = data["integrations"]["totalCount"].as_u64();
        t.row(
            format!("{}: query", page.name),
            format!(
                "`{}` ({rows} rows{})",
                page.graphql,
                total.map_or(String::new(), |n| format!(", totalCount {n}"))
            ),
        );
        let body = serde_json::to_vec(&json!({ "query": page.graphql }))?;
        let send_gql = {
            let gql = gql.clone();
            let body = body.clone();
            Arc::new(move || {
                let (gql, body) = (gql.clone(), body.clone());
                async move { gql.post_ok(body).await }
            })
        };
        let send_bare = match &args.bare {
            Some(bare) => {
                let url = format!("{}{}", bare.trim_end_matches('/'), page.bare_path);
                let check = http
                    .get(&url)
                    .send()
                    .await?
                    .error_for_status()?
                    .text()
                    .await?;
                let value: Value = serde_json::from_str(&check).context("bare answer")?;
                let bare_rows = value["integrations"].as_array().map_or(0, Vec::len);
                if bare_rows != rows {
                    bail!("bare {url} answered {bare_rows} rows, GraphQL {rows}");
                }
                let http = http.clone();
                Some(Arc::new(move || {
                    let (http, url) = (http.clone(), url.clone());
                    // Read and checked like the GraphQL answers (`Gql::post_ok`): this tool
                    // shares the two cores with the server, so both sides must cost it alike.
                    async move {
                        match http.get(&url).send().await {
                            Ok(response) if response.status().is_success() => {
                                match response.bytes().await {
                                    Ok(bytes) => !bytes.windows(8).any(|w| w == b"\"error\":"),
                                    Err(_) => false,
                                }
                            }
                            _ => false,
                        }
                    }
                }))
            }
            None => None,
        };
        let rounds = if send_bare.is_some() {
            args.rounds.max(1)
        } else {
            1
        };
        let slice = Duration::from_secs(args.duration) / rounds;
        progress(format!(
            "{}: flat out, {} s{}",
            page.name,
            args.duration,
            if send_bare.is_some() {
                format!(
                    " GraphQL and {} s bare, in {rounds} alternating rounds",
                    args.duration
                )
            } else {
                String::new()
            }
        ));
        let mut gql_side = Side::default();
        let mut bare_side = Side::default();
        let mut round_ratios = Vec::new();
        for _ in 0..rounds {
            let gql_run = gql_side
                .run(target, flat_out(args.connections, slice, send_gql.clone()))
                .await?;
            if let Some(send_bare) = &send_bare {
                let bare_run = bare_side
                    .run(target, flat_out(args.connections, slice, send_bare.clone()))
                    .await?;
                round_ratios.push(gql_run / bare_run.max(f64::MIN_POSITIVE));
            }
        }
        let flat = gql_side.figures();
        t.row(
            format!("{}: GraphQL flat out", page.name),
            format!("{}; server CPU {}", flat.describe(), gql_side.cpu()),
        );
        if args.rate > 0 {
            progress(format!(
                "{}: {} req/s, {} s",
                page.name, args.rate, args.duration
            ));
            let fixed = fixed_rate(args.rate, args.duration, send_gql).await?;
            t.row(
                format!("{}: GraphQL at {} req/s", page.name, args.rate),
                fixed.describe(),
            );
        }
        if let Some(send_bare) = send_bare {
            let bare_flat = bare_side.figures();
            t.row(
                format!("{}: bare flat out", page.name),
                format!("{}; server CPU {}", bare_flat.describe(), bare_side.cpu()),
            );
            if args.rate > 0 {
                let bare_fixed = fixed_rate(args.rate, args.duration, send_bare).await?;
                t.row(
                    format!("{}: bare at {} req/s", page.name, args.rate),
                    bare_fixed.describe(),
                );
            }
            t.row(
                format!("{}: ratio GraphQL/bare (flat-out req/s)", page.name),
                format!(
                    "{:.2} (rounds of {:.1} s each: {})",
                    flat.per_second / bare_flat.per_second.max(f64::MIN_POSITIVE),
                    slice.as_secs_f64(),
                    round_ratios
                        .iter()
                        .map(|r| format!("{r:.2}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
            // Throughput shares the two cores with this tool; the server's own CPU per
            // answer says what GraphQL costs on top of the same store work.
            if let (Some(gql_us), Some(bare_us)) =
                (gql_side.cpu_per_answer(), bare_side.cpu_per_answer())
            {
                t.row(
                    format!("{}: server CPU per answer, GraphQL / bare (flat out)", page.name),
                    format!(
                        "{gql_us:.0} µs / {bare_us:.0} µs: GraphQL adds {:.0} µs (bare/GraphQL {:.2})",
                        gql_us - bare_us,
                        bare_us / gql_us
                    ),
                );
            }
        }
    }
    t.row(
        "server RSS at the end",
        target.rss_kb().map_or("n/a".to_owned(), report::mb),
    );
    Ok(t)
}

struct RunFigures {
    histogram: Histogram<u64>,
    errors: u64,
    per_second: f64,
}

impl RunFigures {
    fn describe(&self) -> String {
        format!(
            "{} req/s ({} answered, {} errors or not sent); p50 / p99 / max {}",
            int(self.per_second.round() as u64),
            int(self.histogram.len()),
            self.errors,
            report::p50_p99_max(&self.histogram)
        )
    }
}

/// One side (GraphQL or bare) of the alternating flat-out runs, summed over its slices.
#[derive(Default)]
struct Side {
    histogram: Option<Histogram<u64>>,
    errors: u64,
    wall: Duration,
    server_cpu: Option<f64>,
    slices: u32,
    /// The first slice's CPU use (server, this tool, the machine).
    first_cpu: Option<String>,
}

impl Side {
    /// Runs one slice; its requests per second.
    async fn run(
        &mut self,
        target: &Target,
        slice: impl std::future::Future<Output = anyhow::Result<RunFigures>>,
    ) -> anyhow::Result<f64> {
        let before = CpuSample::take(target);
        let started = Instant::now();
        let figures = slice.await?;
        self.wall += started.elapsed();
        let after = CpuSample::take(target);
        self.server_cpu = match (self.server_cpu, after.server_seconds_since(&before)) {
            (Some(sum), Some(s)) => Some(sum + s),
            (None, s) if self.slices == 0 => s,
            _ => None,
        };
        self.slices += 1;
        self.first_cpu
            .get_or_insert_with(|| after.describe_since(&before));
        self.errors += figures.errors;
        match &mut self.histogram {
            Some(all) => {
                all.add(&figures.histogram).ok();
            }
            None => self.histogram = Some(figures.histogram),
        }
        Ok(figures.per_second)
    }

    fn figures(&self) -> RunFigures {
        let histogram = self.histogram.clone().unwrap_or_else(histogram);
        RunFigures {
            per_second: histogram.len() as f64 / self.wall.as_secs_f64().max(f64::MIN_POSITIVE),
            histogram,
            errors: self.errors,
        }
    }

    /// CPU use: the one slice's, or the server's over all slices and the first slice's.
    fn cpu(&self) -> String {
        let first = self.first_cpu.clone().unwrap_or_else(|| "n/a".to_owned());
        if self.slices <= 1 {
            return first;
        }
        let server = self.server_cpu.map_or("n/a".to_owned(), |s| {
            format!("{:.0} % of one core", s / self.wall.as_secs_f64() * 100.0)
        });
        format!("{server} over {} slices (first: {first})", self.slices)
    }

    /// The server's CPU microseconds per answer.
    fn cpu_per_answer(&self) -> Option<f64> {
        let answered = self.histogram.as_ref().map_or(0, Histogram::len);
        self.server_cpu
            .filter(|_| answered > 0)
            .map(|s| s / answered as f64 * 1e6)
    }
}

/// `connections` closed loops, one request in flight each.
async fn flat_out<F, Fut>(
    connections: usize,
    duration: Duration,
    send: Arc<F>,
) -> anyhow::Result<RunFigures>
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    let started = Instant::now();
    let end = started + duration;
    let workers: Vec<_> = (0..connections.max(1))
        .map(|_| {
            let send = send.clone();
            tokio::spawn(async move {
                let mut h = histogram();
                let mut errors = 0u64;
                while Instant::now() < end {
                    let sent = Instant::now();
                    if send().await {
                        report::record(&mut h, sent.elapsed());
                    } else {
                        errors += 1;
                    }
                }
                (h, errors)
            })
        })
        .collect();
    collect(workers, started).await
}

/// An open loop: request k is due at k / rate seconds, whatever the earlier ones do; its
/// latency runs from when it was due. A request due while `MAX_IN_FLIGHT` are still
/// waiting is not sent and counts as an error (a server that cannot keep up shows as
/// errors and a lower achieved rate, and the run still ends on time).
async fn fixed_rate<F, Fut>(
    per_second: u64,
    duration: u64,
    send: Arc<F>,
) -> anyhow::Result<RunFigures>
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    const MAX_IN_FLIGHT: usize = 512;
    let started = Instant::now();
    let total = per_second * duration;
    let limit = Arc::new(tokio::sync::Semaphore::new(MAX_IN_FLIGHT));
    let mut tasks = Vec::with_capacity(total as usize);
    let mut not_sent = 0u64;
    for k in 0..total {
        let due = started + Duration::from_secs_f64(k as f64 / per_second as f64);
        tokio::time::sleep_until(due.into()).await;
        let Ok(permit) = limit.clone().try_acquire_owned() else {
            not_sent += 1;
            continue;
        };
        let send = send.clone();
        tasks.push(tokio::spawn(async move {
            let ok = send().await;
            drop(permit);
            (ok, due.elapsed())
        }));
    }
    let mut h = histogram();
    let mut errors = not_sent;
    for task in tasks {
        let (ok, latency) = task.await?;
        if ok {
            report::record(&mut h, latency);
        } else {
            errors += 1;
        }
    }
    let elapsed = started.elapsed();
    Ok(RunFigures {
        per_second: h.len() as f64 / elapsed.as_secs_f64(),
        histogram: h,
        errors,
    })
}

async fn collect(
    workers: Vec<tokio::task::JoinHandle<(Histogram<u64>, u64)>>,
    started: Instant,
) -> anyhow::Result<RunFigures> {
    let mut all = histogram();
    let mut errors = 0;
    for w in workers {
        let (h, e) = w.await?;
        all.add(&h).ok();
        errors += e;
    }
    let elapsed = started.elapsed();
    Ok(RunFigures {
        per_second: all.len() as f64 / elapsed.as_secs_f64(),
        histogram: all,
        errors,
    })
}
