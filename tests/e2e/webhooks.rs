//! Webhooks end to end: every delivery verified by a local receiver with the
//! `standardwebhooks` crate (the reference verifier, not our code); filters and
//! wildcards; the retry schedule, Retry-After, 410 and auto-disable; secret rotation;
//! per-endpoint isolation; redelivery and replay; crash safety with kill -9; incoming
//! webhooks of every scheme.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::on_both_backends;
use crate::support::{Backend, TestServer, code};

on_both_backends!(
    deliveries_are_signed_filtered_and_visible,
    incoming_webhooks_verify_every_scheme
);

/// One request the receiver got.
#[derive(Clone, Debug)]
struct Received {
    path: String,
    webhook_id: String,
    event_type: String,
    /// For each known secret (in the order given), whether the request verifies with it.
    verified: Vec<bool>,
    signatures: usize,
    at: Instant,
}

/// A local webhook receiver that verifies with the `standardwebhooks` crate.
#[derive(Clone, Default)]
struct Receiver {
    secrets: Arc<Mutex<Vec<String>>>,
    got: Arc<Mutex<Vec<Received>>>,
    stall: Arc<AtomicBool>,
}

impl Receiver {
    async fn start(&self) -> String {
        let router = axum::Router::new()
            .route("/{mode}", post(receive))
            .with_state(self.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        format!("http://{addr}")
    }

    fn secret(&self, secret: &str) {
        self.secrets.lock().unwrap().push(secret.to_owned());
    }

    fn got(&self, path: &str) -> Vec<Received> {
        self.got
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.path == path)
            .cloned()
            .collect()
    }

    /// Waits until `path` got `count` requests (10 s at most).
    async fn wait_for(&self, path: &str, count: usize) -> Vec<Received> {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let got = self.got(path);
            if got.len() >= count {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "{path} got {} of {count} deliveries: {got:?}",
                got.len()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

async fn receive(
    State(receiver): State<Receiver>,
    Path(mode): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let verified = receiver
        .secrets
        .lock()
        .unwrap()
        .iter()
        .map(|s| {
            standardwebhooks::Webhook::new(s)
                .unwrap()
                .verify(&body, &headers)
                .is_ok()
        })
        .collect();
    let payload: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    let count = {
        let mut got = receiver.got.lock().unwrap();
        got.push(Received {
            path: mode.clone(),
            webhook_id: header("webhook-id"),
            event_type: payload["type"].as_str().unwrap_or("").to_owned(),
            verified,
            signatures: header("webhook-signature").split(' ').count(),
            at: Instant::now(),
        });
        got.iter().filter(|r| r.path == mode).count()
    };
    match mode.as_str() {
        "fail" => (StatusCode::INTERNAL_SERVER_ERROR, "boom").into_response(),
        "gone" => StatusCode::GONE.into_response(),
        "limited" if count == 1 => (
            StatusCode::TOO_MANY_REQUESTS,
            [("retry-after", "1")],
            "later",
        )
            .into_response(),
        "stall" => {
            tokio::time::sleep(Duration::from_secs(30)).await;
            "late".into_response()
        }
        "crash" if receiver.stall.load(Ordering::SeqCst) => {
            tokio::time::sleep(Duration::from_secs(60)).await;
            "late".into_response()
        }
        _ => (StatusCode::OK, "thanks").into_response(),
    }
}

const CREATE: &str = "mutation($i: CreateWebhookInput!) { createWebhook(input: $i) { secret webhook { id status enabled } } }";

async fn webhook(
    server: &TestServer,
    project: &str,
    url: String,
    types: Value,
    extra: Value,
) -> (String, String) {
    let mut input = json!({ "projectId": project, "url": url, "eventTypes": types });
    if let Value::Object(extra) = extra {
        for (k, v) in extra {
            input[k] = v;
        }
    }
    let data = server
        .ok(&server.admin, CREATE, json!({ "i": input }))
        .await;
    let created = &data["createWebhook"];
    (
        created["webhook"]["id"].as_str().unwrap().to_owned(),
        created["secret"].as_str().unwrap().to_owned(),
    )
}

async fn publish(server: &TestServer, project: &str, event_type: &str, data: Value) -> String {
    let body = server
        .ok(
            &server.admin,
            "mutation($i: PublishEventInput!) { publishEvent(input: $i) { event { id type } } }",
            json!({ "i": { "projectId": project, "type": event_type, "data": data } }),
        )
        .await;
    body["publishEvent"]["event"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn fast_server(backend: Backend) -> TestServer {
    TestServer::start_with(backend, |s| {
        s.webhook_retry_schedule_secs = Some(vec![0, 1, 1]);
        s.webhook_timeout_secs = Some(2);
        s.webhook_disable_after_failures = Some(3);
    })
    .await
}

async fn deliveries_are_signed_filtered_and_visible(backend: Backend) {
    let server = fast_server(backend).await;
    let receiver = Receiver::default();
    let base = receiver.start().await;
    let project = server.create_project("Acme").await;
    let (all, secret) = webhook(
        &server,
        &project,
        format!("{base}/all"),
        json!(["integration.*", "custom.*"]),
        json!({ "headers": { "x-team": "core" } }),
    )
    .await;
    receiver.secret(&secret);
    assert!(secret.starts_with("whsec_"));
    // An endpoint filtered to another integration, and one for other event types.
    webhook(
        &server,
        &project,
        format!("{base}/filtered"),
        json!(["integration.*"]),
        json!({ "filter": { "integrationIds": ["int_00000000000000000000000000"] } }),
    )
    .await;
    webhook(
        &server,
        &project,
        format!("{base}/other"),
        json!(["execution.failed"]),
        json!({}),
    )
    .await;

    let integration = server.create_integration(&project, "Jira").await;
    let event_id = publish(
        &server,
        &project,
        "custom.deploy.finished",
        json!({ "version": "1.2.3" }),
    )
    .await;
    let got = receiver.wait_for("all", 2).await;
    assert_eq!(got[0].event_type, "integration.created");
    assert_eq!(got[1].event_type, "custom.deploy.finished");
    assert_eq!(got[1].webhook_id, event_id);
    assert!(got.iter().all(|r| r.verified == [true]), "{got:?}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(receiver.got("filtered").is_empty());
    assert!(receiver.got("other").is_empty());

    let data = server
        .ok(
            &server.admin,
            "query($id: ID!) { webhook(id: $id) { status lastDeliveryAt stats { attempts successRate p95LatencyMs }
               project { webhooks { totalCount } } deliveries { totalCount edges { node { id eventType status attemptCount nextAttemptAt endpoint { id } message { id }
                 event { id payload } attempts { statusCode latencyMs responseSnippet error } } } } } }",
            json!({ "id": all }),
        )
        .await;
    let hook = &data["webhook"];
    assert_eq!(hook["status"], "ACTIVE");
    assert_eq!(hook["deliveries"]["totalCount"], 2);
    let first = &hook["deliveries"]["edges"][0]["node"];
    assert_eq!(first["status"], "SUCCEEDED");
    assert_eq!(first["endpoint"]["id"], all.as_str());
    assert_eq!(first["message"]["id"], first["event"]["id"]);
    assert_eq!(hook["project"]["webhooks"]["totalCount"], 3);
    assert_eq!(first["attempts"][0]["statusCode"], 200);
    assert_eq!(first["attempts"][0]["responseSnippet"], "thanks");
    assert_eq!(
        first["event"]["payload"]["data"]["integration"]["id"],
        integration.as_str()
    );
    assert_eq!(first["event"]["payload"]["projectId"], project.as_str());
    assert_eq!(hook["stats"]["attempts"], 2);
    assert_eq!(hook["stats"]["successRate"], 1.0);

    // The catalog, and validation of what an endpoint subscribes to.
    let types = server
        .ok(
            &server.admin,
            "{ eventTypes { name description example } }",
            json!({}),
        )
        .await;
    let names: Vec<&str> = types["eventTypes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"integration.created") && names.contains(&"webhook.disabled"));
    let bad = server
        .gql(&server.admin, CREATE, json!({ "i": { "projectId": project, "url": format!("{base}/x"), "eventTypes": ["nothing.here"] } }))
        .await;
    assert_eq!(code(&bad), "BAD_USER_INPUT");
    assert_eq!(
        bad["errors"][0]["extensions"]["field"],
        "input.eventTypes[0]"
    );
    let bad = server
        .gql(
            &server.admin,
            CREATE,
            json!({ "i": { "projectId": project, "url": "ftp://x", "eventTypes": ["*"] } }),
        )
        .await;
    assert_eq!(code(&bad), "BAD_USER_INPUT");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_follow_the_schedule_and_disable_the_endpoint() {
    let server = fast_server(Backend::Sqlite).await;
    let receiver = Receiver::default();
    let base = receiver.start().await;
    let project = server.create_project("Acme").await;
    let (failing, _) = webhook(
        &server,
        &project,
        format!("{base}/fail"),
        json!(["custom.*"]),
        json!({}),
    )
    .await;
    let (limited, _) = webhook(
        &server,
        &project,
        format!("{base}/limited"),
        json!(["custom.*"]),
        json!({}),
    )
    .await;
    let (gone, _) = webhook(
        &server,
        &project,
        format!("{base}/gone"),
        json!(["custom.*"]),
        json!({}),
    )
    .await;
    // A healthy endpoint hears about the disabled ones.
    webhook(
        &server,
        &project,
        format!("{base}/ops"),
        json!(["webhook.disabled", "alert.fired"]),
        json!({}),
    )
    .await;

    publish(&server, &project, "custom.one", json!({})).await;
    // Schedule [0, 1, 1]: three attempts about a second apart, then FAILED.
    let attempts = receiver.wait_for("fail", 3).await;
    let gap = attempts[1].at - attempts[0].at;
    assert!(
        gap >= Duration::from_millis(700) && gap < Duration::from_secs(5),
        "{gap:?}"
    );
    assert!(
        attempts
            .iter()
            .all(|a| a.webhook_id == attempts[0].webhook_id)
    );
    // 429 with Retry-After: 1 is retried after it.
    let limited_got = receiver.wait_for("limited", 2).await;
    assert!(limited_got[1].at - limited_got[0].at >= Duration::from_millis(950));
    // 410 disables at once, after one attempt.
    receiver.wait_for("gone", 1).await;
    let ops = receiver.wait_for("ops", 4).await;
    let mut types: Vec<&str> = ops.iter().map(|r| r.event_type.as_str()).collect();
    types.sort();
    assert_eq!(
        types,
        [
            "alert.fired",
            "alert.fired",
            "webhook.disabled",
            "webhook.disabled"
        ]
    );
    let query = "query($id: ID!) { webhook(id: $id) { status enabled disabledReason failureCount deliveries { edges { node { id status attemptCount nextAttemptAt } } } } }";
    let data = server
        .ok(&server.admin, query, json!({ "id": failing }))
        .await;
    assert_eq!(data["webhook"]["status"], "DISABLED");
    assert_eq!(data["webhook"]["failureCount"], 3);
    let delivery = &data["webhook"]["deliveries"]["edges"][0]["node"];
    assert_eq!(delivery["status"], "FAILED");
    assert_eq!(delivery["attemptCount"], 3);
    assert!(delivery["nextAttemptAt"].is_null());
    let data = server.ok(&server.admin, query, json!({ "id": gone })).await;
    assert_eq!(data["webhook"]["status"], "DISABLED");
    assert!(
        data["webhook"]["disabledReason"]
            .as_str()
            .unwrap()
            .contains("410")
    );
    assert_eq!(receiver.got("gone").len(), 1);
    let data = server
        .ok(&server.admin, query, json!({ "id": limited }))
        .await;
    assert_eq!(data["webhook"]["status"], "ACTIVE");

    // A disabled endpoint gets nothing new; re-enabling it resumes deliveries, and
    // replaying its failures sends them again.
    publish(&server, &project, "custom.two", json!({})).await;
    receiver.wait_for("limited", 3).await;
    assert_eq!(receiver.got("fail").len(), 3);
    let since = (chrono::Utc::now() - chrono::Duration::minutes(5)).to_rfc3339();
    let data = server
        .ok(
            &server.admin,
            "mutation($i: UpdateWebhookInput!, $r: ReplayWebhookInput!) { updateWebhook(input: $i) { webhook { status } } replayWebhook(input: $r) { count } }",
            json!({ "i": { "id": failing, "enabled": true }, "r": { "webhookId": failing, "since": since, "onlyFailed": true } }),
        )
        .await;
    assert_eq!(data["updateWebhook"]["webhook"]["status"], "ACTIVE");
    assert_eq!(data["replayWebhook"]["count"], 1);
    let again = receiver.wait_for("fail", 4).await;
    assert_eq!(
        again[3].webhook_id, attempts[0].webhook_id,
        "a replay keeps the webhook-id"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_signs_with_both_secrets_and_redelivery_keeps_the_id() {
    let server = fast_server(Backend::Sqlite).await;
    let receiver = Receiver::default();
    let base = receiver.start().await;
    let project = server.create_project("Acme").await;
    let (id, old) = webhook(
        &server,
        &project,
        format!("{base}/ok"),
        json!(["*"]),
        json!({}),
    )
    .await;
    receiver.secret(&old);
    let mut live = crate::subscriptions::subscribe(
        &server,
        &format!("subscription {{ deliveries(webhookId: \"{id}\") {{ deliveryId statusCode latencyMs responseSnippet }} }}"),
    )
    .await;
    let data = server
        .ok(&server.admin, "mutation($id: ID!) { rotateWebhookSecret(id: $id) { secret webhook { previousSecretExpiresAt } } }", json!({ "id": id }))
        .await;
    let new = data["rotateWebhookSecret"]["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(new, old);
    assert!(data["rotateWebhookSecret"]["webhook"]["previousSecretExpiresAt"].is_string());
    receiver.secret(&new);
    let data = server
        .ok(
            &server.admin,
            "mutation($id: ID!) { sendTestEvent(webhookId: $id) { delivery { id event { id } } } }",
            json!({ "id": id }),
        )
        .await;
    let delivery = data["sendTestEvent"]["delivery"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let got = receiver.wait_for("ok", 1).await;
    assert_eq!(got[0].event_type, "webhook.test");
    let attempt = crate::subscriptions::next_for(&mut live, "1").await;
    let attempt = &attempt["payload"]["data"]["deliveries"];
    assert_eq!(attempt["deliveryId"], delivery.as_str());
    assert_eq!(attempt["statusCode"], 200);
    assert_eq!(attempt["responseSnippet"], "thanks");
    assert_eq!(got[0].signatures, 2);
    assert_eq!(
        got[0].verified,
        [true, true],
        "both secrets verify during the grace period"
    );

    // Redelivery: the same message again, same webhook-id.
    server
        .ok(
            &server.admin,
            "mutation($id: ID!) { redeliver(deliveryId: $id) { delivery { id status } } }",
            json!({ "id": delivery }),
        )
        .await;
    let got = receiver.wait_for("ok", 2).await;
    assert_eq!(got[1].webhook_id, got[0].webhook_id);

    // Without a grace period, only the new secret signs.
    let data = server
        .ok(
            &server.admin,
            "mutation($id: ID!) { rotateWebhookSecret(id: $id, graceHours: 0) { secret } }",
            json!({ "id": id }),
        )
        .await;
    let newest = data["rotateWebhookSecret"]["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    receiver.secret(&newest);
    server
        .ok(
            &server.admin,
            "mutation($id: ID!) { sendTestEvent(webhookId: $id) { delivery { id } } }",
            json!({ "id": id }),
        )
        .await;
    let got = receiver.wait_for("ok", 3).await;
    assert_eq!(got[2].verified, [false, false, true]);
    // Viewers cannot manage webhooks.
    let viewer = server
        .token(patchbay::domain::access::Role::Viewer, None)
        .await;
    let refused = server
        .gql(
            &viewer,
            "mutation($id: ID!) { sendTestEvent(webhookId: $id) { delivery { id } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(code(&refused), "FORBIDDEN");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_endpoint_does_not_delay_a_healthy_one() {
    let server = TestServer::start_with(Backend::Sqlite, |s| {
        s.webhook_timeout_secs = Some(20);
        s.webhook_endpoint_concurrency = Some(2);
    })
    .await;
    let receiver = Receiver::default();
    let base = receiver.start().await;
    let project = server.create_project("Acme").await;
    webhook(
        &server,
        &project,
        format!("{base}/stall"),
        json!(["custom.*"]),
        json!({}),
    )
    .await;
    webhook(
        &server,
        &project,
        format!("{base}/ok"),
        json!(["custom.*"]),
        json!({}),
    )
    .await;
    let started = Instant::now();
    for i in 0..10 {
        publish(&server, &project, "custom.tick", json!({ "i": i })).await;
    }
    receiver.wait_for("ok", 10).await;
    // The stalled endpoint holds at most its concurrency in flight; the healthy one got
    // everything long before the stalled requests could time out.
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(receiver.got("stall").len(), 2);
    server.stop().await;
}

/// A fresh random secret for a test (no literal secrets in the suite).
fn fresh(prefix: &str) -> String {
    use base64::Engine;
    format!(
        "{prefix}{}",
        base64::engine::general_purpose::STANDARD.encode(uuid::Uuid::new_v4().as_bytes())
    )
}

fn hmac_hex(secret: &str, parts: &[&[u8]]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    for part in parts {
        mac.update(part);
    }
    hex::encode(mac.finalize().into_bytes())
}

async fn incoming_webhooks_verify_every_scheme(backend: Backend) {
    let gh_secret = &fresh("gh-");
    let slack_secret = &fresh("slack-");
    let token_secret = fresh("tok-");
    let server = TestServer::start_with(backend, |s| {
        s.max_body_bytes = Some(64 * 1024);
    })
    .await;
    let receiver = Receiver::default();
    let base = receiver.start().await;
    let project = server.create_project("Acme").await;
    webhook(
        &server,
        &project,
        format!("{base}/incoming"),
        json!(["incoming.*"]),
        json!({}),
    )
    .await;
    let set = "mutation($i: SetIncomingWebhookInput!) { setIncomingWebhook(input: $i) { incomingWebhook { scheme path header toleranceSeconds } } }";
    let http = reqwest::Client::new();
    let post = |id: &str, headers: Vec<(&str, String)>, body: &str| {
        let mut request = http
            .post(format!("{}/hooks/{id}", server.url))
            .body(body.to_owned());
        for (name, value) in headers {
            request = request.header(name, value);
        }
        request.send()
    };

    // GitHub: X-Hub-Signature-256 over the body.
    let github = server.create_integration(&project, "GitHub").await;
    let data = server
        .ok(
            &server.admin,
            set,
            json!({ "i": { "integrationId": github, "scheme": "GITHUB", "secret": gh_secret } }),
        )
        .await;
    assert_eq!(
        data["setIncomingWebhook"]["incomingWebhook"]["path"],
        format!("/hooks/{github}")
    );
    let body = r#"{"ref":"refs/heads/main"}"#;
    let good = vec![
        (
            "x-hub-signature-256",
            format!("sha256={}", hmac_hex(gh_secret, &[body.as_bytes()])),
        ),
        ("x-github-event", "push".to_owned()),
        ("x-github-delivery", "d-1".to_owned()),
    ];
    let response = post(&github, good.clone(), body).await.unwrap();
    assert_eq!(response.status(), 202);
    let accepted: Value = response.json().await.unwrap();
    assert_eq!(accepted["type"], "incoming.github.push");
    // The same delivery again is stored once.
    let response = post(&github, good, body).await.unwrap();
    assert_eq!(response.status(), 200);
    let bad = vec![
        (
            "x-hub-signature-256",
            format!("sha256={}", hmac_hex("wrong", &[body.as_bytes()])),
        ),
        ("x-github-event", "push".to_owned()),
    ];
    assert_eq!(post(&github, bad, body).await.unwrap().status(), 401);
    assert_eq!(post(&github, vec![], body).await.unwrap().status(), 401);

    // Slack: v0 signature over "v0:{timestamp}:{body}", timestamp within 5 minutes.
    let slack = server.create_integration(&project, "Slack").await;
    server
        .ok(
            &server.admin,
            set,
            json!({ "i": { "integrationId": slack, "scheme": "SLACK", "secret": slack_secret } }),
        )
        .await;
    let body = r#"{"event_id":"Ev1","event":{"type":"message"}}"#;
    let slack_headers = |ts: i64, secret: &str| {
        vec![
            ("x-slack-request-timestamp", ts.to_string()),
            (
                "x-slack-signature",
                format!(
                    "v0={}",
                    hmac_hex(secret, &[format!("v0:{ts}:").as_bytes(), body.as_bytes()])
                ),
            ),
        ]
    };
    let now = chrono::Utc::now().timestamp();
    assert_eq!(
        post(&slack, slack_headers(now, slack_secret), body)
            .await
            .unwrap()
            .status(),
        202
    );
    assert_eq!(
        post(&slack, slack_headers(now - 600, slack_secret), body)
            .await
            .unwrap()
            .status(),
        401
    );
    assert_eq!(
        post(&slack, slack_headers(now, "nope"), body)
            .await
            .unwrap()
            .status(),
        401
    );

    // Standard Webhooks, signed by the reference library.
    let standard = server.create_integration(&project, "Billing").await;
    let whsec = &fresh("whsec_");
    server
        .ok(&server.admin, set, json!({ "i": { "integrationId": standard, "scheme": "STANDARD_WEBHOOKS", "secret": whsec } }))
        .await;
    let body = r#"{"type":"invoice.paid","data":{}}"#;
    let signed = |ts: i64, secret: &str| {
        let signature = standardwebhooks::Webhook::new(secret)
            .unwrap()
            .sign("m-1", ts, body.as_bytes())
            .unwrap();
        vec![
            ("webhook-id", "m-1".to_owned()),
            ("webhook-timestamp", ts.to_string()),
            ("webhook-signature", signature),
        ]
    };
    let response = post(&standard, signed(now, whsec), body).await.unwrap();
    assert_eq!(response.status(), 202);
    let accepted: Value = response.json().await.unwrap();
    assert_eq!(accepted["type"], "incoming.billing.invoice_paid");
    assert_eq!(
        post(&standard, signed(now - 3600, whsec), body)
            .await
            .unwrap()
            .status(),
        401
    );
    assert_eq!(
        post(&standard, signed(now, &fresh("whsec_")), body)
            .await
            .unwrap()
            .status(),
        401
    );

    // A shared token header.
    let token = server.create_integration(&project, "Jenkins").await;
    server
        .ok(&server.admin, set, json!({ "i": { "integrationId": token, "scheme": "SHARED_TOKEN", "secret": token_secret.as_str(), "header": "X-Jenkins-Token" } }))
        .await;
    let body = r#"{"event":"build.finished"}"#;
    assert_eq!(
        post(
            &token,
            vec![("x-jenkins-token", token_secret.clone())],
            body
        )
        .await
        .unwrap()
        .status(),
        202
    );
    assert_eq!(
        post(&token, vec![("x-jenkins-token", fresh("tok-"))], body)
            .await
            .unwrap()
            .status(),
        401
    );

    // Unknown integrations, integrations without verification, oversized bodies.
    assert_eq!(
        post("int_00000000000000000000000000", vec![], "{}")
            .await
            .unwrap()
            .status(),
        404
    );
    let plain = server.create_integration(&project, "Plain").await;
    assert_eq!(post(&plain, vec![], "{}").await.unwrap().status(), 404);
    assert_eq!(
        post(
            &token,
            vec![("x-jenkins-token", token_secret.clone())],
            &"x".repeat(100_000)
        )
        .await
        .unwrap()
        .status(),
        413
    );

    // Exactly the accepted events were stored and fanned out.
    let got = receiver.wait_for("incoming", 4).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut types: Vec<String> = receiver
        .got("incoming")
        .iter()
        .map(|r| r.event_type.clone())
        .collect();
    types.sort();
    assert_eq!(
        types,
        [
            "incoming.billing.invoice_paid",
            "incoming.github.push",
            "incoming.jenkins.build_finished",
            "incoming.slack.message"
        ],
        "{got:?}"
    );
    server.stop().await;
}

/// Kill -9 mid-delivery, restart on the same store: every event is delivered, and a
/// repeated delivery carries the same webhook-id.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliveries_survive_a_crash() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::default();
    receiver.stall.store(true, Ordering::SeqCst);
    let base = receiver.start().await;
    let start = || {
        let mut child = Command::new(env!("CARGO_BIN_EXE_patchbay"))
            .args(["--listen", "127.0.0.1:0"])
            .env("PATCHBAY_DATA_DIR", dir.path())
            .env("PATCHBAY_ALLOW_PRIVATE_NETWORKS", "true")
            .env("PATCHBAY_WEBHOOK_TIMEOUT_SECS", "1")
            .env_remove("DATABASE_URL")
            .env_remove("PATCHBAY_DATABASE_URL")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let mut url = None;
        let mut token = None;
        for line in lines.by_ref() {
            let line = line.unwrap();
            if let Some(rest) = line.split("GraphiQL:").nth(1) {
                url = Some(rest.trim().to_owned());
            }
            let done = line.contains("Log in to GraphiQL by opening:") || line.contains("log in:");
            if line.contains("Log in to GraphiQL by opening:") {
                token = line.split("#token=").nth(1).map(str::to_owned);
            }
            if done {
                // Keep draining stdout so the server never writes to a closed pipe.
                std::thread::spawn(move || lines.for_each(drop));
                return (child, url, token);
            }
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("the server printed no URL");
    };
    let (mut first, url, token) = start();
    let graphql = url.unwrap();
    let token = token.expect("the first start prints the login token");
    let http = reqwest::Client::new();
    let gql = |query: &str, variables: Value| {
        let request = http
            .post(&graphql)
            .bearer_auth(&token)
            .json(&json!({ "query": query, "variables": variables }));
        async move { request.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let project = gql(
        "mutation { createProject(input: { name: \"P\" }) { project { id } } }",
        json!({}),
    )
    .await["data"]["createProject"]["project"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    gql(CREATE, json!({ "i": { "projectId": project, "url": format!("{base}/crash"), "eventTypes": ["custom.*"] } })).await;
    for i in 0..5 {
        let body = gql(
            "mutation($i: PublishEventInput!) { publishEvent(input: $i) { event { id } } }",
            json!({ "i": { "projectId": project, "type": "custom.crash", "data": { "i": i } } }),
        )
        .await;
        assert!(body.get("errors").is_none(), "{body}");
    }
    // All five are in flight, held by the receiver; then the process dies.
    receiver.wait_for("crash", 5).await;
    Command::new("kill")
        .args(["-KILL", &first.id().to_string()])
        .status()
        .unwrap();
    first.wait().unwrap();
    receiver.stall.store(false, Ordering::SeqCst);

    let (mut second, _, _) = start();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let got = receiver.got("crash");
        let mut ids: Vec<&str> = got.iter().map(|r| r.webhook_id.as_str()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(
            ids.len(),
            5,
            "only the five messages, each with its stable webhook-id"
        );
        if got.len() >= 10 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not redelivered after restart: {got:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Command::new("kill")
        .args(["-TERM", &second.id().to_string()])
        .status()
        .unwrap();
    second.wait().unwrap();
}

/// Two replicas on one PostgreSQL database share the delivery jobs (SKIP LOCKED): every
/// event published on either is delivered exactly once while nothing fails.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_share_deliveries_without_duplicates() {
    if !crate::support::postgres_available("replicas_share_deliveries_without_duplicates") {
        return;
    }
    let first = TestServer::start(Backend::Postgres).await;
    let config = patchbay::config::Config::from_settings(first.store.settings()).unwrap();
    let second = patchbay::server::start(config).await.unwrap();
    let receiver = Receiver::default();
    let base = receiver.start().await;
    let project = first.create_project("Acme").await;
    webhook(
        &first,
        &project,
        format!("{base}/ok"),
        json!(["custom.*"]),
        json!({}),
    )
    .await;
    let second_url = format!("http://{}/graphql", second.addr);
    let http = reqwest::Client::new();
    for i in 0..40 {
        if i % 2 == 0 {
            publish(&first, &project, "custom.replica", json!({ "i": i })).await;
        } else {
            let body: Value = http
                .post(&second_url)
                .bearer_auth(&first.admin)
                .json(&json!({ "query": "mutation($i: PublishEventInput!) { publishEvent(input: $i) { event { id } } }", "variables": { "i": { "projectId": project, "type": "custom.replica", "data": { "i": i } } } }))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            assert!(body.get("errors").is_none(), "{body}");
        }
    }
    receiver.wait_for("ok", 40).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let got = receiver.got("ok");
    let mut ids: Vec<&str> = got.iter().map(|r| r.webhook_id.as_str()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(
        (got.len(), ids.len()),
        (40, 40),
        "each event delivered exactly once"
    );
    second.stop().await;
    first.stop().await;
}

/// A key rotation re-seals webhook and incoming-webhook secrets, so the old key retires
/// and both keep working.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_follow_a_key_rotation() {
    let token_secret = fresh("tok-");
    let server = fast_server(Backend::Sqlite).await;
    let receiver = Receiver::default();
    let base = receiver.start().await;
    let project = server.create_project("Acme").await;
    let (id, secret) = webhook(
        &server,
        &project,
        format!("{base}/ok"),
        json!(["*"]),
        json!({}),
    )
    .await;
    receiver.secret(&secret);
    let jenkins = server.create_integration(&project, "Jenkins").await;
    server
        .ok(
            &server.admin,
            "mutation($i: SetIncomingWebhookInput!) { setIncomingWebhook(input: $i) { incomingWebhook { scheme } } }",
            json!({ "i": { "integrationId": jenkins, "scheme": "SHARED_TOKEN", "secret": token_secret.as_str() } }),
        )
        .await;
    let data = server
        .ok(
            &server.admin,
            "mutation { rotateEncryptionKey { id } }",
            json!({}),
        )
        .await;
    let rotation = data["rotateEncryptionKey"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let data = server
            .ok(
                &server.admin,
                "query($id: ID!) { keyRotation(id: $id) { state } }",
                json!({ "id": rotation }),
            )
            .await;
        if data["keyRotation"]["state"] == "DONE" {
            break;
        }
        assert!(Instant::now() < deadline, "rotation did not finish");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let keys = patchbay::store::vault::keys(&server.app().store)
        .await
        .unwrap();
    assert_eq!(
        keys.iter().filter(|k| k.state == "RETIRED").count(),
        1,
        "the old key retires once nothing is sealed under it"
    );
    server
        .ok(
            &server.admin,
            "mutation($id: ID!) { sendTestEvent(webhookId: $id) { delivery { id } } }",
            json!({ "id": id }),
        )
        .await;
    let got = receiver.wait_for("ok", 1).await;
    assert_eq!(got[0].verified, [true]);
    let accepted = reqwest::Client::new()
        .post(format!("{}/hooks/{jenkins}", server.url))
        .header("x-webhook-token", token_secret.as_str())
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(accepted.status(), 202);
    server.stop().await;
}
