//! Integration templates end to end: invalid templates and every error path, versions
//! (immutable once published) and upgrades, sharing and isolation across projects,
//! deploying with bad config or credentials (nothing written), operations with path and
//! query parameters against a real local upstream, the connection test before saving, and
//! the built-in catalog.

use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::routing::get;
use patchbay::domain::access::Role;
use serde_json::{Value, json};

use crate::on_both_backends;
use crate::support::{Backend, SECRET_MARKER, TestServer, code, integration_count};

on_both_backends!(
    invalid_templates_report_every_problem_with_its_path,
    published_versions_are_immutable_and_integrations_upgrade,
    templates_are_shared_and_isolated_across_projects,
    deploys_with_bad_config_or_credentials_write_nothing,
    operations_call_a_real_upstream_with_path_and_query_parameters,
    the_connection_test_refuses_a_failing_upstream,
    every_builtin_template_is_listed_and_deployable,
);

const CREATE: &str = "mutation($i: CreateTemplateInput!) { createTemplate(input: $i) { template { id slug version state current supportLevel builtIn usageCount operations { name method path parameters { name in required } } } } }";
const UPDATE: &str = "mutation($i: UpdateTemplateInput!) { updateTemplate(input: $i) { template { id version state current name } } }";
const PUBLISH: &str =
    "mutation($id: ID!) { publishTemplate(id: $id) { template { id version state current } } }";
const DEPRECATE: &str =
    "mutation($id: ID!) { deprecateTemplate(id: $id) { template { id state } } }";
const SHARE: &str = "mutation($i: ShareTemplateInput!) { shareTemplate(input: $i) { template { id sharing { allProjects projectIds } } } }";
const DEPLOY: &str = "mutation($i: DeployTemplateInput!) { deployTemplate(input: $i) { integration { id name baseUrl config headers authKind category kind credentials { kind setFields } healthCheck { method path expectedStatus } rateLimit { requestsPerMinute } template { id version slug } } } }";
const UPGRADE: &str = "mutation($i: UpgradeIntegrationInput!) { upgradeIntegration(input: $i) { integration { id version baseUrl config template { id version } } } }";
const EXEC: &str = "mutation($i: ExecuteRequestInput!) { executeRequest(input: $i) { ok status body error { message } execution { path } } }";

/// A valid custom template calling `{{config.baseUrl}}` with a bearer token.
fn acme(project: &str, slug: &str) -> Value {
    json!({
        "projectId": project,
        "slug": slug,
        "name": "Acme Tracker",
        "category": "PROJECT_MANAGEMENT",
        "authKinds": ["BEARER"],
        "configSchema": {
            "type": "object", "required": ["baseUrl"],
            "properties": {
                "baseUrl": { "type": "string", "pattern": "^https?://" },
                "team": { "type": "string", "default": "core" }
            },
            "additionalProperties": false
        },
        "credentialSchema": {
            "type": "object", "required": ["token"],
            "properties": { "token": { "type": "string", "minLength": 8 } },
            "additionalProperties": false
        },
        "credentialMapping": { "kind": "BEARER", "token": "{{credentials.token}}" },
        "exampleConfig": { "baseUrl": "https://acme.example.com/api" },
        "baseUrl": "{{config.baseUrl}}",
        "headers": { "X-Team": "{{config.team}}" },
        "operations": [
            { "name": "health", "method": "GET", "path": "/health" },
            { "name": "listComments", "method": "GET", "path": "/items/{itemId}/comments",
              "parameters": [
                { "name": "itemId", "in": "path", "required": true, "schema": { "type": "string" } },
                { "name": "limit", "in": "query", "schema": { "type": "integer", "minimum": 1, "maximum": 100 } },
                { "name": "order", "in": "query", "schema": { "type": "string", "default": "desc" } },
                { "name": "cursor", "in": "query", "schema": { "type": "string" } }
              ],
              "pagination": { "style": "CURSOR", "cursorParam": "cursor", "itemsPointer": "/items", "nextCursorPointer": "/next", "limitParam": "limit" } },
            { "name": "addComment", "method": "POST", "path": "/items/{itemId}/comments",
              "parameters": [
                { "name": "itemId", "in": "path", "required": true, "schema": { "type": "string" } },
                { "name": "text", "in": "body", "required": true, "schema": { "type": "string" } }
              ] }
        ],
        "healthCheck": { "operation": "health", "expectedStatus": [200], "maxLatencyMs": 2000 },
        "rateLimit": { "requestsPerMinute": 600 }
    })
}

async fn create(server: &TestServer, token: &str, input: Value) -> Value {
    let data = server.ok(token, CREATE, json!({ "i": input })).await;
    data["createTemplate"]["template"].clone()
}

/// The `field`s of every problem of the first error (or its single field).
fn problem_fields(body: &Value) -> Vec<String> {
    let extensions = &body["errors"][0]["extensions"];
    match extensions["problems"].as_array() {
        Some(problems) => problems
            .iter()
            .map(|p| p["field"].as_str().unwrap().to_owned())
            .collect(),
        None => vec![extensions["field"].as_str().unwrap_or("<none>").to_owned()],
    }
}

async fn custom_template_count(server: &TestServer) -> i64 {
    let data = server
        .ok(
            &server.admin,
            "{ templates(filter: { builtIn: false, allVersions: true }) { totalCount } }",
            json!({}),
        )
        .await;
    data["templates"]["totalCount"].as_i64().unwrap()
}

async fn invalid_templates_report_every_problem_with_its_path(backend: Backend) {
    let server = TestServer::start(backend).await;
    let project = server.create_project("Templates").await;

    // Many problems at once: all of them come back, each with its path.
    let mut input = acme(&project, "acme");
    input["operations"][1]["path"] = json!("/items/{id}/comments");
    input["operations"][2]["parameters"][0]["schema"] = json!({ "type": "strnig" });
    input["operations"][0]["name"] = json!("List Things");
    input["configSchema"]["properties"]["team"]["default"] = json!(7);
    input["exampleConfig"] = json!({ "baseUrl": "ftp-nope" });
    input["healthCheck"]["operation"] = json!("missing");
    input["operations"][1]["pagination"]["cursorParam"] = json!("page");
    input["headers"] = json!({ "Authorization": "Bearer x" });
    input["credentialMapping"] = json!({ "kind": "BASIC", "username": "u", "password": "p" });
    let body = server
        .gql(&server.admin, CREATE, json!({ "i": input }))
        .await;
    assert_eq!(code(&body), "BAD_USER_INPUT", "{body:#}");
    let fields = problem_fields(&body);
    for expected in [
        "input.operations[1].path",
        "input.operations[1].parameters[0].name",
        "input.operations[2].parameters[0].schema.type",
        "input.operations[0].name",
        "input.configSchema.properties.team.default",
        "input.exampleConfig.baseUrl",
        "input.healthCheck.operation",
        "input.operations[1].pagination.cursorParam",
        "input.headers.Authorization",
        "input.credentialMapping.kind",
        "input.credentialSchema.properties.token",
    ] {
        assert!(
            fields.contains(&expected.to_owned()),
            "{expected} missing from {fields:#?}"
        );
    }
    assert_eq!(
        body["errors"][0]["extensions"]["field"], fields[0],
        "extensions.field is the first problem"
    );

    // One problem: one field, and the message says what is wrong.
    let mut input = acme(&project, "acme");
    input["baseUrl"] = json!("{{config.nope}}");
    let body = server
        .gql(&server.admin, CREATE, json!({ "i": input }))
        .await;
    assert_eq!(code(&body), "BAD_USER_INPUT");
    let fields = problem_fields(&body);
    assert!(fields.iter().all(|f| f == "input.baseUrl"), "{fields:?}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("config.nope"),
        "{body:#}"
    );

    // A GET with a body parameter, a path parameter that is not required, a slug that
    // belongs to a built-in, a bad $schema dialect.
    let mut input = acme(&project, "acme");
    input["operations"][1]["parameters"][1]["in"] = json!("body");
    input["operations"][1]["parameters"][0]["required"] = json!(false);
    input["configSchema"]["$schema"] = json!("http://json-schema.org/draft-07/schema#");
    let body = server
        .gql(&server.admin, CREATE, json!({ "i": input }))
        .await;
    let fields = problem_fields(&body);
    for expected in [
        "input.operations[1].parameters[1].in",
        "input.operations[1].parameters[0].required",
        "input.configSchema.$schema",
    ] {
        assert!(
            fields.contains(&expected.to_owned()),
            "{expected}: {fields:#?}"
        );
    }
    let body = server
        .gql(
            &server.admin,
            CREATE,
            json!({ "i": acme(&project, "jira") }),
        )
        .await;
    assert_eq!(code(&body), "CONFLICT", "{body:#}");

    // Nothing was written by any refused create.
    assert_eq!(custom_template_count(&server).await, 0);
    // And a valid one is accepted.
    let template = create(&server, &server.admin, acme(&project, "acme")).await;
    assert_eq!(template["state"], "DRAFT");
    assert_eq!(template["supportLevel"], "COMMUNITY");
    assert_eq!(template["builtIn"], false);
    assert_eq!(template["operations"][1]["parameters"][0]["in"], "PATH");
    assert_eq!(custom_template_count(&server).await, 1);
    server.stop().await;
}

async fn published_versions_are_immutable_and_integrations_upgrade(backend: Backend) {
    let server = TestServer::start(backend).await;
    let project = server.create_project("Versions").await;
    let v1 = create(&server, &server.admin, acme(&project, "acme")).await;
    let v1_id = v1["id"].as_str().unwrap().to_owned();

    // A draft cannot be deployed; it is edited in place.
    let deploy = json!({ "templateId": v1_id, "projectId": project, "name": "acme-1",
        "config": { "baseUrl": "https://one.example.com" } });
    let body = server
        .gql(&server.admin, DEPLOY, json!({ "i": deploy }))
        .await;
    assert_eq!(code(&body), "BAD_USER_INPUT");
    assert_eq!(body["errors"][0]["extensions"]["field"], "input.templateId");
    let data = server
        .ok(
            &server.admin,
            UPDATE,
            json!({ "i": { "id": v1_id, "name": "Acme (draft edit)" } }),
        )
        .await;
    assert_eq!(data["updateTemplate"]["template"]["id"], v1_id.as_str());
    assert_eq!(data["updateTemplate"]["template"]["version"], 1);

    let data = server
        .ok(&server.admin, PUBLISH, json!({ "id": v1_id }))
        .await;
    assert_eq!(data["publishTemplate"]["template"]["state"], "PUBLISHED");
    let body = server
        .gql(&server.admin, PUBLISH, json!({ "id": v1_id }))
        .await;
    assert_eq!(code(&body), "CONFLICT");
    let data = server
        .ok(&server.admin, DEPLOY, json!({ "i": deploy }))
        .await;
    let integration = data["deployTemplate"]["integration"].clone();
    let integration_id = integration["id"].as_str().unwrap().to_owned();
    assert_eq!(integration["template"]["version"], 1);
    assert_eq!(integration["baseUrl"], "https://one.example.com/");
    assert_eq!(integration["config"]["team"], "core", "defaults filled in");
    assert_eq!(integration["headers"]["x-team"], "core");
    assert_eq!(integration["healthCheck"]["path"], "/health");
    assert_eq!(integration["rateLimit"]["requestsPerMinute"], 600);

    // Editing a published version makes version 2, a draft; version 1 is unchanged.
    let mut changed_schema = acme(&project, "acme")["configSchema"].clone();
    changed_schema["required"] = json!(["baseUrl", "region"]);
    changed_schema["properties"]["region"] = json!({ "type": "string", "enum": ["eu", "us"] });
    let data = server
        .ok(
            &server.admin,
            UPDATE,
            json!({ "i": { "id": v1_id, "name": "Acme v2", "configSchema": changed_schema,
                "exampleConfig": { "baseUrl": "https://acme.example.com", "region": "eu" },
                "baseUrl": "{{config.baseUrl}}/{{config.region}}" } }),
        )
        .await;
    let v2 = data["updateTemplate"]["template"].clone();
    let v2_id = v2["id"].as_str().unwrap().to_owned();
    assert_ne!(v2_id, v1_id);
    assert_eq!(v2["version"], 2);
    assert_eq!(v2["state"], "DRAFT");
    assert_eq!(v2["current"], false, "the published version stays current");
    let data = server
        .ok(
            &server.admin,
            "query($id: ID!) { template(id: $id) { name version state current } }",
            json!({ "id": v1_id }),
        )
        .await;
    assert_eq!(data["template"]["name"], "Acme (draft edit)");
    assert_eq!(data["template"]["state"], "PUBLISHED");
    // A second draft next to the first is refused.
    let body = server
        .gql(
            &server.admin,
            UPDATE,
            json!({ "i": { "id": v1_id, "name": "again" } }),
        )
        .await;
    assert_eq!(code(&body), "CONFLICT");

    // Upgrading needs a published version; after publishing, the old config no longer
    // validates (region is now required): refused, nothing changed.
    let upgrade = json!({ "i": { "integrationId": integration_id } });
    let body = server.gql(&server.admin, UPGRADE, upgrade.clone()).await;
    assert!(body.get("errors").is_none(), "{body:#}");
    assert_eq!(
        body["data"]["upgradeIntegration"]["integration"]["template"]["version"], 1,
        "v2 is a draft: nothing newer is published"
    );
    server
        .ok(&server.admin, PUBLISH, json!({ "id": v2_id }))
        .await;
    let body = server.gql(&server.admin, UPGRADE, upgrade).await;
    assert_eq!(code(&body), "BAD_USER_INPUT", "{body:#}");
    assert_eq!(body["errors"][0]["extensions"]["field"], "input.config");
    let data = server
        .ok(
            &server.admin,
            "query($id: ID!) { integration(id: $id) { version template { version } } }",
            json!({ "id": integration_id }),
        )
        .await;
    assert_eq!(data["integration"]["template"]["version"], 1);
    assert_eq!(data["integration"]["version"], 1);
    let data = server
        .ok(
            &server.admin,
            UPGRADE,
            json!({ "i": { "integrationId": integration_id,
                "config": { "baseUrl": "https://one.example.com", "region": "eu" } } }),
        )
        .await;
    let upgraded = &data["upgradeIntegration"]["integration"];
    assert_eq!(upgraded["template"]["id"], v2_id.as_str());
    assert_eq!(upgraded["baseUrl"], "https://one.example.com/eu");
    assert_eq!(upgraded["version"], 2);

    // Deprecated versions keep their integrations but take no new deployments.
    server
        .ok(&server.admin, DEPRECATE, json!({ "id": v1_id }))
        .await;
    let body = server
        .gql(&server.admin, DEPLOY, json!({ "i": deploy }))
        .await;
    assert_eq!(code(&body), "BAD_USER_INPUT");
    let data = server
        .ok(&server.admin, "query($id: ID!) { template(id: $id) { usageCount versions { version state } integrations { totalCount } } }", json!({ "id": v2_id }))
        .await;
    assert_eq!(data["template"]["usageCount"], 1);
    assert_eq!(data["template"]["integrations"]["totalCount"], 1);
    assert_eq!(
        data["template"]["versions"],
        json!([{ "version": 1, "state": "DEPRECATED" }, { "version": 2, "state": "PUBLISHED" }])
    );
    // The audit trail has the lifecycle.
    let data = server
        .ok(
            &server.admin,
            "query($t: ID!) { auditLog(filter: { targetId: $t }) { edges { node { action } } } }",
            json!({ "t": v1_id }),
        )
        .await;
    let actions: Vec<&str> = data["auditLog"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["action"].as_str().unwrap())
        .collect();
    for action in [
        "template.create",
        "template.update",
        "template.publish",
        "template.deprecate",
    ] {
        assert!(actions.contains(&action), "{action}: {actions:?}");
    }
    server.stop().await;
}

async fn templates_are_shared_and_isolated_across_projects(backend: Backend) {
    let server = TestServer::start(backend).await;
    let a = server.create_project("Team A").await;
    let b = server.create_project("Team B").await;
    let token_a = server.token(Role::Editor, Some(&a)).await;
    let token_b = server.token(Role::Editor, Some(&b)).await;
    let template = create(&server, &token_a, acme(&a, "acme")).await;
    let id = template["id"].as_str().unwrap().to_owned();
    server.ok(&token_a, PUBLISH, json!({ "id": id })).await;

    // B cannot see, list, deploy or share A's template.
    let read = "query($id: ID!) { template(id: $id) { id } }";
    let body = server.gql(&token_b, read, json!({ "id": id })).await;
    assert_eq!(code(&body), "NOT_FOUND");
    let list = "{ templates(filter: { builtIn: false }) { totalCount edges { node { id } } } }";
    let data = server.ok(&token_b, list, json!({})).await;
    assert_eq!(data["templates"]["totalCount"], 0);
    let deploy = json!({ "i": { "templateId": id, "projectId": b, "name": "acme",
        "config": { "baseUrl": "https://b.example.com" } } });
    let body = server.gql(&token_b, DEPLOY, deploy.clone()).await;
    assert_eq!(code(&body), "NOT_FOUND");
    let body = server
        .gql(
            &token_b,
            SHARE,
            json!({ "i": { "templateId": id, "allProjects": true } }),
        )
        .await;
    assert_eq!(code(&body), "NOT_FOUND");
    // A's token cannot name B (it cannot see B) …
    let body = server
        .gql(
            &token_a,
            SHARE,
            json!({ "i": { "templateId": id, "projectIds": [b] } }),
        )
        .await;
    assert_eq!(code(&body), "NOT_FOUND");
    // … an unscoped editor can.
    let data = server
        .ok(
            &server.admin,
            SHARE,
            json!({ "i": { "templateId": id, "projectIds": [b] } }),
        )
        .await;
    assert_eq!(
        data["shareTemplate"]["template"]["sharing"]["projectIds"],
        json!([b])
    );

    // Now B sees the published version and deploys it, but cannot change it.
    let data = server.ok(&token_b, read, json!({ "id": id })).await;
    assert_eq!(data["template"]["id"], id.as_str());
    let data = server.ok(&token_b, DEPLOY, deploy.clone()).await;
    assert_eq!(
        data["deployTemplate"]["integration"]["template"]["id"],
        id.as_str()
    );
    let body = server
        .gql(
            &token_b,
            UPDATE,
            json!({ "i": { "id": id, "name": "mine" } }),
        )
        .await;
    assert_eq!(code(&body), "FORBIDDEN");
    // A's new draft stays A's: B sees only published versions.
    let data = server
        .ok(
            &token_a,
            UPDATE,
            json!({ "i": { "id": id, "name": "Acme next" } }),
        )
        .await;
    let draft = data["updateTemplate"]["template"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let body = server.gql(&token_b, read, json!({ "id": draft })).await;
    assert_eq!(code(&body), "NOT_FOUND");
    let data = server
        .ok(&token_b, "query($id: ID!) { template(id: $id) { versions { version } sharing { allProjects } } }", json!({ "id": id }))
        .await;
    assert_eq!(data["template"]["versions"], json!([{ "version": 1 }]));
    assert_eq!(
        data["template"]["sharing"],
        Value::Null,
        "sharing is the owner's business"
    );
    // A sees its usage only in projects it sees; the unscoped admin sees B's too.
    let usage = "query($id: ID!) { template(id: $id) { usageCount } }";
    assert_eq!(
        server.ok(&token_a, usage, json!({ "id": id })).await["template"]["usageCount"],
        0
    );
    assert_eq!(
        server.ok(&server.admin, usage, json!({ "id": id })).await["template"]["usageCount"],
        1
    );
    // Built-ins are visible to everyone.
    let data = server
        .ok(
            &token_b,
            "{ template(slug: \"github\") { builtIn supportLevel state } }",
            json!({}),
        )
        .await;
    assert_eq!(
        data["template"],
        json!({ "builtIn": true, "supportLevel": "OFFICIAL", "state": "PUBLISHED" })
    );
    // And read-only.
    let github = server
        .ok(
            &server.admin,
            "{ template(slug: \"github\") { id } }",
            json!({}),
        )
        .await["template"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let body = server
        .gql(
            &server.admin,
            UPDATE,
            json!({ "i": { "id": github, "name": "Mine" } }),
        )
        .await;
    assert_eq!(code(&body), "FORBIDDEN");

    // Unsharing takes it away again.
    server
        .ok(
            &server.admin,
            SHARE,
            json!({ "i": { "templateId": id, "projectIds": [] } }),
        )
        .await;
    let body = server.gql(&token_b, read, json!({ "id": id })).await;
    assert_eq!(code(&body), "NOT_FOUND");
    // Shared with all projects: B sees it again.
    server
        .ok(
            &token_a,
            SHARE,
            json!({ "i": { "templateId": id, "allProjects": true } }),
        )
        .await;
    server.ok(&token_b, read, json!({ "id": id })).await;
    server.stop().await;
}

async fn deploys_with_bad_config_or_credentials_write_nothing(backend: Backend) {
    let server = TestServer::start(backend).await;
    let project = server.create_project("Deploys").await;
    let jira = server
        .ok(
            &server.admin,
            "{ template(slug: \"jira\") { id } }",
            json!({}),
        )
        .await["template"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let bad = json!({ "i": { "templateId": jira, "projectId": project, "name": "Jira",
        "config": { "site": "Not A Site!", "extra": 1 },
        "credentials": { "email": format!("{SECRET_MARKER}-not-an-email"), "apiToken": 5 } } });
    let body = server.gql(&server.admin, DEPLOY, bad).await;
    assert_eq!(code(&body), "BAD_USER_INPUT", "{body:#}");
    let fields = problem_fields(&body);
    for expected in [
        "input.config.site",
        "input.config",
        "input.credentials.email",
        "input.credentials.apiToken",
    ] {
        assert!(
            fields.contains(&expected.to_owned()),
            "{expected}: {fields:#?}"
        );
    }
    // (The harness fails the test if the secret marker came back in the response.)

    // Credentials missing a required field, with a good config.
    let body = server
        .gql(
            &server.admin,
            DEPLOY,
            json!({ "i": { "templateId": jira, "projectId": project, "name": "Jira",
                "config": { "site": "acme" }, "credentials": { "email": "ops@example.com" } } }),
        )
        .await;
    assert_eq!(code(&body), "BAD_USER_INPUT");
    assert_eq!(problem_fields(&body), vec!["input.credentials"]);
    // The same through createIntegration.
    let body = server
        .gql(
            &server.admin,
            "mutation($i: CreateIntegrationInput!) { createIntegration(input: $i) { integration { id } } }",
            json!({ "i": { "templateId": jira, "projectId": project, "name": "Jira", "config": {} } }),
        )
        .await;
    assert_eq!(code(&body), "BAD_USER_INPUT");
    assert_eq!(problem_fields(&body), vec!["input.config"]);
    assert_eq!(integration_count(&server).await, 0, "nothing was written");

    // Good input: credentials sealed and summarised, settings derived from the template.
    let data = server
        .ok(
            &server.admin,
            DEPLOY,
            json!({ "i": { "templateId": jira, "projectId": project,
                "config": { "site": "acme" },
                "credentials": { "email": "ops@example.com", "apiToken": format!("{SECRET_MARKER}-token") } } }),
        )
        .await;
    let integration = &data["deployTemplate"]["integration"];
    assert_eq!(
        integration["name"], "Jira Cloud",
        "the template's name by default"
    );
    assert_eq!(integration["baseUrl"], "https://acme.atlassian.net/");
    assert_eq!(integration["category"], "PROJECT_MANAGEMENT");
    assert_eq!(integration["authKind"], "BASIC");
    assert_eq!(
        integration["credentials"]["setFields"],
        json!(["username", "password"])
    );
    assert_eq!(integration["healthCheck"]["path"], "/rest/api/3/myself");
    assert_eq!(integration["template"]["slug"], "jira");
    assert_eq!(integration_count(&server).await, 1);
    server.stop().await;
}

/// One request the local upstream saw: raw path, query, Authorization, X-Team, body.
type Seen = (
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
);

/// A local upstream that records what it receives.
#[derive(Clone, Default)]
struct Upstream {
    seen: Arc<Mutex<Vec<Seen>>>,
}

async fn comments(
    State(up): State<Upstream>,
    Path(item): Path<String>,
    uri: Uri,
    headers: HeaderMap,
    body: String,
) -> axum::Json<Value> {
    let header = |name: &str| headers.get(name).map(|v| v.to_str().unwrap().to_owned());
    up.seen.lock().unwrap().push((
        uri.path().to_owned(),
        uri.query().map(str::to_owned),
        header("authorization"),
        header("x-team"),
        body,
    ));
    axum::Json(json!({ "item": item, "items": [ { "id": 1 } ] }))
}

async fn start_upstream(up: &Upstream, health: StatusCode) -> String {
    let router = axum::Router::new()
        .route("/api/items/{item}/comments", get(comments).post(comments))
        .route(
            "/api/health",
            get(move || async move { (health, "health") }),
        )
        .with_state(up.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("http://{addr}/api")
}

async fn published_acme(server: &TestServer, project: &str) -> String {
    let template = create(server, &server.admin, acme(project, "acme")).await;
    let id = template["id"].as_str().unwrap().to_owned();
    server.ok(&server.admin, PUBLISH, json!({ "id": id })).await;
    id
}

async fn operations_call_a_real_upstream_with_path_and_query_parameters(backend: Backend) {
    let server = TestServer::start(backend).await;
    let project = server.create_project("Calls").await;
    let up = Upstream::default();
    let base = start_upstream(&up, StatusCode::OK).await;
    let template = published_acme(&server, &project).await;
    let data = server
        .ok(
            &server.admin,
            DEPLOY,
            json!({ "i": { "templateId": template, "projectId": project, "name": "acme",
                "config": { "baseUrl": base, "team": "ops" },
                "credentials": { "token": format!("{SECRET_MARKER}-bearer") }, "testConnection": true } }),
        )
        .await;
    let integration = data["deployTemplate"]["integration"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let data = server
        .ok(
            &server.admin,
            EXEC,
            json!({ "i": { "integrationId": integration, "operation": "listComments",
                "params": { "itemId": "A-1 b?c", "limit": 5 } } }),
        )
        .await;
    let result = &data["executeRequest"];
    assert_eq!(result["ok"], true, "{result:#}");
    assert_eq!(result["body"]["item"], "A-1 b?c");
    let (path, query, auth, team, _) = up.seen.lock().unwrap().last().cloned().unwrap();
    assert_eq!(path, "/api/items/A-1%20b%3Fc/comments");
    assert_eq!(
        query.as_deref(),
        Some("limit=5&order=desc"),
        "given, then defaulted"
    );
    assert_eq!(auth, Some(format!("Bearer {SECRET_MARKER}-bearer")));
    assert_eq!(team.as_deref(), Some("ops"));

    // Body parameters become JSON body fields.
    let data = server
        .ok(
            &server.admin,
            EXEC,
            json!({ "i": { "integrationId": integration, "operation": "addComment",
                "params": { "itemId": "7", "text": "hello" } } }),
        )
        .await;
    assert_eq!(data["executeRequest"]["ok"], true);
    let (_, _, _, _, body) = up.seen.lock().unwrap().last().cloned().unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap(),
        json!({ "text": "hello" })
    );

    // Unknown operation, missing and invalid parameters: clear errors with their paths.
    let seen = up.seen.lock().unwrap().len();
    let body = server
        .gql(
            &server.admin,
            EXEC,
            json!({ "i": { "integrationId": integration, "operation": "nope" } }),
        )
        .await;
    assert_eq!(code(&body), "BAD_USER_INPUT");
    assert_eq!(body["errors"][0]["extensions"]["field"], "input.operation");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("listComments")
    );
    let body = server
        .gql(
            &server.admin,
            EXEC,
            json!({ "i": { "integrationId": integration, "operation": "listComments", "params": { "limit": 500 } } }),
        )
        .await;
    assert_eq!(code(&body), "BAD_USER_INPUT");
    let fields = problem_fields(&body);
    assert!(
        fields.contains(&"input.params.itemId".to_owned()),
        "{fields:?}"
    );
    assert!(
        fields.contains(&"input.params.limit".to_owned()),
        "{fields:?}"
    );
    let body = server
        .gql(
            &server.admin,
            EXEC,
            json!({ "i": { "integrationId": integration, "operation": "listComments", "path": "/x" } }),
        )
        .await;
    assert_eq!(code(&body), "BAD_USER_INPUT");
    assert_eq!(
        up.seen.lock().unwrap().len(),
        seen,
        "refused calls never went out"
    );

    // A hand-made integration has no operations.
    let plain = server.create_integration(&project, "plain").await;
    let body = server
        .gql(
            &server.admin,
            EXEC,
            json!({ "i": { "integrationId": plain, "operation": "listComments" } }),
        )
        .await;
    assert_eq!(code(&body), "BAD_USER_INPUT");
    assert_eq!(body["errors"][0]["extensions"]["field"], "input.operation");
    server.stop().await;
}

async fn the_connection_test_refuses_a_failing_upstream(backend: Backend) {
    let server = TestServer::start(backend).await;
    let project = server.create_project("Connect").await;
    let up = Upstream::default();
    let failing = start_upstream(&up, StatusCode::UNAUTHORIZED).await;
    let template = published_acme(&server, &project).await;
    let deploy = |base: &str| {
        json!({ "i": { "templateId": template, "projectId": project, "name": "acme",
            "config": { "baseUrl": base }, "credentials": { "token": uuid::Uuid::new_v4().to_string() },
            "testConnection": true } })
    };
    let body = server.gql(&server.admin, DEPLOY, deploy(&failing)).await;
    assert_eq!(code(&body), "BAD_USER_INPUT", "{body:#}");
    assert_eq!(
        body["errors"][0]["extensions"]["field"],
        "input.testConnection"
    );
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("401") && message.contains("/health"),
        "{message}"
    );
    // Nothing listens here: the test says the connection failed.
    let body = server
        .gql(&server.admin, DEPLOY, deploy("http://127.0.0.1:9/api"))
        .await;
    assert_eq!(code(&body), "BAD_USER_INPUT");
    assert_eq!(integration_count(&server).await, 0, "nothing was saved");
    // Without the test, the same integration is saved.
    let mut untested = deploy(&failing);
    untested["i"]["testConnection"] = json!(false);
    server.ok(&server.admin, DEPLOY, untested).await;
    assert_eq!(integration_count(&server).await, 1);
    server.stop().await;
}

async fn every_builtin_template_is_listed_and_deployable(backend: Backend) {
    let server = TestServer::start(backend).await;
    let project = server.create_project("Catalog").await;
    let viewer = server.token(Role::Viewer, Some(&project)).await;
    let data = server
        .ok(
            &viewer,
            "{ templates(filter: { builtIn: true }, first: 500) { totalCount edges { node { slug state supportLevel version healthCheck { operation } operations { name } } } } }",
            json!({}),
        )
        .await;
    let total = data["templates"]["totalCount"].as_i64().unwrap();
    assert!(total >= 45, "{total} built-ins");
    let edges = data["templates"]["edges"].as_array().unwrap();
    assert_eq!(edges.len() as i64, total);
    for edge in edges {
        let node = &edge["node"];
        assert_eq!(node["state"], "PUBLISHED");
        assert_eq!(node["supportLevel"], "OFFICIAL");
        let ops: Vec<&str> = node["operations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["name"].as_str().unwrap())
            .collect();
        assert!(ops.len() >= 2, "{node}");
        assert!(
            ops.contains(&node["healthCheck"]["operation"].as_str().unwrap()),
            "{node}"
        );
    }
    let data = server
        .ok(&viewer, "{ templates(filter: { search: \"atlassian\", category: PROJECT_MANAGEMENT }) { edges { node { slug } } } }", json!({}))
        .await;
    assert_eq!(
        data["templates"]["edges"],
        json!([{ "node": { "slug": "jira" } }])
    );
    // A restart writes nothing new: the same IDs, one version each.
    let slack = server
        .ok(
            &viewer,
            "{ template(slug: \"slack\") { id version } }",
            json!({}),
        )
        .await["template"]
        .clone();
    assert_eq!(slack["version"], 1);
    // Every built-in deploys with its own example config (the generic REST one included).
    for slug in ["generic-rest", "openai", "slack"] {
        let template = server
            .ok(
                &server.admin,
                "query($s: String!) { template(slug: $s) { id exampleConfig } }",
                json!({ "s": slug }),
            )
            .await["template"]
            .clone();
        let data = server
            .ok(
                &server.admin,
                DEPLOY,
                json!({ "i": { "templateId": template["id"], "projectId": project, "config": template["exampleConfig"] } }),
            )
            .await;
        assert!(
            data["deployTemplate"]["integration"]["baseUrl"]
                .as_str()
                .unwrap()
                .starts_with("https://")
        );
        assert_eq!(data["deployTemplate"]["integration"]["kind"], slug);
    }
    // `kind` names what each integration is, on a page of several (one template read for
    // the page, through the loader); one configured by hand is `custom`.
    server
        .ok(
            &server.admin,
            "mutation($p: ID!) { createIntegration(input: { projectId: $p, name: \"by hand\", category: CUSTOM, baseUrl: \"https://api.example.com\" }) { integration { id } } }",
            json!({ "p": project }),
        )
        .await;
    let data = server
        .ok(
            &viewer,
            "query($p: ID) { integrations(projectId: $p, first: 10) { nodes { name kind template { slug } } } }",
            json!({ "p": project }),
        )
        .await;
    let nodes = data["integrations"]["nodes"].as_array().unwrap();
    let mut kinds: Vec<&str> = nodes.iter().map(|n| n["kind"].as_str().unwrap()).collect();
    kinds.sort_unstable();
    assert_eq!(kinds, ["custom", "generic-rest", "openai", "slack"]);
    for node in nodes {
        match node["template"]["slug"].as_str() {
            Some(slug) => assert_eq!(node["kind"], slug),
            None => assert_eq!(
                (&node["name"], &node["kind"]),
                (&json!("by hand"), &json!("custom"))
            ),
        }
    }
    server.stop().await;
}
