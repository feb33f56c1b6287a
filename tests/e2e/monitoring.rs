//! Live monitoring end to end, against a local upstream that goes up, down and slow on
//! command: scheduled and on-demand health checks with thresholds (no flapping), DEGRADED
//! on slow answers, MAINTENANCE suppression, passive health from real calls, alerts that
//! fire once, are acknowledged and resolve by themselves, m-of-n metric rules with
//! reminders, the `healthChanged` and `alerts` subscriptions in order, and project
//! isolation of all of it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use patchbay::domain::access::Role;
use serde_json::{Value, json};

use crate::on_both_backends;
use crate::subscriptions::{Socket, connect, init, next_for, send, subscribers};
use crate::support::{Backend, TestServer, code};

on_both_backends!(
    health_moves_with_thresholds_and_alerts_fire_once,
    a_restart_resumes_the_schedule_within_its_jitter
);

const UP: u8 = 0;
const DOWN: u8 = 1;
const SLOW: u8 = 2;

/// An upstream whose `/health` answers 200 `{"status":"ok"}`, 503, or slowly.
#[derive(Clone, Default)]
struct Switch(Arc<AtomicU8>);

impl Switch {
    fn set(&self, mode: u8) {
        self.0.store(mode, Ordering::SeqCst);
    }

    async fn start(&self) -> String {
        async fn health(State(mode): State<Switch>) -> axum::response::Response {
            match mode.0.load(Ordering::SeqCst) {
                DOWN => (StatusCode::SERVICE_UNAVAILABLE, "down").into_response(),
                SLOW => {
                    tokio::time::sleep(Duration::from_millis(400)).await;
                    axum::Json(json!({ "status": "ok" })).into_response()
                }
                _ => axum::Json(json!({ "status": "ok" })).into_response(),
            }
        }
        let router = axum::Router::new()
            .route("/health", axum::routing::get(health))
            .route("/api", axum::routing::get(health))
            .with_state(self.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await });
        url
    }
}

const CREATE: &str =
    "mutation($i: CreateIntegrationInput!) { createIntegration(input: $i) { integration { id } } }";
const CHECK: &str =
    "mutation($id: ID!) { runHealthCheck(id: $id) { ok statusCode latencyMs error health } }";
const RULE: &str = "mutation($i: CreateAlertRuleInput!) { createAlertRule(input: $i) { rule { id kind threshold severity } } }";

async fn check(server: &TestServer, id: &str) -> Value {
    server.ok(&server.admin, CHECK, json!({ "id": id })).await["runHealthCheck"].clone()
}

/// Sockets subscribed to `healthChanged` (op "h") and `alerts` (op "a") of a project: one
/// each, since two streams of one socket may interleave in any order.
async fn watch(server: &TestServer, token: &str, project: &str) -> (Socket, Socket) {
    let before = server.app().events.subscriber_count();
    let mut health = connect(server, "graphql-transport-ws").await;
    init(
        &mut health,
        json!({ "Authorization": format!("Bearer {token}") }),
    )
    .await;
    send(&mut health, json!({ "id": "h", "type": "subscribe", "payload": { "query": "subscription($p: ID) { healthChanged(projectId: $p) { integration { id } previous current reason at } }", "variables": { "p": project } } })).await;
    let mut alerts = connect(server, "graphql-transport-ws").await;
    init(
        &mut alerts,
        json!({ "Authorization": format!("Bearer {token}") }),
    )
    .await;
    send(&mut alerts, json!({ "id": "a", "type": "subscribe", "payload": { "query": "subscription($p: ID) { alerts(projectId: $p) { transition at alert { id state severity kind summary } } }", "variables": { "p": project } } })).await;
    subscribers(server, before + 2).await;
    (health, alerts)
}

async fn health_change(socket: &mut Socket) -> (String, String) {
    let message = next_for(socket, "h").await;
    let change = &message["payload"]["data"]["healthChanged"];
    (
        change["previous"].as_str().unwrap_or_default().to_owned(),
        change["current"].as_str().unwrap_or_default().to_owned(),
    )
}

async fn alert_event(socket: &mut Socket) -> Value {
    next_for(socket, "a").await["payload"]["data"]["alerts"].clone()
}

async fn health_moves_with_thresholds_and_alerts_fire_once(backend: Backend) {
    let server = TestServer::start(backend).await;
    let upstream = Switch::default();
    let base = upstream.start().await;
    let project = server.create_project("Ops").await;
    let mut socket = watch(&server, &server.admin, &project).await;

    let rule = server
        .ok(
            &server.admin,
            RULE,
            json!({ "i": { "projectId": project, "name": "down", "kind": "HEALTH_TRANSITION" } }),
        )
        .await;
    assert_eq!(rule["createAlertRule"]["rule"]["severity"], "CRITICAL");
    let id = server
        .ok(&server.admin, CREATE, json!({ "i": {
            "projectId": project, "name": "Billing", "category": "CUSTOM", "baseUrl": base,
            "healthCheck": { "path": "/health", "intervalSeconds": 3600, "failureThreshold": 2,
                             "successThreshold": 2, "maxLatencyMs": 250,
                             "bodyCondition": { "pointer": "/status", "comparison": "EQUALS", "value": "ok" } } } }))
        .await["createIntegration"]["integration"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // The scheduler runs the first check within seconds of creation: UNKNOWN → HEALTHY.
    assert_eq!(
        health_change(&mut socket.0).await,
        ("UNKNOWN".into(), "HEALTHY".into())
    );

    // One failure is a blip; the second crosses the threshold.
    upstream.set(DOWN);
    let blip = check(&server, &id).await;
    assert_eq!(blip["ok"], false);
    assert_eq!(blip["statusCode"], 503);
    assert_eq!(blip["health"], "HEALTHY", "{blip}");
    assert_eq!(check(&server, &id).await["health"], "UNHEALTHY");
    assert_eq!(
        health_change(&mut socket.0).await,
        ("HEALTHY".into(), "UNHEALTHY".into())
    );
    let fired = alert_event(&mut socket.1).await;
    assert_eq!(fired["transition"], "FIRED");
    assert_eq!(fired["alert"]["kind"], "HEALTH_TRANSITION");
    assert!(
        fired["alert"]["summary"]
            .as_str()
            .unwrap()
            .contains("Billing is UNHEALTHY")
    );
    let alert_id = fired["alert"]["id"].as_str().unwrap().to_owned();

    // Still down: no second alert for the same rule and integration.
    check(&server, &id).await;
    let open = server
        .ok(
            &server.admin,
            "query($p: ID) { alerts(filter: { projectId: $p, state: FIRING }) { totalCount } }",
            json!({ "p": project }),
        )
        .await;
    assert_eq!(open["alerts"]["totalCount"], 1);

    let acked = server
        .ok(
            &server.admin,
            "mutation($id: ID!) { acknowledgeAlert(id: $id) { alert { state acknowledgedBy } } }",
            json!({ "id": alert_id }),
        )
        .await;
    assert_eq!(acked["acknowledgeAlert"]["alert"]["state"], "ACKNOWLEDGED");
    assert_eq!(
        alert_event(&mut socket.1).await["transition"],
        "ACKNOWLEDGED"
    );
    // Acknowledging twice is a conflict, not a silent success.
    let again = server
        .gql(
            &server.admin,
            "mutation($id: ID!) { acknowledgeAlert(id: $id) { alert { state } } }",
            json!({ "id": alert_id }),
        )
        .await;
    assert_eq!(code(&again), "CONFLICT", "{again}");

    // Recovery needs two passing checks; then the alert resolves by itself.
    upstream.set(UP);
    assert_eq!(check(&server, &id).await["health"], "UNHEALTHY");
    assert_eq!(check(&server, &id).await["health"], "HEALTHY");
    assert_eq!(
        health_change(&mut socket.0).await,
        ("UNHEALTHY".into(), "HEALTHY".into())
    );
    let resolved = alert_event(&mut socket.1).await;
    assert_eq!(resolved["transition"], "RESOLVED");
    assert_eq!(resolved["alert"]["state"], "RESOLVED");

    // Passing but slower than maxLatencyMs: DEGRADED at once.
    upstream.set(SLOW);
    assert_eq!(check(&server, &id).await["health"], "DEGRADED");
    assert_eq!(
        health_change(&mut socket.0).await,
        ("HEALTHY".into(), "DEGRADED".into())
    );

    // The figures, by hand: 7 checks (1 scheduled, 3 down, 2 up, 1 slow), 3 failed.
    let health = server
        .ok(&server.admin, "query($id: ID!) { integration(id: $id) { healthCheck { intervalSeconds failureThreshold } health { status reason score uptime(window: HOUR) errorRate(window: HOUR) latencyP95Ms(window: HOUR) consecutiveFailures lastCheckedAt counts(window: HOUR) { checks checkFailures } history(window: HOUR) { checks checkFailures } transitions { previous current } } alerts { totalCount edges { node { state rule { name } } } } } }", json!({ "id": id }))
        .await;
    let h = &health["integration"]["health"];
    assert_eq!(h["status"], "DEGRADED");
    assert_eq!(h["counts"]["checks"], 7, "{h}");
    assert_eq!(h["counts"]["checkFailures"], 3);
    let uptime = h["uptime"].as_f64().unwrap();
    assert!((uptime - 4.0 / 7.0).abs() < 1e-9, "{uptime}");
    assert!((h["errorRate"].as_f64().unwrap() - 3.0 / 7.0).abs() < 1e-9);
    assert!(h["latencyP95Ms"].as_f64().unwrap() >= 300.0, "{h}");
    assert!(
        h["score"].as_i64().unwrap() <= 80,
        "capped while DEGRADED: {h}"
    );
    let points: i64 = h["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["checks"].as_i64().unwrap())
        .sum();
    assert_eq!(points, 7);
    assert_eq!(h["transitions"][0]["current"], "DEGRADED");
    assert_eq!(health["integration"]["healthCheck"]["failureThreshold"], 2);
    assert_eq!(
        health["integration"]["alerts"]["edges"][0]["node"]["state"],
        "RESOLVED"
    );

    // MAINTENANCE: not checked (the reason says so), and no alert fires.
    server
        .ok(&server.admin, "mutation($id: ID!) { updateIntegration(input: { id: $id, status: MAINTENANCE }) { integration { id } } }", json!({ "id": id }))
        .await;
    let refused = server.gql(&server.admin, CHECK, json!({ "id": id })).await;
    assert_eq!(code(&refused), "INTEGRATION_UNAVAILABLE", "{refused}");
    let reason = server
        .ok(
            &server.admin,
            "query($id: ID!) { integration(id: $id) { health { reason checked } } }",
            json!({ "id": id }),
        )
        .await;
    assert!(
        reason["integration"]["health"]["reason"]
            .as_str()
            .unwrap()
            .contains("MAINTENANCE")
    );
    assert_eq!(reason["integration"]["health"]["checked"], false);

    // Another project's token sees none of it.
    let other = server.create_project("Elsewhere").await;
    let outsider = server.token(Role::Admin, Some(&other)).await;
    for query in [
        "query($p: ID) { alerts(filter: { projectId: $p }) { totalCount } }",
        "query($p: ID) { alertRules(projectId: $p) { totalCount } }",
    ] {
        let body = server.gql(&outsider, query, json!({ "p": project })).await;
        assert_eq!(code(&body), "NOT_FOUND", "{query}: {body}");
    }
    let own = server
        .ok(
            &outsider,
            "{ alerts { totalCount } alertRules { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(own["alerts"]["totalCount"], 0);
    assert_eq!(own["alertRules"]["totalCount"], 0);
    let body = server.gql(&outsider, CHECK, json!({ "id": id })).await;
    assert_eq!(code(&body), "NOT_FOUND");
    let mut foreign = connect(&server, "graphql-transport-ws").await;
    init(
        &mut foreign,
        json!({ "Authorization": format!("Bearer {outsider}") }),
    )
    .await;
    send(&mut foreign, json!({ "id": "x", "type": "subscribe", "payload": { "query": "subscription($p: ID) { healthChanged(projectId: $p) { current } }", "variables": { "p": project } } })).await;
    let message = next_for(&mut foreign, "x").await;
    assert_eq!(
        message["payload"]["errors"][0]["extensions"]["code"], "NOT_FOUND",
        "{message}"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_traffic_moves_health_and_metric_rules_fire_m_of_n_with_reminders() {
    let server = TestServer::start_with(Backend::Sqlite, |s| {
        s.alert_evaluation_secs = Some(1);
        s.circuit_failure_threshold = Some(4);
    })
    .await;
    let upstream = Switch::default();
    let base = upstream.start().await;
    let project = server.create_project("Traffic").await;
    let mut socket = watch(&server, &server.admin, &project).await;
    let id = server
        .ok(&server.admin, CREATE, json!({ "i": { "projectId": project, "name": "Orders", "category": "CUSTOM", "baseUrl": base, "retryPolicy": { "maxRetries": 0 } } }))
        .await["createIntegration"]["integration"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    server
        .ok(&server.admin, RULE, json!({ "i": { "projectId": project, "integrationId": id, "name": "errors", "kind": "ERROR_RATE", "threshold": 20, "windowSeconds": 300, "breaches": 2, "evaluations": 3, "reminderSeconds": 10 } }))
        .await;
    server
        .ok(
            &server.admin,
            RULE,
            json!({ "i": { "projectId": project, "name": "breaker", "kind": "CIRCUIT_OPEN" } }),
        )
        .await;
    let call = |path: &'static str| {
        let server = &server;
        let id = id.clone();
        async move {
            server
                .gql(&server.admin, "mutation($i: ExecuteRequestInput!) { executeRequest(input: $i) { ok status } }", json!({ "i": { "integrationId": id, "path": path } }))
                .await
        }
    };
    // Healthy traffic first, then failures: three upstream faults in a row (passive health).
    call("/api").await;
    upstream.set(DOWN);
    for _ in 0..3 {
        call("/api").await;
    }
    assert_eq!(
        health_change(&mut socket.0).await,
        ("UNKNOWN".into(), "UNHEALTHY".into())
    );
    // The fourth failure opens the circuit: a CIRCUIT_OPEN alert.
    call("/api").await;
    let mut kinds = Vec::new();
    // The error-rate rule needs 2 breaching evaluations (1 s apart), the circuit fires at once.
    while kinds.len() < 2 {
        let event = alert_event(&mut socket.1).await;
        assert_eq!(event["transition"], "FIRED", "{event}");
        kinds.push(event["alert"]["kind"].as_str().unwrap().to_owned());
    }
    kinds.sort();
    assert_eq!(kinds, ["CIRCUIT_OPEN", "ERROR_RATE"]);
    // Nobody acknowledges: a reminder after the rule's interval (10 s).
    tokio::time::sleep(Duration::from_secs(5)).await;
    let reminder = alert_event(&mut socket.1).await;
    assert_eq!(reminder["transition"], "REMINDED", "{reminder}");
    assert_eq!(reminder["alert"]["kind"], "ERROR_RATE");
    let stats = server
        .ok(&server.admin, "query($id: ID!) { integration(id: $id) { health { status counts(window: HOUR) { calls callFailures } } } }", json!({ "id": id }))
        .await;
    let counts = &stats["integration"]["health"]["counts"];
    assert_eq!(counts["calls"], 5, "{stats}");
    assert_eq!(counts["callFailures"], 4);
    server.stop().await;
}

const SCHEDULE: &str =
    "query($id: ID!) { integration(id: $id) { health { lastCheckedAt nextCheckAt } } }";

/// `(lastCheckedAt, nextCheckAt)` once both are set and the check is newer than `after`.
async fn checked_after(
    server: &TestServer,
    id: &str,
    after: Option<chrono::DateTime<chrono::Utc>>,
) -> (chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>) {
    let parse = |v: &Value| {
        v.as_str()
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.with_timezone(&chrono::Utc))
    };
    // Up to 40 s: one 10 s interval plus a loaded CI machine's slack.
    for _ in 0..160 {
        let data = server
            .ok(&server.admin, SCHEDULE, json!({ "id": id }))
            .await;
        let health = &data["integration"]["health"];
        if let (Some(last), Some(next)) = (
            parse(&health["lastCheckedAt"]),
            parse(&health["nextCheckAt"]),
        ) && after.is_none_or(|after| last > after)
        {
            return (last, next);
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("no scheduled check of {id} after {after:?}");
}

/// The schedule lives in the store: the next check keeps its time across a restart and
/// runs then, not at start-up and not never; each interval carries at most 5% jitter.
async fn a_restart_resumes_the_schedule_within_its_jitter(backend: Backend) {
    let server = TestServer::start(backend).await;
    let upstream = Switch::default();
    let base = upstream.start().await;
    let project = server.create_project("Ops").await;
    let id = server
        .ok(
            &server.admin,
            CREATE,
            json!({ "i": {
            "projectId": project, "name": "Ledger", "category": "CUSTOM", "baseUrl": base,
            "healthCheck": { "path": "/health", "intervalSeconds": 10 } } }),
        )
        .await["createIntegration"]["integration"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let (first, next) = checked_after(&server, &id, None).await;
    let gap = (next - first).num_milliseconds();
    assert!(
        (9_500..=10_500).contains(&gap),
        "the next check is one 10 s interval on, jitter within 5%: {gap} ms"
    );

    let server = server.restart().await;
    let data = server
        .ok(&server.admin, SCHEDULE, json!({ "id": id }))
        .await;
    let kept = data["integration"]["health"]["nextCheckAt"]
        .as_str()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok());
    assert_eq!(
        kept,
        Some(next.into()),
        "the restart kept the schedule: {data}"
    );
    let (resumed, _) = checked_after(&server, &id, Some(first)).await;
    assert!(
        resumed >= next,
        "the first check after the restart waited for its time ({next}), ran at {resumed}"
    );
    server.stop().await;
}
