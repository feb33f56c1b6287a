//! Data sync end to end against a local paginated upstream (cursor, page, Link header and
//! offset styles): records stored, created/updated/deleted detection across runs, crash
//! and resume mid-run, the integration's rate limit, stopSync, verifySync, project
//! isolation and bad input.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use patchbay::domain::access::Role;
use serde_json::{Value, json};

use crate::on_both_backends;
use crate::support::{Backend, SECRET_MARKER, TestServer, code};

on_both_backends!(
    sync_pages_through_every_pagination_style,
    sync_detects_created_updated_and_deleted_records,
    sync_resumes_after_a_crash_without_losing_or_repeating_records,
    sync_respects_the_integration_rate_limit,
    stop_sync_cancels_a_running_run,
    syncs_and_records_are_isolated_by_project,
    sync_bad_input_is_refused_with_its_field,
);

const TOKEN: &str = "zz-secret-marker-5b1e-sync-token";

/// The upstream's records and what it saw.
#[derive(Clone, Default)]
struct Upstream {
    records: Arc<Mutex<Vec<Value>>>,
    /// (when, path and query) of every list request.
    requests: Arc<Mutex<Vec<(Instant, String)>>>,
    /// Milliseconds each list answer waits.
    delay_ms: Arc<AtomicU64>,
    /// Event types posted to /hook.
    hooks: Arc<Mutex<Vec<String>>>,
}

impl Upstream {
    fn with_records(n: usize) -> Self {
        let up = Upstream::default();
        *up.records.lock().unwrap() = (1..=n)
            .map(|i| json!({ "id": i, "title": format!("record {i}"), "nested": { "n": i } }))
            .collect();
        up
    }

    fn requests(&self) -> Vec<String> {
        self.requests
            .lock()
            .unwrap()
            .iter()
            .map(|(_, p)| p.clone())
            .collect()
    }
}

type Params = Query<HashMap<String, String>>;

async fn seen(
    up: &Upstream,
    headers: &HeaderMap,
    path: &str,
    q: &HashMap<String, String>,
) -> Result<(), StatusCode> {
    let mut keys: Vec<_> = q.iter().map(|(k, v)| format!("{k}={v}")).collect();
    keys.sort();
    up.requests
        .lock()
        .unwrap()
        .push((Instant::now(), format!("{path}?{}", keys.join("&"))));
    let delay = up.delay_ms.load(Ordering::SeqCst);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    // Credentials are injected by the engine from the vault.
    let expected = format!("Bearer {TOKEN}");
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(expected.as_str()) {
        return Err(StatusCode::UNAUTHORIZED);
    }
    Ok(())
}

fn num(q: &HashMap<String, String>, key: &str, default: usize) -> usize {
    q.get(key).and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn slice(up: &Upstream, start: usize, len: usize) -> Vec<Value> {
    let records = up.records.lock().unwrap();
    records.iter().skip(start).take(len).cloned().collect()
}

async fn cursor(
    State(up): State<Upstream>,
    headers: HeaderMap,
    Query(q): Params,
) -> impl IntoResponse {
    if let Err(status) = seen(&up, &headers, "/cursor", &q).await {
        return status.into_response();
    }
    let start = num(&q, "cursor", 0);
    let limit = num(&q, "limit", 10);
    let items = slice(&up, start, limit);
    let total = up.records.lock().unwrap().len();
    let next = (start + limit < total).then(|| (start + limit).to_string());
    axum::Json(json!({ "items": items, "next": next })).into_response()
}

async fn page(
    State(up): State<Upstream>,
    headers: HeaderMap,
    Query(q): Params,
) -> impl IntoResponse {
    if let Err(status) = seen(&up, &headers, "/page", &q).await {
        return status.into_response();
    }
    let page = num(&q, "page", 1).max(1);
    let per = num(&q, "perPage", 10);
    axum::Json(json!({ "data": slice(&up, (page - 1) * per, per) })).into_response()
}

async fn offset(
    State(up): State<Upstream>,
    headers: HeaderMap,
    Query(q): Params,
) -> impl IntoResponse {
    if let Err(status) = seen(&up, &headers, "/offset", &q).await {
        return status.into_response();
    }
    let total = up.records.lock().unwrap().len();
    axum::Json(json!({
        "results": slice(&up, num(&q, "offset", 0), num(&q, "limit", 10)),
        "total": total,
    }))
    .into_response()
}

async fn linked(
    State(up): State<Upstream>,
    headers: HeaderMap,
    Query(q): Params,
) -> impl IntoResponse {
    if let Err(status) = seen(&up, &headers, "/link", &q).await {
        return status.into_response();
    }
    let page = num(&q, "page", 1).max(1);
    let per = num(&q, "per_page", 10);
    let total = up.records.lock().unwrap().len();
    let host = headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1")
        .to_owned();
    let mut response = axum::Json(Value::Array(slice(&up, (page - 1) * per, per))).into_response();
    if page * per < total {
        let link = format!(
            "<http://{host}/api/link?page={}&per_page={per}>; rel=\"next\", <http://{host}/api/link?page=1&per_page={per}>; rel=\"first\"",
            page + 1
        );
        response.headers_mut().insert("link", link.parse().unwrap());
    }
    response
}

async fn hook(State(up): State<Upstream>, body: axum::Json<Value>) -> StatusCode {
    if let Some(kind) = body.0["type"].as_str() {
        up.hooks.lock().unwrap().push(kind.to_owned());
    }
    StatusCode::NO_CONTENT
}

/// Serves the upstream under `/api` on 127.0.0.1; returns its base URL.
async fn start_upstream(up: &Upstream) -> String {
    let api = axum::Router::new()
        .route("/health", get(|| async { "ok" }))
        .route("/cursor", get(cursor))
        .route("/page", get(page))
        .route("/offset", get(offset))
        .route("/link", get(linked));
    let app = axum::Router::new()
        .nest("/api", api)
        .route("/hook", post(hook))
        .with_state(up.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

fn query_param(name: &str, kind: &str) -> Value {
    json!({ "name": name, "in": "query", "schema": { "type": kind } })
}

/// A template with one list operation per pagination style.
fn template(project: &str) -> Value {
    json!({
        "projectId": project,
        "slug": "paged-api",
        "name": "Paged API",
        "category": "CUSTOM",
        "authKinds": ["BEARER"],
        "configSchema": {
            "type": "object", "required": ["baseUrl"],
            "properties": { "baseUrl": { "type": "string" } }
        },
        "credentialSchema": {
            "type": "object", "required": ["token"],
            "properties": { "token": { "type": "string" } }
        },
        "credentialMapping": { "kind": "BEARER", "token": "{{credentials.token}}" },
        "exampleConfig": { "baseUrl": "https://paged.example.com/api" },
        "baseUrl": "{{config.baseUrl}}",
        "operations": [
            { "name": "health", "method": "GET", "path": "/health" },
            { "name": "listCursor", "method": "GET", "path": "/cursor",
              "parameters": [query_param("cursor", "string"), query_param("limit", "integer")],
              "pagination": { "style": "CURSOR", "itemsPointer": "/items", "cursorParam": "cursor", "nextCursorPointer": "/next", "limitParam": "limit" } },
            { "name": "listPages", "method": "GET", "path": "/page",
              "parameters": [query_param("page", "integer"), query_param("perPage", "integer")],
              "pagination": { "style": "PAGE", "itemsPointer": "/data", "pageParam": "page", "firstPage": 1, "limitParam": "perPage" } },
            { "name": "listOffset", "method": "GET", "path": "/offset",
              "parameters": [query_param("offset", "integer"), query_param("limit", "integer")],
              "pagination": { "style": "OFFSET", "itemsPointer": "/results", "offsetParam": "offset", "limitParam": "limit", "totalPointer": "/total" } },
            { "name": "listLinked", "method": "GET", "path": "/link",
              "parameters": [query_param("page", "integer"), query_param("per_page", "integer")],
              "pagination": { "style": "LINK_HEADER", "itemsPointer": "", "limitParam": "per_page" } }
        ],
        "healthCheck": { "operation": "health", "expectedStatus": [200] }
    })
}

/// A project with an integration deployed from the paged template against `base`.
async fn integration(server: &TestServer, name: &str, base: &str) -> (String, String) {
    let project = server.create_project(name).await;
    let data = server
        .ok(
            &server.admin,
            "mutation($i: CreateTemplateInput!) { createTemplate(input: $i) { template { id } } }",
            json!({ "i": template(&project) }),
        )
        .await;
    let template = data["createTemplate"]["template"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    server
        .ok(
            &server.admin,
            "mutation($id: ID!) { publishTemplate(id: $id) { template { id } } }",
            json!({ "id": template }),
        )
        .await;
    let data = server
        .ok(
            &server.admin,
            "mutation($i: DeployTemplateInput!) { deployTemplate(input: $i) { integration { id } } }",
            json!({ "i": { "templateId": template, "projectId": project, "name": format!("{name} api"),
                "config": { "baseUrl": format!("{base}/api") }, "credentials": { "token": TOKEN } } }),
        )
        .await;
    let integration = data["deployTemplate"]["integration"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    (project, integration)
}

const CREATE: &str = "mutation($i: CreateSyncInput!) { createSync(input: $i) { sync { id name operation enabled pageSize recordsPointer recordIdPointer pagination { style } } } }";
const RUN: &str = "mutation($id: ID!) { runSync(id: $id) { id status } }";
const RUN_FIELDS: &str = "id status trigger pages fetched created updated deleted errors lastError cursor startedAt finishedAt";

async fn create_sync(
    server: &TestServer,
    integration: &str,
    name: &str,
    operation: &str,
    page_size: i64,
) -> String {
    let data = server
        .ok(
            &server.admin,
            CREATE,
            json!({ "i": { "integrationId": integration, "name": name, "operation": operation,
                "pageSize": page_size, "intervalSeconds": 3600 } }),
        )
        .await;
    data["createSync"]["sync"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn run_sync(server: &TestServer, sync: &str) -> String {
    let data = server.ok(&server.admin, RUN, json!({ "id": sync })).await;
    assert_eq!(data["runSync"]["status"], "RUNNING");
    let run = data["runSync"]["id"].as_str().unwrap().to_owned();
    // Both are nodes: `node(id:)` finds them by their global IDs.
    let nodes = server
        .ok(
            &server.admin,
            "query($s: ID!, $r: ID!) { s: node(id: $s) { __typename id } r: node(id: $r) { __typename id } }",
            json!({ "s": sync, "r": run }),
        )
        .await;
    assert_eq!(
        (&nodes["s"]["__typename"], &nodes["s"]["id"]),
        (&json!("Sync"), &json!(sync))
    );
    assert_eq!(
        (&nodes["r"]["__typename"], &nodes["r"]["id"]),
        (&json!("SyncRun"), &json!(run))
    );
    run
}

async fn get_run(server: &TestServer, run: &str) -> Value {
    let query = format!("query($id: ID!) {{ syncRun(id: $id) {{ {RUN_FIELDS} }} }}");
    server.ok(&server.admin, &query, json!({ "id": run })).await["syncRun"].clone()
}

/// Polls a run until `done` holds (or fails the test after `limit`).
async fn wait_run(
    server: &TestServer,
    run: &str,
    limit: Duration,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + limit;
    loop {
        let current = get_run(server, run).await;
        if done(&current) {
            return current;
        }
        assert!(
            Instant::now() < deadline,
            "run did not get there in time: {current:#}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn finished(server: &TestServer, run: &str) -> Value {
    wait_run(server, run, Duration::from_secs(60), |r| {
        r["status"] != "RUNNING"
    })
    .await
}

/// Every record of an integration (all pages of the connection).
async fn all_records(server: &TestServer, integration: &str, extra: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let query = format!(
            "query($id: ID!, $after: String) {{ integration(id: $id) {{ records(first: 7, after: $after{extra}) {{ totalCount pageInfo {{ hasNextPage endCursor }} edges {{ node {{ id recordId data hash deletedAt changedAt }} }} }} }} }}"
        );
        let data = server
            .ok(
                &server.admin,
                &query,
                json!({ "id": integration, "after": after }),
            )
            .await;
        let records = &data["integration"]["records"];
        out.extend(
            records["edges"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["node"].clone()),
        );
        if records["pageInfo"]["hasNextPage"] != true {
            return out;
        }
        after = records["pageInfo"]["endCursor"].as_str().map(str::to_owned);
    }
}

fn record_ids(records: &[Value]) -> Vec<String> {
    let mut ids: Vec<String> = records
        .iter()
        .map(|r| r["recordId"].as_str().unwrap().to_owned())
        .collect();
    ids.sort_by_key(|id| id.parse::<u64>().unwrap_or(u64::MAX));
    ids
}

async fn sync_pages_through_every_pagination_style(backend: Backend) {
    let server = TestServer::start(backend).await;
    let up = Upstream::with_records(23);
    let base = start_upstream(&up).await;
    let (project, integration) = integration(&server, "Styles", &base).await;
    let expected: Vec<String> = (1..=23).map(|i| i.to_string()).collect();

    for (operation, pages) in [
        ("listCursor", 5),
        // Page numbers and offsets stop at the short last page.
        ("listPages", 5),
        ("listOffset", 5),
        ("listLinked", 5),
    ] {
        let sync = create_sync(&server, &integration, operation, operation, 5).await;
        let run = run_sync(&server, &sync).await;
        let done = finished(&server, &run).await;
        assert_eq!(done["status"], "SUCCEEDED", "{operation}: {done:#}");
        assert_eq!(done["pages"], pages, "{operation}: {done:#}");
        assert_eq!(done["fetched"], 23, "{operation}");
        assert_eq!(done["created"], 23, "{operation}");
        assert_eq!(
            (done["updated"].clone(), done["deleted"].clone()),
            (json!(0), json!(0))
        );
        assert_eq!(done["errors"], 0);
        assert_eq!(done["cursor"]["next"], "done");
        assert_eq!(done["trigger"], "MANUAL");
        let records = all_records(&server, &integration, &format!(", syncId: \"{sync}\"")).await;
        assert_eq!(record_ids(&records), expected, "{operation}");
        assert_eq!(
            records[0]["data"]["nested"]["n"]
                .as_u64()
                .unwrap()
                .to_string(),
            records[0]["recordId"].as_str().unwrap()
        );
    }
    let requests = up.requests();
    assert!(
        requests.contains(&"/cursor?cursor=20&limit=5".to_owned()),
        "{requests:?}"
    );
    assert!(
        requests.contains(&"/page?page=5&perPage=5".to_owned()),
        "{requests:?}"
    );
    assert!(
        requests.contains(&"/offset?limit=5&offset=20".to_owned()),
        "{requests:?}"
    );
    // The Link header's absolute URL was followed as a path under the base URL.
    assert!(
        requests.contains(&"/link?page=5&per_page=5".to_owned()),
        "{requests:?}"
    );

    // All four syncs keep their own copy: 4 × 23 records on the integration.
    let data = server
        .ok(&server.admin, "query($id: ID!) { integration(id: $id) { records { totalCount } syncs { name lastRun { status } runs(first: 5) { id } } } }", json!({ "id": integration }))
        .await;
    assert_eq!(data["integration"]["records"]["totalCount"], 92);
    assert_eq!(data["integration"]["syncs"].as_array().unwrap().len(), 4);

    // syncAll runs every enabled sync of the project.
    let syncs: Vec<String> = server
        .ok(
            &server.admin,
            "query($id: ID!) { integration(id: $id) { syncs { id } } }",
            json!({ "id": integration }),
        )
        .await["integration"]["syncs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .collect();
    let started = server
        .ok(
            &server.admin,
            "mutation($id: ID!) { startSync(id: $id) { sync { enabled nextRunAt } } }",
            json!({ "id": syncs[0] }),
        )
        .await;
    assert_eq!(started["startSync"]["sync"]["enabled"], true);
    server
        .ok(
            &server.admin,
            "mutation($id: ID!) { startSync(id: $id) { sync { enabled } } }",
            json!({ "id": syncs[1] }),
        )
        .await;
    let all = server
        .ok(
            &server.admin,
            "mutation($p: ID!) { syncAll(projectId: $p) { id status sync { id } } }",
            json!({ "p": project }),
        )
        .await;
    let runs = all["syncAll"].as_array().unwrap();
    assert_eq!(runs.len(), 2, "{all:#}");
    for run in runs {
        let done = finished(&server, run["id"].as_str().unwrap()).await;
        assert_eq!(done["status"], "SUCCEEDED");
        // A second run sees the same records: nothing created, changed or deleted.
        assert_eq!(
            (
                done["created"].clone(),
                done["updated"].clone(),
                done["deleted"].clone()
            ),
            (json!(0), json!(0), json!(0))
        );
    }
    server.stop().await;
}

async fn sync_detects_created_updated_and_deleted_records(backend: Backend) {
    let server = TestServer::start(backend).await;
    let up = Upstream::with_records(12);
    let base = start_upstream(&up).await;
    let (project, integration) = integration(&server, "Changes", &base).await;
    server
        .ok(
            &server.admin,
            "mutation($i: CreateWebhookInput!) { createWebhook(input: $i) { webhook { id } } }",
            json!({ "i": { "projectId": project, "url": format!("{base}/hook"), "eventTypes": ["sync.*"] } }),
        )
        .await;
    // A field mapping keeps only what is asked for.
    let data = server
        .ok(
            &server.admin,
            CREATE,
            json!({ "i": { "integrationId": integration, "name": "mapped", "operation": "listCursor",
                "pageSize": 5, "fieldMapping": { "title": "/title", "n": "/nested/n" } } }),
        )
        .await;
    let sync = data["createSync"]["sync"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Progress is streamed: the start, every page, the end.
    let mut socket = crate::subscriptions::subscribe(
        &server,
        &format!("subscription {{ syncProgress(syncId: \"{sync}\") {{ status pages fetched }} }}"),
    )
    .await;
    let first = finished(&server, &run_sync(&server, &sync).await).await;
    assert_eq!(
        (first["status"].clone(), first["created"].clone()),
        (json!("SUCCEEDED"), json!(12))
    );
    let mut seen = Vec::new();
    loop {
        let message = crate::subscriptions::next_for(&mut socket, "1").await;
        let run = message["payload"]["data"]["syncProgress"].clone();
        seen.push((
            run["status"].as_str().unwrap().to_owned(),
            run["pages"].as_i64().unwrap(),
        ));
        if run["status"] != "RUNNING" {
            break;
        }
    }
    let expected: Vec<(String, i64)> = [
        ("RUNNING", 0),
        ("RUNNING", 1),
        ("RUNNING", 2),
        ("RUNNING", 3),
        ("SUCCEEDED", 3),
    ]
    .iter()
    .map(|(s, p)| ((*s).to_owned(), *p))
    .collect();
    assert_eq!(seen, expected);
    drop(socket);
    let before = all_records(&server, &integration, "").await;
    assert_eq!(before.len(), 12);
    let three = before
        .iter()
        .find(|r| r["recordId"] == "3")
        .unwrap()
        .clone();
    assert_eq!(three["data"], json!({ "title": "record 3", "n": 3 }));
    let between = chrono::Utc::now().to_rfc3339();
    tokio::time::sleep(Duration::from_millis(20)).await;

    {
        let mut records = up.records.lock().unwrap();
        records[2]["title"] = json!("record 3, renamed");
        // A field outside the mapping changes nothing that is kept.
        records[3]["other"] = json!("ignored");
        records.retain(|r| r["id"] != 5);
        records.push(json!({ "id": 100, "title": "record 100", "nested": { "n": 100 } }));
    }
    let second = finished(&server, &run_sync(&server, &sync).await).await;
    assert_eq!(second["status"], "SUCCEEDED", "{second:#}");
    assert_eq!(
        (
            second["created"].clone(),
            second["updated"].clone(),
            second["deleted"].clone(),
            second["fetched"].clone()
        ),
        (json!(1), json!(1), json!(1), json!(12)),
        "{second:#}"
    );
    let present = all_records(&server, &integration, "").await;
    assert_eq!(present.len(), 12);
    assert!(present.iter().all(|r| r["recordId"] != "5"));
    let renamed = present.iter().find(|r| r["recordId"] == "3").unwrap();
    assert_eq!(renamed["data"]["title"], "record 3, renamed");
    assert_ne!(renamed["hash"], three["hash"]);
    // changedSince: what changed after the first run, deletions included.
    let changed = all_records(
        &server,
        &integration,
        &format!(", changedSince: \"{between}\""),
    )
    .await;
    assert_eq!(record_ids(&changed), vec!["3", "5", "100"], "{changed:#?}");
    let deleted = changed.iter().find(|r| r["recordId"] == "5").unwrap();
    assert!(deleted["deletedAt"].is_string());
    let with_deleted = all_records(&server, &integration, ", includeDeleted: true").await;
    assert_eq!(with_deleted.len(), 13);

    // A record that comes back is created again.
    up.records
        .lock()
        .unwrap()
        .push(json!({ "id": 5, "title": "record 5", "nested": { "n": 5 } }));
    let third = finished(&server, &run_sync(&server, &sync).await).await;
    assert_eq!(
        (third["created"].clone(), third["deleted"].clone()),
        (json!(1), json!(0))
    );

    // verifySync: a fresh first page against what is stored.
    let verify = "mutation($i: ID!, $n: Int) { verifySync(integrationId: $i, sample: $n) { score sampled matching syncs { score differences { recordId kind fields } } } }";
    let report = server
        .ok(&server.admin, verify, json!({ "i": integration, "n": 5 }))
        .await;
    assert_eq!(report["verifySync"]["score"], 1.0, "{report:#}");
    assert_eq!(report["verifySync"]["sampled"], 5);
    up.records.lock().unwrap()[0]["title"] = json!("changed upstream");
    up.records.lock().unwrap()[1]["id"] = json!(555);
    let report = server
        .ok(&server.admin, verify, json!({ "i": integration, "n": 5 }))
        .await;
    let report = &report["verifySync"];
    assert_eq!(report["matching"], 3, "{report:#}");
    assert!((report["score"].as_f64().unwrap() - 0.6).abs() < 1e-9);
    let differences = &report["syncs"][0]["differences"];
    assert_eq!(
        differences[0],
        json!({ "recordId": "1", "kind": "CHANGED", "fields": ["title"] })
    );
    assert_eq!(differences[1]["kind"], "MISSING");

    // sync.completed went out as an event (delivered to the webhook).
    let deadline = Instant::now() + Duration::from_secs(20);
    while up.hooks.lock().unwrap().len() < 3 {
        assert!(Instant::now() < deadline, "{:?}", up.hooks.lock().unwrap());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        up.hooks
            .lock()
            .unwrap()
            .iter()
            .all(|t| t == "sync.completed")
    );
    // Execution records of the pages, and audit rows of the changes.
    let data = server
        .ok(&server.admin, "query($id: ID!) { integration(id: $id) { executions(first: 1) { edges { node { operation } } } } }", json!({ "id": integration }))
        .await;
    assert_eq!(
        data["integration"]["executions"]["edges"][0]["node"]["operation"],
        "SYNC"
    );
    let audit = server
        .ok(&server.admin, "query($t: ID!) { auditLog(filter: { action: \"sync.*\", targetId: $t }) { totalCount edges { node { action } } } }", json!({ "t": sync }))
        .await;
    let actions: Vec<&str> = audit["auditLog"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["action"].as_str().unwrap())
        .collect();
    assert!(
        actions.contains(&"sync.create") && actions.contains(&"sync.run"),
        "{actions:?}"
    );

    // Upstream failures fail the run (and emit sync.failed); nothing is marked deleted.
    server
        .ok(&server.admin, "mutation($i: SetCredentialsInput!) { setCredentials(input: $i) { integration { id } } }",
            json!({ "i": { "integrationId": integration, "credentials": { "bearer": { "token": format!("{SECRET_MARKER}-wrong") } } } }))
        .await;
    let failed = finished(&server, &run_sync(&server, &sync).await).await;
    assert_eq!(failed["status"], "FAILED", "{failed:#}");
    assert!(
        failed["lastError"].as_str().unwrap().contains("401"),
        "{failed:#}"
    );
    assert_eq!(failed["deleted"], 0);
    assert_eq!(all_records(&server, &integration, "").await.len(), 13);
    let deadline = Instant::now() + Duration::from_secs(20);
    while !up.hooks.lock().unwrap().iter().any(|t| t == "sync.failed") {
        assert!(Instant::now() < deadline, "{:?}", up.hooks.lock().unwrap());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    server.stop().await;
}

async fn sync_resumes_after_a_crash_without_losing_or_repeating_records(backend: Backend) {
    let server = TestServer::start(backend).await;
    let up = Upstream::with_records(40);
    up.delay_ms.store(150, Ordering::SeqCst);
    let base = start_upstream(&up).await;
    let (_, integration) = integration(&server, "Crash", &base).await;
    let sync = create_sync(&server, &integration, "crashy", "listCursor", 2).await;
    let run = run_sync(&server, &sync).await;
    wait_run(&server, &run, Duration::from_secs(30), |r| {
        r["pages"].as_i64().unwrap() >= 4
    })
    .await;

    // Killed mid-run: no graceful hand-over, the run stays RUNNING under a dead lease.
    let server = server.crash_and_restart().await;
    let done = wait_run(&server, &run, Duration::from_secs(90), |r| {
        r["status"] != "RUNNING"
    })
    .await;
    assert_eq!(done["status"], "SUCCEEDED", "{done:#}");
    assert_eq!(done["pages"], 20, "{done:#}");
    assert_eq!(
        (done["fetched"].clone(), done["created"].clone()),
        (json!(40), json!(40)),
        "{done:#}"
    );
    let records = all_records(&server, &integration, "").await;
    let expected: Vec<String> = (1..=40).map(|i| i.to_string()).collect();
    assert_eq!(record_ids(&records), expected);
    // Resumed from the stored cursor: the first page was read once.
    let firsts = up
        .requests()
        .iter()
        .filter(|r| !r.contains("cursor="))
        .count();
    assert_eq!(firsts, 1, "{:?}", up.requests());
    // A graceful restart mid-run hands the run over at once.
    let run = run_sync(&server, &sync).await;
    wait_run(&server, &run, Duration::from_secs(30), |r| {
        r["pages"].as_i64().unwrap() >= 2
    })
    .await;
    let server = server.restart().await;
    let done = wait_run(&server, &run, Duration::from_secs(12), |r| {
        r["status"] != "RUNNING"
    })
    .await;
    assert_eq!(
        (
            done["status"].clone(),
            done["pages"].clone(),
            done["created"].clone()
        ),
        (json!("SUCCEEDED"), json!(20), json!(0))
    );
    server.stop().await;
}

async fn sync_respects_the_integration_rate_limit(backend: Backend) {
    let server = TestServer::start(backend).await;
    let up = Upstream::with_records(30);
    let base = start_upstream(&up).await;
    let (_, integration) = integration(&server, "Limited", &base).await;
    server
        .ok(
            &server.admin,
            "mutation($id: ID!) { updateIntegration(input: { id: $id, rateLimit: { requestsPerMinute: 300, burst: 1 } }) { integration { rateLimit { requestsPerMinute } } } }",
            json!({ "id": integration }),
        )
        .await;
    let sync = create_sync(&server, &integration, "limited", "listOffset", 2).await;
    let started = Instant::now();
    let done = finished(&server, &run_sync(&server, &sync).await).await;
    let elapsed = started.elapsed();
    assert_eq!(
        (done["status"].clone(), done["created"].clone()),
        (json!("SUCCEEDED"), json!(30)),
        "{done:#}"
    );
    let times: Vec<Instant> = up
        .requests
        .lock()
        .unwrap()
        .iter()
        .map(|(t, _)| *t)
        .collect();
    assert_eq!(times.len(), 15);
    // 300 a minute is 5 a second: no second-long window holds more than 5 (+1 burst).
    let busiest = times
        .iter()
        .map(|start| {
            times
                .iter()
                .filter(|t| **t >= *start && t.duration_since(*start) < Duration::from_secs(1))
                .count()
        })
        .max()
        .unwrap();
    assert!(busiest <= 6, "{busiest} requests within one second");
    assert!(elapsed >= Duration::from_millis(2500), "{elapsed:?}");
    server.stop().await;
}

async fn stop_sync_cancels_a_running_run(backend: Backend) {
    let server = TestServer::start(backend).await;
    let up = Upstream::with_records(40);
    up.delay_ms.store(200, Ordering::SeqCst);
    let base = start_upstream(&up).await;
    let (_, integration) = integration(&server, "Stop", &base).await;
    let sync = create_sync(&server, &integration, "stoppable", "listPages", 2).await;
    let data = server
        .ok(
            &server.admin,
            "mutation($id: ID!) { startSync(id: $id) { sync { enabled nextRunAt } } }",
            json!({ "id": sync }),
        )
        .await;
    assert_eq!(data["startSync"]["sync"]["enabled"], true);
    // The schedule starts a run at once.
    let runs = "query($id: ID!) { sync(id: $id) { enabled runs { id status trigger } } }";
    let deadline = Instant::now() + Duration::from_secs(10);
    let run = loop {
        let data = server.ok(&server.admin, runs, json!({ "id": sync })).await;
        if let Some(run) = data["sync"]["runs"].as_array().unwrap().first() {
            assert_eq!(run["trigger"], "SCHEDULE");
            break run["id"].as_str().unwrap().to_owned();
        }
        assert!(Instant::now() < deadline, "no scheduled run");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    wait_run(&server, &run, Duration::from_secs(30), |r| {
        r["pages"].as_i64().unwrap() >= 2
    })
    .await;
    let data = server
        .ok(
            &server.admin,
            "mutation($id: ID!) { stopSync(id: $id) { sync { enabled nextRunAt } } }",
            json!({ "id": sync }),
        )
        .await;
    assert_eq!(
        data["stopSync"]["sync"],
        json!({ "enabled": false, "nextRunAt": null })
    );
    let done = finished(&server, &run).await;
    assert_eq!(done["status"], "CANCELLED", "{done:#}");
    let pages = done["pages"].as_i64().unwrap();
    assert!(pages < 20, "{done:#}");
    assert_eq!(done["deleted"], 0);
    assert_eq!(
        all_records(&server, &integration, "").await.len() as i64,
        done["created"].as_i64().unwrap()
    );
    // Stopped: no new scheduled run comes.
    tokio::time::sleep(Duration::from_millis(600)).await;
    let data = server.ok(&server.admin, runs, json!({ "id": sync })).await;
    assert_eq!(data["sync"]["runs"].as_array().unwrap().len(), 1);
    assert_eq!(data["sync"]["enabled"], false);
    server.stop().await;
}

async fn syncs_and_records_are_isolated_by_project(backend: Backend) {
    let server = TestServer::start(backend).await;
    let up = Upstream::with_records(3);
    let base = start_upstream(&up).await;
    let (project, integration) = integration(&server, "Mine", &base).await;
    let other = server.create_project("Theirs").await;
    let sync = create_sync(&server, &integration, "mine", "listCursor", 10).await;
    let run = run_sync(&server, &sync).await;
    finished(&server, &run).await;

    let outsider = server.token(Role::Editor, Some(&other)).await;
    for (query, variables) in [
        (
            "query($id: ID!) { sync(id: $id) { id } }",
            json!({ "id": sync }),
        ),
        (
            "query($id: ID!) { syncRun(id: $id) { id } }",
            json!({ "id": run }),
        ),
        (
            "mutation($id: ID!) { runSync(id: $id) { id } }",
            json!({ "id": sync }),
        ),
        (
            "mutation($id: ID!) { stopSync(id: $id) { sync { id } } }",
            json!({ "id": sync }),
        ),
        (
            "mutation($id: ID!) { deleteSync(id: $id) { sync { id } } }",
            json!({ "id": sync }),
        ),
        (
            "mutation($id: ID!) { verifySync(integrationId: $id) { score } }",
            json!({ "id": integration }),
        ),
        (
            "mutation($p: ID!) { syncAll(projectId: $p) { id } }",
            json!({ "p": project }),
        ),
        (
            "query($id: ID!) { integration(id: $id) { records { totalCount } } }",
            json!({ "id": integration }),
        ),
        (
            "mutation($i: CreateSyncInput!) { createSync(input: $i) { sync { id } } }",
            json!({ "i": { "integrationId": integration, "name": "x", "operation": "listCursor" } }),
        ),
    ] {
        let body = server.gql(&outsider, query, variables).await;
        assert_eq!(code(&body), "NOT_FOUND", "{query}: {body:#}");
    }
    // Its own project's syncAll sees none of them.
    let data = server
        .ok(
            &outsider,
            "mutation($p: ID!) { syncAll(projectId: $p) { id } }",
            json!({ "p": other }),
        )
        .await;
    assert_eq!(data["syncAll"], json!([]));
    // A viewer of the project reads records but cannot run or change syncs.
    let viewer = server.token(Role::Viewer, Some(&project)).await;
    let data = server
        .ok(
            &viewer,
            "query($id: ID!) { integration(id: $id) { records { totalCount } syncs { id } } }",
            json!({ "id": integration }),
        )
        .await;
    assert_eq!(data["integration"]["records"]["totalCount"], 3);
    let body = server.gql(&viewer, RUN, json!({ "id": sync })).await;
    assert_eq!(code(&body), "FORBIDDEN");
    server.stop().await;
}

async fn sync_bad_input_is_refused_with_its_field(backend: Backend) {
    let server = TestServer::start(backend).await;
    let up = Upstream::with_records(1);
    let base = start_upstream(&up).await;
    let (project, integration) = integration(&server, "Bad", &base).await;
    let plain = server.create_integration(&project, "by hand").await;
    let input = |extra: Value| {
        let mut i = json!({ "integrationId": integration, "name": "s", "operation": "listCursor" });
        for (k, v) in extra.as_object().unwrap() {
            i[k] = v.clone();
        }
        json!({ "i": i })
    };
    for (extra, field) in [
        (json!({ "operation": "nope" }), "input.operation"),
        (json!({ "integrationId": plain }), "input.integrationId"),
        (json!({ "name": " " }), "input.name"),
        (json!({ "params": { "nope": 1 } }), "input.params.nope"),
        (
            json!({ "params": { "limit": "many" } }),
            "input.params.limit",
        ),
        (json!({ "params": [1] }), "input.params"),
        (json!({ "intervalSeconds": 1 }), "input.intervalSeconds"),
        (json!({ "pageSize": 0 }), "input.pageSize"),
        (json!({ "recordIdPointer": "id" }), "input.recordIdPointer"),
        (json!({ "recordsPointer": "items" }), "input.recordsPointer"),
        (
            json!({ "fieldMapping": { "title": 3 } }),
            "input.fieldMapping.title",
        ),
        (
            json!({ "pagination": { "style": "CURSOR", "itemsPointer": "/items", "nextCursorPointer": "/next" } }),
            "input.pagination.cursorParam",
        ),
        (
            json!({ "pagination": { "style": "OFFSET", "itemsPointer": "/items", "offsetParam": "nope", "limitParam": "limit" } }),
            "input.pagination.offsetParam",
        ),
        (
            json!({ "pagination": { "style": "SIDEWAYS", "itemsPointer": "" } }),
            "input.pagination",
        ),
    ] {
        let body = server
            .gql(&server.admin, CREATE, input(extra.clone()))
            .await;
        assert_eq!(code(&body), "BAD_USER_INPUT", "{extra}: {body:#}");
        assert_eq!(
            body["errors"][0]["extensions"]["field"], field,
            "{extra}: {body:#}"
        );
    }
    let data = server
        .ok(
            &server.admin,
            "query($id: ID!) { integration(id: $id) { syncs { id } } }",
            json!({ "id": integration }),
        )
        .await;
    assert_eq!(
        data["integration"]["syncs"],
        json!([]),
        "nothing was written"
    );
    // A valid override is taken; names are unique per integration.
    let data = server
        .ok(&server.admin, CREATE, input(json!({ "pagination": { "style": "CURSOR", "itemsPointer": "/items", "cursorParam": "cursor", "nextCursorFromLastItem": "/id" } })))
        .await;
    assert_eq!(data["createSync"]["sync"]["pagination"]["style"], "CURSOR");
    assert_eq!(data["createSync"]["sync"]["recordsPointer"], "/items");
    let sync = data["createSync"]["sync"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let body = server.gql(&server.admin, CREATE, input(json!({}))).await;
    assert_eq!(
        body["errors"][0]["extensions"]["field"], "input.name",
        "{body:#}"
    );
    let body = server
        .gql(
            &server.admin,
            "mutation($i: UpdateSyncInput!) { updateSync(input: $i) { sync { id } } }",
            json!({ "i": { "id": sync, "intervalSeconds": 0 } }),
        )
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["field"],
        "input.intervalSeconds"
    );
    let data = server
        .ok(&server.admin, "mutation($i: UpdateSyncInput!) { updateSync(input: $i) { sync { intervalSeconds name } } }", json!({ "i": { "id": sync, "intervalSeconds": 60, "name": "renamed" } }))
        .await;
    assert_eq!(
        data["updateSync"]["sync"],
        json!({ "intervalSeconds": 60, "name": "renamed" })
    );
    for (query, variables, expected) in [
        (RUN, json!({ "id": "syn_nope" }), "NOT_FOUND"),
        (
            "mutation($i: ID!) { verifySync(integrationId: $i, sample: 0) { score } }",
            json!({ "i": integration }),
            "BAD_USER_INPUT",
        ),
        (
            "mutation($p: ID!) { syncAll(projectId: $p) { id } }",
            json!({ "p": "nope" }),
            "BAD_USER_INPUT",
        ),
        (
            "query($id: ID!) { integration(id: $id) { records(first: 1000) { totalCount } } }",
            json!({ "id": integration }),
            "BAD_USER_INPUT",
        ),
    ] {
        let body = server.gql(&server.admin, query, variables).await;
        assert_eq!(code(&body), expected, "{query}: {body:#}");
    }
    let data = server
        .ok(
            &server.admin,
            "mutation($id: ID!) { deleteSync(id: $id) { sync { id } } }",
            json!({ "id": sync }),
        )
        .await;
    assert_eq!(data["deleteSync"]["sync"]["id"], sync.as_str());
    let body = server
        .gql(
            &server.admin,
            "query($id: ID!) { sync(id: $id) { id } }",
            json!({ "id": sync }),
        )
        .await;
    assert_eq!(code(&body), "NOT_FOUND");
    server.stop().await;
}
