//! The built-in peers of the server: a simulated upstream for health checks and a webhook
//! receiver. Both are plain HTTP/1 keep-alive servers on 127.0.0.1 in this process.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};

use crate::report::since;

/// `GET /i/{n}/health`: 200 `{"status":"ok"}` while healthy, 418 otherwise (a 4xx: the
/// outbound engine retries 5xx, and a check should fail at once). Each hit is counted and,
/// when `record` is set, logged as (integration index, µs since `epoch`).
pub struct Upstream {
    pub addr: SocketAddr,
    pub state: Arc<UpstreamState>,
}

pub struct UpstreamState {
    pub epoch: Instant,
    pub healthy: AtomicBool,
    pub record: AtomicBool,
    pub hits: AtomicU64,
    pub log: Mutex<Vec<(u32, u64)>>,
}

impl Upstream {
    pub async fn start(epoch: Instant) -> anyhow::Result<Upstream> {
        let state = Arc::new(UpstreamState {
            epoch,
            healthy: AtomicBool::new(true),
            record: AtomicBool::new(false),
            hits: AtomicU64::new(0),
            log: Mutex::new(Vec::new()),
        });
        let app = Router::new()
            .route("/i/{n}/health", get(health))
            .with_state(state.clone());
        let addr = serve(app).await?;
        Ok(Upstream { addr, state })
    }

    /// The base URL of integration `n` (its check's path is `/health` under it).
    pub fn base_url(&self, n: usize) -> String {
        format!("http://{}/i/{n}", self.addr)
    }
}

async fn health(State(state): State<Arc<UpstreamState>>, Path(n): Path<u32>) -> impl IntoResponse {
    state.hits.fetch_add(1, Ordering::Relaxed);
    if state.record.load(Ordering::Relaxed) {
        let at = since(state.epoch);
        state.log.lock().unwrap().push((n, at));
    }
    let status = if state.healthy.load(Ordering::Relaxed) {
        StatusCode::OK
    } else {
        StatusCode::IM_A_TEAPOT
    };
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        r#"{"status":"ok"}"#,
    )
}

/// `POST /r/{n}`: answers 204 and records each delivery's arrival.
pub struct Receiver {
    pub addr: SocketAddr,
    pub state: Arc<ReceiverState>,
}

pub struct ReceiverState {
    pub epoch: Instant,
    pub arrivals: Mutex<Vec<Arrival>>,
    pub count: AtomicU64,
}

pub struct Arrival {
    pub endpoint: u32,
    /// What the publisher can match the arrival with: for an integration event the change,
    /// `{integration id}@{version}` (`updateIntegration` answers with the version, not with
    /// the event's id), for any other event its id (`webhook-id`, `publishEvent`'s `event.id`).
    pub key: String,
    /// µs since the epoch.
    pub arrived: u64,
}

impl Receiver {
    pub async fn start(epoch: Instant) -> anyhow::Result<Receiver> {
        let state = Arc::new(ReceiverState {
            epoch,
            arrivals: Mutex::new(Vec::new()),
            count: AtomicU64::new(0),
        });
        let app = Router::new()
            .route("/r/{n}", post(receive))
            .with_state(state.clone());
        let addr = serve(app).await?;
        Ok(Receiver { addr, state })
    }

    pub fn url(&self, n: usize) -> String {
        format!("http://{}/r/{n}", self.addr)
    }
}

async fn receive(
    State(state): State<Arc<ReceiverState>>,
    Path(n): Path<u32>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let arrived = since(state.epoch);
    let event: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let integration = &event["data"]["integration"];
    let key = match (integration["id"].as_str(), integration["version"].as_i64()) {
        (Some(id), Some(version)) => format!("{id}@{version}"),
        _ => headers
            .get("webhook-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .or_else(|| event["id"].as_str().map(str::to_owned))
            .unwrap_or_default(),
    };
    state.arrivals.lock().unwrap().push(Arrival {
        endpoint: n,
        key,
        arrived,
    });
    state.count.fetch_add(1, Ordering::Relaxed);
    StatusCode::NO_CONTENT
}

async fn serve(app: Router) -> anyhow::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(addr)
}
