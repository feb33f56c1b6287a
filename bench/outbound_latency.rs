//! Outbound engine load test (bench/README.md): a local upstream and the real server in
//! one process; measures, interleaved in one run, a direct call to the upstream against
//! the same call through `executeRequest` (p50/p99 of each, and the difference), then
//! `batchExecute` throughput at concurrency 64.
//!
//! Usage: `cargo run --release --example outbound_latency [CALLS]`
//! (PATCHBAY_DATABASE_URL=postgres://… for PostgreSQL).
#![allow(clippy::unwrap_used, clippy::expect_used)] // test and load tools: a panic is a failed run

use std::time::{Duration, Instant};

use axum::routing::get;
use patchbay::config::{Config, Settings};
use patchbay::domain::access::{Caller, Role};
use patchbay::domain::integrations::{self, CreateIntegrationInput};
use patchbay::domain::projects::{self, CreateProjectInput};
use patchbay::domain::{Category, tokens};
use serde_json::{Value, json};

const EXECUTE: &str = "mutation($i: ExecuteRequestInput!) { executeRequest(input: $i) { status } }";
const BATCH: &str =
    "mutation($i: BatchExecuteInput!) { batchExecute(input: $i) { succeeded failed } }";

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((sorted.len() as f64) * p).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let calls: usize = std::env::args()
        .nth(1)
        .map(|n| n.parse())
        .transpose()?
        .unwrap_or(2000);
    let upstream = axum::Router::new().route(
        "/item",
        get(|| async { axum::Json(json!({ "id": 1, "name": "widget", "tags": ["a", "b"] })) }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let upstream_url = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, upstream).await });

    let data_dir = tempfile::tempdir()?;
    let settings = Settings {
        listen: Some("127.0.0.1:0".parse()?),
        data_dir: Some(data_dir.path().to_path_buf()),
        log_level: Some("warn".to_owned()),
        // The upstream is on 127.0.0.1.
        allow_private_networks: Some(true),
        // Settings are built here, not parsed by clap, so read the store's URL explicitly.
        database_url: std::env::var("PATCHBAY_DATABASE_URL").ok(),
        ..Settings::default()
    };
    let config = Config::resolve(&settings)?;
    let backend = config.database.describe();
    let server = patchbay::server::start(config).await?;
    let app = server.app.clone();
    let caller = Caller::local_operator();
    let project = projects::create(
        &app,
        &caller,
        CreateProjectInput {
            name: format!("Bench {}", uuid::Uuid::new_v4().simple()),
            slug: None,
            description: None,
        },
    )
    .await?;
    let mut input = CreateIntegrationInput::minimal(&project.id, "Upstream", Category::Custom);
    input.base_url = Some(upstream_url.clone());
    let integration = integrations::create(&app, &caller, input).await?;
    let token = tokens::create(&app.store, &caller, "bench", Role::Editor, None).await?;
    let graphql = format!("http://{}/graphql", server.addr);
    let client = reqwest::Client::new();
    let gql = |query: &'static str, variables: Value| {
        client
            .post(&graphql)
            .bearer_auth(&token.secret)
            .json(&json!({ "query": query, "variables": variables }))
            .send()
    };
    let item = json!({ "i": { "integrationId": integration.id, "path": "/item" } });

    // Warm both paths (connections, caches), then alternate them call by call.
    for _ in 0..50 {
        client
            .get(format!("{upstream_url}/item"))
            .send()
            .await?
            .bytes()
            .await?;
        gql(EXECUTE, item.clone()).await?.bytes().await?;
    }
    let mut direct = Vec::with_capacity(calls);
    let mut executed = Vec::with_capacity(calls);
    for _ in 0..calls {
        let t = Instant::now();
        client
            .get(format!("{upstream_url}/item"))
            .send()
            .await?
            .bytes()
            .await?;
        direct.push(t.elapsed());
        let t = Instant::now();
        let body: Value = gql(EXECUTE, item.clone()).await?.json().await?;
        executed.push(t.elapsed());
        anyhow::ensure!(body["data"]["executeRequest"]["status"] == 200, "{body}");
    }
    direct.sort();
    executed.sort();
    println!("store: {backend}; {calls} sequential calls each, interleaved");
    for (name, p) in [("p50", 0.50), ("p99", 0.99)] {
        let d = percentile(&direct, p);
        let e = percentile(&executed, p);
        println!(
            "{name}: direct {:.0} µs, executeRequest {:.0} µs, added {:.0} µs",
            micros(d),
            micros(e),
            micros(e.saturating_sub(d))
        );
    }

    let items: Vec<Value> = (0..500)
        .map(|_| json!({ "integrationId": integration.id, "path": "/item" }))
        .collect();
    let batch = json!({ "i": { "items": items, "concurrency": 64 } });
    let rounds = 5;
    let t = Instant::now();
    for _ in 0..rounds {
        let body: Value = gql(BATCH, batch.clone()).await?.json().await?;
        anyhow::ensure!(body["data"]["batchExecute"]["failed"] == 0, "{body}");
    }
    let elapsed = t.elapsed();
    println!(
        "batchExecute, concurrency 64: {} calls in {:.2} s = {:.0} calls/s",
        rounds * 500,
        elapsed.as_secs_f64(),
        (rounds * 500) as f64 / elapsed.as_secs_f64()
    );
    server.stop().await;
    Ok(())
}
