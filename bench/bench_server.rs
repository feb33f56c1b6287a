//! Load-test harness (see bench/README.md): the real patchbay server, seeded with
//! integrations, plus, on a second port of the same process, a bare axum JSON handler
//! that serves the same 50 rows from the same store function without GraphQL or auth.
//! Prints one JSON line with the ports and a token, then serves until killed.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test and load tools: a panic is a failed run

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::routing::get;
use patchbay::app::App;
use patchbay::config::{Config, Settings};
use patchbay::domain::access::{Caller, Role};
use patchbay::domain::integrations::{self, CreateIntegrationInput, IntegrationFilter};
use patchbay::domain::projects::{self, CreateProjectInput};
use patchbay::domain::{Category, tokens};
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
        for i in 0..rows {
            let mut input = CreateIntegrationInput::minimal(
                &project.id,
                format!("integration-{i:05}"),
                Category::Monitoring,
            );
            input.description = Some("seeded for the load test".into());
            input.tags = Some(vec!["bench".into()]);
            input.base_url = Some("https://api.example.com".into());
            integrations::create(&app, &caller, input).await?;
        }
    }
    let token = tokens::create(&app.store, &caller, "bench", Role::Viewer, None).await?;

    let bare = axum::Router::new()
        .route("/bare", get(bare_integrations))
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
