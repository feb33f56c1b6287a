//! The fan-out floor of `subscribers --floor`: what the same client measures against a
//! WebSocket server that does nothing but fan a pre-built `healthChanged` frame out, so the
//! kernel and client share of event→client latency on this machine is known.
//!
//! It runs as a child process of the tool (`patchbay-load fanout-floor`, hidden) with its
//! own Tokio runtime, as the patchbay server does: it prints its address, then sends one
//! health change to every open subscription per line read on stdin. The per-connection
//! work is the least a real server does: a tokio-tungstenite socket with patchbay's 1 KiB
//! read buffer, a broadcast receiver, and the `next` envelope with the subscription's id
//! around a payload serialized once.

use std::sync::Arc;

use anyhow::Context;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::io::AsyncBufReadExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::broadcast;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use crate::report::unix_micros;

/// Serves until stdin closes.
pub async fn serve() -> anyhow::Result<()> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    println!("{}", listener.local_addr()?);
    let (events, _) = broadcast::channel::<Arc<str>>(64);
    let fire = events.clone();
    tokio::spawn(async move {
        let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
        let mut k = 0u64;
        while let Ok(Some(_)) = lines.next_line().await {
            k += 1;
            let (previous, current) = if k % 2 == 1 {
                ("HEALTHY", "UNHEALTHY")
            } else {
                ("UNHEALTHY", "HEALTHY")
            };
            let at = chrono::DateTime::from_timestamp_micros(unix_micros() as i64)
                .map(|at| at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
                .unwrap_or_default();
            let payload = json!({ "data": { "healthChanged": {
                "integration": { "id": "int_fanout_floor" },
                "previous": previous, "current": current,
                "reason": "the health check failed", "at": at } } });
            let _ = fire.send(payload.to_string().into());
        }
        std::process::exit(0);
    });
    loop {
        let (stream, _) = listener.accept().await?;
        let receiver = events.subscribe();
        tokio::spawn(async move {
            let _ = connection(stream, receiver).await;
        });
    }
}

async fn connection(
    stream: TcpStream,
    mut events: broadcast::Receiver<Arc<str>>,
) -> anyhow::Result<()> {
    stream.set_nodelay(true)?;
    let config = WebSocketConfig::default().read_buffer_size(1024);
    // The callback's signature is tungstenite's (its error is a whole HTTP response).
    #[allow(clippy::result_large_err)]
    let choose_protocol = |_: &Request, mut response: Response| {
        response.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            HeaderValue::from_static("graphql-transport-ws"),
        );
        Ok(response)
    };
    let mut ws =
        tokio_tungstenite::accept_hdr_async_with_config(stream, choose_protocol, Some(config))
            .await?;
    let mut subscription: Option<String> = None;
    loop {
        tokio::select! {
            message = ws.next() => match message {
                Some(Ok(Message::Text(text))) => {
                    let value: Value = serde_json::from_str(text.as_str())?;
                    match value["type"].as_str() {
                        Some("connection_init") => {
                            ws.send(Message::text(r#"{"type":"connection_ack"}"#)).await?;
                        }
                        Some("subscribe") => {
                            let id = value["id"].as_str().context("subscribe without id")?;
                            subscription = Some(serde_json::to_string(id)?);
                        }
                        Some("ping") => ws.send(Message::text(r#"{"type":"pong"}"#)).await?,
                        _ => {}
                    }
                }
                Some(Ok(Message::Close(_))) | None => return Ok(()),
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e.into()),
            },
            event = events.recv() => match event {
                Ok(payload) => {
                    if let Some(id) = &subscription {
                        let frame = format!(r#"{{"id":{id},"type":"next","payload":{payload}}}"#);
                        ws.send(Message::text(frame)).await?;
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => return Ok(()),
            },
        }
    }
}
