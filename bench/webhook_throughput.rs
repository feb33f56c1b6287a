//! Webhook pipeline load test (bench/README.md): the real server and a local receiver in
//! one process. Publishes events through `publishEvent` (32 in flight), and measures
//! events published/s, deliveries/s until every delivery arrived, and publish→delivered
//! latency (p50/p99), with 1 and with 100 endpoints; then incoming webhooks accepted/s
//! on `/hooks/{id}` (shared-token scheme, 32 in flight).
//!
//! Usage: `cargo run --release --example webhook_throughput [EVENTS]`
//! (PATCHBAY_DATABASE_URL=postgres://… for PostgreSQL).
#![allow(clippy::unwrap_used, clippy::expect_used)] // test and load tools: a panic is a failed run

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::routing::post;
use futures_util::StreamExt;
use patchbay::config::{Config, Settings};
use patchbay::domain::access::{Caller, Role};
use patchbay::domain::integrations::{self, CreateIntegrationInput};
use patchbay::domain::projects::{self, CreateProjectInput};
use patchbay::domain::{Category, tokens};
use serde_json::{Value, json};

/// Arrival latencies (publish → delivered), in microseconds since the bench's epoch.
#[derive(Clone)]
struct Sink {
    epoch: Instant,
    latencies: Arc<Mutex<Vec<u64>>>,
}

async fn receive(State(sink): State<Sink>, body: Bytes) -> &'static str {
    let arrived = sink.epoch.elapsed().as_micros() as u64;
    if let Ok(event) = serde_json::from_slice::<Value>(&body)
        && let Some(sent) = event["data"]["sentMicros"].as_u64()
    {
        sink.latencies
            .lock()
            .unwrap()
            .push(arrived.saturating_sub(sent));
    }
    "ok"
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    let rank = ((sorted.len() as f64) * p).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1] as f64 / 1000.0
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let events: usize = std::env::args()
        .nth(1)
        .map(|n| n.parse())
        .transpose()?
        .unwrap_or(2000);
    let sink = Sink {
        epoch: Instant::now(),
        latencies: Arc::default(),
    };
    let receiver = axum::Router::new()
        .route("/hook", post(receive))
        .with_state(sink.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let receiver_url = format!("http://{}/hook", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, receiver).await });

    let data_dir = tempfile::tempdir()?;
    let settings = Settings {
        listen: Some("127.0.0.1:0".parse()?),
        data_dir: Some(data_dir.path().to_path_buf()),
        log_level: Some("warn".to_owned()),
        allow_private_networks: Some(true),
        // Settings are built here, not parsed by clap, so read the store's URL explicitly.
        database_url: std::env::var("PATCHBAY_DATABASE_URL").ok(),
        ..Settings::default()
    };
    let config = Config::resolve(&settings)?;
    println!("store: {}", config.database.describe());
    let server = patchbay::server::start(config).await?;
    let app = server.app.clone();
    let caller = Caller::local_operator();
    let token = tokens::create(&app.store, &caller, "bench", Role::Editor, None).await?;
    let graphql = format!("http://{}/graphql", server.addr);
    let client = reqwest::Client::new();

    for endpoints in [1usize, 100] {
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
        for _ in 0..endpoints {
            let body: Value = client
                .post(&graphql)
                .bearer_auth(&token.secret)
                .json(&json!({
                    "query": "mutation($i: CreateWebhookInput!) { createWebhook(input: $i) { webhook { id } } }",
                    "variables": { "i": { "projectId": project.id, "url": receiver_url, "eventTypes": ["custom.*"] } },
                }))
                .send()
                .await?
                .json()
                .await?;
            anyhow::ensure!(body.get("errors").is_none(), "{body}");
        }
        // Keep the delivery count comparable: 100 endpoints get a hundredth of the events.
        let count = (events / endpoints).max(10);
        let expected = count * endpoints;
        sink.latencies.lock().unwrap().clear();
        let started = Instant::now();
        let published = futures_util::stream::iter(0..count)
            .map(|i| {
                let client = client.clone();
                let graphql = graphql.clone();
                let secret = token.secret.clone();
                let project = project.id.clone();
                let epoch = sink.epoch;
                async move {
                    client
                        .post(&graphql)
                        .bearer_auth(secret)
                        .json(&json!({
                            "query": "mutation($i: PublishEventInput!) { publishEvent(input: $i) { event { id } } }",
                            "variables": { "i": { "projectId": project, "type": "custom.bench",
                                "data": { "i": i, "sentMicros": epoch.elapsed().as_micros() as u64 } } },
                        }))
                        .send()
                        .await
                        .map(|r| r.status().is_success())
                }
            })
            .buffer_unordered(32)
            .collect::<Vec<_>>()
            .await;
        let publish_time = started.elapsed();
        anyhow::ensure!(
            published.iter().all(|r| matches!(r, Ok(true))),
            "publish failed"
        );
        let deadline = Instant::now() + Duration::from_secs(300);
        while sink.latencies.lock().unwrap().len() < expected {
            anyhow::ensure!(Instant::now() < deadline, "deliveries did not all arrive");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let total = started.elapsed();
        let mut latencies = sink.latencies.lock().unwrap().clone();
        latencies.sort_unstable();
        println!(
            "{endpoints} endpoint(s): {count} events published in {:.2} s ({:.0}/s); {expected} deliveries in {:.2} s ({:.0}/s); publish→delivered p50 {:.1} ms, p99 {:.1} ms",
            publish_time.as_secs_f64(),
            count as f64 / publish_time.as_secs_f64(),
            total.as_secs_f64(),
            expected as f64 / total.as_secs_f64(),
            percentile(&latencies, 0.50),
            percentile(&latencies, 0.99),
        );
    }

    // Incoming webhooks: shared-token scheme, 32 in flight.
    let project = projects::create(
        &app,
        &caller,
        CreateProjectInput {
            name: format!("Incoming {}", uuid::Uuid::new_v4().simple()),
            slug: None,
            description: None,
        },
    )
    .await?;
    let integration = integrations::create(
        &app,
        &caller,
        CreateIntegrationInput::minimal(&project.id, "Jenkins", Category::CiCd),
    )
    .await?;
    let body: Value = client
        .post(&graphql)
        .bearer_auth(&token.secret)
        .json(&json!({
            "query": "mutation($i: SetIncomingWebhookInput!) { setIncomingWebhook(input: $i) { incomingWebhook { path } } }",
            "variables": { "i": { "integrationId": integration.id, "scheme": "SHARED_TOKEN", "secret": "bench-token-123" } },
        }))
        .send()
        .await?
        .json()
        .await?;
    anyhow::ensure!(body.get("errors").is_none(), "{body}");
    let hooks = format!("http://{}/hooks/{}", server.addr, integration.id);
    let requests = events * 2;
    let started = Instant::now();
    let accepted = futures_util::stream::iter(0..requests)
        .map(|i| {
            let client = client.clone();
            let hooks = hooks.clone();
            async move {
                client
                    .post(&hooks)
                    .header("x-webhook-token", "bench-token-123")
                    .body(format!(r#"{{"event":"build.finished","build":{i}}}"#))
                    .send()
                    .await
                    .map(|r| r.status().as_u16())
            }
        })
        .buffer_unordered(32)
        .collect::<Vec<_>>()
        .await;
    let elapsed = started.elapsed();
    anyhow::ensure!(
        accepted.iter().all(|r| matches!(r, Ok(202))),
        "a request was refused"
    );
    println!(
        "incoming: {requests} webhooks accepted (stored durably) in {:.2} s = {:.0}/s",
        elapsed.as_secs_f64(),
        requests as f64 / elapsed.as_secs_f64()
    );
    server.stop().await;
    Ok(())
}
