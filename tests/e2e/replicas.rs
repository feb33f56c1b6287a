//! Scale-out on PostgreSQL with the real binary: three replicas on one database do every
//! delivery and every health check exactly once, subscribers on every replica see every
//! event once and in one order per project, and a SIGKILLed replica (the dispatch leader)
//! loses nothing: its leases are taken over. API-only and worker-only replicas
//! (`--api` / `--worker`) split the work between them.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::support::PgDatabase;

/// Generous: CI runs the suite on 2 cores, debug builds.
const WAIT: Duration = Duration::from_secs(60);
const PUBLISH: &str =
    "mutation($i: PublishEventInput!) { publishEvent(input: $i) { event { id } } }";

/// One server process.
struct Replica {
    child: Child,
    base: String,
    /// The ADMIN token printed by the first start.
    token: Option<String>,
}

impl Replica {
    /// Replicas of one deployment share the master key: a passphrase made per test
    /// (`passphrase`), given through the environment as in production.
    fn start(
        db: &PgDatabase,
        data_dir: &std::path::Path,
        passphrase: &str,
        args: &[&str],
    ) -> Replica {
        let mut child = Command::new(env!("CARGO_BIN_EXE_patchbay"))
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .env("PATCHBAY_DATABASE_URL", &db.url)
            .env("PATCHBAY_DATA_DIR", data_dir)
            .env("PATCHBAY_MASTER_KEY", passphrase)
            .env("PATCHBAY_ALLOW_PRIVATE_NETWORKS", "true")
            .env("PATCHBAY_WEBHOOK_TIMEOUT_SECS", "2")
            .env("PATCHBAY_DB_POOL_SIZE", "6")
            .env("PATCHBAY_LOG_LEVEL", "error")
            .env_remove("DATABASE_URL")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let (mut base, mut token) = (None, None);
        for line in lines.by_ref() {
            let line = line.unwrap();
            if let Some(rest) = line.split("health:").nth(1) {
                base = rest.split("/healthz").next().map(|s| s.trim().to_owned());
            }
            let first_start = line.contains("Log in to GraphiQL by opening:");
            if first_start {
                token = line.split("#token=").nth(1).map(str::to_owned);
            }
            if first_start || line.contains("log in:") {
                // Keep draining stdout so the server never writes to a closed pipe.
                std::thread::spawn(move || lines.for_each(drop));
                return Replica {
                    child,
                    base: base.expect("the health URL is printed before the log-in line"),
                    token,
                };
            }
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("a replica did not start");
    }

    fn graphql(&self) -> String {
        format!("{}/graphql", self.base)
    }

    fn kill(&mut self) {
        Command::new("kill")
            .args(["-KILL", &self.child.id().to_string()])
            .status()
            .unwrap();
        let _ = self.child.wait();
    }

    /// A gauge of this process's /metrics.
    async fn gauge(&self, http: &reqwest::Client, name: &str) -> f64 {
        let text = http
            .get(format!("{}/metrics", self.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        text.lines()
            .find_map(|line| {
                let (key, value) = line.split_once(' ')?;
                (key == name).then(|| value.trim().parse().ok())?
            })
            .unwrap_or_else(|| panic!("no {name} in /metrics:\n{text}"))
    }

    async fn wait_gauge(&self, http: &reqwest::Client, name: &str, at_least: f64) {
        let deadline = Instant::now() + WAIT;
        while self.gauge(http, name).await < at_least {
            assert!(Instant::now() < deadline, "{name} never reached {at_least}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn gql(http: &reqwest::Client, url: &str, token: &str, query: &str, vars: Value) -> Value {
    let body: Value = http
        .post(url)
        .bearer_auth(token)
        .json(&json!({ "query": query, "variables": vars }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(body.get("errors").is_none(), "{body}");
    body["data"].clone()
}

/// Waits until `count` sessions listen for relayed events (every replica's listener is
/// up), so no replica decides that it has no peers to relay to.
async fn wait_for_listeners(db: &PgDatabase, count: i64) {
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        count: i64,
    }
    use diesel_async::RunQueryDsl;
    let mut conn = patchbay::store::connect_pg(&db.url).await.unwrap();
    let deadline = Instant::now() + WAIT;
    loop {
        let row: Count = diesel::sql_query(
            "SELECT count(*) AS count FROM pg_stat_activity \
             WHERE datname = current_database() AND query LIKE 'LISTEN patchbay_bus%'",
        )
        .get_result(&mut conn)
        .await
        .unwrap();
        if row.count >= count {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "replicas did not start listening"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A webhook receiver: (path, webhook-id) of every completed delivery; `slow` answers
/// after 200 ms, so deliveries are in flight when a replica dies.
#[derive(Clone, Default)]
struct Receiver {
    got: Arc<Mutex<Vec<(String, String)>>>,
}

impl Receiver {
    async fn start(&self) -> String {
        async fn receive(
            State(receiver): State<Receiver>,
            Path(path): Path<String>,
            headers: HeaderMap,
        ) -> StatusCode {
            if path == "slow" {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            let id = headers
                .get("webhook-id")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            receiver.got.lock().unwrap().push((path, id));
            StatusCode::NO_CONTENT
        }
        let router = axum::Router::new()
            .route("/{path}", axum::routing::post(receive))
            .with_state(self.clone());
        serve(router).await
    }

    /// How often each webhook-id arrived at `path`.
    fn counts(&self, path: &str) -> HashMap<String, usize> {
        let mut counts = HashMap::new();
        for (p, id) in self.got.lock().unwrap().iter() {
            if p == path {
                *counts.entry(id.clone()).or_insert(0) += 1;
            }
        }
        counts
    }

    async fn wait_for(&self, path: &str, ids: &[String]) -> HashMap<String, usize> {
        let deadline = Instant::now() + WAIT;
        loop {
            let counts = self.counts(path);
            let missing = ids.iter().filter(|id| !counts.contains_key(*id)).count();
            if missing == 0 {
                return counts;
            }
            assert!(
                Instant::now() < deadline,
                "{path}: {missing} of {} deliveries never arrived",
                ids.len()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// An upstream for health checks: when each `/h/{n}` was asked.
#[derive(Clone, Default)]
struct Upstream {
    hits: Arc<Mutex<HashMap<String, Vec<Instant>>>>,
}

impl Upstream {
    async fn start(&self) -> String {
        async fn health(State(upstream): State<Upstream>, Path(n): Path<String>) -> StatusCode {
            upstream
                .hits
                .lock()
                .unwrap()
                .entry(n)
                .or_default()
                .push(Instant::now());
            StatusCode::OK
        }
        let router = axum::Router::new()
            .route("/h/{n}", axum::routing::get(health))
            .with_state(self.clone());
        serve(router).await
    }

    fn hits(&self) -> HashMap<String, Vec<Instant>> {
        self.hits.lock().unwrap().clone()
    }
}

async fn serve(router: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    format!("http://{addr}")
}

/// A graphql-transport-ws subscription on `replica`; what it streams lands in the
/// returned list (the `data` of each `next` message).
async fn subscribe(
    replica: &Replica,
    token: &str,
    query: &str,
    vars: Value,
) -> Arc<Mutex<Vec<Value>>> {
    let mut request = replica
        .graphql()
        .replace("http://", "ws://")
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let init = json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {token}") } });
    socket.send(Message::text(init.to_string())).await.unwrap();
    let subscribe =
        json!({ "id": "1", "type": "subscribe", "payload": { "query": query, "variables": vars } });
    socket
        .send(Message::text(subscribe.to_string()))
        .await
        .unwrap();
    let got = Arc::new(Mutex::new(Vec::new()));
    let sink = got.clone();
    tokio::spawn(async move {
        while let Some(Ok(message)) = socket.next().await {
            let Message::Text(text) = message else {
                continue;
            };
            let value: Value = serde_json::from_str(&text).unwrap();
            match value["type"].as_str() {
                Some("next") => {
                    assert!(value["payload"].get("errors").is_none(), "{value}");
                    sink.lock().unwrap().push(value["payload"]["data"].clone());
                }
                Some("error") => panic!("subscription refused: {value}"),
                _ => {}
            }
        }
    });
    got
}

/// The event IDs an `events` subscription streamed, in order.
fn event_ids(got: &Arc<Mutex<Vec<Value>>>) -> Vec<String> {
    got.lock()
        .unwrap()
        .iter()
        .map(|data| data["events"]["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn wait_for_events(got: &Arc<Mutex<Vec<Value>>>, count: usize, what: &str) {
    let deadline = Instant::now() + WAIT;
    while got.lock().unwrap().len() < count {
        assert!(
            Instant::now() < deadline,
            "{what}: {} of {count} events streamed",
            got.lock().unwrap().len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Publishes `count` events to `project` one after another, each through the next of
/// `urls`; returns their IDs in publish order.
async fn publish_in_turn(
    http: &reqwest::Client,
    urls: &[String],
    token: &str,
    project: &str,
    count: usize,
) -> Vec<String> {
    let mut ids = Vec::with_capacity(count);
    for i in 0..count {
        let data = gql(
            http,
            &urls[i % urls.len()],
            token,
            PUBLISH,
            json!({ "i": { "projectId": project, "type": "custom.replica", "data": { "i": i } } }),
        )
        .await;
        ids.push(
            data["publishEvent"]["event"]["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    ids
}

async fn create_project(http: &reqwest::Client, url: &str, token: &str, name: &str) -> String {
    gql(
        http,
        url,
        token,
        "mutation($n: String!) { createProject(input: { name: $n }) { project { id } } }",
        json!({ "n": name }),
    )
    .await["createProject"]["project"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn create_webhook(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    project: &str,
    target: String,
) {
    gql(
        http,
        url,
        token,
        "mutation($i: CreateWebhookInput!) { createWebhook(input: $i) { webhook { id } } }",
        json!({ "i": { "projectId": project, "url": target, "eventTypes": ["custom.*"] } }),
    )
    .await;
}

const EVENTS: &str =
    "subscription($p: ID!) { events(projectId: $p, types: [\"custom.*\"]) { id } }";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_replicas_share_the_work_and_survive_a_kill() {
    if !crate::support::postgres_available("three_replicas_share_the_work_and_survive_a_kill") {
        return;
    }
    let db = PgDatabase::create().await;
    let dir = tempfile::tempdir().unwrap();
    let passphrase = uuid::Uuid::new_v4().to_string();
    let first = Replica::start(&db, dir.path(), &passphrase, &[]);
    let token = first.token.clone().expect("the first start prints a token");
    let mut replicas = vec![
        first,
        Replica::start(&db, dir.path(), &passphrase, &[]),
        Replica::start(&db, dir.path(), &passphrase, &[]),
    ];
    wait_for_listeners(&db, 3).await;
    let http = reqwest::Client::new();
    let urls: Vec<String> = replicas.iter().map(Replica::graphql).collect();
    let receiver = Receiver::default();
    let hooks = receiver.start().await;
    let upstream = Upstream::default();
    let upstream_url = upstream.start().await;

    let p1 = create_project(&http, &urls[0], &token, "P1").await;
    let p2 = create_project(&http, &urls[1], &token, "P2").await;
    let p3 = create_project(&http, &urls[2], &token, "P3").await;
    let monitored = create_project(&http, &urls[0], &token, "Monitored").await;
    create_webhook(&http, &urls[0], &token, &p1, format!("{hooks}/p1")).await;
    create_webhook(&http, &urls[1], &token, &p2, format!("{hooks}/p2")).await;
    create_webhook(&http, &urls[2], &token, &p3, format!("{hooks}/slow")).await;

    // Subscribers spread over the replicas: one per replica and project.
    let mut streams = Vec::new();
    for replica in &replicas {
        let s1 = subscribe(replica, &token, EVENTS, json!({ "p": p1 })).await;
        let s2 = subscribe(replica, &token, EVENTS, json!({ "p": p2 })).await;
        streams.push((s1, s2));
    }
    for replica in &replicas {
        replica
            .wait_gauge(&http, "patchbay_subscriptions_open", 2.0)
            .await;
    }

    // 300 health checks (10 s interval) across the replicas' schedulers.
    let create_all = {
        let (http, urls, token, monitored, upstream_url) = (
            http.clone(),
            urls.clone(),
            token.clone(),
            monitored.clone(),
            upstream_url.clone(),
        );
        tokio::spawn(async move {
            let creators = (0..3).map(|r| {
                let (http, url, token, monitored, upstream_url) = (
                    http.clone(),
                    urls[r].clone(),
                    token.clone(),
                    monitored.clone(),
                    upstream_url.clone(),
                );
                async move {
                    for n in (r..300).step_by(3) {
                        gql(&http, &url, &token, "mutation($i: CreateIntegrationInput!) { createIntegration(input: $i) { integration { id } } }",
                            json!({ "i": { "projectId": monitored, "name": format!("Service {n}"), "category": "CUSTOM",
                                "baseUrl": upstream_url, "healthCheck": { "path": format!("/h/{n}"), "intervalSeconds": 10 } } })).await;
                    }
                }
            });
            futures_util::future::join_all(creators).await;
        })
    };

    // 1,000 deliveries: 500 events to each of two projects, published in turn through
    // every replica.
    let (ids1, ids2) = tokio::join!(
        publish_in_turn(&http, &urls, &token, &p1, 500),
        publish_in_turn(&http, &urls[1..], &token, &p2, 500)
    );
    create_all.await.unwrap();
    receiver.wait_for("p1", &ids1).await;
    receiver.wait_for("p2", &ids2).await;
    for (s1, s2) in &streams {
        wait_for_events(s1, 500, "P1 subscriber").await;
        wait_for_events(s2, 500, "P2 subscriber").await;
    }
    // Late duplicates would arrive by now.
    tokio::time::sleep(Duration::from_secs(1)).await;
    for (path, ids) in [("p1", &ids1), ("p2", &ids2)] {
        let counts = receiver.counts(path);
        assert_eq!(counts.len(), ids.len(), "{path}: only the published events");
        assert!(
            counts.values().all(|&n| n == 1),
            "{path}: every delivery exactly once across three replicas"
        );
    }
    for (r, (s1, s2)) in streams.iter().enumerate() {
        assert_eq!(
            event_ids(s1),
            ids1,
            "replica {r}: P1's events once each, in order"
        );
        assert_eq!(
            event_ids(s2),
            ids2,
            "replica {r}: P2's events once each, in order"
        );
    }

    // Every integration checked, and no due check run twice: the second check of each
    // comes an interval (10 s, less 5 % jitter) after the first.
    let deadline = Instant::now() + WAIT;
    loop {
        let hits = upstream.hits();
        if hits.len() == 300 && hits.values().all(|h| h.len() >= 2) {
            for (n, at) in &hits {
                let gap = at[1] - at[0];
                assert!(
                    gap >= Duration::from_secs(9),
                    "integration {n} was checked twice for one due time ({gap:?} apart)"
                );
            }
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{} of 300 integrations checked twice",
            hits.values().filter(|h| h.len() >= 2).count()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // One replica leads the dispatch. Kill it while deliveries are in flight.
    let mut leaders = Vec::new();
    for (r, replica) in replicas.iter().enumerate() {
        if replica.gauge(&http, "patchbay_dispatch_leader").await == 1.0 {
            leaders.push(r);
        }
    }
    assert_eq!(leaders.len(), 1, "exactly one dispatch leader");
    let leader = leaders[0];
    let survivors: Vec<usize> = (0..3).filter(|&r| r != leader).collect();
    let survivor_urls: Vec<String> = survivors.iter().map(|&r| urls[r].clone()).collect();
    let slow = publish_in_turn(&http, &survivor_urls, &token, &p3, 200).await;
    let deadline = Instant::now() + WAIT;
    while receiver.counts("slow").len() < 30 {
        assert!(Instant::now() < deadline, "slow deliveries did not start");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    replicas[leader].kill();

    // A survivor takes over the dispatch; events published now reach the surviving
    // subscribers in order, and their deliveries arrive.
    let more = publish_in_turn(&http, &survivor_urls, &token, &p1, 50).await;
    let counts = receiver.wait_for("slow", &slow).await;
    let repeated: usize = counts.values().map(|&n| n - 1).sum();
    assert!(
        repeated <= 8,
        "only the killed replica's in-flight deliveries (8 per endpoint) repeat: {repeated}"
    );
    receiver.wait_for("p1", &more).await;
    let all_p1: Vec<String> = ids1.iter().chain(&more).cloned().collect();
    for &r in &survivors {
        wait_for_events(&streams[r].0, 550, "surviving P1 subscriber").await;
        assert_eq!(
            event_ids(&streams[r].0),
            all_p1,
            "replica {r}: events after the kill, once each, in order"
        );
    }
    let mut leaders = 0;
    for &r in &survivors {
        if replicas[r].gauge(&http, "patchbay_dispatch_leader").await == 1.0 {
            leaders += 1;
        }
    }
    assert_eq!(leaders, 1, "one survivor took the dispatch over");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        receiver.counts("p1").values().all(|&n| n == 1),
        "P1 deliveries exactly once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_and_worker_replicas_split_the_work() {
    // A split needs PostgreSQL: on SQLite the binary refuses it, naming the flags.
    let dir = tempfile::tempdir().unwrap();
    let refused = Command::new(env!("CARGO_BIN_EXE_patchbay"))
        .args(["--listen", "127.0.0.1:0", "--api"])
        .env("PATCHBAY_DATA_DIR", dir.path())
        .env_remove("DATABASE_URL")
        .env_remove("PATCHBAY_DATABASE_URL")
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("--api / --worker"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    if !crate::support::postgres_available("api_and_worker_replicas_split_the_work") {
        return;
    }
    let db = PgDatabase::create().await;
    let passphrase = uuid::Uuid::new_v4().to_string();
    let api = Replica::start(&db, dir.path(), &passphrase, &["--api"]);
    let token = api.token.clone().expect("the first start prints a token");
    let worker = Replica::start(&db, dir.path(), &passphrase, &["--worker"]);
    wait_for_listeners(&db, 2).await;
    let http = reqwest::Client::new();

    // The worker serves probes only.
    let refused = http.post(worker.graphql()).send().await.unwrap();
    assert_eq!(refused.status(), 404);
    assert!(refused.text().await.unwrap().contains("--worker"));
    for replica in [&api, &worker] {
        let probe = http
            .get(format!("{}/readyz", replica.base))
            .send()
            .await
            .unwrap();
        assert_eq!(probe.status(), 200);
    }

    let receiver = Receiver::default();
    let hooks = receiver.start().await;
    let upstream = Upstream::default();
    let upstream_url = upstream.start().await;
    let url = api.graphql();
    let project = create_project(&http, &url, &token, "Split").await;
    create_webhook(&http, &url, &token, &project, format!("{hooks}/split")).await;
    let health = subscribe(
        &api,
        &token,
        "subscription($p: ID!) { healthChanged(projectId: $p) { previous current integration { name } } }",
        json!({ "p": project }),
    )
    .await;
    api.wait_gauge(&http, "patchbay_subscriptions_open", 1.0)
        .await;

    // Published on the API replica, dispatched and delivered by the worker.
    let ids = publish_in_turn(&http, std::slice::from_ref(&url), &token, &project, 5).await;
    let counts = receiver.wait_for("split", &ids).await;
    assert!(counts.values().all(|&n| n == 1));
    assert_eq!(api.gauge(&http, "patchbay_dispatch_leader").await, 0.0);
    assert_eq!(worker.gauge(&http, "patchbay_dispatch_leader").await, 1.0);

    // Checked by the worker's scheduler; the change reaches the API replica's subscriber.
    gql(&http, &url, &token, "mutation($i: CreateIntegrationInput!) { createIntegration(input: $i) { integration { id } } }",
        json!({ "i": { "projectId": project, "name": "Watched", "category": "CUSTOM",
            "baseUrl": upstream_url, "healthCheck": { "path": "/h/watched", "intervalSeconds": 60 } } })).await;
    wait_for_events(&health, 1, "healthChanged").await;
    let change = health.lock().unwrap()[0]["healthChanged"].clone();
    assert_eq!(change["current"], "HEALTHY", "{change}");
    assert_eq!(change["integration"]["name"], "Watched");
    assert_eq!(upstream.hits()["watched"].len(), 1);
}
