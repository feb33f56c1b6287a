//! Load-test harness (see bench/README.md): the real patchbay server, seeded with
//! integrations, plus, on a second port of the same process, a bare axum JSON handler
//! that serves the same 50 rows from the same store function without GraphQL or auth
//! (`/bare`, and `/bare/filtered?category=&tag=&text=`, the filtered page of issue 12 with
//! its total, health status and credentials kind, from the domain functions the GraphQL
//! loaders call). Seeds through the domain's `integrations::create` (journal, outbox,
//! tags and search indexes as for any API call), 8 at a time; the rows are the ones
//! `patchbay-load graphql` creates (bench/load/src/query.rs, `seed_row`).
//! Prints one JSON line with the ports and a token, then serves until killed.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test and load tools: a panic is a failed run

use std::sync::Arc;

use axum::Json;
use axum::extract::{Query, State};
use axum::routing::get;
use patchbay::app::App;
use patchbay::config::{Config, Settings};
use patchbay::domain::access::{Caller, Role};
use patchbay::domain::integrations::{self, CreateIntegrationInput, IntegrationFilter};
use patchbay::domain::projects::{self, CreateProjectInput};
use patchbay::domain::{Category, credentials, health, tokens};
use patchbay::store::PageRequest;
use serde_json::{Value, json};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let data_dir = args.next().unwrap_or_else(|| "./bench-data".to_owned());
    let rows: usize = args.next().map(|n| n.parse()).transpose()?.unwrap_or(1000);
    let settings = Settings {
        listen: Some("127.0.0.1:0".parse()?),
        data_dir: Some(data_dir.into()),
        log_level: Some("warn".to_owned()),
        // Settings are built here, not parsed by clap, so read the store's URL explicitly.
        database_url: std::env::var("PATCHBAY_DATABASE_URL").ok(),
        ..Settings::default()
    };
    let config = Config::resolve(&settings)?;
    let server = patchbay::server::start(config).await?;
    let app = server.app.clone();
    let caller = Caller::local_operator();

    let existing = integrations::list(
        &app.store,
        &caller,
        None,
        IntegrationFilter::default(),
        &PageRequest {
            limit: 1,
            ..Default::default()
        },
    )
    .await?;
    if existing.rows.is_empty() {
        let project = projects::create(
            &app,
            &caller,
            CreateProjectInput {
                name: "Bench".into(),
                slug: None,
                description: None,
            },
        )
        .await?;
        let started = std::time::Instant::now();
        let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let mut seeders = Vec::new();
        for _ in 0..8 {
            let (app, caller, project_id, next) = (
                app.clone(),
                caller.clone(),
                project.id.clone(),
                next.clone(),
            );
            seeders.push(tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if i >= rows {
                        return anyhow::Ok(());
                    }
                    let (name, description, category, tags) = seed_row(i);
                    let mut input = CreateIntegrationInput::minimal(
                        &project_id,
                        name,
                        category.parse::<Category>()?,
                    );
                    input.description = Some(description);
                    input.tags = Some(tags.to_vec());
                    input.base_url = Some("https://api.example.com".into());
                    integrations::create(&app, &caller, input).await?;
                    if (i + 1) % 10_000 == 0 {
                        eprintln!("bench_server: {} integrations", i + 1);
                    }
                }
            }));
        }
        for seeder in seeders {
            seeder.await??;
        }
        eprintln!(
            "bench_server: seeded {rows} integrations in {:.1} s",
            started.elapsed().as_secs_f64()
        );
    }
    let token = tokens::create(&app.store, &caller, "bench", Role::Viewer, None).await?;

    let bare = axum::Router::new()
        .route("/bare", get(bare_integrations))
        .route("/bare/filtered", get(bare_filtered))
        .with_state(app.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let bare_addr = listener.local_addr()?;
    tokio::spawn(async move { axum::serve(listener, bare).await });

    println!(
        "{}",
        json!({ "graphql": format!("http://{}/graphql", server.addr), "healthz": format!("http://{}/healthz", server.addr),
                "bare": format!("http://{bare_addr}/bare"), "token": token.secret, "store": app.store.target().describe() })
    );
    patchbay::server::termination_signal().await;
    server.stop().await;
    Ok(())
}

/// The first 50 integrations as `{ id name status }`, like the GraphQL query, minus GraphQL and auth.
async fn bare_integrations(State(app): State<Arc<App>>) -> Json<Value> {
    let caller = Caller::local_operator();
    let page = PageRequest {
        limit: 50,
        ..Default::default()
    };
    match integrations::list(
        &app.store,
        &caller,
        None,
        IntegrationFilter::default(),
        &page,
    )
    .await
    {
        Ok(page) => Json(
            json!({ "integrations": page.rows.iter().map(|i| json!({ "id": i.id, "name": i.name, "status": i.status.as_str() })).collect::<Vec<_>>() }),
        ),
        Err(err) => Json(json!({ "error": err.to_string() })),
    }
}

/// The filter of `/bare/filtered` (the GraphQL filter's fields, as query parameters).
#[derive(serde::Deserialize)]
struct BareFilter {
    category: Option<String>,
    tag: Option<String>,
    text: Option<String>,
}

/// The filtered page of issue 12 without GraphQL and auth: 50 rows with `totalCount`,
/// `{ id name status category tags health { status } credentials { kind } }`, from the
/// same domain functions (the list, then the health states and credentials of the page
/// in one query each, as the data loaders do).
async fn bare_filtered(State(app): State<Arc<App>>, Query(f): Query<BareFilter>) -> Json<Value> {
    match filtered_page(&app, f).await {
        Ok(value) => Json(value),
        Err(err) => Json(json!({ "error": err.to_string() })),
    }
}

async fn filtered_page(app: &App, f: BareFilter) -> anyhow::Result<Value> {
    let caller = Caller::local_operator();
    let filter = IntegrationFilter {
        category: f.category.map(|c| c.parse::<Category>()).transpose()?,
        tag: f.tag,
        text: f.text,
        ..IntegrationFilter::default()
    };
    let request = PageRequest {
        limit: 50,
        count_total: true,
        ..Default::default()
    };
    let page = integrations::list(&app.store, &caller, None, filter, &request).await?;
    let ids: Vec<String> = page.rows.iter().map(|i| i.id.clone()).collect();
    let (states, creds) = tokio::try_join!(
        health::states_unchecked(&app.store, &ids),
        credentials::info_many(&app.store, &ids)
    )?;
    let states: std::collections::HashMap<_, _> = states
        .into_iter()
        .map(|h| (h.integration_id.clone(), h.status))
        .collect();
    let creds: std::collections::HashMap<_, _> = creds.into_iter().collect();
    let rows: Vec<Value> = page
        .rows
        .iter()
        .map(|i| {
            json!({ "id": i.id, "name": i.name, "status": i.status.as_str(), "category": i.category.as_str(),
                    "tags": i.tags,
                    "health": { "status": states.get(&i.id).map_or("UNKNOWN", |s| s.as_str()) },
                    "credentials": creds.get(&i.id).map(|c| json!({ "kind": c.kind.as_str() })) })
        })
        .collect();
    Ok(json!({ "totalCount": page.total, "integrations": rows }))
}

/// The same rows as `patchbay-load graphql` seeds.
#[path = "seed_rows.rs"]
mod seed_rows;
use seed_rows::seed_row;
