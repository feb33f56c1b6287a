//! What operators read: searchable logs with a time range, the audit log (a row for every
//! state-changing mutation), stats (against hand-computed numbers, and as a live tick),
//! production readiness, and Prometheus `/metrics` parsed as Prometheus parses it.

use std::time::Duration;

use patchbay::domain::access::Role;
use serde_json::{Value, json};

use crate::on_both_backends;
use crate::subscriptions::{connect, init, next_for, send, subscribers};
use crate::support::{Backend, TestServer, code};

on_both_backends!(logs_audit_stats_and_readiness_answer_as_computed);

/// A local upstream answering 200 at /ok.
async fn upstream() -> String {
    let router = axum::Router::new().route("/ok", axum::routing::get(|| async { "fine" }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    url
}

async fn total(server: &TestServer, token: &str, query: &str, variables: Value) -> i64 {
    let data = server.ok(token, query, variables).await;
    let (_, connection) = data.as_object().unwrap().iter().next().unwrap();
    connection["totalCount"].as_i64().unwrap()
}

async fn logs_audit_stats_and_readiness_answer_as_computed(backend: Backend) {
    let server = TestServer::start(backend).await;
    let base = upstream().await;
    let project = server.create_project("Numbers").await;
    let jira = server
        .ok(&server.admin, "mutation($i: CreateIntegrationInput!) { createIntegration(input: $i) { integration { id } } }",
            json!({ "i": { "projectId": project, "name": "Jira", "category": "PROJECT_MANAGEMENT", "baseUrl": base } }))
        .await["createIntegration"]["integration"]["id"].as_str().unwrap().to_owned();
    server
        .ok(&server.admin, "mutation($i: CreateIntegrationInput!) { createIntegration(input: $i) { integration { id } } }",
            json!({ "i": { "projectId": project, "name": "Slack", "category": "COMMUNICATION", "enabled": false } }))
        .await;
    let exec = "mutation($i: ExecuteRequestInput!) { executeRequest(input: $i) { ok } }";
    assert_eq!(
        server
            .ok(
                &server.admin,
                exec,
                json!({ "i": { "integrationId": jira, "path": "/ok" } })
            )
            .await["executeRequest"]["ok"],
        true
    );

    // Logs: text search over message and metadata (any case), and a time range.
    let logs = "query($f: LogFilter) { logs(filter: $f) { totalCount } }";
    assert_eq!(
        total(
            &server,
            &server.admin,
            logs,
            json!({ "f": { "projectId": project, "search": "JIRA" } })
        )
        .await,
        1
    );
    assert_eq!(
        total(
            &server,
            &server.admin,
            logs,
            json!({ "f": { "projectId": project, "search": "created" } })
        )
        .await,
        3,
        "project created, integration created twice"
    );
    assert_eq!(
        total(
            &server,
            &server.admin,
            logs,
            json!({ "f": { "projectId": project, "search": "no such text" } })
        )
        .await,
        0
    );
    let future = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    let past = (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339();
    assert_eq!(
        total(
            &server,
            &server.admin,
            logs,
            json!({ "f": { "projectId": project, "since": future } })
        )
        .await,
        0
    );
    assert_eq!(
        total(
            &server,
            &server.admin,
            logs,
            json!({ "f": { "projectId": project, "until": past } })
        )
        .await,
        0
    );
    assert_eq!(total(&server, &server.admin, logs, json!({ "f": { "projectId": project, "since": past, "until": future, "search": "slack" } })).await, 1);
    let bad = server
        .gql(
            &server.admin,
            logs,
            json!({ "f": { "since": future, "until": past } }),
        )
        .await;
    assert_eq!(code(&bad), "BAD_USER_INPUT");

    // Mutations that change state leave audit rows, including the ones that used not to.
    let hook = server
        .ok(&server.admin, "mutation($i: CreateWebhookInput!) { createWebhook(input: $i) { webhook { id } } }",
            json!({ "i": { "projectId": project, "url": format!("{base}/ok"), "eventTypes": ["custom.*"] } }))
        .await["createWebhook"]["webhook"]["id"].as_str().unwrap().to_owned();
    let delivery = server
        .ok(
            &server.admin,
            "mutation($w: ID!) { sendTestEvent(webhookId: $w) { delivery { id } } }",
            json!({ "w": hook }),
        )
        .await["sendTestEvent"]["delivery"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    server
        .ok(
            &server.admin,
            "mutation($d: ID!) { redeliver(deliveryId: $d) { delivery { id } } }",
            json!({ "d": delivery }),
        )
        .await;
    server.ok(&server.admin, "mutation($w: ID!, $s: DateTime!) { replayWebhook(input: { webhookId: $w, since: $s }) { count } }", json!({ "w": hook, "s": past })).await;
    server.ok(&server.admin, "mutation($i: ID!, $s: String!) { setIncomingWebhook(input: { integrationId: $i, scheme: SHARED_TOKEN, secret: $s }) { incomingWebhook { path } } }", json!({ "i": jira, "s": uuid::Uuid::new_v4().to_string() })).await;
    server
        .ok(
            &server.admin,
            "mutation { rotateEncryptionKey { id } }",
            json!({}),
        )
        .await;
    let audit = "query($f: AuditFilter) { auditLog(filter: $f) { totalCount edges { node { actor action targetId projectId at details } } } }";
    for action in [
        "webhook.test",
        "delivery.redeliver",
        "webhook.replay",
        "integration.set_incoming_webhook",
        "vault.rotate_key",
    ] {
        assert_eq!(
            total(
                &server,
                &server.admin,
                audit,
                json!({ "f": { "action": action } })
            )
            .await,
            1,
            "{action}"
        );
    }
    assert_eq!(
        total(
            &server,
            &server.admin,
            audit,
            json!({ "f": { "projectId": project, "action": "integration.*" } })
        )
        .await,
        3
    );
    assert_eq!(
        total(
            &server,
            &server.admin,
            audit,
            json!({ "f": { "targetId": jira } })
        )
        .await,
        2
    );
    let entry = server
        .ok(
            &server.admin,
            audit,
            json!({ "f": { "action": "webhook.replay" } }),
        )
        .await;
    assert_eq!(
        entry["auditLog"]["edges"][0]["node"]["actor"],
        "bootstrap admin"
    );
    let viewer = server.token(Role::Viewer, None).await;
    assert_eq!(
        code(&server.gql(&viewer, audit, json!({})).await),
        "FORBIDDEN"
    );

    // Stats, by hand: 2 integrations (1 enabled and ACTIVE), 1 call (succeeded), 1 webhook.
    let stats = "query($p: ID) { stats(projectId: $p) { integrations activeIntegrations unknownIntegrations apiCallsToday apiCalls successRate webhooksActive deliveriesToday alertsFiring byCategory { key count } byStatus { key count } } }";
    let s = server
        .ok(&server.admin, stats, json!({ "p": project }))
        .await["stats"]
        .clone();
    assert_eq!(s["integrations"], 2, "{s}");
    assert_eq!(s["activeIntegrations"], 1);
    assert_eq!(s["apiCallsToday"], 1);
    assert_eq!(s["successRate"], 1.0);
    assert_eq!(s["webhooksActive"], 1);
    assert_eq!(
        s["deliveriesToday"], 2,
        "the test event and its redelivery: {s}"
    );
    assert_eq!(s["alertsFiring"], 0);
    assert_eq!(
        s["byCategory"],
        json!([{ "key": "COMMUNICATION", "count": 1 }, { "key": "PROJECT_MANAGEMENT", "count": 1 }])
    );
    assert_eq!(s["byStatus"], json!([{ "key": "ACTIVE", "count": 2 }]));
    let nested = server
        .ok(
            &server.admin,
            "query($p: ID!) { project(id: $p) { stats { integrations apiCallsToday } } }",
            json!({ "p": project }),
        )
        .await;
    assert_eq!(nested["project"]["stats"]["integrations"], 2);
    // Another project's token: NOT_FOUND for this project, its own (empty) numbers otherwise.
    let other = server.create_project("Other").await;
    let outsider = server.token(Role::Admin, Some(&other)).await;
    assert_eq!(
        code(&server.gql(&outsider, stats, json!({ "p": project })).await),
        "NOT_FOUND"
    );
    assert_eq!(
        server.ok(&outsider, stats, json!({})).await["stats"]["integrations"],
        0
    );
    // Logs and the audit log of a project stay inside it, searched or not: a scoped ADMIN
    // sees its own project's rows only, never another's nor the global ones (key rotation).
    assert_eq!(
        code(
            &server
                .gql(
                    &outsider,
                    logs,
                    json!({ "f": { "projectId": project, "search": "jira" } })
                )
                .await
        ),
        "NOT_FOUND"
    );
    assert_eq!(
        total(
            &server,
            &outsider,
            logs,
            json!({ "f": { "search": "jira" } })
        )
        .await,
        0
    );
    assert_eq!(
        code(
            &server
                .gql(&outsider, audit, json!({ "f": { "projectId": project } }))
                .await
        ),
        "NOT_FOUND"
    );
    assert_eq!(
        total(
            &server,
            &outsider,
            audit,
            json!({ "f": { "targetId": jira } })
        )
        .await,
        0,
        "another project's target filters to nothing"
    );
    let seen = server.ok(&outsider, audit, json!({})).await["auditLog"]["edges"].clone();
    let seen = seen.as_array().unwrap();
    assert!(!seen.is_empty(), "its own project's creation is audited");
    assert!(
        seen.iter().all(|e| e["node"]["projectId"] == json!(other)),
        "{seen:?}"
    );
    // The unscoped admin's global numbers include every project.
    assert_eq!(
        server.ok(&server.admin, stats, json!({})).await["stats"]["integrations"],
        2
    );

    // Readiness: an http:// base URL and no health check are called out.
    let ready = server
        .ok(&server.admin, "query($id: ID!) { integration(id: $id) { readiness { score passed checks { name passed severity detail } } } }", json!({ "id": jira }))
        .await["integration"]["readiness"].clone();
    assert_eq!(ready["passed"], false, "{ready}");
    let https = ready["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "https")
        .unwrap();
    assert_eq!(https["passed"], false);
    assert_eq!(https["severity"], "CRITICAL");
    assert!(ready["score"].as_i64().unwrap() < 100);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stats_tick_live_and_metrics_parse_as_prometheus_text() {
    let metrics_token = uuid::Uuid::new_v4().to_string();
    let server = TestServer::start_with(Backend::Sqlite, |s| {
        s.metrics_token = Some(metrics_token.clone())
    })
    .await;
    let project = server.create_project("Live").await;

    // A stats tick at once, then every second; a new integration shows in the next ones.
    let before = server.app().events.subscriber_count();
    let mut socket = connect(&server, "graphql-transport-ws").await;
    init(
        &mut socket,
        json!({ "Authorization": format!("Bearer {}", server.admin) }),
    )
    .await;
    send(&mut socket, json!({ "id": "s", "type": "subscribe", "payload": { "query": "subscription($p: ID) { stats(projectId: $p, everySeconds: 1) { integrations computedAt } }", "variables": { "p": project } } })).await;
    let first = next_for(&mut socket, "s").await;
    assert_eq!(
        first["payload"]["data"]["stats"]["integrations"], 0,
        "{first}"
    );
    server.create_integration(&project, "New").await;
    let mut seen = 0;
    for _ in 0..5 {
        let tick = next_for(&mut socket, "s").await;
        seen = tick["payload"]["data"]["stats"]["integrations"]
            .as_i64()
            .unwrap();
        if seen == 1 {
            break;
        }
    }
    assert_eq!(seen, 1);
    send(&mut socket, json!({ "id": "bad", "type": "subscribe", "payload": { "query": "subscription { stats(everySeconds: 0) { integrations } }" } })).await;
    let bad = next_for(&mut socket, "bad").await;
    assert_eq!(
        bad["payload"]["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{bad}"
    );
    let _ = subscribers(&server, before).await;

    // /metrics: its own token, then the text format Prometheus reads.
    let url = format!("{}/metrics", server.url);
    assert_eq!(server.http.get(&url).send().await.unwrap().status(), 401);
    let text = server
        .http
        .get(&url)
        .bearer_auth(&metrics_token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let lines = text.lines().map(|l| Ok(l.to_owned()));
    let scrape = prometheus_parse::Scrape::parse(lines).expect("Prometheus text format");
    let names: std::collections::BTreeSet<&str> =
        scrape.samples.iter().map(|s| s.metric.as_str()).collect();
    for name in [
        "patchbay_http_requests_total",
        "patchbay_http_request_duration_seconds",
        "patchbay_graphql_operations_total",
        "patchbay_integrations_health",
        "patchbay_subscriptions_open",
    ] {
        assert!(names.contains(name), "{name} missing from {names:?}");
    }
    let graphql = scrape
        .samples
        .iter()
        .find(|s| {
            s.metric == "patchbay_graphql_operations_total"
                && s.labels.get("type") == Some("mutation")
                && s.labels.get("code") == Some("OK")
        })
        .expect("mutations counted");
    // OpenMetrics names the family without `_total`; the parser may see the sample untyped.
    assert!(
        matches!(graphql.value, prometheus_parse::Value::Counter(n) | prometheus_parse::Value::Untyped(n) if n >= 2.0),
        "{graphql:?}"
    );
    let unknown = scrape
        .samples
        .iter()
        .find(|s| {
            s.metric == "patchbay_integrations_health" && s.labels.get("status") == Some("UNKNOWN")
        })
        .expect("health gauge");
    assert!(
        matches!(unknown.value, prometheus_parse::Value::Gauge(n) if n >= 1.0),
        "{unknown:?}"
    );
    tokio::time::sleep(Duration::from_millis(10)).await;
    server.stop().await;
}
