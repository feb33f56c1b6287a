//! The execution engine end to end, against local upstreams started by the tests:
//! records and metrics, retries and backoff, Retry-After, rate limits and the upstream
//! hold, the circuit breaker, the cache, transforms and error rules, timeouts, huge
//! bodies, OAuth2 refresh on 401, batches, and SSRF probes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use serde_json::{Value, json};

use crate::on_both_backends;
use crate::support::{Backend, SECRET_MARKER, TestServer, code};

on_both_backends!(
    calls_are_recorded_measured_and_streamed,
    batches_keep_order_and_isolate_failures
);

const EXEC: &str = "mutation($i: ExecuteRequestInput!) { executeRequest(input: $i) { ok status body bodyText truncated cached headers error { code errorClass message recoverable recoveryAction retryAfterSeconds } execution { id statusCode retries cached errorClass path latencyMs bytesIn bytesOut bytes truncated success } } }";

/// What the upstream saw of one request: path, raw query, headers.
type Seen = (String, Option<String>, HeaderMap);

/// A local upstream that records what it receives.
#[derive(Clone, Default)]
struct Upstream {
    hits: Arc<Mutex<HashMap<String, usize>>>,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Upstream {
    fn hit(&self, key: &str) -> usize {
        let mut hits = self.hits.lock().unwrap();
        let count = hits.entry(key.to_owned()).or_default();
        *count += 1;
        *count
    }

    fn hits(&self, key: &str) -> usize {
        self.hits.lock().unwrap().get(key).copied().unwrap_or(0)
    }

    fn last_headers(&self) -> HeaderMap {
        self.seen.lock().unwrap().last().unwrap().2.clone()
    }

    fn last_query(&self) -> Option<String> {
        self.seen.lock().unwrap().last().unwrap().1.clone()
    }

    /// Starts the upstream on 127.0.0.1:0; returns its base URL.
    async fn start(&self) -> String {
        let record = {
            let state = self.clone();
            move |request: axum::extract::Request, next: axum::middleware::Next| {
                let state = state.clone();
                async move {
                    state.seen.lock().unwrap().push((
                        request.uri().path().to_owned(),
                        request.uri().query().map(str::to_owned),
                        request.headers().clone(),
                    ));
                    next.run(request).await
                }
            }
        };
        let router = axum::Router::new()
            .route("/ok", get(ok))
            .route("/echo", any(echo))
            .route("/flaky/{name}/{fail}", any(flaky))
            .route("/status/{code}", any(status))
            .route("/limited/{name}", get(limited))
            .route("/quota", get(quota))
            .route("/stall", get(stall))
            .route("/huge", get(huge))
            .route("/redirect", get(redirect))
            .route("/slack", post(slack))
            .route("/badjson", get(bad_json))
            .route("/protected", get(protected))
            .route("/token", post(token))
            .route("/counted", get(counted))
            .layer(axum::middleware::from_fn(record))
            .with_state(self.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        format!("http://{addr}")
    }
}

async fn ok(State(up): State<Upstream>) -> impl IntoResponse {
    up.hit("ok");
    (
        [("x-upstream", "yes")],
        axum::Json(json!({ "items": [ { "key": "A-1", "fields": { "summary": "first" } } ] })),
    )
}

async fn echo(
    State(up): State<Upstream>,
    method: axum::http::Method,
    headers: HeaderMap,
    body: String,
) -> impl IntoResponse {
    up.hit("echo");
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    axum::Json(json!({ "method": method.as_str(), "body": body, "contentType": content_type }))
}

async fn flaky(State(up): State<Upstream>, Path((name, fail)): Path<(String, usize)>) -> Response {
    if up.hit(&format!("flaky/{name}")) <= fail {
        (StatusCode::SERVICE_UNAVAILABLE, "try again").into_response()
    } else {
        axum::Json(json!({ "recovered": true })).into_response()
    }
}

async fn status(State(up): State<Upstream>, Path(code): Path<u16>) -> Response {
    up.hit(&format!("status/{code}"));
    (
        StatusCode::from_u16(code).unwrap(),
        format!("status {code}"),
    )
        .into_response()
}

async fn limited(State(up): State<Upstream>, Path(name): Path<String>) -> Response {
    if up.hit(&format!("limited/{name}")) == 1 {
        (
            StatusCode::TOO_MANY_REQUESTS,
            [("retry-after", "1")],
            "slow down",
        )
            .into_response()
    } else {
        "fine".into_response()
    }
}

async fn quota(State(up): State<Upstream>) -> impl IntoResponse {
    up.hit("quota");
    (
        [("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", "60")],
        "last one",
    )
}

async fn stall(State(up): State<Upstream>) -> &'static str {
    up.hit("stall");
    tokio::time::sleep(Duration::from_secs(3)).await;
    "late"
}

async fn huge() -> String {
    "x".repeat(10_000)
}

async fn redirect(Query(params): Query<HashMap<String, String>>) -> Response {
    (StatusCode::FOUND, [("location", params["to"].clone())]).into_response()
}

async fn slack() -> impl IntoResponse {
    axum::Json(json!({ "ok": false, "error": "not_in_channel" }))
}

async fn bad_json() -> impl IntoResponse {
    ([("content-type", "application/json")], "{oops")
}

async fn protected(State(up): State<Upstream>, headers: HeaderMap) -> Response {
    up.hit("protected");
    let expected = format!("Bearer fresh-{SECRET_MARKER}");
    if headers.get("authorization").and_then(|v| v.to_str().ok()) == Some(expected.as_str()) {
        "welcome".into_response()
    } else {
        StatusCode::UNAUTHORIZED.into_response()
    }
}

async fn token(State(up): State<Upstream>) -> impl IntoResponse {
    up.hit("token");
    axum::Json(json!({ "access_token": format!("fresh-{SECRET_MARKER}"), "expires_in": 3600 }))
}

async fn counted(State(up): State<Upstream>) -> impl IntoResponse {
    let n = up.hit("counted");
    axum::Json(json!({ "n": n }))
}

/// Creates an integration from an input object (projectId, name and category filled in).
async fn integration(server: &TestServer, project: &str, mut input: Value) -> String {
    input["projectId"] = json!(project);
    if input.get("name").is_none() {
        input["name"] = json!(format!("api-{}", uuid::Uuid::new_v4().simple()));
    }
    input["category"] = json!("CUSTOM");
    let data = server
        .ok(
            &server.admin,
            "mutation($i: CreateIntegrationInput!) { createIntegration(input: $i) { integration { id } } }",
            json!({ "i": input }),
        )
        .await;
    data["createIntegration"]["integration"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn exec(server: &TestServer, input: Value) -> Value {
    server.gql(&server.admin, EXEC, json!({ "i": input })).await
}

fn result(body: &Value) -> &Value {
    assert!(body.get("errors").is_none(), "unexpected errors: {body:#}");
    &body["data"]["executeRequest"]
}

async fn set_bearer(server: &TestServer, id: &str, token: &str) {
    server
        .ok(
            &server.admin,
            "mutation($i: SetCredentialsInput!) { setCredentials(input: $i) { integration { id } } }",
            json!({ "i": { "integrationId": id, "credentials": { "bearer": { "token": token } } } }),
        )
        .await;
}

async fn calls_are_recorded_measured_and_streamed(backend: Backend) {
    let server = TestServer::start(backend).await;
    let upstream = Upstream::default();
    let base = upstream.start().await;
    let project = server.create_project("Acme").await;
    let id = integration(
        &server,
        &project,
        json!({ "baseUrl": base, "headers": { "x-team": "core" } }),
    )
    .await;
    set_bearer(&server, &id, &format!("tok-{SECRET_MARKER}")).await;

    // A live subscriber sees the execution as it finishes.
    let mut socket = crate::subscriptions::subscribe(
        &server,
        &format!(
            "subscription {{ executions(integrationId: \"{id}\") {{ id statusCode success }} }}"
        ),
    )
    .await;

    let body = exec(
        &server,
        json!({ "integrationId": id, "path": "/ok", "query": { "page": 2, "tag": ["a", "b"] } }),
    )
    .await;
    let first = result(&body).clone();
    assert_eq!(first["ok"], true);
    assert_eq!(first["status"], 200);
    assert_eq!(first["body"]["items"][0]["key"], "A-1");
    assert_eq!(first["headers"]["x-upstream"], "yes");
    assert_eq!(first["execution"]["path"], "/ok");
    assert_eq!(first["execution"]["retries"], 0);
    assert!(first["execution"]["bytesIn"].as_i64().unwrap() > 10);
    assert_eq!(
        first["execution"]["bytes"].as_i64(),
        Some(
            first["execution"]["bytesIn"].as_i64().unwrap()
                + first["execution"]["bytesOut"].as_i64().unwrap()
        )
    );
    // Credentials and default headers reached the upstream; the query was passed on.
    let headers = upstream.last_headers();
    assert_eq!(
        headers["authorization"],
        format!("Bearer tok-{SECRET_MARKER}").as_str()
    );
    assert_eq!(headers["x-team"], "core");
    assert_eq!(upstream.last_query().as_deref(), Some("page=2&tag=a&tag=b"));

    let event = crate::subscriptions::next_for(&mut socket, "1").await;
    assert_eq!(
        event["payload"]["data"]["executions"]["id"],
        first["execution"]["id"]
    );

    // A failing call: a result with its error, a record, and a WARN/ERROR log entry.
    let body = exec(
        &server,
        json!({ "integrationId": id, "path": "/status/404" }),
    )
    .await;
    let failed = result(&body);
    assert_eq!(failed["ok"], false);
    assert_eq!(failed["error"]["errorClass"], "CLIENT_ERROR");
    assert_eq!(failed["error"]["recoveryAction"], "CHECK_CONFIGURATION");
    assert_eq!(failed["bodyText"], "status 404");

    let data = server
        .ok(
            &server.admin,
            "query($id: ID!, $e: ID!) {
               integration(id: $id) {
                 metrics { totalRequests successCount failureCount successRate averageLatencyMs p95LatencyMs bytesIn lastActivityAt }
                 executions(first: 10) { totalCount edges { node { statusCode success errorClass } } }
                 failures: executions(success: false) { totalCount }
                 logs(minLevel: WARN) { edges { node { level message metadata } } }
               }
               node(id: $e) { ... on Execution { id path integration { id } } }
             }",
            json!({ "id": id, "e": first["execution"]["id"] }),
        )
        .await;
    let integration = &data["integration"];
    let metrics = &integration["metrics"];
    assert_eq!(metrics["totalRequests"], 2);
    assert_eq!(metrics["successCount"], 1);
    assert_eq!(metrics["failureCount"], 1);
    assert_eq!(metrics["successRate"], 0.5);
    assert!(metrics["p95LatencyMs"].is_i64());
    assert!(metrics["lastActivityAt"].is_string());
    assert_eq!(integration["executions"]["totalCount"], 2);
    assert_eq!(integration["failures"]["totalCount"], 1);
    let logs = integration["logs"]["edges"].as_array().unwrap();
    assert_eq!(logs.len(), 1);
    assert_eq!(logs[0]["node"]["level"], "ERROR");
    assert_eq!(logs[0]["node"]["metadata"]["errorClass"], "CLIENT_ERROR");
    assert_eq!(data["node"]["integration"]["id"], id.as_str());

    // Viewers cannot execute; a disabled or MAINTENANCE integration refuses calls.
    let viewer = server
        .token(patchbay::domain::access::Role::Viewer, None)
        .await;
    let refused = server
        .gql(
            &viewer,
            EXEC,
            json!({ "i": { "integrationId": id, "path": "/ok" } }),
        )
        .await;
    assert_eq!(code(&refused), "FORBIDDEN");
    for update in [
        json!({ "enabled": false }),
        json!({ "enabled": true, "status": "MAINTENANCE" }),
    ] {
        let mut input = update;
        input["id"] = json!(id);
        server
            .ok(
                &server.admin,
                "mutation($i: UpdateIntegrationInput!) { updateIntegration(input: $i) { integration { id } } }",
                json!({ "i": input }),
            )
            .await;
        let refused = exec(&server, json!({ "integrationId": id, "path": "/ok" })).await;
        assert_eq!(code(&refused), "INTEGRATION_UNAVAILABLE", "{refused:#}");
    }
    // Retention keeps the newest records per integration.
    server.stop().await;
}

async fn batches_keep_order_and_isolate_failures(backend: Backend) {
    let server = TestServer::start(backend).await;
    let upstream = Upstream::default();
    let base = upstream.start().await;
    let project = server.create_project("Acme").await;
    let id = integration(&server, &project, json!({ "baseUrl": base })).await;
    let mut items: Vec<Value> = (0..20)
        .map(|i| json!({ "integrationId": id, "path": if i % 5 == 3 { "/status/400".to_owned() } else { format!("/ok?i={i}") } }))
        .collect();
    items.push(json!({ "integrationId": "int_00000000000000000000000000", "path": "/ok" }));
    items.push(json!({ "integrationId": id, "path": "/../escape" }));
    let data = server
        .ok(
            &server.admin,
            "mutation($i: BatchExecuteInput!) { batchExecute(input: $i) { succeeded failed results { index ok result { status } error { code errorClass } } } }",
            json!({ "i": { "items": items, "concurrency": 8 } }),
        )
        .await;
    let batch = &data["batchExecute"];
    assert_eq!(batch["succeeded"], 16);
    assert_eq!(batch["failed"], 6);
    let results = batch["results"].as_array().unwrap();
    for (i, item) in results.iter().enumerate() {
        assert_eq!(item["index"], i);
    }
    assert_eq!(results[3]["result"]["status"], 400);
    assert_eq!(results[3]["error"]["errorClass"], "CLIENT_ERROR");
    assert_eq!(results[4]["result"]["status"], 200);
    assert_eq!(results[20]["error"]["code"], "NOT_FOUND");
    assert_eq!(results[21]["error"]["code"], "BAD_USER_INPUT");
    assert_eq!(upstream.hits("ok"), 16);
    server.stop().await;
}

/// A server on SQLite with engine settings suited to fast tests.
async fn engine_server(adjust: impl FnOnce(&mut patchbay::config::Settings)) -> TestServer {
    TestServer::start_with(Backend::Sqlite, |s| {
        s.circuit_failure_threshold = Some(3);
        s.circuit_cooldown_secs = Some(1);
        s.outbound_queue_wait_ms = Some(300);
        s.outbound_max_response_bytes = Some(4096);
        adjust(s);
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_follow_the_policy_and_the_method() {
    // The breaker would open on this many failures; it has its own test.
    let server = engine_server(|s| {
        s.circuit_failure_threshold = Some(100);
        s.circuit_failure_rate = Some(100);
    })
    .await;
    let upstream = Upstream::default();
    let base = upstream.start().await;
    let project = server.create_project("Acme").await;
    let id = integration(
        &server,
        &project,
        json!({ "baseUrl": base, "retryPolicy": { "maxRetries": 3, "baseDelayMs": 10, "maxDelayMs": 40 } }),
    )
    .await;

    // 503 twice, then success: two retries.
    let body = exec(
        &server,
        json!({ "integrationId": id, "path": "/flaky/a/2" }),
    )
    .await;
    let r = result(&body);
    assert_eq!(r["ok"], true);
    assert_eq!(r["execution"]["retries"], 2);
    assert_eq!(upstream.hits("flaky/a"), 3);

    // Always failing: 1 + maxRetries attempts, then SERVER_ERROR.
    let body = exec(
        &server,
        json!({ "integrationId": id, "path": "/flaky/b/100" }),
    )
    .await;
    let r = result(&body);
    assert_eq!(r["error"]["errorClass"], "SERVER_ERROR");
    assert_eq!(r["execution"]["retries"], 3);
    assert_eq!(upstream.hits("flaky/b"), 4);

    // 500 to a POST is not retried, unless an idempotency key makes it safe.
    let body = exec(
        &server,
        json!({ "integrationId": id, "method": "POST", "path": "/status/500", "body": {} }),
    )
    .await;
    assert_eq!(result(&body)["execution"]["retries"], 0);
    assert_eq!(upstream.hits("status/500"), 1);
    let body = exec(
        &server,
        json!({ "integrationId": id, "method": "POST", "path": "/status/500", "body": {}, "idempotencyKey": "k-1" }),
    )
    .await;
    assert_eq!(result(&body)["execution"]["retries"], 3);
    assert_eq!(upstream.last_headers()["idempotency-key"], "k-1");
    // Client errors are never retried.
    let body = exec(
        &server,
        json!({ "integrationId": id, "path": "/status/404" }),
    )
    .await;
    assert_eq!(result(&body)["execution"]["retries"], 0);

    // Retry-After: 1 is waited for (at least a second), then the call succeeds.
    let started = Instant::now();
    let body = exec(
        &server,
        json!({ "integrationId": id, "path": "/limited/x" }),
    )
    .await;
    assert_eq!(result(&body)["ok"], true);
    assert_eq!(result(&body)["execution"]["retries"], 1);
    assert!(started.elapsed() >= Duration::from_millis(950));

    // A stalled upstream times out (each attempt), classified TIMEOUT.
    let body = exec(
        &server,
        json!({ "integrationId": id, "path": "/stall", "timeoutMs": 200 }),
    )
    .await;
    assert_eq!(code(&body), "UPSTREAM_ERROR");
    let ext = &body["errors"][0]["extensions"];
    assert_eq!(ext["errorClass"], "TIMEOUT");
    assert_eq!(ext["recoveryAction"], "RETRY");
    assert!(ext["executionId"].is_string());
    assert_eq!(upstream.hits("stall"), 4);

    // Nothing listens: NETWORK.
    let dead = integration(
        &server,
        &project,
        json!({ "baseUrl": "http://127.0.0.1:9", "retryPolicy": { "maxRetries": 0 } }),
    )
    .await;
    let body = exec(&server, json!({ "integrationId": dead, "path": "/" })).await;
    assert_eq!(body["errors"][0]["extensions"]["errorClass"], "NETWORK");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_wait_then_refuse_and_upstream_quotas_hold_calls() {
    let server = engine_server(|_| {}).await;
    let upstream = Upstream::default();
    let base = upstream.start().await;
    let project = server.create_project("Acme").await;
    // 60 per minute, burst 1: the second call would wait a second, longer than 300 ms.
    let id = integration(
        &server,
        &project,
        json!({ "baseUrl": base, "rateLimit": { "requestsPerMinute": 60, "burst": 1 } }),
    )
    .await;
    let body = exec(&server, json!({ "integrationId": id, "path": "/ok" })).await;
    assert_eq!(result(&body)["ok"], true);
    let body = exec(&server, json!({ "integrationId": id, "path": "/ok" })).await;
    assert_eq!(code(&body), "RATE_LIMITED", "{body:#}");
    assert!(
        body["errors"][0]["extensions"]["retryAfterSeconds"]
            .as_u64()
            .unwrap()
            >= 1
    );
    assert_eq!(upstream.hits("ok"), 1);
    // Within the queueing time, a call waits for its token instead.
    let relaxed = integration(
        &server,
        &project,
        json!({ "baseUrl": base, "rateLimit": { "requestsPerMinute": 600, "burst": 1 } }),
    )
    .await;
    for _ in 0..3 {
        let body = exec(&server, json!({ "integrationId": relaxed, "path": "/ok" })).await;
        assert_eq!(result(&body)["ok"], true);
    }

    // The upstream says its quota is spent until a reset 60 s away: later calls are held
    // back (and refused after the queueing time) without reaching it.
    let quota = integration(&server, &project, json!({ "baseUrl": base })).await;
    let body = exec(&server, json!({ "integrationId": quota, "path": "/quota" })).await;
    assert_eq!(result(&body)["ok"], true);
    let body = exec(&server, json!({ "integrationId": quota, "path": "/quota" })).await;
    assert_eq!(code(&body), "RATE_LIMITED");
    assert!(
        body["errors"][0]["extensions"]["retryAfterSeconds"]
            .as_u64()
            .unwrap()
            > 50
    );
    assert_eq!(upstream.hits("quota"), 1);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_circuit_opens_rejects_fast_and_closes_after_a_probe() {
    let server = engine_server(|_| {}).await;
    let upstream = Upstream::default();
    let base = upstream.start().await;
    let project = server.create_project("Acme").await;
    let id = integration(
        &server,
        &project,
        json!({ "baseUrl": base, "retryPolicy": { "maxRetries": 0 } }),
    )
    .await;
    for _ in 0..3 {
        let body = exec(
            &server,
            json!({ "integrationId": id, "path": "/flaky/c/3" }),
        )
        .await;
        assert_eq!(result(&body)["error"]["errorClass"], "SERVER_ERROR");
    }
    let body = exec(
        &server,
        json!({ "integrationId": id, "path": "/flaky/c/3" }),
    )
    .await;
    assert_eq!(code(&body), "UPSTREAM_ERROR");
    assert_eq!(
        body["errors"][0]["extensions"]["errorClass"],
        "CIRCUIT_OPEN"
    );
    assert_eq!(upstream.hits("flaky/c"), 3, "an open circuit does not call");
    let state = server
        .ok(
            &server.admin,
            "query($id: ID!) { integration(id: $id) { circuitState } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(state["integration"]["circuitState"], "OPEN");

    tokio::time::sleep(Duration::from_millis(1100)).await;
    let body = exec(
        &server,
        json!({ "integrationId": id, "path": "/flaky/c/3" }),
    )
    .await;
    assert_eq!(
        result(&body)["ok"],
        true,
        "the half-open probe goes through"
    );
    let data = server
        .ok(
            &server.admin,
            "query($id: ID!) { integration(id: $id) { circuitState logs { edges { node { message metadata } } } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(data["integration"]["circuitState"], "CLOSED");
    let events: Vec<String> = data["integration"]["logs"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["node"]["metadata"]["event"].as_str().map(str::to_owned))
        .filter(|event| event.starts_with("integration.circuit"))
        .collect();
    assert_eq!(
        events,
        ["integration.circuit_opened", "integration.circuit_closed"]
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn responses_are_cached_transformed_mapped_and_capped() {
    let server = engine_server(|_| {}).await;
    let upstream = Upstream::default();
    let base = upstream.start().await;
    let project = server.create_project("Acme").await;
    let id = integration(
        &server,
        &project,
        json!({
            "baseUrl": base,
            "cache": { "enabled": true, "ttlSeconds": 1 },
            "transforms": { "request": "{text: message}" },
            "errorRules": [
                { "statusCodes": [200], "bodyMatches": "ok == `false`", "class": "AUTHORIZATION", "message": "Slack refused the call" }
            ]
        }),
    )
    .await;
    // Cache: hit within the TTL, miss after it, bypass on request.
    let first = exec(&server, json!({ "integrationId": id, "path": "/counted" })).await;
    assert_eq!(result(&first)["cached"], false);
    let second = exec(&server, json!({ "integrationId": id, "path": "/counted" })).await;
    assert_eq!(result(&second)["cached"], true);
    assert_eq!(result(&second)["body"]["n"], 1);
    assert_eq!(result(&second)["execution"]["cached"], true);
    let bypass = exec(
        &server,
        json!({ "integrationId": id, "path": "/counted", "cache": false }),
    )
    .await;
    assert_eq!(result(&bypass)["body"]["n"], 2);
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let expired = exec(&server, json!({ "integrationId": id, "path": "/counted" })).await;
    assert_eq!(result(&expired)["cached"], false);
    assert_eq!(upstream.hits("counted"), 3);

    // Request transform reshapes the JSON body.
    let body = exec(
        &server,
        json!({ "integrationId": id, "method": "POST", "path": "/echo", "body": { "message": "hi", "extra": 1 } }),
    )
    .await;
    let echoed = &result(&body)["body"];
    assert_eq!(echoed["body"], r#"{"text":"hi"}"#);
    assert_eq!(echoed["contentType"], "application/json");
    // An error rule turns Slack's 200 {"ok": false} into a failure.
    let body = exec(
        &server,
        json!({ "integrationId": id, "method": "POST", "path": "/slack", "body": {} }),
    )
    .await;
    let r = result(&body);
    assert_eq!(r["ok"], false);
    assert_eq!(r["error"]["errorClass"], "AUTHORIZATION");
    assert_eq!(r["error"]["message"], "Slack refused the call");

    // Response transform on another integration; invalid JSON is INVALID_RESPONSE.
    let shaped = integration(
        &server,
        &project,
        json!({ "baseUrl": base, "transforms": { "response": "items[].{id: key, title: fields.summary}" } }),
    )
    .await;
    let body = exec(&server, json!({ "integrationId": shaped, "path": "/ok" })).await;
    assert_eq!(
        result(&body)["body"],
        json!([{ "id": "A-1", "title": "first" }])
    );
    let body = exec(
        &server,
        json!({ "integrationId": shaped, "path": "/badjson" }),
    )
    .await;
    assert_eq!(result(&body)["error"]["errorClass"], "INVALID_RESPONSE");
    // A huge body is cut at the cap and flagged.
    let body = exec(&server, json!({ "integrationId": shaped, "path": "/huge" })).await;
    let r = result(&body);
    assert_eq!(r["truncated"], true);
    assert_eq!(r["execution"]["truncated"], true);
    assert_eq!(r["bodyText"].as_str().unwrap().len(), 4096);
    // Bad transforms are refused when saved.
    let bad = server
        .gql(
            &server.admin,
            "mutation($i: UpdateIntegrationInput!) { updateIntegration(input: $i) { integration { id } } }",
            json!({ "i": { "id": shaped, "transforms": { "response": "items[" } } }),
        )
        .await;
    assert_eq!(code(&bad), "BAD_USER_INPUT");
    assert_eq!(
        bad["errors"][0]["extensions"]["field"],
        "input.transforms.response"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_401_refreshes_oauth2_once_and_connection_tests_report() {
    let server = engine_server(|_| {}).await;
    let upstream = Upstream::default();
    let base = upstream.start().await;
    let project = server.create_project("Acme").await;
    let id = integration(
        &server,
        &project,
        json!({ "baseUrl": base, "connectionCheck": { "path": "/protected" } }),
    )
    .await;
    server
        .ok(
            &server.admin,
            "mutation($i: SetCredentialsInput!) { setCredentials(input: $i) { integration { id } } }",
            json!({ "i": { "integrationId": id, "credentials": { "oauth2": {
                "clientId": "c", "clientSecret": format!("cs-{SECRET_MARKER}"), "tokenUrl": format!("{base}/token"),
                "accessToken": format!("stale-{SECRET_MARKER}"), "refreshToken": format!("r-{SECRET_MARKER}"),
                "expiresAt": (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339()
            } } } }),
        )
        .await;
    let body = exec(
        &server,
        json!({ "integrationId": id, "path": "/protected" }),
    )
    .await;
    let r = result(&body);
    assert_eq!(r["ok"], true, "{r:#}");
    assert_eq!(r["execution"]["retries"], 1);
    assert_eq!(upstream.hits("token"), 1);
    assert_eq!(upstream.hits("protected"), 2);

    let data = server
        .ok(
            &server.admin,
            "mutation($id: ID!) { testConnection(id: $id) { ok statusCode latencyMs errorClass message execution { id } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(data["testConnection"]["ok"], true);
    assert_eq!(data["testConnection"]["statusCode"], 200);
    let broken = integration(
        &server,
        &project,
        json!({ "baseUrl": base, "connectionCheck": { "path": "/status/403" } }),
    )
    .await;
    let data = server
        .ok(
            &server.admin,
            "mutation($id: ID!) { testConnection(id: $id) { ok statusCode errorClass message } }",
            json!({ "id": broken }),
        )
        .await;
    assert_eq!(data["testConnection"]["ok"], false);
    assert_eq!(data["testConnection"]["errorClass"], "AUTHORIZATION");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ssrf_probes_are_refused_with_their_rule() {
    // No private networks allowed: every probe is refused before any connection.
    let server = TestServer::start_with(Backend::Sqlite, |s| {
        s.allow_private_networks = Some(false);
    })
    .await;
    let project = server.create_project("Acme").await;
    let probes = [
        ("http://127.0.0.1:9/", "loopback"),
        ("http://[::1]:9/", "loopback"),
        ("http://10.0.0.1/", "private"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://[::ffff:127.0.0.1]/", "loopback"),
        ("http://2130706433/", "loopback"),
        ("http://localhost:9/", "loopback"),
        ("http://100.64.0.1/", "carrier-grade NAT"),
    ];
    for (url, rule) in probes {
        let id = integration(&server, &project, json!({ "baseUrl": url })).await;
        let started = Instant::now();
        let body = exec(&server, json!({ "integrationId": id, "path": "/" })).await;
        assert_eq!(code(&body), "FORBIDDEN", "{url}: {body:#}");
        let error = &body["errors"][0];
        assert_eq!(error["extensions"]["errorClass"], "BLOCKED");
        assert!(
            error["message"].as_str().unwrap().contains(rule),
            "{url}: {error:#}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "refusals never hang"
        );
    }
    // Absolute URLs must be allowed explicitly, and are guarded too.
    let id = integration(
        &server,
        &project,
        json!({ "baseUrl": "https://example.com" }),
    )
    .await;
    let body = exec(
        &server,
        json!({ "integrationId": id, "path": "http://10.0.0.1/x" }),
    )
    .await;
    assert_eq!(code(&body), "BAD_USER_INPUT");
    server.stop().await;

    // Only the upstream's address is allow-listed: a redirect to a private address is
    // refused at the hop.
    let upstream = Upstream::default();
    let base = upstream.start().await;
    let server = TestServer::start_with(Backend::Sqlite, |s| {
        s.allow_private_networks = Some(false);
        s.outbound_allow_cidrs = Some(vec!["127.0.0.1/32".parse().unwrap()]);
    })
    .await;
    let project = server.create_project("Acme").await;
    let id = integration(&server, &project, json!({ "baseUrl": base })).await;
    let body = exec(&server, json!({ "integrationId": id, "path": "/ok" })).await;
    assert_eq!(result(&body)["ok"], true);
    let body = exec(
        &server,
        json!({ "integrationId": id, "path": "/redirect", "query": { "to": "http://10.0.0.1/secret" } }),
    )
    .await;
    assert_eq!(code(&body), "FORBIDDEN", "{body:#}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("redirect refused")
    );
    // A redirect to an allowed address is followed.
    let body = exec(
        &server,
        json!({ "integrationId": id, "path": "/redirect", "query": { "to": format!("{base}/ok") } }),
    )
    .await;
    assert_eq!(result(&body)["status"], 200);
    server.stop().await;
}
