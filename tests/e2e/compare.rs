//! `compareData` over the API: nested objects, keyed arrays, ignored paths, the score and
//! how it was computed, and bad input (BAD_USER_INPUT with the field).

use serde_json::json;

use crate::on_both_backends;
use crate::support::{Backend, TestServer, code};

on_both_backends!(compare_data_diffs_nested_objects_and_keyed_arrays);

const COMPARE: &str = "query($l: JSON!, $r: JSON!, $o: CompareOptions) { compareData(local: $l, remote: $r, options: $o) { score compared matched method differenceCount truncated differences { path kind local remote } } }";

async fn compare_data_diffs_nested_objects_and_keyed_arrays(backend: Backend) {
    let server = TestServer::start(backend).await;
    let local = json!({
        "project": { "name": "Apollo", "owner": { "id": 7, "email": "a@example.com" }, "tags": ["x", "y"] },
        "issues": [ { "id": "I-1", "title": "Crash", "state": "open" }, { "id": "I-2", "title": "Docs", "state": "closed" } ],
        "syncedAt": "2026-11-26T10:00:00Z"
    });
    let remote = json!({
        "project": { "name": "Apollo", "owner": { "id": 7, "email": "b@example.com" }, "tags": ["x", "y"], "archived": false },
        "issues": [ { "id": "I-3", "title": "New", "state": "open" }, { "id": "I-1", "title": "Crash", "state": "closed" } ],
        "syncedAt": "2026-11-26T11:00:00Z"
    });
    let options = json!({ "arrayKeys": [ { "path": "/issues", "key": "id" } ], "ignorePaths": ["/syncedAt"] });
    let data = server
        .ok(
            &server.admin,
            COMPARE,
            json!({ "l": local, "r": remote, "o": options }),
        )
        .await;
    let report = &data["compareData"];
    let differences: Vec<(String, String)> = report["differences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["path"].as_str().unwrap().to_owned(),
                d["kind"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expected: Vec<(String, String)> = [
        ("/issues/I-1/state", "CHANGED"),
        ("/issues/I-2", "REMOVED"),
        ("/issues/I-3", "ADDED"),
        ("/project/archived", "ADDED"),
        ("/project/owner/email", "CHANGED"),
    ]
    .iter()
    .map(|(p, k)| (p.to_string(), k.to_string()))
    .collect();
    assert_eq!(differences, expected, "{report:#}");
    let email = &report["differences"][4];
    assert_eq!(email["local"], "a@example.com");
    assert_eq!(email["remote"], "b@example.com");
    assert_eq!(report["differences"][1]["remote"], json!(null));
    assert_eq!(report["differences"][1]["local"]["title"], "Docs");
    // Leaves: I-1 (id, title match; state changed: 3), I-2 (3 removed), I-3 (3 added),
    // archived added (1), name, owner.id, tags x2 match (4), email changed (1): 6 of 15.
    assert_eq!(report["matched"], 6);
    assert_eq!(report["compared"], 15);
    assert!((report["score"].as_f64().unwrap() - 6.0 / 15.0).abs() < 1e-9);
    assert!(
        report["method"]
            .as_str()
            .unwrap()
            .contains("/issues by `id`"),
        "{report}"
    );
    assert_eq!(report["differenceCount"], 5);
    assert_eq!(report["truncated"], false);

    // A document against itself: nothing differs, score 1.
    let data = server
        .ok(&server.admin, COMPARE, json!({ "l": local, "r": local }))
        .await;
    assert_eq!(data["compareData"]["score"], 1.0);
    assert_eq!(data["compareData"]["differences"], json!([]));

    // Bad input: too deep, a key that does not fit, a bad pointer.
    let mut deep = json!(1);
    for _ in 0..70 {
        deep = json!({ "a": deep });
    }
    let body = server
        .gql(&server.admin, COMPARE, json!({ "l": deep, "r": 1 }))
        .await;
    assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
    assert_eq!(body["errors"][0]["extensions"]["field"], "local");
    let body = server
        .gql(
            &server.admin,
            COMPARE,
            json!({ "l": { "xs": [ { "id": 1 }, { "id": 1 } ] }, "r": { "xs": [] }, "o": { "arrayKeys": [ { "path": "/xs", "key": "id" } ] } }),
        )
        .await;
    assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("appears twice")
    );
    let body = server
        .gql(
            &server.admin,
            COMPARE,
            json!({ "l": 1, "r": 2, "o": { "ignorePaths": ["nope"] } }),
        )
        .await;
    assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
    assert_eq!(
        body["errors"][0]["extensions"]["field"],
        "options.ignorePaths[0]"
    );
    server.stop().await;
}
