//! GraphQL over WebSocket on `/graphql`: `graphql-transport-ws` and legacy `graphql-ws`
//! (subscriptions-transport-ws). The token comes in the `connection_init` payload
//! (`{"Authorization": "Bearer …"}`, key case-insensitive, or `{"token": "…"}`), or in
//! the upgrade request's Authorization header; without a valid one, a
//! graphql-transport-ws socket is closed with 4403 before any operation runs.
//!
//! async-graphql's transport-neutral `WebSocket` drives the protocol; this module only
//! adds authentication and the 4403 close code (async-graphql closes with 1002).

use std::str::FromStr;

use async_graphql::Data;
use async_graphql::http::{
    ALL_WEBSOCKET_PROTOCOLS, WebSocket as GraphqlWebSocket, WebSocketProtocols, WsMessage,
};
use axum::extract::FromRequestParts;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::response::{IntoResponse, Response};
use futures_util::{SinkExt, StreamExt, future};
use http::StatusCode;
use http::header::{AUTHORIZATION, SEC_WEBSOCKET_PROTOCOL};
use http::request::Parts;

use super::graphql::{authenticate, bearer_token};
use super::{AppState, request_id};
use crate::domain::access::Caller;

/// The reason async-graphql carries for a refused `connection_init`; mapped to 4403.
const FORBIDDEN_REASON: &str = "Forbidden: a valid API token is required";
const CLOSE_FORBIDDEN: u16 = 4403;
/// Read buffer of one socket (grows for a larger message, then shrinks back).
const READ_BUFFER_BYTES: usize = 1024;

pub(super) async fn upgrade(state: AppState, parts: &mut Parts) -> Response {
    let protocol = parts
        .headers
        .get(SEC_WEBSOCKET_PROTOCOL)
        .and_then(|v| v.to_str().ok())
        .and_then(|offered| {
            offered
                .split(',')
                .find_map(|p| WebSocketProtocols::from_str(p.trim()).ok())
        });
    let Some(protocol) = protocol else {
        return (
            StatusCode::BAD_REQUEST,
            "Sec-WebSocket-Protocol must offer graphql-transport-ws or graphql-ws",
        )
            .into_response();
    };
    let upgrade = match WebSocketUpgrade::from_request_parts(parts, &state).await {
        Ok(upgrade) => upgrade,
        Err(rejection) => return rejection.into_response(),
    };
    // A non-browser client may authenticate the upgrade itself.
    let header_caller = if parts.headers.contains_key(AUTHORIZATION) {
        authenticate(&state, &parts.headers).await.ok()
    } else {
        None
    };
    let request_id = request_id(&parts.headers);
    let max_message = state.app.config.max_body_bytes;
    upgrade
        // GraphQL-over-WebSocket frames are small; tungstenite's eager 128 KiB read buffer
        // made each idle dashboard cost ~130 KB. A message may be as large as an HTTP body.
        .read_buffer_size(READ_BUFFER_BYTES)
        .max_message_size(max_message)
        .max_frame_size(max_message)
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| serve(socket, state, protocol, header_caller, request_id))
}

/// The token in a `connection_init` payload, if any.
fn token_from_payload(payload: &serde_json::Value) -> Option<String> {
    let map = payload.as_object()?;
    map.iter().find_map(|(key, value)| {
        let value = value.as_str()?;
        if key.eq_ignore_ascii_case("authorization") {
            bearer_token(value).map(str::to_owned)
        } else if key.eq_ignore_ascii_case("token") {
            Some(value.trim().to_owned())
        } else {
            None
        }
    })
}

async fn serve(
    socket: WebSocket,
    state: AppState,
    protocol: WebSocketProtocols,
    header_caller: Option<Caller>,
    request_id: Option<String>,
) {
    let (mut sink, stream) = socket.split();
    let input = stream
        .take_while(|message| future::ready(message.is_ok()))
        .filter_map(|message| {
            future::ready(match message {
                Ok(Message::Text(text)) => Some(text.as_bytes().to_vec()),
                Ok(Message::Binary(bytes)) => Some(bytes.to_vec()),
                _ => None,
            })
        });
    let app = state.app.clone();
    let on_init = move |payload: serde_json::Value| async move {
        let caller = match token_from_payload(&payload) {
            Some(token) => match app.auth.authenticate(&token).await {
                Ok(principal) => Some(Caller {
                    principal,
                    request_id,
                }),
                Err(_) => None,
            },
            None => header_caller,
        };
        match caller {
            Some(caller) => {
                let mut data = Data::default();
                data.insert(caller);
                Ok(data)
            }
            None => Err(async_graphql::Error::new(FORBIDDEN_REASON)),
        }
    };
    let outgoing = GraphqlWebSocket::new(state.ws_schema.clone(), input, protocol)
        .on_connection_init(on_init)
        .map(|message| match message {
            WsMessage::Text(text) => Message::Text(text.into()),
            WsMessage::Close(code, reason) => {
                let code = if reason == FORBIDDEN_REASON {
                    CLOSE_FORBIDDEN
                } else {
                    code
                };
                Message::Close(Some(CloseFrame {
                    code,
                    reason: reason.into(),
                }))
            }
        });
    futures_util::pin_mut!(outgoing);
    while let Some(message) = outgoing.next().await {
        if sink.send(message).await.is_err() {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tokens_are_found_in_init_payloads() {
        assert_eq!(
            token_from_payload(&json!({"Authorization": "Bearer abc"})).as_deref(),
            Some("abc")
        );
        assert_eq!(
            token_from_payload(&json!({"authorization": "bearer abc"})).as_deref(),
            Some("abc")
        );
        assert_eq!(
            token_from_payload(&json!({"token": "abc"})).as_deref(),
            Some("abc")
        );
        assert_eq!(token_from_payload(&json!({"other": "abc"})), None);
        assert_eq!(token_from_payload(&json!(null)), None);
    }
}
