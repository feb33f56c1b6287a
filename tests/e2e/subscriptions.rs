//! Live logs over WebSockets: graphql-transport-ws and legacy graphql-ws, authenticated
//! in connection_init, filtered by project scope.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use patchbay::domain::access::Role;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::on_both_backends;
use crate::support::{Backend, TestServer};

pub(crate) type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

// Generous: CI runs this suite on 2 cores beside a browser suite.
const WAIT: Duration = Duration::from_secs(30);

pub(crate) async fn connect(server: &TestServer, protocol: &str) -> Socket {
    let mut request = server
        .graphql_url()
        .replace("http://", "ws://")
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert("sec-websocket-protocol", protocol.parse().unwrap());
    let (socket, response) = tokio_tungstenite::connect_async(request)
        .await
        .expect("WebSocket connects");
    assert_eq!(response.headers()["sec-websocket-protocol"], protocol);
    socket
}

pub(crate) async fn send(socket: &mut Socket, message: Value) {
    socket
        .send(Message::text(message.to_string()))
        .await
        .unwrap();
}

/// The next protocol message (JSON), or the close frame's code.
pub(crate) async fn next(socket: &mut Socket) -> Result<Value, Option<u16>> {
    loop {
        let message = tokio::time::timeout(WAIT, socket.next())
            .await
            .expect("a message within 30 s");
        match message {
            Some(Ok(Message::Text(text))) => {
                let value: Value = serde_json::from_str(&text).unwrap();
                if value["type"] == "ka" || value["type"] == "ping" {
                    continue;
                }
                return Ok(value);
            }
            Some(Ok(Message::Close(frame))) => return Err(frame.map(|f| u16::from(f.code))),
            Some(Ok(_)) => continue,
            Some(Err(_)) | None => return Err(None),
        }
    }
}

/// The errors of an `error` message (a list) or of a `next` message's payload.
fn errors_of(message: &Value) -> Value {
    if message["type"] == "error" {
        message["payload"].clone()
    } else {
        message["payload"]["errors"].clone()
    }
}

/// The next message about operation `id` (others, such as `complete` of an earlier one, are skipped).
pub(crate) async fn next_for(socket: &mut Socket, id: &str) -> Value {
    loop {
        let message = next(socket).await.expect("the socket stays open");
        if message["id"] == id {
            return message;
        }
    }
}

pub(crate) async fn init(socket: &mut Socket, payload: Value) {
    send(
        socket,
        json!({ "type": "connection_init", "payload": payload }),
    )
    .await;
    assert_eq!(next(socket).await.unwrap()["type"], "connection_ack");
}

/// Waits until the server has `count` live subscribers (subscribe has no acknowledgement).
pub(crate) async fn subscribers(server: &TestServer, count: usize) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while server.app().events.subscriber_count() < count {
        assert!(
            tokio::time::Instant::now() < deadline,
            "subscriptions did not register"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// An authenticated graphql-transport-ws socket with `query` subscribed as operation
/// "1", returned once the server has registered it.
pub(crate) async fn subscribe(server: &TestServer, query: &str) -> Socket {
    let mut socket = connect(server, "graphql-transport-ws").await;
    init(
        &mut socket,
        json!({ "Authorization": format!("Bearer {}", server.admin) }),
    )
    .await;
    let listeners = server.app().events.subscriber_count();
    send(
        &mut socket,
        json!({ "id": "1", "type": "subscribe", "payload": { "query": query } }),
    )
    .await;
    subscribers(server, listeners + 1).await;
    socket
}

const LOGS: &str = "subscription($min: LogLevel) { logs(minLevel: $min) { level message project { id } integration { name } } }";

on_both_backends!(
    log_subscribers_see_their_project_only,
    event_subscribers_get_their_projects_events_by_pattern
);

async fn log_subscribers_see_their_project_only(backend: Backend) {
    let server = TestServer::start(backend).await;
    let p1 = server.create_project("One").await;
    let p2 = server.create_project("Two").await;
    let viewer1 = server.token(Role::Viewer, Some(&p1)).await;
    let viewer2 = server.token(Role::Viewer, Some(&p2)).await;

    let mut a = connect(&server, "graphql-transport-ws").await;
    init(
        &mut a,
        json!({ "Authorization": format!("Bearer {viewer1}") }),
    )
    .await;
    send(&mut a, json!({ "id": "a", "type": "subscribe", "payload": { "query": LOGS, "variables": { "min": "INFO" } } })).await;
    // The legacy protocol, with the bare-token payload form.
    let mut b = connect(&server, "graphql-ws").await;
    init(&mut b, json!({ "token": viewer2 })).await;
    send(&mut b, json!({ "id": "b", "type": "start", "payload": { "query": LOGS, "variables": { "min": "INFO" } } })).await;
    subscribers(&server, 2).await;

    server.create_integration(&p1, "Jira").await;
    let message = next(&mut a).await.unwrap();
    assert_eq!(message["type"], "next");
    assert_eq!(message["id"], "a");
    let entry = &message["payload"]["data"]["logs"];
    assert_eq!(entry["message"], "integration created");
    assert_eq!(entry["level"], "INFO");
    assert_eq!(entry["project"]["id"], p1.as_str());
    assert_eq!(entry["integration"]["name"], "Jira");

    // B's first event is from its own project: it never saw project One's.
    server.create_integration(&p2, "Slack").await;
    let message = next(&mut b).await.unwrap();
    assert_eq!(message["type"], "data");
    assert_eq!(
        message["payload"]["data"]["logs"]["integration"]["name"],
        "Slack"
    );
    // And A's next is One's again, not Two's.
    server.create_integration(&p1, "Asana").await;
    let message = next(&mut a).await.unwrap();
    assert_eq!(
        message["payload"]["data"]["logs"]["integration"]["name"],
        "Asana"
    );

    // Subscribing to another project's logs is NOT_FOUND.
    send(&mut a, json!({ "id": "x", "type": "subscribe", "payload": { "query": "subscription($p: ID) { logs(projectId: $p) { id } }", "variables": { "p": p2 } } })).await;
    let message = next(&mut a).await.unwrap();
    assert_eq!(message["id"], "x");
    assert_eq!(
        errors_of(&message)[0]["extensions"]["code"],
        "NOT_FOUND",
        "{message}"
    );
    // Request errors on a socket carry their codes too.
    send(&mut a, json!({ "id": "y", "type": "subscribe", "payload": { "query": "subscription { logs { noSuchField } }" } })).await;
    let message = next_for(&mut a, "y").await;
    assert_eq!(
        errors_of(&message)[0]["extensions"]["code"],
        "GRAPHQL_VALIDATION_FAILED",
        "{message}"
    );
    send(&mut a, json!({ "id": "z", "type": "subscribe", "payload": { "query": "subscription($l: LogLevel) { logs(minLevel: $l) { id } }", "variables": { "l": "LOUD" } } })).await;
    let message = next_for(&mut a, "z").await;
    assert_eq!(
        errors_of(&message)[0]["extensions"]["code"],
        "BAD_USER_INPUT",
        "{message}"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sockets_without_a_valid_token_are_closed_with_4403() {
    let server = TestServer::start(Backend::Sqlite).await;
    for payload in [
        json!({}),
        json!({ "Authorization": "Bearer pbk_nope" }),
        json!(null),
    ] {
        let mut socket = connect(&server, "graphql-transport-ws").await;
        send(
            &mut socket,
            json!({ "type": "connection_init", "payload": payload }),
        )
        .await;
        assert_eq!(next(&mut socket).await, Err(Some(4403)), "{payload}");
    }
    // Subscribing before connection_init runs nothing.
    let mut socket = connect(&server, "graphql-transport-ws").await;
    send(
        &mut socket,
        json!({ "id": "1", "type": "subscribe", "payload": { "query": LOGS } }),
    )
    .await;
    assert!(next(&mut socket).await.is_err());
    assert_eq!(server.app().events.subscriber_count(), 0);
    // An upgrade with an Authorization header needs no token in the payload.
    let mut request = server
        .graphql_url()
        .replace("http://", "ws://")
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    request.headers_mut().insert(
        "authorization",
        format!("Bearer {}", server.admin).parse().unwrap(),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    init(&mut socket, json!({})).await;
    server.stop().await;
}

/// Two replicas on one PostgreSQL database: a change made through one reaches a live
/// subscriber on the other (NOTIFY relay).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribers_see_changes_made_on_another_replica() {
    if !crate::support::postgres_available("subscribers_see_changes_made_on_another_replica") {
        return;
    }
    let first = TestServer::start(Backend::Postgres).await;
    let config = patchbay::config::Config::from_settings(first.store.settings()).unwrap();
    let second = patchbay::server::start(config).await.unwrap();
    let project = first.create_project("Acme").await;
    let mut socket = subscribe(
        &first,
        "subscription { logs { message integration { name } } }",
    )
    .await;
    let body: Value = reqwest::Client::new()
        .post(format!("http://{}/graphql", second.addr))
        .bearer_auth(&first.admin)
        .json(&json!({ "query": "mutation($p: ID!) { createIntegration(input: { projectId: $p, name: \"Remote\", category: CUSTOM }) { integration { id } } }", "variables": { "p": project } }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(body.get("errors").is_none(), "{body}");
    let message = next_for(&mut socket, "1").await;
    let entry = &message["payload"]["data"]["logs"];
    assert_eq!(entry["message"], "integration created");
    assert_eq!(entry["integration"]["name"], "Remote");
    second.stop().await;
    first.stop().await;
}

const EVENTS: &str = "subscription($p: ID!, $t: [String!]) { events(projectId: $p, types: $t) { id type projectId timestamp data } }";

async fn event_subscribers_get_their_projects_events_by_pattern(backend: Backend) {
    let server = TestServer::start(backend).await;
    let p1 = server.create_project("One").await;
    let p2 = server.create_project("Two").await;
    let viewer1 = server.token(Role::Viewer, Some(&p1)).await;

    let mut socket = connect(&server, "graphql-transport-ws").await;
    init(
        &mut socket,
        json!({ "Authorization": format!("Bearer {viewer1}") }),
    )
    .await;
    send(&mut socket, json!({ "id": "e", "type": "subscribe", "payload": { "query": EVENTS, "variables": { "p": p1, "t": ["integration.*"] } } })).await;
    subscribers(&server, 1).await;

    // Another project's change and a non-matching type are not seen; ours is, as webhooks get it.
    server.create_integration(&p2, "Elsewhere").await;
    server
        .ok(
            &server.admin,
            "mutation($i: PublishEventInput!) { publishEvent(input: $i) { event { id } } }",
            json!({ "i": { "projectId": p1, "type": "custom.ping", "data": {} } }),
        )
        .await;
    let id = server.create_integration(&p1, "Jira").await;
    let message = next_for(&mut socket, "e").await;
    let event = &message["payload"]["data"]["events"];
    assert_eq!(event["type"], "integration.created", "{message}");
    assert_eq!(event["projectId"], p1.as_str());
    assert_eq!(event["data"]["integration"]["id"], id.as_str());
    assert!(event["id"].as_str().unwrap().starts_with("msg_"));

    // Another project's events are NOT_FOUND; a pattern matching nothing is bad input.
    send(&mut socket, json!({ "id": "x", "type": "subscribe", "payload": { "query": EVENTS, "variables": { "p": p2 } } })).await;
    let message = next_for(&mut socket, "x").await;
    assert_eq!(
        errors_of(&message)[0]["extensions"]["code"],
        "NOT_FOUND",
        "{message}"
    );
    send(&mut socket, json!({ "id": "y", "type": "subscribe", "payload": { "query": EVENTS, "variables": { "p": p1, "t": ["nothing.here"] } } })).await;
    let message = next_for(&mut socket, "y").await;
    assert_eq!(
        errors_of(&message)[0]["extensions"]["code"],
        "BAD_USER_INPUT",
        "{message}"
    );
    assert_eq!(
        errors_of(&message)[0]["extensions"]["field"],
        "types[0]",
        "{message}"
    );
    server.stop().await;
}

/// Identical subscriptions (same token, query and variables) share one execution, yet
/// each subscriber keeps its own bounded buffer: one that stops reading gets LAGGED
/// (with how many it missed) and its stream ends, while the other receives everything.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_subscriber_lags_alone_while_a_twin_keeps_up() {
    const EVENTS_SENT: usize = 150;
    let server = TestServer::start_with(Backend::Sqlite, |s| s.event_buffer = Some(16)).await;
    let project = server.create_project("Watched").await;
    let subscription = json!({ "query": EVENTS, "variables": { "p": project, "t": ["custom.*"] } });

    let mut fast = connect(&server, "graphql-transport-ws").await;
    init(
        &mut fast,
        json!({ "Authorization": format!("Bearer {}", server.admin) }),
    )
    .await;
    send(
        &mut fast,
        json!({ "id": "fast", "type": "subscribe", "payload": subscription }),
    )
    .await;
    subscribers(&server, 1).await;

    // The slow twin: a 4 KiB receive window it never reads, so the server's writes to it
    // stall after a few hundred KiB while the events go on.
    let address = server
        .graphql_url()
        .replace("http://", "")
        .replace("/graphql", "");
    let tcp = tokio::net::TcpSocket::new_v4().unwrap();
    tcp.set_recv_buffer_size(4096).unwrap();
    let stream = tcp.connect(address.parse().unwrap()).await.unwrap();
    let mut request = server
        .graphql_url()
        .replace("http://", "ws://")
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    let (mut slow, _) = tokio_tungstenite::client_async(request, stream)
        .await
        .unwrap();
    let hello = json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {}", server.admin) } });
    slow.send(Message::text(hello.to_string())).await.unwrap();
    let ack: Value = match slow.next().await.unwrap().unwrap() {
        Message::Text(text) => serde_json::from_str(&text).unwrap(),
        other => panic!("expected connection_ack, got {other:?}"),
    };
    assert_eq!(ack["type"], "connection_ack");
    let twin = json!({ "id": "slow", "type": "subscribe", "payload": subscription });
    slow.send(Message::text(twin.to_string())).await.unwrap();
    // Shared: the twin joined the running execution instead of adding a bus subscriber.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(server.app().events.subscriber_count(), 1);

    let reader = tokio::spawn(async move {
        let mut seen = Vec::new();
        while seen.len() < EVENTS_SENT {
            let message = next_for(&mut fast, "fast").await;
            assert!(message["payload"]["errors"].is_null(), "{message}");
            seen.push(
                message["payload"]["data"]["events"]["data"]["n"]
                    .as_u64()
                    .unwrap(),
            );
        }
        seen
    });
    // 150 events of ~60 KiB (the largest event is 64 KiB): ~9 MB, more than any socket
    // buffer holds for the twin.
    let filler = "x".repeat(60 * 1024);
    for n in 0..EVENTS_SENT {
        server
            .ok(
                &server.admin,
                "mutation($i: PublishEventInput!) { publishEvent(input: $i) { event { id } } }",
                json!({ "i": { "projectId": project, "type": "custom.big", "data": { "n": n, "filler": filler } } }),
            )
            .await;
    }
    let seen = tokio::time::timeout(WAIT, reader).await.unwrap().unwrap();
    assert_eq!(
        seen,
        (0..EVENTS_SENT as u64).collect::<Vec<_>>(),
        "the reader got every event, in order"
    );

    // The twin reads at last: what its buffer held, then LAGGED, then the end.
    let mut lagged = None;
    let deadline = tokio::time::Instant::now() + WAIT;
    while tokio::time::Instant::now() < deadline {
        let frame = tokio::time::timeout(WAIT, slow.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        let Message::Text(text) = frame else { continue };
        let message: Value = serde_json::from_str(&text).unwrap();
        if lagged.is_some() {
            assert_eq!(message, json!({ "id": "slow", "type": "complete" }));
            break;
        }
        if !message["payload"]["errors"].is_null() {
            lagged = Some(message);
        }
    }
    let lagged = lagged.expect("the slow subscriber was told it lagged");
    let error = &lagged["payload"]["errors"][0];
    assert_eq!(error["extensions"]["code"], "LAGGED", "{lagged}");
    assert!(
        error["message"].as_str().unwrap().contains("missed"),
        "{lagged}"
    );
    server.stop().await;
}
