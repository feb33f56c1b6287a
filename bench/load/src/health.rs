//! `health`: N integrations with a scheduled health check against the built-in upstream;
//! checks/s achieved, schedule drift, server CPU and RSS, and two dashboard queries at a
//! steady rate while the checks run.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Args;
use hdrhistogram::Histogram;
use serde_json::json;
use tokio::task::JoinSet;

use crate::gql::{Gql, lit};
use crate::report::{self, Table, histogram, int, progress, rate};
use crate::server::{CpuSample, Target, bucket_quantile};
use crate::sims::Upstream;

#[derive(Args, Debug)]
pub struct HealthArgs {
    /// Integrations to create, each with a health check.
    #[arg(long, default_value_t = 10_000)]
    integrations: usize,
    /// Check interval in seconds (the server's minimum is 10).
    #[arg(long, default_value_t = 60)]
    interval: u32,
    /// Seconds measured, after the warm-up.
    #[arg(long, default_value_t = 120)]
    duration: u64,
    /// Seconds between the end of creation and the measurement (default: one interval, so
    /// every integration has had its first check).
    #[arg(long)]
    warmup: Option<u64>,
    /// Rate of each of the two dashboard queries while checks run, per second (0: none).
    #[arg(long, default_value_t = 20.0)]
    query_rate: f64,
    /// Most requests of one query in flight; a tick finding that many waiting is skipped
    /// (and counted), so a slow query cannot pile up hundreds of requests on the server.
    #[arg(long, default_value_t = 20)]
    max_in_flight: usize,
    /// createIntegration fields (aliases) per request.
    #[arg(long, default_value_t = 100)]
    batch: usize,
    /// Creation requests in flight.
    #[arg(long, default_value_t = 4)]
    parallel: usize,
}

const STATS_QUERY: &str = "{ stats { integrations healthyIntegrations } }";
const PAGE_QUERY: &str =
    "{ integrations(first: 50) { edges { node { health { status uptime(window: DAY) } } } } }";
const CHECKS_COUNTER: &str = "patchbay_health_checks_total";
const CHECKS_HISTOGRAM_COUNT: &str = "patchbay_health_check_duration_seconds_count";
const DELAY_HISTOGRAM: &str = "patchbay_health_check_delay_seconds";

pub async fn run(target: &Target, args: HealthArgs) -> anyhow::Result<Table> {
    let epoch = Instant::now();
    let upstream = Upstream::start(epoch).await?;
    upstream.state.record.store(true, Ordering::Relaxed);
    let gql = Gql::new(target.graphql_url(), &target.token);
    let project = gql.create_project("load health").await?;
    let rss_idle = target.rss_kb();

    progress(format!(
        "creating {} integrations ({} per request, {} requests in flight)",
        args.integrations, args.batch, args.parallel
    ));
    let interval = args.interval;
    let (_, created_in) = gql
        .create_integrations(args.integrations, args.batch, args.parallel, |i| {
            format!(
                "{{ projectId: {}, name: {}, category: MONITORING, baseUrl: {}, healthCheck: {{ path: \"/health\", intervalSeconds: {interval}, timeoutMs: 3000 }} }}",
                lit(&project),
                lit(&format!("upstream {i}")),
                lit(&upstream.base_url(i)),
            )
        })
        .await?;
    progress(format!(
        "created in {:.1} s; warming up",
        created_in.as_secs_f64()
    ));
    let warmup = Duration::from_secs(args.warmup.unwrap_or(u64::from(args.interval)));
    tokio::time::sleep(warmup).await;
    let analyzed = target.vacuum_analyze().await?;

    let metrics_client = crate::gql::http_client();
    let m0 = target.metrics(&metrics_client).await?;
    let cpu0 = CpuSample::take(target);
    let hits0 = upstream.state.hits.load(Ordering::Relaxed);
    let w0 = report::since(epoch);
    let duration = Duration::from_secs(args.duration);
    progress(format!(
        "measuring for {} s, {}/s of each query",
        args.duration, args.query_rate
    ));
    let stats_load = tokio::spawn(steady(
        gql.clone(),
        STATS_QUERY,
        args.query_rate,
        args.max_in_flight,
        duration,
    ));
    let page_load = tokio::spawn(steady(
        gql.clone(),
        PAGE_QUERY,
        args.query_rate,
        args.max_in_flight,
        duration,
    ));
    tokio::time::sleep(duration).await;
    let w1 = report::since(epoch);
    let hits1 = upstream.state.hits.load(Ordering::Relaxed);
    let cpu1 = CpuSample::take(target);
    let m1 = target.metrics(&metrics_client).await?;
    let rss = target.rss_kb();
    let stats = stats_load.await?;
    let page = page_load.await?;
    let window = Duration::from_micros(w1 - w0);

    // Drift from the upstream's side: consecutive hits of one integration should be one
    // interval apart, give or take the scheduler's jitter (±5 %, at most 15 s).
    let log = std::mem::take(&mut *upstream.state.log.lock().unwrap());
    let interval_us = u64::from(args.interval) * 1_000_000;
    let band_us = (interval_us / 20).min(15_000_000);
    let mut per: Vec<Vec<u64>> = vec![Vec::new(); args.integrations];
    for (n, at) in log {
        if let Some(v) = per.get_mut(n as usize) {
            v.push(at);
        }
    }
    let mut drift = histogram();
    let mut late_1s = 0u64;
    let mut overdue = 0u64;
    let mut overdue_max = 0u64;
    let mut never = 0u64;
    for hits in &mut per {
        hits.sort_unstable();
        for pair in hits.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            if b < w0 || b > w1 {
                continue;
            }
            let excess = (b - a).abs_diff(interval_us).saturating_sub(band_us);
            if excess > 1_000_000 {
                late_1s += 1;
            }
            drift.saturating_record(excess.max(1));
        }
        match hits.iter().rev().find(|&&at| at <= w1) {
            Some(last) => {
                let lateness = (w1 - last).saturating_sub(interval_us + band_us);
                if lateness > 0 {
                    overdue += 1;
                    overdue_max = overdue_max.max(lateness);
                }
            }
            None => never += 1,
        }
    }

    let expected = args.integrations as f64 / f64::from(args.interval);
    let server_checks = m1
        .sum(CHECKS_COUNTER)
        .zip(m0.sum(CHECKS_COUNTER))
        .map(|(b, a)| (b - a, CHECKS_COUNTER))
        .or_else(|| {
            m1.sum(CHECKS_HISTOGRAM_COUNT)
                .zip(m0.sum(CHECKS_HISTOGRAM_COUNT))
                .map(|(b, a)| (b - a, CHECKS_HISTOGRAM_COUNT))
        });
    let final_stats = gql
        .run(
            "{ stats { integrations healthyIntegrations unknownIntegrations unhealthyIntegrations } }",
            json!({}),
        )
        .await
        .ok();

    let mut t = Table::new(format!(
        "health: {} integrations, {} s interval",
        int(args.integrations as u64),
        args.interval
    ));
    t.row("server", &target.describe);
    t.row(
        "parameters",
        format!(
            "warm-up {} s, measured {} s, queries {}/s each (at most {} in flight)",
            warmup.as_secs(),
            args.duration,
            args.query_rate,
            args.max_in_flight
        ),
    );
    if analyzed {
        t.row(
            "planner statistics",
            "VACUUM ANALYZE after the warm-up (as autovacuum would have by then)",
        );
    }
    t.row(
        "creation",
        format!(
            "{:.1} s = {} ({} per request, {} in flight)",
            created_in.as_secs_f64(),
            rate(args.integrations as f64, created_in),
            args.batch,
            args.parallel
        ),
    );
    t.row(
        "checks/s achieved (upstream hits)",
        format!(
            "{} (due: {:.1}/s)",
            rate((hits1 - hits0) as f64, window),
            expected
        ),
    );
    t.row(
        "checks/s achieved (server /metrics)",
        match server_checks {
            Some((n, name)) => format!("{} ({name})", rate(n, window)),
            None => "n/a (no health check counter in /metrics)".to_owned(),
        },
    );
    t.row(
        "drift p50 / p99 / max (upstream gaps beyond ±jitter)",
        format!(
            "{} over {} gaps; {} gaps > 1 s late",
            report::p50_p99_max(&drift),
            int(drift.len()),
            int(late_1s)
        ),
    );
    t.row(
        "overdue at end of window",
        format!(
            "{} integrations (most {}); {} never checked",
            int(overdue),
            report::ms(overdue_max),
            int(never)
        ),
    );
    let b0 = m0.buckets(DELAY_HISTOGRAM);
    let b1 = m1.buckets(DELAY_HISTOGRAM);
    t.row(
        "drift p50 / p99 (server health_check_delay_seconds)",
        if b1.is_empty() {
            "n/a (this binary's /metrics has no health_check_delay_seconds)".to_owned()
        } else {
            match (
                bucket_quantile(&b0, &b1, 0.5),
                bucket_quantile(&b0, &b1, 0.99),
            ) {
                (Some(p50), Some(p99)) => format!("≤ {p50} s / ≤ {p99} s (bucket bounds)"),
                _ => "no observations".to_owned(),
            }
        },
    );
    t.row("server CPU", cpu1.describe_since(&cpu0));
    t.row(
        "server RSS (idle before creation → end; peak)",
        match (rss_idle, rss, target.peak_rss_kb()) {
            (Some(a), Some(b), Some(p)) => {
                format!("{} → {}; {}", report::mb(a), report::mb(b), report::mb(p))
            }
            _ => "n/a".to_owned(),
        },
    );
    if args.query_rate > 0.0 {
        t.row("`stats` p50 / p99 / max", stats.describe());
        t.row(
            "`integrations(first: 50)` health + uptime p50 / p99 / max",
            page.describe(),
        );
    }
    if let Some(stats) = final_stats {
        t.row("stats at the end", stats["stats"].to_string());
    }
    t.row(
        "goals (issue 10)",
        "drift p99 < 1 s; query p99 < 50 ms".to_owned(),
    );
    Ok(t)
}

/// What a steady query load saw.
pub struct Steady {
    pub latency: Histogram<u64>,
    pub errors: u64,
    pub skipped: u64,
}

impl Steady {
    pub fn describe(&self) -> String {
        format!(
            "{} ({} answered, {} errors, {} ticks skipped with the in-flight cap reached)",
            report::p50_p99_max(&self.latency),
            int(self.latency.len()),
            int(self.errors),
            int(self.skipped)
        )
    }
}

/// Sends `query` at a steady rate (open loop: a slow answer does not delay the next
/// request, up to `max_in_flight` waiting) for `duration`.
pub async fn steady(
    gql: Gql,
    query: &str,
    per_second: f64,
    max_in_flight: usize,
    duration: Duration,
) -> Steady {
    let hist = Arc::new(Mutex::new(histogram()));
    let errors = Arc::new(AtomicU64::new(0));
    let mut skipped = 0;
    if per_second > 0.0 {
        let body = serde_json::to_vec(&json!({ "query": query })).expect("JSON");
        let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / per_second));
        let end = Instant::now() + duration;
        let mut tasks = JoinSet::new();
        while Instant::now() < end {
            ticker.tick().await;
            while tasks.try_join_next().is_some() {}
            if tasks.len() >= max_in_flight.max(1) {
                skipped += 1;
                continue;
            }
            let (gql, body, hist, errors) =
                (gql.clone(), body.clone(), hist.clone(), errors.clone());
            tasks.spawn(async move {
                let started = Instant::now();
                if gql.post_ok(body).await {
                    report::record(&mut hist.lock().unwrap(), started.elapsed());
                } else {
                    errors.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
        while tasks.join_next().await.is_some() {}
    }
    let latency = hist.lock().unwrap().clone();
    Steady {
        latency,
        errors: errors.load(Ordering::Relaxed),
        skipped,
    }
}
