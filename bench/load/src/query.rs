//! `graphql`: closed-loop GraphQL query load (by default the 50-row integrations page of
//! bench/run.sh) over keep-alive connections.

use std::time::{Duration, Instant};

use clap::Args;
use serde_json::json;

use crate::gql::{Gql, lit};
use crate::report::{self, Table, histogram, int, progress, rate};
use crate::server::{CpuSample, Target};

#[derive(Args, Debug)]
pub struct GraphqlArgs {
    /// Concurrent connections, one request in flight each.
    #[arg(long, default_value_t = 64)]
    connections: usize,
    /// Seconds of load.
    #[arg(long, default_value_t = 20)]
    duration: u64,
    /// Integrations created first (100 per request).
    #[arg(long, default_value_t = 1000)]
    integrations: usize,
    /// The query sent.
    #[arg(
        long,
        default_value = "{ integrations(first: 50) { edges { node { id name status } } } }"
    )]
    query: String,
}

pub async fn run(target: &Target, args: GraphqlArgs) -> anyhow::Result<Table> {
    let gql = Gql::new(target.graphql_url(), &target.token);
    let project = gql.create_project("load graphql").await?;
    progress(format!("creating {} integrations", args.integrations));
    let (_, created_in) = gql
        .create_integrations(args.integrations, 100, 4, |i| {
            format!(
                "{{ projectId: {}, name: {}, category: PROJECT_MANAGEMENT, baseUrl: \"https://example.com/api\", tags: [\"load\"] }}",
                lit(&project),
                lit(&format!("integration {i}"))
            )
        })
        .await?;
    // One check that the query answers without errors before loading it.
    gql.run(&args.query, json!({})).await?;
    progress(format!(
        "{} connections for {} s",
        args.connections, args.duration
    ));
    let body = serde_json::to_vec(&json!({ "query": args.query }))?;
    let cpu0 = CpuSample::take(target);
    let started = Instant::now();
    let end = started + Duration::from_secs(args.duration);
    let workers: Vec<_> = (0..args.connections.max(1))
        .map(|_| {
            let (gql, body) = (gql.clone(), body.clone());
            tokio::spawn(async move {
                let mut h = histogram();
                let mut errors = 0u64;
                while Instant::now() < end {
                    let sent = Instant::now();
                    if gql.post_ok(body.clone()).await {
                        report::record(&mut h, sent.elapsed());
                    } else {
                        errors += 1;
                    }
                }
                (h, errors)
            })
        })
        .collect();
    let mut all = histogram();
    let mut errors = 0;
    for w in workers {
        let (h, e) = w.await?;
        all.add(&h).ok();
        errors += e;
    }
    let elapsed = started.elapsed();
    let cpu1 = CpuSample::take(target);

    let mut t = Table::new(format!(
        "graphql: {} connections, {} s",
        args.connections, args.duration
    ));
    t.row("server", &target.describe);
    t.row(
        "parameters",
        format!(
            "{} integrations in the store (created at {}); query `{}`",
            int(args.integrations as u64),
            rate(args.integrations as f64, created_in),
            args.query
        ),
    );
    t.row(
        "requests",
        format!(
            "{} = {} ({} errors)",
            int(all.len()),
            rate(all.len() as f64, elapsed),
            errors
        ),
    );
    t.row("latency p50 / p99 / max", report::p50_p99_max(&all));
    t.row("server CPU", cpu1.describe_since(&cpu0));
    t.row(
        "server RSS at the end",
        target.rss_kb().map_or("n/a".to_owned(), report::mb),
    );
    Ok(t)
}
