//! The credentials vault end to end: every auth kind validated and sealed, nothing
//! secret in any response, tampering and row swaps refused, OAuth2 refresh against a
//! local token endpoint, key rotation interrupted and resumed, wrong master key refused.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::extract::State;
use axum::routing::post;
use patchbay::config::Config;
use patchbay::domain::access::Caller;
use patchbay::domain::credentials::{self, BearerInput, CredentialsInput, SetCredentialsInput};
use patchbay::domain::credentials::{after_unauthorized, auth_material};
use patchbay::store::vault as vault_store;
use patchbay::vault::rotation;
use serde_json::{Value, json};

use crate::on_both_backends;
use crate::support::{Backend, SECRET_MARKER, TestServer, TestStore, code};

on_both_backends!(
    every_kind_is_validated_sealed_and_never_shown,
    oauth2_tokens_refresh_once,
    rotation_resumes_after_an_interrupt
);

const SET: &str = "mutation($i: SetCredentialsInput!) { setCredentials(input: $i) { integration { authKind version credentials { kind setFields keyId updatedAt expiresAt } } } }";

fn marked(name: &str) -> String {
    format!("{name}-{SECRET_MARKER}")
}

async fn every_kind_is_validated_sealed_and_never_shown(backend: Backend) {
    let server = TestServer::start(backend).await;
    let project = server.create_project("Acme").await;
    let id = server.create_integration(&project, "Jira").await;
    let set = |credentials: Value| {
        server.gql(
            &server.admin,
            SET,
            json!({ "i": { "integrationId": id, "credentials": credentials } }),
        )
    };

    let cases = [
        (
            json!({ "apiKey": { "value": marked("key"), "in": "HEADER", "name": "X-Api-Key" } }),
            "API_KEY",
            json!(["value", "in", "name"]),
        ),
        (
            json!({ "apiKey": { "value": marked("key"), "in": "QUERY", "name": "api_key" } }),
            "API_KEY",
            json!(["value", "in", "name"]),
        ),
        (
            json!({ "bearer": { "token": marked("token") } }),
            "BEARER",
            json!(["token"]),
        ),
        (
            json!({ "basic": { "username": "alice", "password": marked("pw") } }),
            "BASIC",
            json!(["username", "password"]),
        ),
        (
            json!({ "custom": { "headers": { "X-Auth": marked("h"), "X-Tenant": "acme" } } }),
            "CUSTOM",
            json!(["headers.x-auth", "headers.x-tenant"]),
        ),
        (
            json!({ "oauth2": { "clientId": "cid", "clientSecret": marked("cs"), "tokenUrl": "https://auth.example.com/token", "scopes": ["read", "write"], "refreshToken": marked("rt") } }),
            "OAUTH2",
            json!([
                "clientId",
                "tokenUrl",
                "clientSecret",
                "scopes",
                "refreshToken"
            ]),
        ),
    ];
    for (input, kind, fields) in cases {
        let body = set(input.clone()).await;
        assert!(body.get("errors").is_none(), "{input}: {body}");
        let integration = &body["data"]["setCredentials"]["integration"];
        assert_eq!(integration["authKind"], kind);
        assert_eq!(integration["credentials"]["kind"], kind);
        assert_eq!(integration["credentials"]["setFields"], fields, "{input}");
        assert!(
            integration["credentials"]["keyId"]
                .as_str()
                .unwrap()
                .starts_with("key_")
        );
    }
    // The outbound client gets ready material; the test exposes it deliberately.
    let material = auth_material(server.app(), &id).await;
    assert!(
        material.is_err(),
        "OAuth2 without an access token refreshes against an unreachable endpoint"
    );
    set(json!({ "basic": { "username": "alice", "password": marked("pw") } })).await;
    let material = auth_material(server.app(), &id).await.unwrap();
    let expected = format!(
        "Basic {}",
        base64_encode(&format!("alice:{}", marked("pw")))
    );
    assert_eq!(material.header("authorization"), Some(expected.as_str()));
    assert!(
        !format!("{material:?}").contains(SECRET_MARKER),
        "Debug of auth material is redacted"
    );
    set(json!({ "apiKey": { "value": marked("key"), "in": "QUERY", "name": "api_key" } })).await;
    let material = auth_material(server.app(), &id).await.unwrap();
    assert_eq!(
        material.query_param("api_key"),
        Some(marked("key").as_str())
    );

    // Bad input names the field; nothing changes.
    let before = server
        .ok(
            &server.admin,
            "query($id: ID!) { integration(id: $id) { version credentials { kind } } }",
            json!({ "id": id }),
        )
        .await;
    let bad = [
        (
            json!({ "bearer": { "token": "" } }),
            "input.credentials.bearer.token",
        ),
        (
            json!({ "basic": { "username": "a:b", "password": "x" } }),
            "input.credentials.basic.username",
        ),
        (
            json!({ "apiKey": { "value": "v", "in": "HEADER", "name": "bad name" } }),
            "input.credentials.apiKey.name",
        ),
        (
            json!({ "oauth2": { "clientId": "c", "tokenUrl": "ftp://x" , "refreshToken": "r" } }),
            "input.credentials.oauth2.tokenUrl",
        ),
        (
            json!({ "oauth2": { "clientId": "c", "tokenUrl": "https://x.example/t" } }),
            "input.credentials.oauth2.refreshToken",
        ),
        (
            json!({ "custom": { "headers": { "X-A": 1 } } }),
            "input.credentials.custom.headers.X-A",
        ),
        (
            json!({ "custom": { "headers": [] } }),
            "input.credentials.custom.headers",
        ),
        (json!({ "none": false }), "input.credentials.none"),
    ];
    for (input, field) in bad {
        let body = set(input.clone()).await;
        assert_eq!(code(&body), "BAD_USER_INPUT", "{input}: {body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], field, "{input}");
    }
    // Missing fields, unknown fields, and two kinds at once fail validation as bad input.
    for input in [
        json!({ "bearer": {} }),
        json!({ "bearer": { "token": "t", "extra": 1 } }),
        json!({ "bearer": { "token": "t" }, "basic": { "username": "u", "password": "p" } }),
        json!({}),
    ] {
        let body = set(input.clone()).await;
        assert_eq!(code(&body), "BAD_USER_INPUT", "{input}: {body}");
    }
    let after = server
        .ok(
            &server.admin,
            "query($id: ID!) { integration(id: $id) { version credentials { kind } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(before, after, "refused input changed nothing");

    // Viewers cannot set credentials; removing them clears the kind.
    let viewer = server
        .token(patchbay::domain::access::Role::Viewer, None)
        .await;
    let body = server
        .gql(
            &viewer,
            SET,
            json!({ "i": { "integrationId": id, "credentials": { "none": true } } }),
        )
        .await;
    assert_eq!(code(&body), "FORBIDDEN");
    let body = set(json!({ "none": true })).await;
    assert_eq!(
        body["data"]["setCredentials"]["integration"]["authKind"],
        "NONE"
    );
    assert_eq!(
        body["data"]["setCredentials"]["integration"]["credentials"],
        Value::Null
    );
    // The trail names kinds and fields, never values.
    let data = server.ok(&server.admin, "query($id: ID!) { integration(id: $id) { logs { edges { node { message metadata } } } } }", json!({ "id": id })).await;
    assert!(data.to_string().contains("credentials updated"));
    let audit = patchbay::store::audit::recent(&server.app().store, 50)
        .await
        .unwrap();
    assert!(!format!("{audit:?}").contains(SECRET_MARKER));
    server.stop().await;
}

fn base64_encode(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampered_or_swapped_ciphertexts_do_not_open() {
    let server = TestServer::start(Backend::Sqlite).await;
    let project = server.create_project("Acme").await;
    let a = server.create_integration(&project, "A").await;
    let b = server.create_integration(&project, "B").await;
    for id in [&a, &b] {
        let input = SetCredentialsInput {
            integration_id: id.clone().into(),
            credentials: CredentialsInput::Bearer(BearerInput { token: marked(id) }),
        };
        credentials::set(server.app(), &Caller::local_operator(), input)
            .await
            .unwrap();
    }
    let store = &server.app().store;
    let vault = &server.app().vault;
    let row_a = vault_store::get_credentials(store, &a)
        .await
        .unwrap()
        .unwrap();
    let row_b = vault_store::get_credentials(store, &b)
        .await
        .unwrap()
        .unwrap();
    assert!(vault.open(&row_a).is_ok());
    // B's ciphertext copied into A's row.
    let mut swapped = row_a.clone();
    swapped.sealed = row_b.sealed.clone();
    assert!(vault.open(&swapped).is_err());
    let mut swapped = row_a.clone();
    swapped.wrapped_dek = row_b.wrapped_dek.clone();
    assert!(vault.open(&swapped).is_err());
    let mut swapped = row_b.clone();
    swapped.integration_id = a.clone();
    assert!(vault.open(&swapped).is_err());
    // A flipped bit anywhere in either envelope.
    for position in [1, 5, 13, 20, row_a.sealed.len() - 1] {
        let mut tampered = row_a.clone();
        tampered.sealed[position] ^= 0x01;
        assert!(vault.open(&tampered).is_err(), "sealed byte {position}");
        let mut tampered = row_a.clone();
        let last = tampered.wrapped_dek.len() - 1;
        tampered.wrapped_dek[position.min(last)] ^= 0x80;
        assert!(
            vault.open(&tampered).is_err(),
            "wrapped key byte {position}"
        );
    }
    let err = vault.open(&swapped).unwrap_err().to_string();
    assert!(!err.contains(SECRET_MARKER));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_master_key_is_refused_before_anything_is_written() {
    let store = TestStore::new(Backend::Sqlite).await;
    let mut settings = store.settings();
    settings.master_key = Some(format!("right passphrase {SECRET_MARKER}"));
    let server = patchbay::server::start(Config::from_settings(settings.clone()).unwrap())
        .await
        .unwrap();
    let audits = patchbay::store::audit::recent(&server.app.store, 100)
        .await
        .unwrap()
        .len();
    server.stop().await;

    settings.master_key = Some("wrong passphrase".to_owned());
    let err = match patchbay::server::start(Config::from_settings(settings.clone()).unwrap()).await
    {
        Ok(_) => panic!("a wrong master key must be refused"),
        Err(err) => format!("{err:#}"),
    };
    assert!(err.contains("master key does not match"), "{err}");
    // A missing key on an encrypted store is refused too, and no key file is invented.
    settings.master_key = None;
    let err = match patchbay::server::start(Config::from_settings(settings.clone()).unwrap()).await
    {
        Ok(_) => panic!("a missing master key must be refused"),
        Err(err) => format!("{err:#}"),
    };
    assert!(err.contains("no master key"), "{err}");
    settings.master_key = Some(format!("right passphrase {SECRET_MARKER}"));
    let server = patchbay::server::start(Config::from_settings(settings).unwrap())
        .await
        .unwrap();
    assert_eq!(
        patchbay::store::audit::recent(&server.app.store, 100)
            .await
            .unwrap()
            .len(),
        audits,
        "refused starts wrote nothing"
    );
    assert!(server.bootstrap_token.is_none());
    server.stop().await;
}

/// A local OAuth2 token endpoint: counts calls, answers after a short delay.
struct TokenEndpoint {
    url: String,
    calls: Arc<AtomicUsize>,
}

async fn token_endpoint(fail: bool) -> TokenEndpoint {
    let calls = Arc::new(AtomicUsize::new(0));
    let handler = |State((calls, fail)): State<(Arc<AtomicUsize>, bool)>, body: String| async move {
        let n = calls.fetch_add(1, Ordering::SeqCst) + 1;
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(body.contains("grant_type=refresh_token"), "{body}");
        if fail {
            return (
                http::StatusCode::BAD_REQUEST,
                axum::Json(
                    json!({ "error": "invalid_grant", "error_description": "refresh token revoked" }),
                ),
            );
        }
        (
            http::StatusCode::OK,
            axum::Json(
                json!({ "access_token": format!("fresh-{n}-{SECRET_MARKER}"), "token_type": "Bearer", "expires_in": 3600, "refresh_token": marked("rt2") }),
            ),
        )
    };
    let router = axum::Router::new()
        .route("/token", post(handler))
        .with_state((calls.clone(), fail));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/token", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    TokenEndpoint { url, calls }
}

async fn oauth2_integration(
    server: &TestServer,
    name: &str,
    endpoint: &TokenEndpoint,
    expires_in: i64,
) -> String {
    let project = server.create_project(name).await;
    let id = server.create_integration(&project, name).await;
    let expires_at = (chrono::Utc::now() + chrono::Duration::seconds(expires_in)).to_rfc3339();
    let body = server
        .gql(&server.admin, SET, json!({ "i": { "integrationId": id, "credentials": { "oauth2": {
            "clientId": "client", "clientSecret": marked("secret"), "tokenUrl": endpoint.url,
            "accessToken": marked("old"), "refreshToken": marked("rt"), "expiresAt": expires_at } } } }))
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    id
}

async fn oauth2_tokens_refresh_once(backend: Backend) {
    let server = TestServer::start(backend).await;
    let app = server.app();
    let endpoint = token_endpoint(false).await;

    // A token valid for an hour is used as it is.
    let fresh = oauth2_integration(&server, "Fresh", &endpoint, 3600).await;
    let material = auth_material(app, &fresh).await.unwrap();
    assert_eq!(
        material.header("authorization"),
        Some(format!("Bearer {}", marked("old")).as_str())
    );
    assert_eq!(endpoint.calls.load(Ordering::SeqCst), 0);
    // A 401 refreshes it once; a second caller holding the same stale token takes the new one.
    let renewed = after_unauthorized(app, &fresh, &material).await.unwrap();
    assert_eq!(
        renewed.header("authorization"),
        Some(format!("Bearer fresh-1-{SECRET_MARKER}").as_str())
    );
    let again = after_unauthorized(app, &fresh, &material).await.unwrap();
    assert_eq!(
        again.header("authorization"),
        renewed.header("authorization")
    );
    assert_eq!(endpoint.calls.load(Ordering::SeqCst), 1);

    // Expiring within the skew (5 minutes): 20 concurrent callers, one refresh.
    let expiring = oauth2_integration(&server, "Expiring", &endpoint, 60).await;
    let callers: Vec<_> = (0..20)
        .map(|_| {
            let app = server.server.as_ref().unwrap().app.clone();
            let id = expiring.clone();
            tokio::spawn(async move {
                auth_material(&app, &id)
                    .await
                    .map(|m| m.header("authorization").map(str::to_owned))
            })
        })
        .collect();
    let mut seen = Vec::new();
    for caller in callers {
        seen.push(caller.await.unwrap().unwrap().unwrap());
    }
    assert_eq!(
        endpoint.calls.load(Ordering::SeqCst),
        2,
        "exactly one more refresh for 20 callers"
    );
    assert!(
        seen.iter()
            .all(|h| h == &seen[0] && h.starts_with("Bearer fresh-2-"))
    );
    let data = server
        .ok(
            &server.admin,
            "query($id: ID!) { integration(id: $id) { credentials { expiresAt refreshError } } }",
            json!({ "id": expiring }),
        )
        .await;
    let expires: chrono::DateTime<chrono::Utc> = data["integration"]["credentials"]["expiresAt"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        expires > chrono::Utc::now() + chrono::Duration::minutes(55),
        "the new expiry is stored"
    );

    // A refused refresh is recorded on the integration and logged as an authentication failure.
    let failing = token_endpoint(true).await;
    let broken = oauth2_integration(&server, "Broken", &failing, -10).await;
    let err = auth_material(app, &broken).await.unwrap_err().to_string();
    assert!(
        err.contains("400") && err.contains("invalid_grant") && !err.contains(SECRET_MARKER),
        "{err}"
    );
    let data = server
        .ok(&server.admin, "query($id: ID!) { integration(id: $id) { credentials { refreshError refreshFailedAt } logs(minLevel: ERROR) { edges { node { message metadata } } } } }", json!({ "id": broken }))
        .await;
    assert!(
        data["integration"]["credentials"]["refreshError"]
            .as_str()
            .unwrap()
            .contains("invalid_grant")
    );
    let entry = &data["integration"]["logs"]["edges"][0]["node"];
    assert_eq!(entry["message"], "OAuth2 token refresh failed");
    assert_eq!(entry["metadata"]["class"], "authentication");
    server.stop().await;
}

/// Two replicas on one PostgreSQL database: callers on both see an expiring OAuth2 token
/// at once, and the token endpoint is asked once (an advisory lock spans the replicas;
/// refresh tokens are often single-use, so a second refresh could lock the account out).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oauth2_refresh_is_single_flight_across_replicas() {
    if !crate::support::postgres_available("oauth2_refresh_is_single_flight_across_replicas") {
        return;
    }
    let first = TestServer::start(Backend::Postgres).await;
    let config = Config::from_settings(first.store.settings()).unwrap();
    let second = patchbay::server::start(config).await.unwrap();
    let endpoint = token_endpoint(false).await;
    let expiring = oauth2_integration(&first, "Shared", &endpoint, 60).await;
    let apps = [
        first.server.as_ref().unwrap().app.clone(),
        second.app.clone(),
    ];
    let callers: Vec<_> = (0..20)
        .map(|i| {
            let app = apps[i % 2].clone();
            let id = expiring.clone();
            tokio::spawn(async move {
                auth_material(&app, &id)
                    .await
                    .map(|m| m.header("authorization").map(str::to_owned))
            })
        })
        .collect();
    let mut seen = Vec::new();
    for caller in callers {
        seen.push(caller.await.unwrap().unwrap().unwrap());
    }
    assert_eq!(
        endpoint.calls.load(Ordering::SeqCst),
        1,
        "one refresh for 20 callers on two replicas"
    );
    assert!(
        seen.iter()
            .all(|h| h == &seen[0] && h.starts_with("Bearer fresh-1-")),
        "{seen:?}"
    );
    second.stop().await;
    first.stop().await;
}

async fn rotation_resumes_after_an_interrupt(backend: Backend) {
    let server = TestServer::start(backend).await;
    let app = server.server.as_ref().unwrap().app.clone();
    let project = server.create_project("Many").await;
    let caller = Caller::local_operator();
    let mut ids = Vec::new();
    for i in 0..1000 {
        let input = patchbay::domain::integrations::CreateIntegrationInput::minimal(
            &project,
            format!("i{i}"),
            patchbay::domain::Category::Custom,
        );
        let integration = patchbay::domain::integrations::create(&app, &caller, input)
            .await
            .unwrap();
        let set = SetCredentialsInput {
            integration_id: integration.id.clone().into(),
            credentials: CredentialsInput::Bearer(BearerInput {
                token: marked(&integration.id),
            }),
        };
        credentials::set(&app, &caller, set).await.unwrap();
        ids.push(integration.id);
    }
    let old_key = app.vault.active_key_id();
    let started = rotation::start(&app.store, &app.vault).await.unwrap();
    assert_eq!(started.total, 1000);
    // Run in small batches and drop the task after the first one: a crash mid-rotation.
    let (first_batch, mut batch_done) = tokio::sync::mpsc::unbounded_channel();
    let task = {
        let app = app.clone();
        let id = started.id.clone();
        tokio::spawn(async move {
            rotation::run_in_batches(&app.store, &app.vault, &id, 50, |done, _| {
                let _ = first_batch.send(done);
            })
            .await
        })
    };
    batch_done.recv().await.unwrap();
    task.abort();
    let _ = task.await;
    let halfway = vault_store::get_rotation(&app.store, &started.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(halfway.state, "RUNNING");
    assert!(
        halfway.done > 0 && halfway.done < 1000,
        "interrupted midway: {}",
        halfway.done
    );
    // Meanwhile every credential still opens (old and new keys both readable).
    for id in ids.iter().step_by(97) {
        assert!(auth_material(&app, id).await.is_ok());
    }
    // Resume: `start` returns the running rotation, `run` finishes it.
    let resumed = rotation::start(&app.store, &app.vault).await.unwrap();
    assert_eq!(resumed.id, started.id);
    let finished = rotation::run(&app.store, &app.vault, &resumed.id, |_, _| {})
        .await
        .unwrap();
    assert_eq!(finished.state, "DONE");
    assert_eq!(finished.done, 1000);
    for id in &ids {
        let material = auth_material(&app, id).await.unwrap();
        assert_eq!(
            material.header("authorization"),
            Some(format!("Bearer {}", marked(id)).as_str())
        );
    }
    assert_eq!(
        vault_store::count_credentials_not_on(&app.store, &finished.target_key_id)
            .await
            .unwrap(),
        0
    );
    let keys = vault_store::keys(&app.store).await.unwrap();
    let old = keys.iter().find(|k| k.id == old_key).unwrap();
    assert_eq!(old.state, "RETIRED", "the old key is no longer referenced");
    // Through the API too.
    let data = server.ok(&server.admin, "query($id: ID!) { integration(id: $id) { credentials { keyId } } keyRotation(id: \"x\") { id } }", json!({ "id": ids[0] })).await;
    assert_eq!(
        data["integration"]["credentials"]["keyId"],
        finished.target_key_id.as_str()
    );
    let data = server
        .ok(
            &server.admin,
            "mutation { rotateEncryptionKey { id state total targetKeyId } }",
            json!({}),
        )
        .await;
    let rotation_id = data["rotateEncryptionKey"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let data = server
            .ok(
                &server.admin,
                "query($id: ID!) { keyRotation(id: $id) { state done total } }",
                json!({ "id": rotation_id }),
            )
            .await;
        if data["keyRotation"]["state"] == "DONE" {
            assert_eq!(data["keyRotation"]["done"], 1000);
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the API rotation finished"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    server.stop().await;
}
