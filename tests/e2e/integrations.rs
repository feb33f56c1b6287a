//! Integrations: every field round-trips, partial updates, filters, delete, enable,
//! and bad input that writes nothing.

use serde_json::{Value, json};

use crate::on_both_backends;
use patchbay::domain::access::Role;

use crate::support::{Backend, TestServer, TestStore, code, integration_count};

on_both_backends!(
    integrations_round_trip_every_field,
    partial_updates_change_only_what_is_given,
    filters_and_paging_select_integrations,
    delete_and_enable_leave_a_trail,
    bad_input_is_refused_and_writes_nothing,
    text_search_and_tag_filter_follow_every_change,
    connection_pages_answer_as_async_graphql_does,
    compiled_pages_answer_byte_for_byte_as_the_executor,
    unfiltered_totals_come_from_the_projects_counts,
);

const FIELDS: &str = "id name description category protocol status enabled tags baseUrl config headers authKind timeoutMs retryPolicy { maxRetries baseDelayMs maxDelayMs } rateLimit { requestsPerMinute burst } cache { enabled ttlSeconds } createdBy version createdAt updatedAt project { id slug }";

async fn create(server: &TestServer, input: Value) -> Value {
    let query = format!(
        "mutation($i: CreateIntegrationInput!) {{ createIntegration(input: $i) {{ integration {{ {FIELDS} }} }} }}"
    );
    server
        .gql(&server.admin, &query, json!({ "i": input }))
        .await
}

async fn update(server: &TestServer, input: Value) -> Value {
    let query = format!(
        "mutation($i: UpdateIntegrationInput!) {{ updateIntegration(input: $i) {{ integration {{ {FIELDS} }} }} }}"
    );
    server
        .gql(&server.admin, &query, json!({ "i": input }))
        .await
}

async fn integrations_round_trip_every_field(backend: Backend) {
    let server = TestServer::start(backend).await;
    let project = server.create_project("Acme").await;
    let body = create(
        &server,
        json!({
            "projectId": project, "name": "  Jira Cloud ", "description": "tickets",
            "category": "PROJECT_MANAGEMENT", "protocol": "REST", "status": "MAINTENANCE", "enabled": false,
            "tags": ["Prod", "team:core", "prod"], "baseUrl": "https://acme.atlassian.net/rest/api/3",
            "config": { "site": "acme", "nested": { "n": 1 } }, "headers": { "X-Team": "core" },
            "timeoutMs": 5000, "retryPolicy": { "maxRetries": 5 }, "rateLimit": { "requestsPerMinute": 600 },
            "cache": { "enabled": true, "ttlSeconds": 60 }
        }),
    )
    .await;
    assert!(body.get("errors").is_none(), "{body:#}");
    let created = body["data"]["createIntegration"]["integration"].clone();
    assert!(created["id"].as_str().unwrap().starts_with("int_"));
    assert_eq!(created["name"], "Jira Cloud");
    assert_eq!(created["status"], "MAINTENANCE");
    assert_eq!(created["enabled"], false);
    assert_eq!(created["tags"], json!(["prod", "team:core"]));
    assert_eq!(
        created["config"],
        json!({ "site": "acme", "nested": { "n": 1 } })
    );
    assert_eq!(created["headers"], json!({ "x-team": "core" }));
    assert_eq!(created["authKind"], "NONE");
    assert_eq!(
        created["retryPolicy"],
        json!({ "maxRetries": 5, "baseDelayMs": 200, "maxDelayMs": 10000 })
    );
    assert_eq!(
        created["rateLimit"],
        json!({ "requestsPerMinute": 600, "burst": 60 })
    );
    assert_eq!(
        created["cache"],
        json!({ "enabled": true, "ttlSeconds": 60 })
    );
    assert_eq!(created["createdBy"], "bootstrap admin");
    assert_eq!(created["version"], 1);
    assert_eq!(created["project"]["id"], project.as_str());

    // Reading it back (by id and through node) gives the same object.
    let query = format!(
        "query($id: ID!) {{ integration(id: $id) {{ {FIELDS} }} node(id: $id) {{ id ... on Integration {{ name }} }} }}"
    );
    let data = server
        .ok(&server.admin, &query, json!({ "id": created["id"] }))
        .await;
    assert_eq!(data["integration"], created);
    assert_eq!(data["node"]["name"], "Jira Cloud");

    // Defaults.
    let body = create(
        &server,
        json!({ "projectId": project, "name": "Slack", "category": "COMMUNICATION" }),
    )
    .await;
    let slack = &body["data"]["createIntegration"]["integration"];
    assert_eq!(slack["protocol"], "REST");
    assert_eq!(slack["status"], "ACTIVE");
    assert_eq!(slack["enabled"], true);
    assert_eq!(slack["timeoutMs"], 30000);
    assert_eq!(slack["rateLimit"], Value::Null);
    assert_eq!(slack["config"], json!({}));
    server.stop().await;
}

async fn partial_updates_change_only_what_is_given(backend: Backend) {
    let server = TestServer::start(backend).await;
    let project = server.create_project("Acme").await;
    let body = create(
        &server,
        json!({ "projectId": project, "name": "GitHub", "description": "code", "category": "VERSION_CONTROL",
                "baseUrl": "https://api.github.com", "rateLimit": { "requestsPerMinute": 100, "burst": 5 } }),
    )
    .await;
    let before = body["data"]["createIntegration"]["integration"].clone();
    let id = before["id"].clone();

    let body = update(&server, json!({ "id": id, "description": null, "rateLimit": null, "tags": ["ci"], "expectedVersion": 1 })).await;
    assert!(body.get("errors").is_none(), "{body:#}");
    let after = &body["data"]["updateIntegration"]["integration"];
    assert_eq!(after["description"], Value::Null);
    assert_eq!(after["rateLimit"], Value::Null);
    assert_eq!(after["tags"], json!(["ci"]));
    assert_eq!(after["version"], 2);
    for unchanged in [
        "name",
        "category",
        "baseUrl",
        "config",
        "headers",
        "createdAt",
        "createdBy",
        "retryPolicy",
    ] {
        assert_eq!(
            after[unchanged], before[unchanged],
            "{unchanged} must not change"
        );
    }

    // A stale expectedVersion is a conflict and changes nothing.
    let body = update(
        &server,
        json!({ "id": id, "name": "Renamed", "expectedVersion": 1 }),
    )
    .await;
    assert_eq!(code(&body), "CONFLICT");
    let body = update(
        &server,
        json!({ "id": id, "retryPolicy": { "maxRetries": 0 }, "retryPolicy": { "maxRetries": 0 } }),
    )
    .await;
    assert_eq!(
        body["data"]["updateIntegration"]["integration"]["name"],
        "GitHub"
    );
    assert_eq!(
        body["data"]["updateIntegration"]["integration"]["retryPolicy"]["maxRetries"],
        0
    );
    assert_eq!(
        body["data"]["updateIntegration"]["integration"]["version"],
        3
    );

    let data = server
        .ok(&server.admin, "query($id: ID!) { integration(id: $id) { logs { edges { node { message metadata } } } } }", json!({ "id": id }))
        .await;
    let messages: Vec<_> = data["integration"]["logs"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["message"].as_str().unwrap())
        .collect();
    assert_eq!(
        messages,
        [
            "integration created",
            "integration updated",
            "integration updated"
        ]
    );
    assert_eq!(
        data["integration"]["logs"]["edges"][1]["node"]["metadata"]["fields"],
        json!(["description", "tags", "rateLimit"])
    );
    server.stop().await;
}

async fn filters_and_paging_select_integrations(backend: Backend) {
    let server = TestServer::start(backend).await;
    let acme = server.create_project("Acme").await;
    let other = server.create_project("Other").await;
    let specs = [
        (
            acme.as_str(),
            "Jira",
            "PROJECT_MANAGEMENT",
            "ACTIVE",
            true,
            json!(["prod"]),
            "Issue tracker",
        ),
        (
            acme.as_str(),
            "Slack",
            "COMMUNICATION",
            "ACTIVE",
            false,
            json!(["prod", "chat"]),
            "team chat",
        ),
        (
            acme.as_str(),
            "Datadog",
            "MONITORING",
            "DEPRECATED",
            true,
            json!([]),
            "metrics",
        ),
        (
            other.as_str(),
            "Jenkins",
            "CI_CD",
            "ACTIVE",
            true,
            json!(["prod_like"]),
            "builds",
        ),
    ];
    for (project, name, category, status, enabled, tags, description) in specs {
        let body = create(
            &server,
            json!({ "projectId": project, "name": name, "category": category, "status": status,
            "enabled": enabled, "tags": tags, "description": description }),
        )
        .await;
        assert!(body.get("errors").is_none(), "{body:#}");
    }
    let names = |data: &Value| -> Vec<String> {
        data["integrations"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"]["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let query = "query($p: ID, $f: IntegrationFilter) { integrations(projectId: $p, filter: $f) { totalCount edges { node { name } } } }";
    let cases = [
        (
            json!(null),
            json!({}),
            vec!["Jira", "Slack", "Datadog", "Jenkins"],
        ),
        (json!(acme), json!({}), vec!["Jira", "Slack", "Datadog"]),
        (
            json!(null),
            json!({ "category": "MONITORING" }),
            vec!["Datadog"],
        ),
        (
            json!(null),
            json!({ "status": "ACTIVE", "enabled": true }),
            vec!["Jira", "Jenkins"],
        ),
        (json!(null), json!({ "tag": "PROD" }), vec!["Jira", "Slack"]),
        (json!(null), json!({ "tag": "prod_like" }), vec!["Jenkins"]),
        (json!(null), json!({ "text": "CHAT" }), vec!["Slack"]),
        (json!(null), json!({ "text": "ji" }), vec!["Jira"]),
        (json!(null), json!({ "text": "100%" }), vec![]),
    ];
    for (project, filter, expected) in cases {
        let data = server
            .ok(&server.admin, query, json!({ "p": project, "f": filter }))
            .await;
        assert_eq!(names(&data), expected, "filter {filter} in {project}");
        assert_eq!(data["integrations"]["totalCount"], expected.len());
    }
    // Paging through a filtered list.
    let data = server.ok(&server.admin, "{ integrations(first: 2, filter: { enabled: true }) { totalCount pageInfo { hasNextPage endCursor } edges { node { name } } } }", json!({})).await;
    assert_eq!(names(&data), ["Jira", "Datadog"]);
    assert_eq!(data["integrations"]["totalCount"], 3);
    let cursor = data["integrations"]["pageInfo"]["endCursor"].clone();
    let data = server.ok(&server.admin, "query($a: String) { integrations(first: 2, after: $a, filter: { enabled: true }) { pageInfo { hasNextPage } edges { node { name } } } }", json!({ "a": cursor })).await;
    assert_eq!(names(&data), ["Jenkins"]);
    assert_eq!(data["integrations"]["pageInfo"]["hasNextPage"], false);
    // Through the project too.
    let data = server.ok(&server.admin, "query($id: ID!) { project(id: $id) { integrations(filter: { tag: \"prod\" }) { totalCount } } }", json!({ "id": acme })).await;
    assert_eq!(data["project"]["integrations"]["totalCount"], 2);
    server.stop().await;
}

async fn delete_and_enable_leave_a_trail(backend: Backend) {
    let server = TestServer::start(backend).await;
    let project = server.create_project("Acme").await;
    let id = server.create_integration(&project, "Trello").await;
    let data = server.ok(&server.admin, "mutation($id: ID!) { setIntegrationEnabled(id: $id, enabled: false) { integration { enabled version } } }", json!({ "id": id })).await;
    assert_eq!(
        data["setIntegrationEnabled"]["integration"],
        json!({ "enabled": false, "version": 2 })
    );
    let data = server
        .ok(
            &server.admin,
            "mutation($id: ID!) { deleteIntegration(id: $id) { deletedId } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(data["deleteIntegration"]["deletedId"], id.as_str());
    let body = server
        .gql(
            &server.admin,
            "query($id: ID!) { integration(id: $id) { id } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(code(&body), "NOT_FOUND");
    let body = server
        .gql(
            &server.admin,
            "mutation($id: ID!) { deleteIntegration(id: $id) { deletedId } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(code(&body), "NOT_FOUND");
    // The log outlives the integration.
    let data = server.ok(&server.admin, "query($p: ID!) { logs(filter: { projectId: $p, minLevel: INFO }) { edges { node { message integrationId integration { id } } } } }", json!({ "p": project })).await;
    let entries = data["logs"]["edges"].as_array().unwrap();
    let messages: Vec<_> = entries
        .iter()
        .map(|e| e["node"]["message"].as_str().unwrap())
        .collect();
    assert_eq!(
        messages,
        [
            "project created",
            "integration created",
            "integration disabled",
            "integration deleted"
        ]
    );
    assert_eq!(entries[3]["node"]["integrationId"], id.as_str());
    assert_eq!(entries[3]["node"]["integration"], Value::Null);
    let store = &server.app().store;
    for action in [
        "integration.create",
        "integration.disable",
        "integration.delete",
    ] {
        assert_eq!(
            patchbay::store::audit::count_action(store, action)
                .await
                .unwrap(),
            1,
            "{action}"
        );
    }
    let audit = patchbay::store::audit::recent(store, 1).await.unwrap();
    assert_eq!(audit[0].target_id.as_deref(), Some(id.as_str()));
    assert_eq!(audit[0].actor_name, "bootstrap admin");
    assert!(
        audit[0].request_id.is_some(),
        "the audit record carries the request id"
    );
    server.stop().await;
}

async fn bad_input_is_refused_and_writes_nothing(backend: Backend) {
    let server = TestServer::start(backend).await;
    let project = server.create_project("Acme").await;
    server.create_integration(&project, "Existing").await;
    let base = || json!({ "projectId": project, "name": "New", "category": "CUSTOM" });
    let with = |key: &str, value: Value| {
        let mut input = base();
        input[key] = value;
        input
    };
    let cases = [
        (
            with("category", json!("NOT_A_CATEGORY")),
            "BAD_USER_INPUT",
            None,
        ),
        (
            with("config", json!("{not json")),
            "BAD_USER_INPUT",
            Some("input.config"),
        ),
        (
            with("config", json!([1, 2])),
            "BAD_USER_INPUT",
            Some("input.config"),
        ),
        (
            with("headers", json!({ "Authorization": "Bearer x" })),
            "BAD_USER_INPUT",
            Some("input.headers.Authorization"),
        ),
        (
            with("baseUrl", json!("ftp://example.com")),
            "BAD_USER_INPUT",
            Some("input.baseUrl"),
        ),
        (
            with("baseUrl", json!("https://user:secret@example.com")),
            "BAD_USER_INPUT",
            Some("input.baseUrl"),
        ),
        (
            with("timeoutMs", json!(5)),
            "BAD_USER_INPUT",
            Some("input.timeoutMs"),
        ),
        (
            with("retryPolicy", json!({ "maxRetries": 99 })),
            "BAD_USER_INPUT",
            Some("input.retryPolicy.maxRetries"),
        ),
        (
            with("tags", json!(["has space"])),
            "BAD_USER_INPUT",
            Some("input.tags[0]"),
        ),
        (with("name", json!("Existing")), "CONFLICT", None),
        (
            with("projectId", json!("prj_00000000000000000000000000")),
            "NOT_FOUND",
            None,
        ),
        (
            with("projectId", json!("int_00000000000000000000000000")),
            "BAD_USER_INPUT",
            Some("input.projectId"),
        ),
    ];
    for (input, expected, field) in cases {
        let body = create(&server, input.clone()).await;
        assert_eq!(code(&body), expected, "{input}: {body}");
        if let Some(field) = field {
            assert_eq!(body["errors"][0]["extensions"]["field"], field, "{input}");
        }
    }
    // An invalid enum in the document itself is bad input too.
    let body = server.gql(&server.admin, "mutation { createIntegration(input: { projectId: \"x\", name: \"n\", category: NOPE }) { integration { id } } }", json!({})).await;
    assert_eq!(code(&body), "BAD_USER_INPUT");
    assert_eq!(body["errors"][0]["extensions"]["field"], "input.category");
    assert!(
        body.get("data").is_none(),
        "a request error has no data entry"
    );
    // Unknown and malformed IDs.
    let body = update(
        &server,
        json!({ "id": "int_00000000000000000000000000", "name": "x" }),
    )
    .await;
    assert_eq!(code(&body), "NOT_FOUND");
    let body = server
        .gql(
            &server.admin,
            "{ integration(id: \"bogus\") { id } }",
            json!({}),
        )
        .await;
    assert_eq!(code(&body), "NOT_FOUND");
    assert_eq!(integration_count(&server).await, 1, "nothing was written");
    server.stop().await;
}

/// The text filter is a case-insensitive substring of name or description and the tag
/// filter an exact tag, on both backends, whichever index serves them (FTS5 trigram or
/// LIKE on SQLite, trigram GIN on PostgreSQL; `integration_tags`), and both follow
/// creates, updates and deletes in the same transaction.
async fn text_search_and_tag_filter_follow_every_change(backend: Backend) {
    let server = TestServer::start(backend).await;
    let project = server.create_project("Acme").await;
    let specs = [
        (
            "Jira Cloud",
            Some("Issue TRACKER"),
            json!(["prod", "team-a"]),
        ),
        ("Slack", Some("team chat"), json!(["prod"])),
        ("GitHub Actions", None, json!(["ci"])),
        ("Percent 100% done", Some("under_score"), json!(["team-a"])),
        ("Say \"hi\" bot", Some("back\\slash"), json!([])),
        ("Underxscore", Some("100 percent"), json!(["ci", "team-a"])),
    ];
    let mut ids = Vec::new();
    for (name, description, tags) in specs {
        let body = create(
            &server,
            json!({ "projectId": project, "name": name, "category": "CI_CD",
                    "description": description, "tags": tags }),
        )
        .await;
        assert!(body.get("errors").is_none(), "{body:#}");
        ids.push(
            body["data"]["createIntegration"]["integration"]["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let query = "query($f: IntegrationFilter) { integrations(filter: $f) { totalCount edges { node { name } } } }";
    let check = |filter: Value, expected: Vec<&'static str>| {
        let server = &server;
        async move {
            let data = server
                .ok(&server.admin, query, json!({ "f": filter }))
                .await;
            let names: Vec<String> = data["integrations"]["edges"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["node"]["name"].as_str().unwrap().to_owned())
                .collect();
            assert_eq!(names, expected, "filter {filter}");
            assert_eq!(
                data["integrations"]["totalCount"],
                expected.len(),
                "filter {filter}"
            );
        }
    };
    // Substrings, any case, inside words and across spaces, in name or description.
    check(json!({ "text": "IRA c" }), vec!["Jira Cloud"]).await;
    check(json!({ "text": "tracker" }), vec!["Jira Cloud"]).await;
    check(json!({ "text": "hub act" }), vec!["GitHub Actions"]).await;
    check(
        json!({ "text": "ACK" }),
        vec!["Jira Cloud", "Slack", "Say \"hi\" bot"],
    )
    .await;
    check(json!({ "text": "am ch" }), vec!["Slack"]).await;
    // LIKE's wildcards and escape, and FTS's quotes, are plain characters.
    check(json!({ "text": "100%" }), vec!["Percent 100% done"]).await;
    check(json!({ "text": "r_s" }), vec!["Percent 100% done"]).await;
    check(json!({ "text": "\"hi\"" }), vec!["Say \"hi\" bot"]).await;
    check(json!({ "text": "k\\s" }), vec!["Say \"hi\" bot"]).await;
    check(json!({ "text": "%" }), vec!["Percent 100% done"]).await;
    // Short terms (below a trigram) still match substrings.
    check(
        json!({ "text": "ck" }),
        vec!["Jira Cloud", "Slack", "Say \"hi\" bot"],
    )
    .await;
    check(
        json!({ "text": "s" }),
        vec![
            "Jira Cloud",
            "Slack",
            "GitHub Actions",
            "Percent 100% done",
            "Say \"hi\" bot",
            "Underxscore",
        ],
    )
    .await;
    check(json!({ "text": "nothing like it" }), vec![]).await;
    // Tags are exact, case-normalised, and combine with the other filters.
    check(
        json!({ "tag": "team-a" }),
        vec!["Jira Cloud", "Percent 100% done", "Underxscore"],
    )
    .await;
    check(
        json!({ "tag": "TEAM-A", "text": "perc" }),
        vec!["Percent 100% done", "Underxscore"],
    )
    .await;
    check(
        json!({ "tag": "team-a", "text": "pe" }),
        vec!["Percent 100% done", "Underxscore"],
    )
    .await;
    check(json!({ "tag": "team", "text": "perc" }), vec![]).await;
    check(
        json!({ "tag": "prod", "category": "CI_CD", "text": "slack" }),
        vec!["Slack"],
    )
    .await;
    check(json!({ "tag": "prod", "category": "MONITORING" }), vec![]).await;

    // Updates move the indexes with them.
    let body = update(
        &server,
        json!({ "id": ids[0], "name": "Linear", "description": null, "tags": ["dev"] }),
    )
    .await;
    assert!(body.get("errors").is_none(), "{body:#}");
    check(json!({ "text": "jira" }), vec![]).await;
    check(json!({ "text": "tracker" }), vec![]).await;
    check(json!({ "text": "linear" }), vec!["Linear"]).await;
    check(
        json!({ "tag": "team-a" }),
        vec!["Percent 100% done", "Underxscore"],
    )
    .await;
    check(json!({ "tag": "dev", "text": "line" }), vec!["Linear"]).await;
    check(json!({ "tag": "prod" }), vec!["Slack"]).await;
    // A category change moves the tag's rows with it, alone or with new tags.
    let body = update(&server, json!({ "id": ids[3], "category": "MONITORING" })).await;
    assert!(body.get("errors").is_none(), "{body:#}");
    let body = update(
        &server,
        json!({ "id": ids[2], "category": "MONITORING", "tags": ["ci", "team-a"] }),
    )
    .await;
    assert!(body.get("errors").is_none(), "{body:#}");
    check(
        json!({ "tag": "team-a", "category": "MONITORING" }),
        vec!["GitHub Actions", "Percent 100% done"],
    )
    .await;
    check(
        json!({ "tag": "team-a", "category": "CI_CD" }),
        vec!["Underxscore"],
    )
    .await;
    check(
        json!({ "tag": "team-a", "category": "MONITORING", "text": "perc" }),
        vec!["Percent 100% done"],
    )
    .await;
    check(
        json!({ "tag": "ci", "category": "CI_CD" }),
        vec!["Underxscore"],
    )
    .await;
    // An update that leaves name, description and tags alone keeps them findable.
    let body = update(&server, json!({ "id": ids[1], "enabled": false })).await;
    assert!(body.get("errors").is_none(), "{body:#}");
    check(json!({ "tag": "prod", "text": "chat" }), vec!["Slack"]).await;
    check(json!({ "text": "team chat" }), vec!["Slack"]).await;

    // Deletes take the rows out of both.
    for id in [&ids[1], &ids[5]] {
        server
            .ok(
                &server.admin,
                "mutation($id: ID!) { deleteIntegration(id: $id) { deletedId } }",
                json!({ "id": id }),
            )
            .await;
    }
    check(json!({ "text": "slack" }), vec![]).await;
    check(json!({ "tag": "prod" }), vec![]).await;
    check(json!({ "tag": "ci" }), vec!["GitHub Actions"]).await;
    check(json!({ "text": "percent" }), vec!["Percent 100% done"]).await;
    // A new integration may take a deleted one's name and is found (nothing stale).
    let body = create(
        &server,
        json!({ "projectId": project, "name": "Slack", "category": "COMMUNICATION", "tags": ["ci"] }),
    )
    .await;
    assert!(body.get("errors").is_none(), "{body:#}");
    check(json!({ "text": "slack" }), vec!["Slack"]).await;
    check(json!({ "tag": "ci" }), vec!["GitHub Actions", "Slack"]).await;
    server.stop().await;
}

/// Plain connection selections are answered by patchbay's own resolver (see
/// `graphql::connection`); wrapped in an inline fragment the same selection goes to
/// async-graphql's. Both must give the same answer for every shape.
async fn connection_pages_answer_as_async_graphql_does(backend: Backend) {
    let server = TestServer::start(backend).await;
    let project = server.create_project("Acme").await;
    let mut ids = Vec::new();
    for name in ["Jira", "Slack", "GitHub"] {
        ids.push(server.create_integration(&project, name).await);
    }
    server
        .ok(
            &server.admin,
            "mutation($i: SetCredentialsInput!) { setCredentials(input: $i) { integration { id } } }",
            json!({ "i": { "integrationId": ids[1], "credentials": { "apiKey": { "value": "k-1", "in": "HEADER", "name": "X-Api-Key" } } } }),
        )
        .await;

    let immediate = "__typename id name description category protocol status enabled tags baseUrl config headers authKind timeoutMs retryPolicy { maxRetries baseDelayMs maxDelayMs } rateLimit { requestsPerMinute burst } cache { enabled ttlSeconds } transforms { request response } errorRules { statusCodes class } connectionCheck { method path } healthCheck { path intervalSeconds } allowAbsoluteUrls circuitState createdBy version createdAt updatedAt";
    let selections = [
        // Every immediate field, __typename at every level, paging, both lists.
        format!(
            "__typename totalCount pageInfo {{ __typename hasPreviousPage hasNextPage startCursor endCursor }} edges {{ __typename cursor node {{ {immediate} }} }} nodes {{ id name }}"
        ),
        // Aliases and loader-backed fields beside immediate ones, in mixed order.
        "p: pageInfo { end: endCursor } edges { c: cursor n: node { health { status checked } i: id credentials { kind setFields } project { id name } readiness { score } status } }".to_owned(),
        // Selections that leave the fast path partway: a fragment in the node, a key twice.
        "edges { node { ...Named health { status } } } totalCount".to_owned(),
        "edges { node { id name id } cursor }".to_owned(),
        // No node at all; an empty page.
        "edges { cursor } pageInfo { hasNextPage }".to_owned(),
        // Node fields that fail (page sizes out of range): errors with their paths.
        "edges { node { id alerts(first: 1000) { totalCount } name } } nodes { id logs(first: -1) { totalCount } }".to_owned(),
    ];
    for arguments in [
        "first: 2",
        "last: 2",
        "first: 0",
        "first: 5, after: \"CURSOR\"",
    ] {
        let arguments = arguments.replace("CURSOR", &ids[0]);
        for selection in &selections {
            let fragment = if selection.contains("...Named") {
                " fragment Named on Integration { name }"
            } else {
                ""
            };
            // The direct query padded so that both put the selection (and so errors'
            // locations) at the same columns.
            let wrapper = "... on IntegrationConnection { ";
            let padding = " ".repeat(wrapper.len());
            let direct =
                format!("{{ integrations({arguments}) {{ {padding}{selection} }} }}{fragment}");
            let reference =
                format!("{{ integrations({arguments}) {{ {wrapper}{selection} }} }} }}{fragment}");
            let mut direct = server.gql(&server.admin, &direct, json!({})).await;
            let mut reference = server.gql(&server.admin, &reference, json!({})).await;
            let fails = selection.contains("1000") && arguments != "first: 0";
            assert_eq!(
                direct.get("errors").is_some(),
                fails,
                "{arguments} {selection}: {direct:#}"
            );
            assert!(direct["data"]["integrations"].is_object(), "{direct:#}");
            // Errors in any order: both paths resolve the failing fields concurrently.
            for answer in [&mut direct, &mut reference] {
                if let Some(Value::Array(errors)) = answer.get_mut("errors") {
                    errors.sort_by_key(|error| error.to_string());
                }
            }
            // Compared as JSON values: async-graphql orders an object's fields as they
            // finish, the direct path as selected (as the specification asks).
            assert_eq!(direct, reference, "{arguments} {selection}");
        }
    }
}

/// A request's raw answer: status and body text.
async fn raw(server: &TestServer, token: &str, query: &str) -> (u16, String) {
    raw_with(server, token, query, None).await
}

async fn raw_with(
    server: &TestServer,
    token: &str,
    query: &str,
    variables: Option<Value>,
) -> (u16, String) {
    let mut body = json!({ "query": query });
    if let Some(variables) = variables {
        body["variables"] = variables;
    }
    let response = server
        .http
        .post(server.graphql_url())
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .expect("request sent");
    let status = response.status().as_u16();
    (status, response.text().await.expect("body"))
}

/// `patchbay_graphql_compiled_answers_total` from `/metrics`.
async fn compiled_answers(server: &TestServer, metrics_token: &str) -> u64 {
    let text = server
        .http
        .get(format!("{}/metrics", server.url))
        .bearer_auth(metrics_token)
        .send()
        .await
        .expect("scraped")
        .text()
        .await
        .expect("body");
    text.lines()
        .find_map(|line| line.strip_prefix("patchbay_graphql_compiled_answers_total "))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or_else(|| panic!("no compiled answers counter in {text}"))
}

/// Plain list pages are compiled once their document passed validation (see
/// `graphql::compiled`): the first request of each shape below is answered by the
/// executor, the second by the compiled plan, and the two must be the same bytes. The
/// counter proves which path answered; requests the plan cannot answer (bad paging
/// arguments) fall back to the executor and answer with its errors.
async fn compiled_pages_answer_byte_for_byte_as_the_executor(backend: Backend) {
    let metrics_token = uuid::Uuid::new_v4().to_string();
    let server = TestServer::start_with(backend, |s| {
        s.metrics_token = Some(metrics_token.clone());
    })
    .await;
    let acme = server.create_project("Acme").await;
    let other = server.create_project("Other").await;
    // An upstream for real health checks: "Scheduled"'s first check comes within seconds of
    // its create, the next an hour later (after this test).
    let upstream = {
        let router =
            axum::Router::new().fallback(|| async { axum::Json(json!({ "status": "ok" })) });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await });
        url
    };
    let inputs = [
        json!({ "projectId": acme, "name": "Jira \"Cloud\" ✓ \\ </script>", "category": "PROJECT_MANAGEMENT",
                "description": "tickets\nand boards", "tags": ["prod", "team-a", "ops"], "baseUrl": "https://jira.example.com" }),
        json!({ "projectId": acme, "name": "Slack", "category": "COMMUNICATION", "tags": [] }),
        json!({ "projectId": acme, "name": "GitHub Actions", "category": "CI_CD", "tags": ["prod"],
                "protocol": "GRAPHQL", "status": "MAINTENANCE", "enabled": false, "timeoutMs": 2500 }),
        json!({ "projectId": other, "name": "Other's tool", "category": "CUSTOM" }),
        json!({ "projectId": acme, "name": "Scheduled", "category": "MONITORING", "baseUrl": upstream,
                "healthCheck": { "path": "/health", "intervalSeconds": 3600 } }),
    ];
    let mut ids = Vec::new();
    for input in inputs {
        let body = create(&server, input).await;
        assert!(body.get("errors").is_none(), "{body:#}");
        ids.push(
            body["data"]["createIntegration"]["integration"]["id"]
                .as_str()
                .expect("id")
                .to_owned(),
        );
    }
    let scoped = server.token(Role::Viewer, Some(&other)).await;
    server
        .ok(
            &server.admin,
            "mutation($i: SetCredentialsInput!) { setCredentials(input: $i) { integration { id } } }",
            json!({ "i": { "integrationId": ids[0], "credentials": { "apiKey": { "value": "k-1", "in": "HEADER", "name": "X-Api-Key" } } } }),
        )
        .await;
    let scheduled_checked = || async {
        let data = server
            .ok(
                &server.admin,
                "query($id: ID!) { integration(id: $id) { health { lastCheckedAt } } }",
                json!({ "id": ids[4] }),
            )
            .await;
        !data["integration"]["health"]["lastCheckedAt"].is_null()
    };
    let started = std::time::Instant::now();
    while !scheduled_checked().await {
        assert!(
            started.elapsed().as_secs() < 30,
            "the first scheduled check never ran"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }

    let every_plain = "__typename id name description category protocol status enabled tags baseUrl authKind timeoutMs allowAbsoluteUrls createdBy version createdAt updatedAt";
    let pages = [
        "{ integrations(first: 50) { edges { node { id name status } } } }".to_owned(),
        format!(
            "{{ integrations {{ __typename totalCount pageInfo {{ __typename hasPreviousPage hasNextPage startCursor endCursor }} edges {{ __typename cursor node {{ {every_plain} }} }} nodes {{ id }} }} }}"
        ),
        "query Named { list: integrations(first: 2) { n: nodes { i: id s: status t: tags } count: totalCount p: pageInfo { next: hasNextPage end: endCursor } } }".to_owned(),
        format!("{{ integrations(last: 2, before: \"{}\") {{ pageInfo {{ hasPreviousPage hasNextPage startCursor }} edges {{ cursor }} }} }}", ids[2]),
        format!("{{ integrations(first: 1, after: \"{}\") {{ totalCount nodes {{ name }} }} }}", ids[0]),
        format!("{{ integrations(projectId: \"{acme}\", filter: {{ category: CI_CD, tag: \"prod\", text: \"git\" }}) {{ totalCount nodes {{ name category }} }} }}"),
        "{ integrations(filter: { enabled: false, status: MAINTENANCE }) { totalCount nodes { name enabled } } }".to_owned(),
        "{ integrations(first: 0) { totalCount pageInfo { startCursor endCursor hasNextPage } edges { node { id } } } }".to_owned(),
        "{ integrations(filter: { text: \"no such thing\" }) { totalCount edges { node { id } } } }".to_owned(),
        // Related objects, read for the page: the filtered page of bench/load, and every
        // plain field of both with aliases and __typename.
        "{ integrations(first: 50, filter: { category: MONITORING }) { totalCount edges { node { id name status category tags health { status } credentials { kind } } } } }".to_owned(),
        "{ integrations { nodes { id h: health { __typename status reason checked lastCheckedAt lastLatencyMs lastError consecutiveFailures nextCheckAt changedAt } c: credentials { __typename kind setFields updatedAt expiresAt keyId refreshError refreshFailedAt } health2: health { status } } } }".to_owned(),
        // The dashboard's fields: circuit state, the health score, the project (two
        // projects on the page, one of them twice under two keys).
        "{ integrations(first: 50) { totalCount edges { cursor node { id circuitState health { __typename status score } p: project { __typename id name slug description createdAt updatedAt } q: project { id } } } } }".to_owned(),
    ];
    let mut expected = compiled_answers(&server, &metrics_token).await;
    // Each page is new to the server under the first token (so the executor answers it and
    // it is compiled) and already compiled under the second: there a trailing space makes
    // the executor's reference a document of its own.
    for (token, reference_suffix) in [(&server.admin, ""), (&scoped, " ")] {
        for page in &pages {
            let first = raw(&server, token, &format!("{page}{reference_suffix}")).await;
            assert_eq!(first.0, 200, "{page}: {}", first.1);
            // The scoped token may not read the other project: the plan's call fails and
            // the executor answers NOT_FOUND, as it does for the reference.
            let refused = page.contains(&acme) && *token == scoped;
            assert_eq!(
                first.1.contains("\"errors\""),
                refused,
                "{page}: {}",
                first.1
            );
            assert_eq!(
                compiled_answers(&server, &metrics_token).await,
                expected,
                "{page}"
            );
            let second = raw(&server, token, page).await;
            expected += u64::from(!refused);
            assert_eq!(second, first, "{page}");
            assert_eq!(
                compiled_answers(&server, &metrics_token).await,
                expected,
                "{page}"
            );
        }
    }
    // The scoped token's pages hold its project's integration only.
    let (_, scoped_page) = raw(&server, &scoped, &pages[0]).await;
    expected += 1;
    assert!(
        scoped_page.contains(&ids[3]) && !scoped_page.contains(&ids[0]),
        "{scoped_page}"
    );

    // Every answer reads the store: a change shows in the next compiled answer.
    let body = update(&server, json!({ "id": ids[1], "name": "Slack (renamed)" })).await;
    assert!(body.get("errors").is_none(), "{body:#}");
    let (_, renamed) = raw(&server, &server.admin, &pages[0]).await;
    expected += 1;
    assert!(renamed.contains("Slack (renamed)"), "{renamed}");
    assert_eq!(compiled_answers(&server, &metrics_token).await, expected);

    // Variables: bound per request, each request compared with the executor's answer to
    // the same variables (for a new document string, so that the executor answers it).
    // The dashboard's own pages (web-client/src/gql) are among the documents.
    let with_variables = "query Page($first: Int, $f: IntegrationFilter, $p: ID, $after: String) { integrations(first: $first, filter: $f, projectId: $p, after: $after) { totalCount edges { cursor node { id name health { status checked } credentials { kind } } } } }";
    let dashboard = "query Integrations($projectId: ID, $filter: IntegrationFilter, $first: Int, $after: String) { integrations(projectId: $projectId, filter: $filter, first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id name description category protocol status enabled tags baseUrl authKind circuitState updatedAt version project { id name } health { status reason } } } } }";
    let health_grid = "query HealthGrid($projectId: ID, $first: Int) { integrations(projectId: $projectId, first: $first) { totalCount nodes { id name enabled status category project { id name } health { status reason checked score changedAt lastCheckedAt } } } }";
    let mut padding = String::new();
    let mut seen = Vec::new();
    for (document, variables) in [
        (
            with_variables,
            json!({ "first": 2, "f": { "category": "MONITORING" } }),
        ),
        (with_variables, json!({ "first": 1, "p": acme, "f": null })),
        (with_variables, json!({ "first": 3, "after": ids[0] })),
        (with_variables, json!({})),
        (dashboard, json!({ "first": 50 })),
        (dashboard, json!({ "first": 50 })),
        (
            dashboard,
            json!({ "projectId": acme, "first": 2, "after": ids[0], "filter": { "tag": "prod" } }),
        ),
        (health_grid, json!({ "first": 200 })),
        (health_grid, json!({ "projectId": other, "first": 200 })),
    ] {
        padding.push(' ');
        let reference = raw_with(
            &server,
            &server.admin,
            &format!("{document}{padding}"),
            Some(variables.clone()),
        )
        .await;
        assert!(
            !reference.1.contains("\"errors\""),
            "{variables}: {}",
            reference.1
        );
        let compiled = raw_with(&server, &server.admin, document, Some(variables.clone())).await;
        // The document's first request ever is the executor's; every later one is compiled.
        let was_compiled = seen.contains(&document);
        if was_compiled {
            expected += 1;
        } else {
            seen.push(document);
        }
        if document == health_grid {
            // async-graphql writes an object's fields in the order they complete (its
            // `do_resolve_container` polls them unordered), so `score`, which waits on a
            // loader, usually comes last in the executor's `health`; the compiled answer
            // keeps the selection's order, as the specification asks. Same values.
            assert_eq!(compiled.0, reference.0);
            let parse = |body: &str| serde_json::from_str::<Value>(body).expect("JSON");
            assert_eq!(parse(&compiled.1), parse(&reference.1), "{variables}");
            let scores = compiled.1.matches("\"score\":").count();
            let in_order = ["true", "false"].map(|checked| {
                compiled
                    .1
                    .matches(&format!("\"checked\":{checked},\"score\":"))
                    .count()
            });
            if was_compiled {
                assert_eq!(in_order.iter().sum::<usize>(), scores, "{}", compiled.1);
                assert!(scores > 0);
            }
        } else {
            assert_eq!(compiled, reference, "{variables}");
        }
        // The scheduled integration's score comes from its real check.
        if document == health_grid && variables["projectId"].is_null() {
            let page: Value = serde_json::from_str(&compiled.1).expect("JSON");
            let scheduled = page["data"]["integrations"]["nodes"]
                .as_array()
                .expect("nodes")
                .iter()
                .find(|node| node["id"] == ids[4].as_str())
                .expect("the scheduled integration")
                .clone();
            assert!(scheduled["health"]["score"].is_i64(), "{scheduled}");
        }
        assert_eq!(
            compiled_answers(&server, &metrics_token).await,
            expected,
            "{variables}"
        );
    }
    // Variables the plan cannot take: the executor answers with its error every time.
    let required = "query($n: Int!) { integrations(first: $n) { nodes { id } } }";
    let ok = raw_with(&server, &server.admin, required, Some(json!({ "n": 1 }))).await;
    assert!(!ok.1.contains("\"errors\""), "{}", ok.1);
    for (query, variables) in [
        (with_variables, json!({ "first": "ten" })),
        (with_variables, json!({ "first": 600 })),
        (with_variables, json!({ "f": { "category": "NOPE" } })),
        (with_variables, json!({ "after": "not-an-id" })),
        (required, json!({})),
    ] {
        let answer = raw_with(&server, &server.admin, query, Some(variables.clone())).await;
        assert!(answer.1.contains("\"errors\""), "{variables}: {}", answer.1);
    }
    // An undeclared variable, and null for a non-null one, are the executor's to judge too
    // (async-graphql 7.2 answers both, the null one as a null argument).
    raw_with(
        &server,
        &server.admin,
        with_variables,
        Some(json!({ "zzz": 1 })),
    )
    .await;
    raw_with(&server, &server.admin, required, Some(json!({ "n": null }))).await;
    assert_eq!(compiled_answers(&server, &metrics_token).await, expected);

    // Calls the plan cannot answer go to the executor, which reports them as before.
    for page in [
        "{ integrations(first: 600) { edges { node { id } } } }".to_owned(),
        "{ integrations(first: 1, last: 1) { edges { node { id } } } }".to_owned(),
        "{ integrations(after: \"not-an-id\") { edges { node { id } } } }".to_owned(),
    ] {
        let first = raw(&server, &server.admin, &page).await;
        assert_eq!(
            code(&serde_json::from_str(&first.1).expect("JSON")),
            "BAD_USER_INPUT",
            "{page}: {}",
            first.1
        );
        assert_eq!(raw(&server, &server.admin, &page).await, first, "{page}");
    }
    // Shapes it does not compile, answered by the executor every time.
    for page in [
        "{ integrations { edges { node { id health { status uptime(window: DAY) } } } } }",
        "{ integrations { edges { node { ...F } } } } fragment F on Integration { id }",
        "{ integrations { edges { node { id @include(if: true) } } } }",
        "{ integrations { nodes { id } } viewer { role } }",
        "{ integrations { nodes { id id } } }",
    ] {
        let first = raw(&server, &server.admin, page).await;
        assert_eq!(first.0, 200, "{page}: {}", first.1);
        assert!(!first.1.contains("\"errors\""), "{page}: {}", first.1);
        assert_eq!(raw(&server, &server.admin, page).await.0, 200);
    }
    assert_eq!(compiled_answers(&server, &metrics_token).await, expected);
    server.stop().await;
}

/// `totalCount` without a filter is the projects' counts (`integration_counts`, kept by
/// triggers), exact through creates and deletes, for every caller and cursor.
async fn unfiltered_totals_come_from_the_projects_counts(backend: Backend) {
    let server = TestServer::start(backend).await;
    let acme = server.create_project("Acme").await;
    let other = server.create_project("Other").await;
    let mut acme_ids = Vec::new();
    for name in ["Jira", "Slack", "GitHub"] {
        acme_ids.push(server.create_integration(&acme, name).await);
    }
    for name in ["Sentry", "Datadog"] {
        server.create_integration(&other, name).await;
    }
    let scoped = server.token(Role::Viewer, Some(&other)).await;
    // `first: 1` leaves more rows than the page holds, so the total is not the page's rows.
    let total = |token: String, arguments: String| {
        let server = &server;
        async move {
            let query = format!("{{ integrations(first: 1{arguments}) {{ totalCount }} }}");
            let data = server.ok(&token, &query, json!({})).await;
            data["integrations"]["totalCount"]
                .as_i64()
                .expect("totalCount")
        }
    };
    let admin = || server.admin.clone();
    let acme_only = format!(", projectId: \"{acme}\"");
    let after_first = format!(", after: \"{}\"", acme_ids[0]);
    // Every integration is enabled (until the changes below): this filter counts the rows.
    let scanned = ", filter: { enabled: true }".to_owned();
    assert_eq!(total(admin(), String::new()).await, 5);
    assert_eq!(total(admin(), acme_only.clone()).await, 3);
    assert_eq!(total(admin(), after_first.clone()).await, 5);
    assert_eq!(total(scoped.clone(), String::new()).await, 2);
    assert_eq!(total(admin(), scanned.clone()).await, 5);

    server
        .ok(
            &server.admin,
            "mutation($id: ID!) { deleteIntegration(id: $id) { deletedId } }",
            json!({ "id": acme_ids[1] }),
        )
        .await;
    assert_eq!(total(admin(), String::new()).await, 4);
    assert_eq!(total(admin(), acme_only.clone()).await, 2);
    assert_eq!(total(scoped.clone(), String::new()).await, 2);
    assert_eq!(total(admin(), scanned.clone()).await, 4);

    // Concurrent creates in one project, each counted once.
    let names: Vec<String> = (0..12).map(|i| format!("Parallel {i}")).collect();
    futures_util::future::join_all(
        names
            .iter()
            .map(|name| server.create_integration(&acme, name)),
    )
    .await;
    assert_eq!(total(admin(), String::new()).await, 16);
    assert_eq!(total(admin(), acme_only.clone()).await, 14);
    assert_eq!(total(admin(), scanned.clone()).await, 16);

    // Changes of category, status and enabled move an integration between the counts that
    // `stats` sums; the figures agree with the rows themselves, for every scope.
    let update = "mutation($i: UpdateIntegrationInput!) { updateIntegration(input: $i) { integration { id } } }";
    for change in [
        json!({ "id": acme_ids[0], "category": "CI_CD" }),
        json!({ "id": acme_ids[2], "status": "MAINTENANCE", "enabled": false }),
        json!({ "id": acme_ids[2], "category": "MONITORING" }),
        json!({ "id": acme_ids[0], "enabled": false }),
        json!({ "id": acme_ids[0], "enabled": true }),
    ] {
        server
            .ok(&server.admin, update, json!({ "i": change }))
            .await;
    }
    for (token, project) in [
        (admin(), None),
        (admin(), Some(acme.as_str())),
        (scoped.clone(), None),
    ] {
        assert_eq!(
            stats_figures(&server, &token, project).await,
            figures_of_rows(&server, &token, project).await,
            "{project:?}"
        );
    }
    assert_eq!(total(admin(), String::new()).await, 16);
    assert_eq!(
        total(admin(), scanned.clone()).await,
        15,
        "one is disabled now"
    );

    // The counts answer, not a count of the rows: a counter moved behind the server's back
    // shows (and the filtered count does not).
    // (One of the project's rows: they are kept by kind and, on PostgreSQL, in shards.)
    execute(&server, &format!("UPDATE integration_counts SET integrations = integrations + 1000 WHERE (project_id, category, status, enabled, shard) = (SELECT project_id, category, status, enabled, shard FROM integration_counts WHERE project_id = '{acme}' AND category = 'PROJECT_MANAGEMENT' AND integrations > 0 ORDER BY status, enabled, shard LIMIT 1)")).await;
    assert_eq!(total(admin(), String::new()).await, 1016);
    assert_eq!(total(admin(), acme_only).await, 1014);
    assert_eq!(total(scoped, String::new()).await, 2);
    assert_eq!(total(admin(), scanned).await, 15);
    let moved = stats_figures(&server, &server.admin, Some(&acme)).await;
    assert_eq!(moved["integrations"], 1014);
    assert_eq!(
        moved["byCategory"]
            .as_array()
            .expect("byCategory")
            .iter()
            .find(|kc| kc["key"] == "PROJECT_MANAGEMENT")
            .map(|kc| kc["count"].clone()),
        Some(json!(1012))
    );
    server.stop().await;
}

/// `stats`' integration figures for a scope.
async fn stats_figures(server: &TestServer, token: &str, project: Option<&str>) -> Value {
    let data = server
        .ok(
            token,
            "query($p: ID) { stats(projectId: $p) { integrations activeIntegrations byCategory { key count } byStatus { key count } } }",
            json!({ "p": project }),
        )
        .await;
    data["stats"].clone()
}

/// The same figures counted from the rows a page lists.
async fn figures_of_rows(server: &TestServer, token: &str, project: Option<&str>) -> Value {
    let data = server
        .ok(
            token,
            "query($p: ID) { integrations(projectId: $p, first: 500) { nodes { category status enabled } } }",
            json!({ "p": project }),
        )
        .await;
    let nodes = data["integrations"]["nodes"].as_array().expect("nodes");
    let mut by_category = std::collections::BTreeMap::<String, i64>::new();
    let mut by_status = std::collections::BTreeMap::<String, i64>::new();
    let mut active = 0;
    for node in nodes {
        let status = node["status"].as_str().expect("status");
        *by_category
            .entry(node["category"].as_str().expect("category").to_owned())
            .or_default() += 1;
        *by_status.entry(status.to_owned()).or_default() += 1;
        if status == "ACTIVE" && node["enabled"] == true {
            active += 1;
        }
    }
    let key_counts = |counts: std::collections::BTreeMap<String, i64>| {
        counts
            .into_iter()
            .map(|(key, count)| json!({ "key": key, "count": count }))
            .collect::<Vec<_>>()
    };
    json!({
        "integrations": nodes.len(),
        "activeIntegrations": active,
        "byCategory": key_counts(by_category),
        "byStatus": key_counts(by_status),
    })
}

/// Runs one statement on the test's store, beside the running server.
async fn execute(server: &TestServer, sql: &str) {
    match &server.store {
        TestStore::Sqlite(dir) => {
            use diesel::{Connection, RunQueryDsl};
            let path = dir.path().join("patchbay.db");
            let mut conn = diesel::SqliteConnection::establish(&path.to_string_lossy())
                .expect("the SQLite file opens");
            diesel::sql_query(sql)
                .execute(&mut conn)
                .expect("statement runs");
        }
        TestStore::Postgres(db, _) => {
            use diesel_async::RunQueryDsl;
            let mut conn = patchbay::store::connect_pg(&db.url)
                .await
                .expect("connects");
            diesel::sql_query(sql)
                .execute(&mut conn)
                .await
                .expect("statement runs");
        }
    }
}
