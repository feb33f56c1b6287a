//! `sync`: one sync of N records from a built-in paginated upstream (cursor pages of
//! `--page-size`), through a template operation like any user's: records/s of a full first
//! run (every record created) and of a second run (every record unchanged), pages/s,
//! server CPU and RSS.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, Uri, header};
use axum::response::IntoResponse;
use axum::routing::get;
use clap::Args;
use serde_json::{Value, json};

use crate::gql::Gql;
use crate::report::{Table, int, mb, progress, rate};
use crate::server::{CpuSample, Target};

#[derive(Args, Debug)]
pub struct SyncArgs {
    /// Records the upstream serves.
    #[arg(long, default_value_t = 100_000)]
    records: u64,
    /// Records per page (the sync's pageSize).
    #[arg(long, default_value_t = 500)]
    page_size: u64,
    /// Give up on a run after this many seconds.
    #[arg(long, default_value_t = 1800)]
    timeout: u64,
}

struct Source {
    records: u64,
    pages: AtomicU64,
}

/// `GET /items?cursor=N&limit=M`: records N.. (M of them) and the next cursor.
async fn items(State(source): State<Arc<Source>>, uri: Uri) -> impl IntoResponse {
    source.pages.fetch_add(1, Ordering::Relaxed);
    let (mut start, mut limit) = (0u64, 100u64);
    for pair in uri.query().unwrap_or_default().split('&') {
        match pair.split_once('=') {
            Some(("cursor", v)) => start = v.parse().unwrap_or(0),
            Some(("limit", v)) => limit = v.parse().unwrap_or(100),
            _ => {}
        }
    }
    let end = (start + limit).min(source.records);
    let items: Vec<Value> = (start..end)
        .map(|i| {
            json!({ "id": i, "title": format!("record {i}"), "status": if i % 3 == 0 { "open" } else { "closed" },
                    "owner": { "id": i % 97, "name": format!("owner {}", i % 97) }, "points": i % 13 })
        })
        .collect();
    let next = (end < source.records).then(|| end.to_string());
    let body = json!({ "items": items, "next": next }).to_string();
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        body,
    )
}

fn template(project: &str) -> Value {
    let param =
        |name: &str, kind: &str| json!({ "name": name, "in": "query", "schema": { "type": kind } });
    json!({
        "projectId": project, "slug": "load-sync", "name": "Load sync upstream", "category": "CUSTOM",
        "authKinds": ["BEARER"],
        "configSchema": { "type": "object", "required": ["baseUrl"], "properties": { "baseUrl": { "type": "string" } } },
        "credentialSchema": { "type": "object", "required": ["token"], "properties": { "token": { "type": "string" } } },
        "credentialMapping": { "kind": "BEARER", "token": "{{credentials.token}}" },
        "exampleConfig": { "baseUrl": "https://upstream.example.com" },
        "baseUrl": "{{config.baseUrl}}",
        "operations": [
            { "name": "health", "method": "GET", "path": "/items" },
            { "name": "listItems", "method": "GET", "path": "/items",
              "parameters": [param("cursor", "string"), param("limit", "integer")],
              "pagination": { "style": "CURSOR", "itemsPointer": "/items", "cursorParam": "cursor", "nextCursorPointer": "/next", "limitParam": "limit" } }
        ],
        "healthCheck": { "operation": "health", "expectedStatus": [200] }
    })
}

fn id_of(data: &Value, path: &[&str]) -> anyhow::Result<String> {
    let mut at = data;
    for key in path {
        at = &at[*key];
    }
    at.as_str()
        .map(str::to_owned)
        .context("no id in the answer")
}

/// Runs the sync once and waits for its end; (the finished run, how long it took).
async fn one_run(gql: &Gql, sync: &str, timeout: Duration) -> anyhow::Result<(Value, Duration)> {
    let started = Instant::now();
    let data = gql
        .run(
            "mutation($id: ID!) { runSync(id: $id) { id } }",
            json!({ "id": sync }),
        )
        .await?;
    let run = id_of(&data, &["runSync", "id"])?;
    let mut last_pages = -1;
    loop {
        let data = gql
            .run(
                "query($id: ID!) { syncRun(id: $id) { status pages fetched created updated deleted errors lastError finishedAt } }",
                json!({ "id": run }),
            )
            .await?;
        let state = data["syncRun"].clone();
        if state["status"] != "RUNNING" {
            return Ok((state, started.elapsed()));
        }
        let pages = state["pages"].as_i64().unwrap_or(0);
        if pages / 20 != last_pages / 20 {
            progress(format!("{pages} pages, {} records", state["fetched"]));
        }
        last_pages = pages;
        if started.elapsed() > timeout {
            bail!("the run did not finish in {timeout:?}: {state}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

pub async fn run(target: &Target, args: SyncArgs) -> anyhow::Result<Table> {
    let source = Arc::new(Source {
        records: args.records,
        pages: AtomicU64::new(0),
    });
    let app = Router::new()
        .route("/items", get(items))
        .with_state(source.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move { axum::serve(listener, app).await });

    let gql = Gql::new(target.graphql_url(), &target.token);
    let project = gql.create_project("load sync").await?;
    let data = gql
        .run(
            "mutation($i: CreateTemplateInput!) { createTemplate(input: $i) { template { id } } }",
            json!({ "i": template(&project) }),
        )
        .await?;
    let template_id = id_of(&data, &["createTemplate", "template", "id"])?;
    gql.run(
        "mutation($id: ID!) { publishTemplate(id: $id) { template { id } } }",
        json!({ "id": template_id }),
    )
    .await?;
    let data = gql
        .run(
            "mutation($i: DeployTemplateInput!) { deployTemplate(input: $i) { integration { id } } }",
            json!({ "i": { "templateId": template_id, "projectId": project, "name": "load sync upstream",
                "config": { "baseUrl": format!("http://{addr}") }, "credentials": { "token": crate::incoming::fresh_secret() } } }),
        )
        .await?;
    let integration = id_of(&data, &["deployTemplate", "integration", "id"])?;
    let data = gql
        .run(
            "mutation($i: CreateSyncInput!) { createSync(input: $i) { sync { id } } }",
            json!({ "i": { "integrationId": integration, "name": "items", "operation": "listItems",
                "pageSize": args.page_size, "intervalSeconds": 86400 } }),
        )
        .await?;
    let sync = id_of(&data, &["createSync", "sync", "id"])?;
    let timeout = Duration::from_secs(args.timeout);

    progress(format!(
        "first run: {} records, {} per page",
        args.records, args.page_size
    ));
    let cpu0 = CpuSample::take(target);
    let (first, first_took) = one_run(&gql, &sync, timeout).await?;
    let cpu1 = CpuSample::take(target);
    if first["status"] != "SUCCEEDED" {
        bail!("the first run did not succeed: {first}");
    }
    let rss = target.rss_kb();
    // The second run compares with what the first stored: plan it as autovacuum would have.
    let analyzed = target.vacuum_analyze().await?;
    progress("second run: the same records, unchanged");
    let (second, second_took) = one_run(&gql, &sync, timeout).await?;
    let cpu2 = CpuSample::take(target);

    let mut table = Table::new(format!(
        "sync: {} records, {} per page, cursor pagination",
        int(args.records),
        args.page_size
    ));
    table.row("server", target.describe.clone());
    if analyzed {
        table.row(
            "planner statistics",
            "VACUUM ANALYZE between the runs (as autovacuum would have by then)",
        );
    }
    table.row("first run: status", first["status"].as_str().unwrap_or("?"));
    table.row(
        "first run: pages / fetched / created",
        format!(
            "{} / {} / {}",
            first["pages"], first["fetched"], first["created"]
        ),
    );
    table.row(
        "first run: took",
        format!("{:.2} s", first_took.as_secs_f64()),
    );
    table.row(
        "first run: records/s",
        rate(args.records as f64, first_took),
    );
    table.row(
        "first run: pages/s",
        rate(first["pages"].as_f64().unwrap_or(0.0), first_took),
    );
    table.row("first run: server CPU", cpu1.describe_since(&cpu0));
    table.row(
        "second run (unchanged): status",
        second["status"].as_str().unwrap_or("?"),
    );
    table.row(
        "second run: created / updated / deleted",
        format!(
            "{} / {} / {}",
            second["created"], second["updated"], second["deleted"]
        ),
    );
    table.row(
        "second run: took",
        format!("{:.2} s", second_took.as_secs_f64()),
    );
    table.row(
        "second run: records/s",
        rate(args.records as f64, second_took),
    );
    table.row("second run: server CPU", cpu2.describe_since(&cpu1));
    table.row(
        "upstream pages served",
        int(source.pages.load(Ordering::Relaxed)),
    );
    if let Some(kb) = rss {
        table.row("server RSS after the first run", mb(kb));
    }
    Ok(table)
}
