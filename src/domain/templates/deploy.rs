//! From a template to an integration: config and credentials checked against the
//! template's schemas (every problem with its path, nothing written on failure), the
//! settings derived from them (base URL, headers, health check, rate limit), the
//! credentials mapped onto patchbay's credential kinds, and a template operation turned
//! into a concrete call (`executeRequest(input: { operation, params })`).

use std::collections::BTreeMap;

use async_graphql::{ID, InputObject, Json};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Map, Value};

use super::definition::{self, Definition, OperationDef, ParameterLocation};
use super::{Template, TemplateState};
use crate::app::App;
use crate::domain::access::{Caller, Role};
use crate::domain::call_options::{ConnectionCheck, HttpMethod};
use crate::domain::credentials::{
    ApiKeyInput, BasicInput, BearerInput, CredentialsInput, CustomCredentialsInput, OAuth2Input,
};
use crate::domain::health::HealthCheck;
use crate::domain::integrations::{Integration, RateLimit};
use crate::domain::{Category, Protocol, validate};
use crate::domain::{health, integrations};
use crate::error::{AppError, AppResult, FieldProblem};
use crate::ids::IdKind;
use crate::outbound::engine;
use crate::store::Store;
use crate::vault::credentials::{ApiKeyLocation, CredentialSecret};

/// Path segments keep only unreserved characters (RFC 3986) unencoded.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Input of `deployTemplate`: an integration made from a published template version.
#[derive(Debug, InputObject)]
pub struct DeployTemplateInput {
    pub template_id: ID,
    pub project_id: ID,
    /// Unique within the project (default: the template's name).
    pub name: Option<String>,
    pub description: Option<String>,
    pub tags: Option<Vec<String>>,
    /// Settings checked against the template's configSchema (defaults filled in).
    pub config: Option<Json<Value>>,
    /// Secret fields checked against the template's credentialSchema, sealed in the vault.
    pub credentials: Option<Json<Value>>,
    /// Run the template's health-check operation first; refuse to save if it fails.
    pub test_connection: Option<bool>,
}

/// Input of `upgradeIntegration`: move an integration to another version of its template.
#[derive(Debug, InputObject)]
pub struct UpgradeIntegrationInput {
    pub integration_id: ID,
    /// The version to move to (default: the template's newest published version).
    pub template_id: Option<ID>,
    /// A new config (default: the current one, checked against the new version's schema).
    pub config: Option<Json<Value>>,
}

/// What a template makes of a config and credentials.
pub struct Derived {
    pub template: Template,
    pub category: Category,
    pub protocol: Protocol,
    pub config: Map<String, Value>,
    pub base_url: String,
    pub headers: BTreeMap<String, String>,
    pub health_check: HealthCheck,
    pub connection_check: ConnectionCheck,
    pub rate_limit: Option<RateLimit>,
    /// `None`: no credentials given (set them later with setCredentials).
    pub secret: Option<CredentialSecret>,
}

/// Loads the template version `template_id` for deploying into `project_id`: visible to
/// that project (NOT_FOUND otherwise) and PUBLISHED.
pub async fn deployable(store: &Store, project_id: &str, template_id: &str) -> AppResult<Template> {
    let id = validate::id("input.templateId", template_id, IdKind::Template)?;
    let visible =
        crate::store::templates::is_visible(store, &id, &super::visibility_of_project(project_id))
            .await?;
    let template = match super::get_unchecked(store, &id).await? {
        Some(template) if visible => template,
        _ => return Err(AppError::not_found("template", id)),
    };
    if template.state != TemplateState::Published {
        return Err(AppError::invalid(
            "input.templateId",
            format!(
                "version {} of template `{}` is {}; only a PUBLISHED version can be deployed",
                template.version,
                template.definition.slug,
                template.state.as_str()
            ),
        ));
    }
    Ok(template)
}

/// Checks `config` (and `credentials`, when given) against the template's schemas and
/// derives the integration's settings. Every problem is reported, under `input.config`
/// and `input.credentials`; credential values never appear in messages.
pub fn derive(
    template: Template,
    config: Option<Value>,
    credentials: Option<Value>,
) -> AppResult<Derived> {
    let d = template.definition.clone();
    let mut problems = Vec::new();
    let config = config.unwrap_or_else(|| Value::Object(Map::new()));
    let mut config_map = match &config {
        Value::Object(map) => map.clone(),
        _ => {
            problems.push(FieldProblem::new("input.config", "must be a JSON object"));
            Map::new()
        }
    };
    if config.is_object() {
        problems.extend(schema_problems(
            &d.config_schema,
            &config,
            "input.config",
            false,
        )?);
    }
    let credentials = match credentials {
        None | Some(Value::Null) => None,
        Some(value @ Value::Object(_)) => {
            problems.extend(schema_problems(
                &d.credential_schema,
                &value,
                "input.credentials",
                true,
            )?);
            Some(value)
        }
        Some(_) => {
            problems.push(FieldProblem::new(
                "input.credentials",
                "must be a JSON object",
            ));
            None
        }
    };
    if !problems.is_empty() {
        return Err(AppError::invalid_all(problems));
    }
    for (key, value) in d.config_defaults() {
        config_map.entry(key).or_insert(value);
    }
    let config_map = validate::json_object("input.config", Value::Object(config_map))?;
    let empty = Map::new();
    let values = BTreeMap::from([("config", &config_map), ("credentials", &empty)]);
    let base_url = validate::base_url("input.config", &definition::render(&d.base_url, &values))
        .map_err(|e| reword(e, "the base URL made from config is not valid"))?;
    let headers: Map<String, Value> = d
        .headers
        .iter()
        .map(|(name, value)| {
            (
                name.clone(),
                Value::from(definition::render(value, &values)),
            )
        })
        .collect();
    let headers = validate::headers("input.config", Value::Object(headers))
        .map_err(|e| reword(e, "a header made from config is not valid"))?;
    let (health_check, connection_check) = health_check(&d, &config_map)?;
    let rate_limit = d
        .rate_limit
        .as_ref()
        .and_then(|r| r.requests_per_minute)
        .map(|per_minute| RateLimit {
            requests_per_minute: per_minute,
            burst: (per_minute / 10).max(1),
        });
    let secret = match credentials {
        Some(Value::Object(fields)) => map_credentials(&d, &config_map, &fields)?,
        _ => None,
    };
    Ok(Derived {
        category: d.category,
        protocol: d.protocol,
        template,
        config: config_map,
        base_url,
        headers,
        health_check,
        connection_check,
        rate_limit,
        secret,
    })
}

fn reword(err: AppError, what: &str) -> AppError {
    match err {
        AppError::BadUserInput { message, field } => AppError::BadUserInput {
            message: format!("{what}: {message}"),
            field,
        },
        other => other,
    }
}

fn schema_problems(
    schema: &Value,
    instance: &Value,
    base: &str,
    masked: bool,
) -> AppResult<Vec<FieldProblem>> {
    // Stored templates were checked when saved; a schema that no longer compiles is ours.
    let validator = definition::compile(schema)
        .map_err(|e| AppError::internal(anyhow::anyhow!("stored template schema: {e}")))?;
    Ok(definition::instance_problems(
        &validator, instance, base, masked,
    ))
}

/// The scheduled health check and the connection check from the template's health-check
/// operation (a `healthPath` config key, as generic-rest has, overrides its path).
fn health_check(
    d: &Definition,
    config: &Map<String, Value>,
) -> AppResult<(HealthCheck, ConnectionCheck)> {
    let op = d.operation(&d.health_check.operation).ok_or_else(|| {
        AppError::internal(anyhow::anyhow!("stored template lost its health operation"))
    })?;
    let call = operation_call(op, &Map::new())?;
    let mut path = call.path_with_query();
    if let Some(Value::String(custom)) = config.get("healthPath")
        && d.config_schema.pointer("/properties/healthPath").is_some()
    {
        path = custom.clone();
    }
    let health = HealthCheck {
        method: op.method,
        path: path.clone(),
        expected_status: d.health_check.expected_status.clone(),
        max_latency_ms: d.health_check.max_latency_ms,
        body_condition: None,
        interval_seconds: 300,
        timeout_ms: 3000,
        failure_threshold: 3,
        success_threshold: 2,
        body: call.body.map(Json),
    };
    let connection = ConnectionCheck {
        method: op.method,
        path,
        expected_status: d.health_check.expected_status.clone(),
    };
    Ok((health, connection))
}

/// Maps credential fields onto a patchbay credential kind through `credentialMapping`,
/// with the same checks as `setCredentials`.
fn map_credentials(
    d: &Definition,
    config: &Map<String, Value>,
    fields: &Map<String, Value>,
) -> AppResult<Option<CredentialSecret>> {
    let Some(mapping) = &d.credential_mapping else {
        return Ok(None);
    };
    let values = BTreeMap::from([("config", config), ("credentials", fields)]);
    let text = |key: &str| {
        mapping
            .get(key)
            .and_then(Value::as_str)
            .map(|t| definition::render(t, &values))
            .unwrap_or_default()
    };
    let input = match mapping.get("kind").and_then(Value::as_str) {
        Some("NONE") | None => return Ok(None),
        Some("API_KEY") => CredentialsInput::ApiKey(ApiKeyInput {
            value: text("value"),
            location: if text("in") == "QUERY" {
                ApiKeyLocation::Query
            } else {
                ApiKeyLocation::Header
            },
            name: text("name"),
        }),
        Some("BEARER") => CredentialsInput::Bearer(BearerInput {
            token: text("token"),
        }),
        Some("BASIC") => CredentialsInput::Basic(BasicInput {
            username: text("username"),
            password: text("password"),
        }),
        Some("CUSTOM") => {
            let headers: Map<String, Value> = mapping
                .get("headers")
                .and_then(Value::as_object)
                .map(|h| {
                    h.iter()
                        .map(|(name, v)| {
                            let value = v.as_str().map(|t| definition::render(t, &values));
                            (name.clone(), Value::from(value.unwrap_or_default()))
                        })
                        .collect()
                })
                .unwrap_or_default();
            CredentialsInput::Custom(CustomCredentialsInput {
                headers: Json(Value::Object(headers)),
            })
        }
        Some("OAUTH2") => {
            let oauth = d.oauth2.as_ref().ok_or_else(|| {
                AppError::internal(anyhow::anyhow!("OAUTH2 template without its oauth2 block"))
            })?;
            CredentialsInput::Oauth2(OAuth2Input {
                client_id: text("clientId"),
                client_secret: Some(text("clientSecret")).filter(|s| !s.is_empty()),
                token_url: definition::render(&oauth.token_url, &values),
                scopes: Some(oauth.scopes.clone()),
                access_token: None,
                refresh_token: None,
                expires_at: None,
                // The template's `oauth2.authorizeUrl` is read from the template.
                authorize_url: None,
            })
        }
        Some(other) => {
            return Err(AppError::invalid(
                "input.credentials",
                format!(
                    "{other} credentials cannot be stored yet (request signing is not implemented); deploy without credentials"
                ),
            ));
        }
    };
    crate::domain::credentials::validate(input)
}

/// Makes an integration from a template version (EDITOR in the project): the same path
/// as `createIntegration(input: { templateId, … })`.
pub async fn deploy(
    app: &App,
    caller: &Caller,
    input: DeployTemplateInput,
) -> AppResult<Integration> {
    caller.principal.require(Role::Editor)?;
    let project_id = validate::id("input.projectId", &input.project_id, IdKind::Project)?;
    crate::domain::projects::get(&app.store, caller, &project_id).await?;
    let template = deployable(&app.store, &project_id, &input.template_id).await?;
    let name = input
        .name
        .unwrap_or_else(|| template.definition.name.clone());
    let mut create = integrations::CreateIntegrationInput::minimal(
        &project_id,
        name,
        template.definition.category,
    );
    create.category = None;
    create.template_id = Some(input.template_id);
    create.description = input.description;
    create.tags = input.tags;
    create.config = input.config;
    create.credentials = input.credentials;
    create.test_connection = input.test_connection;
    integrations::create(app, caller, create).await
}

/// Sends the template's health-check request with credentials not stored yet; refuses
/// (BAD_USER_INPUT on `input.testConnection`, saying why) when it fails. Nothing is
/// recorded: the integration does not exist yet.
pub async fn test_before_saving(
    app: &App,
    integration: &Integration,
    secret: Option<&CredentialSecret>,
) -> AppResult<()> {
    let Some(check) = &integration.call_options.health_check else {
        return Err(AppError::invalid(
            "input.testConnection",
            "there is no health check to test the connection with",
        ));
    };
    let request = engine::Request {
        method: check.method,
        path: check.path.clone(),
        query: Vec::new(),
        headers: http::HeaderMap::new(),
        body: check
            .body
            .as_ref()
            .map(|b| (b.0.to_string().into_bytes(), "application/json")),
        timeout: std::time::Duration::from_millis(check.timeout_ms.max(100) as u64),
        idempotency_key: None,
        cache: Some(false),
        retries: false,
    };
    let target = engine::Target {
        integration_id: &integration.id,
        version: integration.version,
        base_url: integration.base_url.as_deref(),
        headers: &integration.headers,
        allow_absolute_urls: false,
        oauth2: false,
        retry_policy: &integration.retry_policy,
        rate_limit: None,
        cache: &integration.cache,
        unsaved_credentials: secret,
    };
    let (answer, latency_ms) = match engine::send(&app.outbound, &target, request).await {
        Ok(sent) => (
            sent.answer.map_err(|e| e.message),
            sent.latency.as_millis().min(i64::MAX as u128) as i64,
        ),
        Err(engine::OutboundError::Target(e)) => (Err(e.to_string()), 0),
        Err(engine::OutboundError::Vault(e)) => return Err(AppError::internal(e)),
    };
    // The check's latency limit marks a slow pass DEGRADED later; a slow answer still connects.
    match health::judge(check, &answer, latency_ms) {
        health::Signal::Fail { error } => Err(AppError::invalid(
            "input.testConnection",
            format!(
                "the connection test failed ({} {}): {error}; nothing was saved",
                check.method.as_str(),
                check.path
            ),
        )),
        _ => Ok(()),
    }
}

/// Moves an integration to another version of its template (EDITOR): the config is
/// checked against that version's schema, and base URL, headers, health check, connection
/// check and rate limit are derived again; credentials stay as they are.
pub async fn upgrade(
    app: &App,
    caller: &Caller,
    input: UpgradeIntegrationInput,
) -> AppResult<Integration> {
    caller.principal.require(Role::Editor)?;
    let current = integrations::get(&app.store, caller, &input.integration_id).await?;
    let pinned = match &current.template_id {
        Some(id) => super::get_unchecked(&app.store, id).await?,
        None => None,
    };
    let Some(pinned) = pinned else {
        return Err(AppError::invalid(
            "input.integrationId",
            format!(
                "integration `{}` was not made from a template",
                current.name
            ),
        ));
    };
    let target = match &input.template_id {
        Some(id) => {
            let id = validate::id("input.templateId", id, IdKind::Template)?;
            let target = super::get_unchecked(&app.store, &id)
                .await?
                .filter(|t| t.family_id == pinned.family_id)
                .ok_or_else(|| {
                    AppError::invalid(
                        "input.templateId",
                        "not a version of this integration's template",
                    )
                })?;
            if target.state != TemplateState::Published {
                return Err(AppError::invalid(
                    "input.templateId",
                    format!(
                        "version {} is {}; only a PUBLISHED version can be used",
                        target.version,
                        target.state.as_str()
                    ),
                ));
            }
            target
        }
        None => super::latest_published(&app.store, &pinned.family_id)
            .await?
            .ok_or_else(|| {
                AppError::Conflict("the template has no published version".to_owned())
            })?,
    };
    if target.id == pinned.id && input.config.is_none() {
        return Ok(current);
    }
    let config = input
        .config
        .map(|c| c.0)
        .unwrap_or_else(|| Value::Object(current.config.clone()));
    let derived = derive(target, Some(config), None)?;
    let mut next = current.clone();
    next.template_id = Some(derived.template.id.clone());
    next.config = derived.config;
    next.base_url = Some(derived.base_url);
    next.headers = derived.headers;
    next.rate_limit = derived.rate_limit.or(current.rate_limit.clone());
    next.call_options.health_check = Some(derived.health_check);
    next.call_options.connection_check = Some(derived.connection_check);
    integrations::save(
        app,
        caller,
        current,
        next,
        "integration upgraded",
        "integration.upgrade",
        &[
            "template",
            "config",
            "baseUrl",
            "headers",
            "healthCheck",
            "rateLimit",
        ],
    )
    .await
}

/// A template operation made concrete.
#[derive(Debug, Clone)]
pub struct OperationCall {
    pub method: HttpMethod,
    /// The path with its parameters substituted (percent-encoded).
    pub path: String,
    pub query: Vec<(String, String)>,
    pub body: Option<Value>,
}

impl OperationCall {
    fn path_with_query(&self) -> String {
        if self.query.is_empty() {
            return self.path.clone();
        }
        let query: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(self.query.iter())
            .finish();
        format!("{}?{query}", self.path)
    }
}

/// The call an operation of an integration's template makes with `params` (checked
/// against each parameter's schema; every problem under `input.params`).
pub async fn call_for(
    store: &Store,
    integration: &Integration,
    operation: &str,
    params: Option<Value>,
) -> AppResult<OperationCall> {
    let template = match &integration.template_id {
        Some(id) => super::get_unchecked(store, id).await?,
        None => None,
    };
    let Some(template) = template else {
        return Err(AppError::invalid(
            "input.operation",
            format!(
                "integration `{}` was not made from a template; give a path instead",
                integration.name
            ),
        ));
    };
    let Some(op) = template.definition.operation(operation) else {
        let known: Vec<&str> = template
            .definition
            .operations
            .iter()
            .map(|o| o.name.as_str())
            .collect();
        return Err(AppError::invalid(
            "input.operation",
            format!(
                "template `{}` has no operation `{operation}`; it has: {}",
                template.definition.slug,
                known.join(", ")
            ),
        ));
    };
    let params = match params {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(map)) => map,
        Some(_) => return Err(AppError::invalid("input.params", "must be a JSON object")),
    };
    operation_call(op, &params)
}

/// Checks `params` against `op`'s parameters and builds the call.
pub fn operation_call(op: &OperationDef, params: &Map<String, Value>) -> AppResult<OperationCall> {
    let mut problems = Vec::new();
    for name in params.keys() {
        if !op.parameters.iter().any(|p| &p.name == name) {
            let known: Vec<&str> = op.parameters.iter().map(|p| p.name.as_str()).collect();
            problems.push(FieldProblem::new(
                definition::jpath("input.params", name),
                format!(
                    "`{}` has no parameter `{name}` (it has: {})",
                    op.name,
                    if known.is_empty() {
                        "none".to_owned()
                    } else {
                        known.join(", ")
                    }
                ),
            ));
        }
    }
    let mut path = op.path.clone();
    let mut query = Vec::new();
    let mut body = op.body.as_ref().map(|b| b.0.clone());
    for param in &op.parameters {
        let field = definition::jpath("input.params", &param.name);
        let given = params.get(&param.name).filter(|v| !v.is_null());
        let value = match given {
            Some(value) => {
                let validator = definition::compile(&param.schema.0).map_err(|e| {
                    AppError::internal(anyhow::anyhow!("stored parameter schema: {e}"))
                })?;
                problems.extend(definition::instance_problems(
                    &validator, value, &field, false,
                ));
                value.clone()
            }
            None => match param
                .schema
                .0
                .get("const")
                .or_else(|| param.schema.0.get("default"))
            {
                Some(fallback) => fallback.clone(),
                None if param.required => {
                    problems.push(FieldProblem::new(
                        &field,
                        format!("is required by `{}`", op.name),
                    ));
                    continue;
                }
                None => continue,
            },
        };
        match param.location {
            ParameterLocation::Path => {
                let text = scalar_text(&value);
                // One segment each: the engine refuses paths that climb or hide a `/`.
                if text.is_empty() || text == "." || text == ".." || text.contains(['/', '\\']) {
                    problems.push(FieldProblem::new(
                        &field,
                        "a path parameter is one non-empty path segment (no `/`, `\\`, `.` or `..`)",
                    ));
                    continue;
                }
                let encoded = utf8_percent_encode(&text, SEGMENT).to_string();
                path = path.replace(&format!("{{{}}}", param.name), &encoded);
            }
            ParameterLocation::Query => match &value {
                Value::Array(items) => {
                    for item in items {
                        query.push((param.name.clone(), scalar_text(item)));
                    }
                }
                other => query.push((param.name.clone(), scalar_text(other))),
            },
            ParameterLocation::Body => {
                let object = body.get_or_insert_with(|| Value::Object(Map::new()));
                if let Value::Object(map) = object {
                    map.insert(param.name.clone(), value);
                }
            }
        }
    }
    if !problems.is_empty() {
        return Err(AppError::invalid_all(problems));
    }
    Ok(OperationCall {
        method: op.method,
        path,
        query,
        body,
    })
}

/// A parameter value as text: strings as they are, anything else as JSON.
fn scalar_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn op() -> OperationDef {
        serde_json::from_value(json!({
            "name": "listComments", "method": "GET", "path": "/issues/{key}/comments",
            "parameters": [
                { "name": "key", "in": "path", "required": true, "schema": { "type": "string" } },
                { "name": "limit", "in": "query", "schema": { "type": "integer", "maximum": 100 } },
                { "name": "expand", "in": "query", "schema": { "type": "string", "default": "all" } }
            ]
        }))
        .unwrap()
    }

    #[test]
    fn parameters_are_substituted_encoded_and_defaulted() {
        let params = json!({ "key": "A B?1", "limit": 5 });
        let call = operation_call(&op(), params.as_object().unwrap()).unwrap();
        assert_eq!(call.path, "/issues/A%20B%3F1/comments");
        let slash = json!({ "key": "a/b" });
        assert!(operation_call(&op(), slash.as_object().unwrap()).is_err());
        assert_eq!(
            call.query,
            vec![
                ("limit".into(), "5".into()),
                ("expand".into(), "all".into())
            ]
        );
        assert!(call.body.is_none());
    }

    #[test]
    fn every_parameter_problem_is_reported() {
        let params = json!({ "limit": 500, "nope": 1 });
        let err = operation_call(&op(), params.as_object().unwrap()).unwrap_err();
        let AppError::InvalidFields(problems) = err else {
            panic!("{err:?}")
        };
        let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        assert!(fields.contains(&"input.params.key"), "{fields:?}");
        assert!(fields.contains(&"input.params.limit"), "{fields:?}");
        assert!(fields.contains(&"input.params.nope"), "{fields:?}");
    }
}
