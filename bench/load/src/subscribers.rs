//! `subscribers`: N graphql-transport-ws connections subscribed to `healthChanged`; memory
//! per idle subscriber (server RSS before and after), then K health changes fanned out to
//! all of them: event→client latency (client receive time − the change's `at`) and misses.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Args;
use futures_util::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
use tokio::sync::{Semaphore, watch};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use crate::gql::{Gql, lit};
use crate::report::{self, Table, histogram, int, progress, unix_micros};
use crate::server::{CpuSample, Target, status_kb};
use crate::sims::Upstream;

#[derive(Args, Debug)]
pub struct SubscribersArgs {
    /// WebSocket connections, one `healthChanged` subscription each.
    #[arg(long, default_value_t = 1000)]
    count: usize,
    /// Health changes triggered (alternately UNHEALTHY and HEALTHY).
    #[arg(long, default_value_t = 10)]
    events: usize,
    /// Handshakes in flight while connecting.
    #[arg(long, default_value_t = 64)]
    connect_parallel: usize,
    /// Longest wait for one event to reach every subscriber, in seconds.
    #[arg(long, default_value_t = 30)]
    event_timeout: u64,
    /// The selection of each `healthChanged` message (`at` is needed for the latency).
    #[arg(long, default_value = "integration { id } previous current reason at")]
    fields: String,
    /// Then the same client against the fan-out floor (`fanout_floor.rs`): a bare
    /// tokio-tungstenite server fanning a pre-built frame out, for comparison.
    #[arg(long)]
    floor: bool,
}

const OPEN_GAUGE: &str = "patchbay_subscriptions_open";

struct Shared {
    opened: AtomicUsize,
    failed: AtomicUsize,
    received: AtomicU64,
    ended_early: AtomicUsize,
    first_error: Mutex<Option<String>>,
}

impl Shared {
    fn error(&self, e: impl std::fmt::Display) {
        let mut first = self.first_error.lock().unwrap();
        if first.is_none() {
            *first = Some(e.to_string());
        }
    }
}

pub async fn run(target: &Target, args: SubscribersArgs) -> anyhow::Result<Table> {
    let upstream = Upstream::start(Instant::now()).await?;
    let gql = Gql::new(target.graphql_url(), &target.token);
    let project = gql.create_project("load subscribers").await?;
    // failureThreshold/successThreshold 1: every runHealthCheck after a flip of the
    // upstream changes the status. The interval is long: no scheduled check interferes
    // (the first one runs within 5 s of creation, before the events are triggered).
    let (ids, _) = gql
        .create_integrations(1, 1, 1, |_| {
            format!(
                "{{ projectId: {}, name: \"flapper\", category: MONITORING, baseUrl: {}, healthCheck: {{ path: \"/health\", intervalSeconds: 3600, failureThreshold: 1, successThreshold: 1 }} }}",
                lit(&project),
                lit(&upstream.base_url(0))
            )
        })
        .await?;
    let integration = ids.into_iter().next().context("an integration")?;
    let created = Instant::now();
    let check = serde_json::to_vec(&json!({
        "query": "mutation($id: ID!) { runHealthCheck(id: $id) { ok health } }",
        "variables": { "id": integration },
    }))?;
    gql.post(check.clone()).await?.error_for_status()?;

    let metrics_client = crate::gql::http_client();
    let open_base = target
        .metrics(&metrics_client)
        .await?
        .sum(OPEN_GAUGE)
        .unwrap_or(0.0);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_before = target.rss_kb();

    progress(format!("opening {} subscribers", args.count));
    let opening = Instant::now();
    let subscription = format!(
        "subscription($p: ID) {{ healthChanged(projectId: $p) {{ {} }} }}",
        args.fields
    );
    let crowd = Crowd::open(
        args.count,
        args.connect_parallel,
        &target.ws_url(),
        &target.token,
        (&project, &subscription),
    );
    crowd.all_tried().await?;
    let shared = crowd.shared.clone();
    let opened = shared.opened.load(Ordering::Relaxed);
    // graphql-transport-ws does not acknowledge a subscribe: the server's gauge says when
    // every stream is open.
    let mut gauge = None;
    let gauge_deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let open = target.metrics(&metrics_client).await?.sum(OPEN_GAUGE);
        gauge = open.or(gauge);
        match open {
            Some(open) if open - open_base >= opened as f64 => break,
            Some(_) if Instant::now() < gauge_deadline => {
                tokio::time::sleep(Duration::from_millis(20)).await
            }
            _ => break,
        }
    }
    let open_time = opening.elapsed();
    progress(format!(
        "{opened} open ({} failed) in {:.1} s",
        shared.failed.load(Ordering::Relaxed),
        open_time.as_secs_f64()
    ));
    tokio::time::sleep(Duration::from_secs(3)).await;
    let rss_after = target.rss_kb();
    if let Some(wait) = Duration::from_secs(6).checked_sub(created.elapsed()) {
        tokio::time::sleep(wait).await;
    }

    progress(format!("triggering {} health changes", args.events));
    let cpu0 = CpuSample::take(target);
    let received_base = shared.received.load(Ordering::Relaxed);
    let mut event_timeouts = 0;
    let mut trigger = histogram();
    for k in 0..args.events {
        // UNHEALTHY first (the status is HEALTHY now), then back and forth.
        upstream.state.healthy.store(k % 2 == 1, Ordering::Relaxed);
        let started = Instant::now();
        let data: Value = serde_json::from_slice(&gql.post(check.clone()).await?.bytes().await?)?;
        report::record(&mut trigger, started.elapsed());
        if data.get("errors").is_some() {
            bail!("runHealthCheck: {data}");
        }
        let want = received_base + (opened as u64) * (k as u64 + 1);
        if !crowd.received(want, args.event_timeout).await {
            event_timeouts += 1;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let cpu1 = CpuSample::take(target);
    let received = shared.received.load(Ordering::Relaxed) - received_base;
    let latency = crowd.finish().await?;
    let floor = if args.floor {
        Some(floor(&args).await?)
    } else {
        None
    };

    let expected = (opened * args.events) as u64;
    let mut t = Table::new(format!(
        "subscribers: {} graphql-transport-ws connections on healthChanged",
        int(args.count as u64)
    ));
    t.row("server", &target.describe);
    t.row(
        "parameters",
        format!(
            "{} health changes, {} handshakes in flight, client read buffer 4 KiB; selection `{}`",
            args.events, args.connect_parallel, args.fields
        ),
    );
    t.row(
        "connections open",
        format!(
            "{} of {} in {:.1} s ({} failed{}); server gauge {}",
            int(opened as u64),
            int(args.count as u64),
            open_time.as_secs_f64(),
            shared.failed.load(Ordering::Relaxed),
            shared
                .first_error
                .lock()
                .unwrap()
                .as_ref()
                .map(|e| format!(": {e}"))
                .unwrap_or_default(),
            gauge.map_or("n/a".to_owned(), |g| format!("{g}")),
        ),
    );
    t.row(
        "server RSS before → after opening",
        match (rss_before, rss_after) {
            (Some(a), Some(b)) => format!("{} → {}", report::mb(a), report::mb(b)),
            _ => "n/a".to_owned(),
        },
    );
    t.row(
        "memory per idle subscriber",
        match (rss_before, rss_after) {
            (Some(a), Some(b)) if opened > 0 => {
                format!("{:.1} KB", (b as f64 - a as f64) / opened as f64)
            }
            _ => "n/a".to_owned(),
        },
    );
    t.row(
        "event→client p50 / p99 / max (receive − `at`)",
        report::p50_p99_max(&latency),
    );
    t.row(
        "messages received / expected",
        format!(
            "{} / {} ({} missed; {} events timed out; {} streams ended early)",
            int(received),
            int(expected),
            int(expected.saturating_sub(received)),
            event_timeouts,
            shared.ended_early.load(Ordering::Relaxed)
        ),
    );
    t.row(
        "runHealthCheck p50 / p99 / max",
        report::p50_p99_max(&trigger),
    );
    t.row("server CPU while fanning out", cpu1.describe_since(&cpu0));
    if let Some(floor) = floor {
        t.row(
            "fan-out floor (bare tokio-tungstenite server, same client): event→client p50 / p99 / max",
            report::p50_p99_max(&floor.latency),
        );
        t.row(
            "fan-out floor: messages received / expected; memory per idle connection",
            format!(
                "{} / {}; {}",
                int(floor.received),
                int(floor.expected),
                floor
                    .per_connection_kb
                    .map_or("n/a".to_owned(), |kb| format!("{kb:.1} KB"))
            ),
        );
    }
    t.row(
        "goals (issues 10, 12)",
        "p99 ≤ 100 ms; ≤ 20 KB per idle subscriber".to_owned(),
    );
    Ok(t)
}

/// Subscribers reading in their own tasks until told to stop.
struct Crowd {
    count: usize,
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<Vec<u64>>>,
}

impl Crowd {
    /// Starts `count` subscribers, at most `parallel` handshakes at a time.
    fn open(
        count: usize,
        parallel: usize,
        url: &str,
        token: &str,
        (project, subscription): (&str, &str),
    ) -> Crowd {
        let shared = Arc::new(Shared {
            opened: AtomicUsize::new(0),
            failed: AtomicUsize::new(0),
            received: AtomicU64::new(0),
            ended_early: AtomicUsize::new(0),
            first_error: Mutex::new(None),
        });
        let (stop, stop_rx) = watch::channel(false);
        let handshakes = Arc::new(Semaphore::new(parallel.max(1)));
        let tasks = (0..count)
            .map(|_| {
                let (url, token, query, shared, stop, handshakes) = (
                    url.to_owned(),
                    token.to_owned(),
                    (project.to_owned(), subscription.to_owned()),
                    shared.clone(),
                    stop_rx.clone(),
                    handshakes.clone(),
                );
                tokio::spawn(subscriber(url, token, query, shared, stop, handshakes))
            })
            .collect();
        Crowd {
            count,
            shared,
            stop,
            tasks,
        }
    }

    /// Waits until every subscriber is open or has failed.
    async fn all_tried(&self) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(600);
        while self.shared.opened.load(Ordering::Relaxed)
            + self.shared.failed.load(Ordering::Relaxed)
            < self.count
        {
            if Instant::now() > deadline {
                bail!("subscribers still connecting after 600 s");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok(())
    }

    /// Waits until `want` messages arrived in all; false after `timeout_s` seconds.
    async fn received(&self, want: u64, timeout_s: u64) -> bool {
        let deadline = Instant::now() + Duration::from_secs(timeout_s);
        while self.shared.received.load(Ordering::Relaxed) < want {
            if Instant::now() > deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        true
    }

    /// Stops every subscriber and gathers their event→client latencies.
    async fn finish(self) -> anyhow::Result<Histogram<u64>> {
        self.stop.send(true)?;
        let mut latency = histogram();
        for task in self.tasks {
            if let Ok(samples) = task.await {
                for micros in samples {
                    latency.saturating_record(micros.max(1));
                }
            }
        }
        Ok(latency)
    }
}

/// What the same client measured against the fan-out floor.
struct Floor {
    latency: Histogram<u64>,
    received: u64,
    expected: u64,
    per_connection_kb: Option<f64>,
}

/// Runs the events of `args` through the fan-out floor server (a child process).
async fn floor(args: &SubscribersArgs) -> anyhow::Result<Floor> {
    progress(format!("fan-out floor: opening {} subscribers", args.count));
    let mut child = tokio::process::Command::new(std::env::current_exe()?)
        .arg("fanout-floor")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    let pid = child.id().context("the floor server's pid")?;
    let mut lines = tokio::io::BufReader::new(child.stdout.take().context("stdout")?).lines();
    let addr = lines
        .next_line()
        .await?
        .context("the floor server's address")?;
    let mut fire = child.stdin.take().context("stdin")?;
    let rss_before = status_kb(pid, "VmRSS:");
    let crowd = Crowd::open(
        args.count,
        args.connect_parallel,
        &format!("ws://{addr}/"),
        "",
        ("", ""),
    );
    crowd.all_tried().await?;
    let opened = crowd.shared.opened.load(Ordering::Relaxed);
    // The subscribe was the last message each client sent; give the server time to read it.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let rss_after = status_kb(pid, "VmRSS:");
    progress(format!(
        "fan-out floor: {opened} open; triggering {} events",
        args.events
    ));
    for k in 0..args.events {
        fire.write_all(b"fire\n").await?;
        fire.flush().await?;
        crowd
            .received((opened as u64) * (k as u64 + 1), args.event_timeout)
            .await;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let received = crowd.shared.received.load(Ordering::Relaxed);
    let latency = crowd.finish().await?;
    drop(fire);
    let _ = child.kill().await;
    Ok(Floor {
        latency,
        received,
        expected: (opened * args.events) as u64,
        per_connection_kb: match (rss_before, rss_after) {
            (Some(a), Some(b)) if opened > 0 => Some((b as f64 - a as f64) / opened as f64),
            _ => None,
        },
    })
}

/// One subscriber: connect, `connection_init` with the token, `subscribe`, then read until
/// told to stop. Returns its latencies in µs.
async fn subscriber(
    url: String,
    token: String,
    (project, subscription): (String, String),
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
    handshakes: Arc<Semaphore>,
) -> Vec<u64> {
    let mut latencies = Vec::new();
    let permit = handshakes.acquire_owned().await;
    let mut ws = match open(&url, &token, &project, &subscription).await {
        Ok(ws) => ws,
        Err(e) => {
            shared.error(e);
            shared.failed.fetch_add(1, Ordering::Relaxed);
            return latencies;
        }
    };
    drop(permit);
    shared.opened.fetch_add(1, Ordering::Relaxed);
    loop {
        tokio::select! {
            message = ws.next() => match message {
                Some(Ok(Message::Text(text))) => {
                    let received = unix_micros();
                    let Ok(value) = serde_json::from_str::<Value>(text.as_str()) else { continue };
                    match value["type"].as_str() {
                        Some("next") => {
                            let at = value["payload"]["data"]["healthChanged"]["at"]
                                .as_str()
                                .and_then(|at| chrono::DateTime::parse_from_rfc3339(at).ok());
                            if let Some(at) = at {
                                latencies.push(received.saturating_sub(at.timestamp_micros() as u64));
                            }
                            shared.received.fetch_add(1, Ordering::Relaxed);
                        }
                        Some("ping") => {
                            let _ = ws.send(Message::text(r#"{"type":"pong"}"#)).await;
                        }
                        Some("error") | Some("complete") => {
                            shared.error(text.as_str());
                            shared.ended_early.fetch_add(1, Ordering::Relaxed);
                            break;
                        }
                        _ => {}
                    }
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => {
                    shared.error(e);
                    shared.ended_early.fetch_add(1, Ordering::Relaxed);
                    break;
                }
                None => {
                    shared.ended_early.fetch_add(1, Ordering::Relaxed);
                    break;
                }
            },
            _ = stop.changed() => {
                let _ = ws.close(None).await;
                break;
            }
        }
    }
    latencies
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn open(url: &str, token: &str, project: &str, subscription: &str) -> anyhow::Result<Ws> {
    let mut request = url.into_client_request()?;
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_static("graphql-transport-ws"),
    );
    // Small buffers: thousands of sockets live in this process too.
    let config = WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0);
    let (mut ws, _) =
        tokio_tungstenite::connect_async_with_config(request, Some(config), true).await?;
    let init = json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {token}") } });
    ws.send(Message::text(init.to_string())).await?;
    let acked = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(message) = ws.next().await {
            if let Message::Text(text) = message? {
                let value: Value = serde_json::from_str(text.as_str())?;
                match value["type"].as_str() {
                    Some("connection_ack") => return anyhow::Ok(()),
                    Some("ping") => ws.send(Message::text(r#"{"type":"pong"}"#)).await?,
                    _ => bail!("before connection_ack: {text}"),
                }
            }
        }
        bail!("closed before connection_ack")
    })
    .await;
    acked.context("no connection_ack within 60 s")??;
    let subscribe = json!({
        "id": "1",
        "type": "subscribe",
        "payload": { "query": subscription, "variables": { "p": project } },
    });
    ws.send(Message::text(subscribe.to_string())).await?;
    Ok(ws)
}
