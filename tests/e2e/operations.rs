//! Operations: readiness, log retention, schema snapshot.

use serde_json::json;

use crate::on_both_backends;
use crate::support::{Backend, TestServer};

on_both_backends!(
    retention_keeps_the_newest_entries_per_integration,
    readiness_reports_the_store
);

async fn retention_keeps_the_newest_entries_per_integration(backend: Backend) {
    let server =
        TestServer::start_with(backend, |s| s.log_retention_per_integration = Some(3)).await;
    let project = server.create_project("Acme").await;
    let keep = server.create_integration(&project, "Busy").await;
    let quiet = server.create_integration(&project, "Quiet").await;
    for i in 0..5 {
        server
            .ok(&server.admin, "mutation($id: ID!, $d: String) { updateIntegration(input: { id: $id, description: $d }) { integration { id } } }", json!({ "id": keep, "d": format!("v{i}") }))
            .await;
    }
    let removed = patchbay::server::apply_retention(server.app())
        .await
        .unwrap();
    assert_eq!(removed, 3, "6 entries, 3 kept");
    let query = "query($id: ID!) { integration(id: $id) { logs { totalCount edges { node { metadata } } } } }";
    let data = server.ok(&server.admin, query, json!({ "id": keep })).await;
    assert_eq!(data["integration"]["logs"]["totalCount"], 3);
    assert_eq!(
        data["integration"]["logs"]["edges"][2]["node"]["metadata"]["version"], 6,
        "the newest stay"
    );
    let data = server
        .ok(&server.admin, query, json!({ "id": quiet }))
        .await;
    assert_eq!(
        data["integration"]["logs"]["totalCount"], 1,
        "other integrations keep theirs"
    );

    // Health buckets: minutes live a little past the hour window, hours past the week.
    use patchbay::store::health::{Observation, history, observe};
    let store = &server.app().store;
    for hours_ago in [24 * 9, 3] {
        let at = chrono::Utc::now().naive_utc() - chrono::Duration::hours(hours_ago);
        let seen = Observation {
            at,
            check: true,
            failed: false,
            latency_ms: Some(12),
        };
        observe(store, &keep, seen).await.unwrap();
    }
    let removed = patchbay::server::apply_retention(server.app())
        .await
        .unwrap();
    assert_eq!(
        removed, 3,
        "both buckets 9 days old and the 3-hour-old minute"
    );
    let long_ago = chrono::Utc::now().naive_utc() - chrono::Duration::days(30);
    assert_eq!(history(store, &keep, 60, long_ago).await.unwrap().len(), 0);
    assert_eq!(
        history(store, &keep, 3600, long_ago).await.unwrap().len(),
        1
    );
    server.stop().await;
}

async fn readiness_reports_the_store(backend: Backend) {
    let server = TestServer::start(backend).await;
    assert!(server.app().store.migrations_current().await.unwrap());
    let response = server
        .http
        .get(format!("{}/readyz", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    server.stop().await;
}

#[test]
fn schema_graphql_is_current() {
    let checked_in =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql"))
            .unwrap_or_default();
    let generated = patchbay::graphql::sdl();
    assert!(
        checked_in == generated,
        "schema.graphql is stale; regenerate it with:\n    cargo run --quiet -- print-schema > schema.graphql"
    );
}
