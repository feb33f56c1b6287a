//! The template document (`templates/README.md` describes its format) and the checks that
//! make one valid. The same checks run on the built-in files at start-up (paths from `$`)
//! and on `createTemplate`/`updateTemplate` input (paths from `input`); every problem is
//! reported with its JSON path, never only the first. This is the Rust twin of
//! `templates/validate.py`: keep the two in step.

use std::collections::{BTreeMap, BTreeSet};

use async_graphql::{Enum, Json, SimpleObject};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::domain::call_options::HttpMethod;
use crate::domain::{Category, Protocol, stored_enum};
use crate::error::FieldProblem;

/// The JSON Schema dialect templates are written in.
pub const DRAFT_2020_12: &str = "https://json-schema.org/draft/2020-12/schema";
const MAX_OPERATIONS: usize = 200;
const MAX_DOCUMENT_BYTES: usize = 256 * 1024;

stored_enum! {
    /// How a template's integrations authenticate (AWS_SIGV4 is declared by templates;
    /// patchbay does not sign with it yet).
    TemplateAuthKind {
        None,
        ApiKey,
        Bearer,
        Basic,
        #[graphql(name = "OAUTH2")]
        #[strum(serialize = "OAUTH2")]
        #[serde(rename = "OAUTH2")]
        Oauth2,
        Custom,
        #[graphql(name = "AWS_SIGV4")]
        #[strum(serialize = "AWS_SIGV4")]
        #[serde(rename = "AWS_SIGV4")]
        AwsSigv4,
    }
}

/// Where an operation parameter goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ParameterLocation {
    /// Substituted (percent-encoded) for `{name}` in the path.
    Path,
    /// Appended to the query string.
    Query,
    /// A top-level field of the JSON body.
    Body,
}

/// How an operation pages through results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PaginationStyle {
    Cursor,
    Page,
    Offset,
    LinkHeader,
}

/// One parameter of an operation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, SimpleObject)]
#[graphql(name = "TemplateParameter")]
#[serde(rename_all = "camelCase")]
pub struct ParameterDef {
    pub name: String,
    #[serde(rename = "in")]
    #[graphql(name = "in")]
    pub location: ParameterLocation,
    #[serde(default)]
    pub required: bool,
    /// JSON Schema 2020-12 of the value; its `const` or `default` is sent when none is given.
    pub schema: Json<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// How an operation pages, and where its fields are.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, SimpleObject)]
#[graphql(name = "TemplatePagination")]
#[serde(rename_all = "camelCase")]
pub struct PaginationDef {
    pub style: PaginationStyle,
    /// RFC 6901 pointer to the page's items.
    pub items_pointer: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor_param: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor_pointer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor_from_last_item: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_param: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_page: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset_param: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit_param: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_pointer: Option<String>,
    /// The response is XML (pointers address it converted to JSON).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub xml: Option<bool>,
}

/// A call a template offers by name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, SimpleObject)]
#[graphql(name = "TemplateOperation")]
#[serde(rename_all = "camelCase")]
pub struct OperationDef {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub method: HttpMethod,
    /// Appended to the base URL; `{param}` names a path parameter.
    pub path: String,
    #[serde(default)]
    pub parameters: Vec<ParameterDef>,
    /// A fixed JSON body; body parameters are merged over it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Json<Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pagination: Option<PaginationDef>,
}

/// The operation a health check calls and what a passing answer is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, SimpleObject)]
#[graphql(name = "TemplateHealthCheck")]
#[serde(rename_all = "camelCase")]
pub struct HealthCheckDef {
    pub operation: String,
    pub expected_status: Vec<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_latency_ms: Option<i32>,
}

/// A provider's rate-limit hints (client-side pacing).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, SimpleObject)]
#[graphql(name = "TemplateRateLimit")]
#[serde(rename_all = "camelCase")]
pub struct RateLimitHint {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requests_per_minute: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remaining_header: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reset_header: Option<String>,
}

/// Where OAuth2 authorization happens (URLs may use `{{config.<key>}}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, SimpleObject)]
#[graphql(name = "TemplateOAuth2")]
#[serde(rename_all = "camelCase")]
pub struct OAuth2Def {
    pub authorize_url: String,
    pub token_url: String,
    pub scopes: Vec<String>,
}

/// How the provider's incoming webhooks are verified and named.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, SimpleObject)]
#[graphql(name = "TemplateIncomingWebhooks")]
#[serde(rename_all = "camelCase")]
pub struct IncomingWebhooksDef {
    /// GITHUB, SLACK, STANDARD_WEBHOOKS or SHARED_TOKEN.
    pub scheme: String,
    /// `header:<Name>` or `body:<JSON pointer>`.
    pub event_name_source: String,
}

/// A valid template document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Definition {
    pub slug: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub category: Category,
    #[serde(default = "rest")]
    pub protocol: Protocol,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icon: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub docs_url: Option<String>,
    pub auth_kinds: Vec<TemplateAuthKind>,
    pub config_schema: Value,
    pub credential_schema: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_mapping: Option<Map<String, Value>>,
    pub example_config: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub example_credentials: Option<Value>,
    pub base_url: String,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    pub operations: Vec<OperationDef>,
    pub health_check: HealthCheckDef,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<RateLimitHint>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oauth2: Option<OAuth2Def>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incoming_webhooks: Option<IncomingWebhooksDef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_events: Option<Vec<String>>,
}

fn rest() -> Protocol {
    Protocol::Rest
}

impl Definition {
    pub fn operation(&self, name: &str) -> Option<&OperationDef> {
        self.operations.iter().find(|op| op.name == name)
    }

    /// The config keys' defaults from `configSchema.properties.*.default`.
    pub fn config_defaults(&self) -> Map<String, Value> {
        defaults_of(&self.config_schema)
    }
}

fn defaults_of(schema: &Value) -> Map<String, Value> {
    schema
        .get("properties")
        .and_then(Value::as_object)
        .map(|props| {
            props
                .iter()
                .filter_map(|(k, v)| v.get("default").map(|d| (k.clone(), d.clone())))
                .collect()
        })
        .unwrap_or_default()
}

/// Which rules apply: the built-in files are held to the catalog's stricter format.
#[derive(Debug, Clone, Copy)]
pub struct Rules {
    pub built_in: bool,
}

/// Checks a template document; the typed definition, or every problem with its path
/// (`root` is `$` for files, `input` for API input).
pub fn check(
    doc: &Value,
    root: &str,
    rules: Rules,
    expected_slug: Option<&str>,
) -> Result<Definition, Vec<FieldProblem>> {
    let mut checker = Checker {
        root,
        rules,
        problems: Vec::new(),
        doc: &EMPTY,
    };
    let Some(map) = doc.as_object() else {
        return Err(vec![FieldProblem::new(root, "must be a JSON object")]);
    };
    let size = serde_json::to_vec(doc)
        .map(|v| v.len())
        .unwrap_or(usize::MAX);
    if size > MAX_DOCUMENT_BYTES {
        return Err(vec![FieldProblem::new(
            root,
            format!("a template is at most {MAX_DOCUMENT_BYTES} bytes of JSON"),
        )]);
    }
    checker.doc = map;
    checker.run(expected_slug);
    if !checker.problems.is_empty() {
        return Err(checker.problems);
    }
    serde_json::from_value(doc.clone())
        .map_err(|e| vec![FieldProblem::new(root, format!("not a template: {e}"))])
}

static EMPTY: std::sync::LazyLock<Map<String, Value>> = std::sync::LazyLock::new(Map::new);

/// Extends a JSON path with an object key (`.key`, or `["odd key"]`).
pub fn jpath(base: &str, key: &str) -> String {
    let identifier = key
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$')
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$');
    if identifier {
        format!("{base}.{key}")
    } else {
        format!("{base}[{}]", Value::from(key))
    }
}

fn jindex(base: &str, index: usize) -> String {
    format!("{base}[{index}]")
}

/// A JSON pointer into `instance`, as a JSON path under `base`.
pub fn pointer_path(base: &str, pointer: &str, instance: &Value) -> String {
    let mut path = base.to_owned();
    let mut current = Some(instance);
    for raw in pointer.split('/').skip(1) {
        let token = raw.replace("~1", "/").replace("~0", "~");
        match current {
            Some(Value::Array(items)) if token.parse::<usize>().is_ok() => {
                let index = token.parse::<usize>().unwrap_or_default();
                path = jindex(&path, index);
                current = items.get(index);
            }
            other => {
                path = jpath(&path, &token);
                current = other.and_then(|v| v.get(&token));
            }
        }
    }
    path
}

fn valid_pointer(pointer: &str) -> bool {
    if pointer.is_empty() {
        return true;
    }
    if !pointer.starts_with('/') {
        return false;
    }
    let bytes = pointer.as_bytes();
    bytes
        .iter()
        .enumerate()
        .all(|(i, b)| *b != b'~' || matches!(bytes.get(i + 1), Some(b'0' | b'1')))
}

/// The `{{…}}` placeholders of a text (trimmed), and whether braces are unbalanced.
pub fn placeholders(text: &str) -> (Vec<String>, bool) {
    let mut found = Vec::new();
    let mut stripped = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        stripped.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after.find("}}") {
            Some(end) if !after[..end].contains(['{', '}']) => {
                found.push(after[..end].trim().to_owned());
                rest = &after[end + 2..];
            }
            _ => {
                stripped.push_str("{{");
                rest = after;
            }
        }
    }
    stripped.push_str(rest);
    let unbalanced = stripped.contains("{{") || stripped.contains("}}");
    (found, unbalanced)
}

/// Replaces `{{ns.key}}` placeholders with values from `values[ns][key]` (strings as they
/// are, other scalars in JSON form); unknown placeholders become empty.
pub fn render(text: &str, values: &BTreeMap<&str, &Map<String, Value>>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            out.push_str(&rest[start..]);
            return out;
        };
        let expr = after[..end].trim();
        if let Some((ns, key)) = expr.split_once('.')
            && let Some(value) = values.get(ns).and_then(|m| m.get(key))
        {
            match value {
                Value::String(s) => out.push_str(s),
                Value::Null => {}
                other => out.push_str(&other.to_string()),
            }
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}

/// The `{name}` references of a path template, and whether braces are unbalanced.
pub fn path_params(path: &str) -> (Vec<String>, bool) {
    let mut found = Vec::new();
    let mut stripped = String::new();
    let mut rest = path;
    while let Some(start) = rest.find('{') {
        stripped.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        match after.find(['{', '}']) {
            Some(end) if after.as_bytes()[end] == b'}' => {
                found.push(after[..end].to_owned());
                rest = &after[end + 1..];
            }
            _ => {
                stripped.push('{');
                rest = after;
            }
        }
    }
    stripped.push_str(rest);
    let unbalanced = stripped.contains(['{', '}']);
    (found, unbalanced)
}

fn is_identifier(name: &str, first_lower: bool) -> bool {
    let mut chars = name.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    let first_ok = if first_lower {
        first.is_ascii_lowercase()
    } else {
        first.is_ascii_alphabetic() || first == '_'
    };
    first_ok && chars.all(|c| c.is_ascii_alphanumeric() || (!first_lower && c == '_'))
}

fn valid_slug(slug: &str) -> bool {
    !slug.is_empty()
        && slug.len() <= 63
        && slug.split('-').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

fn valid_header_name(name: &str) -> bool {
    !name.is_empty() && http::HeaderName::from_bytes(name.as_bytes()).is_ok()
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

const CATEGORIES: [&str; 19] = [
    "CAD",
    "SIMULATION",
    "EDA",
    "PROJECT_MANAGEMENT",
    "COMMUNICATION",
    "VERSION_CONTROL",
    "CLOUD_STORAGE",
    "CI_CD",
    "TESTING",
    "MONITORING",
    "SOCIAL_MEDIA",
    "ANALYTICS",
    "AI_SERVICE",
    "CRM",
    "EMAIL",
    "DATABASE",
    "MESSAGING",
    "FILE_TRANSFER",
    "CUSTOM",
];
const AUTH_KINDS: [&str; 7] = [
    "NONE",
    "API_KEY",
    "BEARER",
    "BASIC",
    "OAUTH2",
    "CUSTOM",
    "AWS_SIGV4",
];
const METHODS: [&str; 6] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"];
const WEBHOOK_SCHEMES: [&str; 4] = ["GITHUB", "SLACK", "STANDARD_WEBHOOKS", "SHARED_TOKEN"];
const REQUIRED_KEYS: [&str; 17] = [
    "slug",
    "name",
    "description",
    "category",
    "protocol",
    "icon",
    "docsUrl",
    "authKinds",
    "configSchema",
    "credentialSchema",
    "credentialMapping",
    "exampleConfig",
    "exampleCredentials",
    "baseUrl",
    "headers",
    "operations",
    "healthCheck",
];
/// What custom templates may leave out (the catalog's files must have every key).
const OPTIONAL_FOR_CUSTOM: [&str; 7] = [
    "description",
    "protocol",
    "icon",
    "docsUrl",
    "credentialMapping",
    "exampleCredentials",
    "headers",
];
const OPTIONAL_KEYS: [&str; 4] = ["rateLimit", "oauth2", "incomingWebhooks", "webhookEvents"];
const PAGINATION_PARAM_KEYS: [&str; 4] = ["cursorParam", "pageParam", "offsetParam", "limitParam"];
const PAGINATION_POINTER_KEYS: [&str; 4] = [
    "itemsPointer",
    "nextCursorPointer",
    "nextCursorFromLastItem",
    "totalPointer",
];

fn mapping_keys(kind: &str) -> Option<(&'static [&'static str], &'static [&'static str])> {
    Some(match kind {
        "NONE" => (&[], &[]),
        "API_KEY" => (&["in", "name", "value"], &[]),
        "BEARER" => (&["token"], &[]),
        "BASIC" => (&["username", "password"], &[]),
        "OAUTH2" => (&["clientId", "clientSecret"], &[]),
        "CUSTOM" => (&["headers"], &[]),
        "AWS_SIGV4" => (
            &["accessKeyId", "secretAccessKey", "region", "service"],
            &["sessionToken"],
        ),
        _ => return None,
    })
}

fn pagination_keys(style: &str) -> Option<(&'static [&'static str], &'static [&'static str])> {
    Some(match style {
        "CURSOR" => (
            &["cursorParam", "itemsPointer"],
            &[
                "nextCursorPointer",
                "nextCursorFromLastItem",
                "limitParam",
                "xml",
            ],
        ),
        "PAGE" => (
            &["pageParam", "itemsPointer", "firstPage"],
            &["limitParam", "xml"],
        ),
        "OFFSET" => (
            &["offsetParam", "limitParam", "itemsPointer"],
            &["totalPointer", "xml"],
        ),
        "LINK_HEADER" => (&["itemsPointer"], &["limitParam"]),
        _ => return None,
    })
}

/// A compiled JSON Schema 2020-12 validator with format checks (no remote `$ref`).
pub fn compile(schema: &Value) -> Result<jsonschema::Validator, String> {
    jsonschema::draft202012::options()
        .should_validate_formats(true)
        .build(schema)
        .map_err(|e| e.to_string())
}

/// Every problem of `instance` against `validator`, with paths under `base`. `masked`
/// leaves instance values out of messages (credentials must never echo back).
pub fn instance_problems(
    validator: &jsonschema::Validator,
    instance: &Value,
    base: &str,
    masked: bool,
) -> Vec<FieldProblem> {
    let mut problems: Vec<FieldProblem> = validator
        .iter_errors(instance)
        .map(|e| {
            let path = pointer_path(base, e.instance_path().as_str(), instance);
            let message = if masked {
                e.masked().to_string()
            } else {
                e.to_string()
            };
            FieldProblem::new(path, message)
        })
        .collect();
    problems.sort_by(|a, b| a.field.cmp(&b.field));
    problems
}

struct Checker<'a> {
    root: &'a str,
    rules: Rules,
    problems: Vec<FieldProblem>,
    doc: &'a Map<String, Value>,
}

impl<'a> Checker<'a> {
    fn err(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.problems.push(FieldProblem::new(path, message));
    }

    fn at(&self, key: &str) -> String {
        jpath(self.root, key)
    }

    fn string<'v>(
        &mut self,
        obj: &'v Map<String, Value>,
        key: &str,
        base: &str,
        required: bool,
    ) -> Option<&'v str> {
        let path = jpath(base, key);
        match obj.get(key) {
            None | Some(Value::Null) => {
                if required {
                    self.err(path, "is required");
                }
                None
            }
            Some(Value::String(s)) if !s.trim().is_empty() => Some(s.as_str()),
            Some(_) => {
                self.err(path, "must be a non-empty string");
                None
            }
        }
    }

    fn check_schema(&mut self, schema: &Value, path: &str, top_level_object: bool) -> bool {
        let Some(map) = schema.as_object() else {
            self.err(path, "must be a JSON Schema object");
            return false;
        };
        if let Some(dialect) = map.get("$schema")
            && dialect.as_str() != Some(DRAFT_2020_12)
        {
            self.err(jpath(path, "$schema"), format!("must be {DRAFT_2020_12}"));
        }
        let meta = jsonschema::draft202012::meta::validator();
        let meta_problems: Vec<FieldProblem> = meta
            .iter_errors(schema)
            .map(|e| {
                FieldProblem::new(
                    pointer_path(path, e.instance_path().as_str(), schema),
                    format!("invalid JSON Schema 2020-12: {e}"),
                )
            })
            .collect();
        if !meta_problems.is_empty() {
            self.problems.extend(meta_problems);
            return false;
        }
        if let Err(e) = compile(schema) {
            self.err(path, format!("invalid JSON Schema 2020-12: {e}"));
            return false;
        }
        if top_level_object && map.get("type").and_then(Value::as_str) != Some("object") {
            self.err(jpath(path, "type"), "must be \"object\"");
        }
        self.check_defaults(schema, path);
        true
    }

    /// A `default` (or `const`) must validate against the schema it sits in.
    fn check_defaults(&mut self, schema: &Value, path: &str) {
        let Some(map) = schema.as_object() else {
            return;
        };
        for key in ["default", "const"] {
            if let Some(value) = map.get(key) {
                let sub: Map<String, Value> = map
                    .iter()
                    .filter(|(k, _)| !matches!(k.as_str(), "default" | "const" | "$schema"))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                if let Ok(validator) = compile(&Value::Object(sub)) {
                    for e in validator.iter_errors(value) {
                        self.err(
                            jpath(path, key),
                            format!("does not validate against its own schema: {e}"),
                        );
                    }
                }
            }
        }
        if let Some(props) = map.get("properties").and_then(Value::as_object) {
            for (name, sub) in props {
                self.check_defaults(sub, &jpath(&jpath(path, "properties"), name));
            }
        }
        if let Some(items) = map.get("items").filter(|v| v.is_object()) {
            self.check_defaults(items, &jpath(path, "items"));
        }
    }

    fn validate_instance(
        &mut self,
        schema: &Value,
        instance: &Value,
        path: &str,
        what: &str,
        masked: bool,
    ) {
        match compile(schema) {
            Ok(validator) => {
                for problem in instance_problems(&validator, instance, path, masked) {
                    self.err(
                        problem.field,
                        format!("does not validate against {what}: {}", problem.message),
                    );
                }
            }
            Err(e) => self.err(path, format!("cannot validate: {e}")),
        }
    }

    fn config_schema(&self) -> Option<&'a Map<String, Value>> {
        self.doc.get("configSchema").and_then(Value::as_object)
    }

    fn check_placeholders(&mut self, text: &str, path: &str, allowed: &[&str]) {
        let config = self.config_schema();
        let props = config
            .and_then(|c| c.get("properties"))
            .and_then(Value::as_object);
        let required: BTreeSet<&str> = config
            .and_then(|c| c.get("required"))
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let cred_props = self
            .doc
            .get("credentialSchema")
            .and_then(|c| c.get("properties"))
            .and_then(Value::as_object);
        let (found, unbalanced) = placeholders(text);
        if unbalanced {
            self.err(path, "has an unbalanced {{ }} placeholder");
        }
        for expr in found {
            let (ns, key) = expr.split_once('.').unwrap_or((expr.as_str(), ""));
            if !allowed.contains(&ns) || key.is_empty() {
                let allowed: Vec<String> = allowed
                    .iter()
                    .map(|a| format!("{{{{{a}.<key>}}}}"))
                    .collect();
                self.err(
                    path,
                    format!(
                        "placeholder {{{{{expr}}}}} not allowed here (allowed: {})",
                        allowed.join(", ")
                    ),
                );
                continue;
            }
            if ns == "config" {
                match props.and_then(|p| p.get(key)) {
                    None => self.err(
                        path,
                        format!("{{{{config.{key}}}}} is not a property of configSchema"),
                    ),
                    Some(prop) if !required.contains(key) && prop.get("default").is_none() => self
                        .err(
                            path,
                            format!(
                                "{{{{config.{key}}}}} is neither required nor defaulted in configSchema"
                            ),
                        ),
                    Some(_) => {}
                }
            } else if ns == "credentials" && cred_props.is_none_or(|p| !p.contains_key(key)) {
                self.err(
                    path,
                    format!("{{{{credentials.{key}}}}} is not a property of credentialSchema"),
                );
            }
        }
    }

    fn example_values(&self) -> Map<String, Value> {
        let mut config = self
            .doc
            .get("configSchema")
            .map(defaults_of)
            .unwrap_or_default();
        if let Some(Value::Object(example)) = self.doc.get("exampleConfig") {
            config.extend(example.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        config
    }

    fn check_url(&mut self, text: &str, path: &str, https_only: bool) {
        let config = self.example_values();
        let values = BTreeMap::from([("config", &config)]);
        let rendered = render(text, &values);
        let ok = url::Url::parse(&rendered).is_ok_and(|u| {
            let scheme_ok = if https_only {
                u.scheme() == "https"
            } else {
                matches!(u.scheme(), "http" | "https")
            };
            scheme_ok && u.host_str().is_some_and(|h| !h.is_empty())
        });
        if !ok {
            let schemes = if https_only { "https" } else { "http/https" };
            self.err(
                path,
                format!(
                    "must render to an absolute {schemes} URL with exampleConfig (got {rendered:?})"
                ),
            );
        }
    }

    fn run(&mut self, expected_slug: Option<&str>) {
        let doc = self.doc;
        let root = self.root.to_owned();
        for key in REQUIRED_KEYS {
            let optional = !self.rules.built_in && OPTIONAL_FOR_CUSTOM.contains(&key);
            if !optional && doc.get(key).is_none_or(Value::is_null) {
                self.err(self.at(key), "is required");
            }
        }
        for key in doc.keys() {
            if !REQUIRED_KEYS.contains(&key.as_str()) && !OPTIONAL_KEYS.contains(&key.as_str()) {
                self.err(self.at(key), "unknown key");
            }
        }
        if let Some(slug) = self.string(doc, "slug", &root, false) {
            if !valid_slug(slug) {
                self.err(
                    self.at("slug"),
                    "must match [a-z0-9]+(-[a-z0-9]+)* (at most 63 characters)",
                );
            }
            if let Some(expected) = expected_slug
                && slug != expected
            {
                self.err(
                    self.at("slug"),
                    format!("must equal the file name ({expected})"),
                );
            }
        }
        if let Some(name) = self.string(doc, "name", &root, false)
            && name.chars().count() > 100
        {
            self.err(self.at("name"), "must be at most 100 characters");
        }
        self.string(doc, "description", &root, false);
        if let Some(category) = doc.get("category")
            && !category.as_str().is_some_and(|c| CATEGORIES.contains(&c))
        {
            self.err(
                self.at("category"),
                format!("must be one of {}", CATEGORIES.join(", ")),
            );
        }
        if let Some(protocol) = doc.get("protocol")
            && !matches!(protocol.as_str(), Some("REST" | "GRAPHQL"))
        {
            self.err(self.at("protocol"), "must be one of GRAPHQL, REST");
        }
        if let Some(icon) = self.string(doc, "icon", &root, false) {
            let emoji = icon.chars().count() <= 16
                && !icon.contains('/')
                && !icon.chars().any(|c| c.is_ascii_alphanumeric());
            let https = !self.rules.built_in && icon.starts_with("https://") && icon.len() <= 2000;
            if !emoji && !https {
                let message = if self.rules.built_in {
                    "must be an emoji (no URLs or text)"
                } else {
                    "must be an emoji or an https URL"
                };
                self.err(self.at("icon"), message);
            }
        }
        if let Some(docs) = self.string(doc, "docsUrl", &root, false)
            && !docs.starts_with("https://")
        {
            self.err(self.at("docsUrl"), "must be an https URL");
        }

        let auth: Vec<&str> = match doc.get("authKinds") {
            Some(Value::Array(items)) if !items.is_empty() => {
                let mut kinds = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    match item.as_str().filter(|k| AUTH_KINDS.contains(k)) {
                        Some(kind) => kinds.push(kind),
                        None => self.err(
                            jindex(&self.at("authKinds"), i),
                            format!("must be one of {}", AUTH_KINDS.join(", ")),
                        ),
                    }
                }
                let unique: BTreeSet<&&str> = kinds.iter().collect();
                if unique.len() != kinds.len() {
                    self.err(self.at("authKinds"), "has duplicates");
                }
                kinds
            }
            None | Some(Value::Null) => Vec::new(),
            Some(_) => {
                self.err(self.at("authKinds"), "must be a non-empty array");
                Vec::new()
            }
        };

        let config_ok = doc
            .get("configSchema")
            .is_some_and(|s| self.check_schema(s, &self.at("configSchema"), true));
        let cred_ok = doc
            .get("credentialSchema")
            .is_some_and(|s| self.check_schema(s, &self.at("credentialSchema"), true));
        if config_ok {
            match doc.get("exampleConfig") {
                Some(example @ Value::Object(_)) => {
                    if let Some(schema) = doc.get("configSchema") {
                        self.validate_instance(
                            schema,
                            example,
                            &self.at("exampleConfig"),
                            "configSchema",
                            false,
                        );
                    }
                }
                None | Some(Value::Null) => {}
                Some(_) => self.err(self.at("exampleConfig"), "must be an object"),
            }
        }
        if cred_ok {
            match doc.get("exampleCredentials") {
                Some(example @ Value::Object(_)) => {
                    if let Some(schema) = doc.get("credentialSchema") {
                        self.validate_instance(
                            schema,
                            example,
                            &self.at("exampleCredentials"),
                            "credentialSchema",
                            false,
                        );
                    }
                }
                None | Some(Value::Null) => {}
                Some(_) => self.err(self.at("exampleCredentials"), "must be an object"),
            }
        }

        self.check_mapping(doc.get("credentialMapping"), &auth);

        if let Some(base) = self.string(doc, "baseUrl", &root, false) {
            let path = self.at("baseUrl");
            self.check_placeholders(base, &path, &["config"]);
            self.check_url(base, &path, false);
            if base.ends_with('/') {
                self.err(
                    &path,
                    "must not end with '/' (operation paths start with '/')",
                );
            }
        }
        match doc.get("headers") {
            None | Some(Value::Null) => {}
            Some(Value::Object(headers)) => {
                for (name, value) in headers {
                    let path = jpath(&self.at("headers"), name);
                    if !valid_header_name(name) {
                        self.err(&path, "is not a valid header name");
                    } else if matches!(
                        name.to_ascii_lowercase().as_str(),
                        "authorization" | "proxy-authorization" | "cookie"
                    ) {
                        self.err(
                            &path,
                            "credentials must not be plain headers; use credentialMapping",
                        );
                    }
                    match value.as_str() {
                        Some(text) => self.check_placeholders(text, &path, &["config"]),
                        None => self.err(&path, "must be a string"),
                    }
                }
            }
            Some(_) => self.err(
                self.at("headers"),
                "must be an object of header name to string value",
            ),
        }

        let ops = self.check_operations(doc.get("operations"));
        self.check_health(doc.get("healthCheck"), &ops);
        self.check_rate_limit(doc.get("rateLimit"));
        self.check_oauth2(doc.get("oauth2"), &auth);
        self.check_incoming(doc.get("incomingWebhooks"));
        self.check_events(doc.get("webhookEvents"));
    }

    fn check_mapping(&mut self, mapping: Option<&Value>, auth: &[&str]) {
        let path = self.at("credentialMapping");
        let mapping = match mapping {
            None | Some(Value::Null) => {
                // Custom templates whose default kind is NONE may leave it out.
                if !self.rules.built_in && auth.first().is_some_and(|k| *k != "NONE") {
                    self.err(
                        &path,
                        format!(
                            "is required when the default auth kind is {}",
                            auth.first().copied().unwrap_or_default()
                        ),
                    );
                }
                return;
            }
            Some(Value::Object(m)) => m,
            Some(_) => {
                self.err(&path, "must be an object");
                return;
            }
        };
        let kind = mapping.get("kind").and_then(Value::as_str).unwrap_or("");
        let Some((required, optional)) = mapping_keys(kind) else {
            self.err(
                jpath(&path, "kind"),
                format!("must be one of {}", AUTH_KINDS.join(", ")),
            );
            return;
        };
        if let Some(first) = auth.first()
            && kind != *first
        {
            self.err(
                jpath(&path, "kind"),
                format!("must be the default auth kind authKinds[0] ({first})"),
            );
        }
        for key in required {
            if !mapping.contains_key(*key) {
                self.err(jpath(&path, key), format!("is required for kind {kind}"));
            }
        }
        for key in mapping.keys() {
            if key != "kind"
                && !required.contains(&key.as_str())
                && !optional.contains(&key.as_str())
            {
                self.err(jpath(&path, key), format!("unknown key for kind {kind}"));
            }
        }
        if kind == "API_KEY" {
            let location = mapping.get("in").and_then(Value::as_str);
            if mapping.contains_key("in") && !matches!(location, Some("HEADER" | "QUERY")) {
                self.err(jpath(&path, "in"), "must be HEADER or QUERY");
            }
            if location == Some("HEADER")
                && let Some(name) = mapping.get("name").and_then(Value::as_str)
                && !valid_header_name(name)
            {
                self.err(jpath(&path, "name"), "is not a valid header name");
            }
        }
        let mut used: BTreeSet<String> = BTreeSet::new();
        for (key, value) in mapping {
            if key == "kind" {
                continue;
            }
            let key_path = jpath(&path, key);
            if kind == "CUSTOM" && key == "headers" {
                match value.as_object() {
                    Some(headers) if !headers.is_empty() => {
                        for (name, v) in headers {
                            let hp = jpath(&key_path, name);
                            if !valid_header_name(name) {
                                self.err(&hp, "is not a valid header name");
                            }
                            self.mapping_value(v, &hp, &mut used);
                        }
                    }
                    _ => self.err(
                        &key_path,
                        "must be a non-empty object of header name to value",
                    ),
                }
                continue;
            }
            self.mapping_value(value, &key_path, &mut used);
        }
        if let Some(props) = self
            .doc
            .get("credentialSchema")
            .and_then(|c| c.get("properties"))
            .and_then(Value::as_object)
        {
            for field in props.keys() {
                if !used.contains(field) {
                    self.err(
                        jpath(&jpath(&self.at("credentialSchema"), "properties"), field),
                        "is never used by credentialMapping",
                    );
                }
            }
            if kind == "NONE" && !props.is_empty() {
                self.err(
                    self.at("credentialSchema"),
                    "must declare no fields when the default auth kind is NONE",
                );
            }
        }
    }

    fn mapping_value(&mut self, value: &Value, path: &str, used: &mut BTreeSet<String>) {
        match value.as_str() {
            Some(text) => {
                self.check_placeholders(text, path, &["config", "credentials"]);
                for expr in placeholders(text).0 {
                    if let Some(field) = expr.strip_prefix("credentials.") {
                        used.insert(field.to_owned());
                    }
                }
            }
            None => self.err(
                path,
                "must be a string (or an object of strings for headers)",
            ),
        }
    }

    fn check_operations(
        &mut self,
        ops: Option<&'a Value>,
    ) -> BTreeMap<String, &'a Map<String, Value>> {
        let path = self.at("operations");
        let mut by_name: BTreeMap<String, &Map<String, Value>> = BTreeMap::new();
        let ops = match ops {
            None | Some(Value::Null) => return by_name,
            Some(Value::Array(ops)) if !ops.is_empty() => ops,
            Some(_) => {
                self.err(&path, "must be a non-empty array");
                return by_name;
            }
        };
        if ops.len() > MAX_OPERATIONS {
            self.err(&path, format!("at most {MAX_OPERATIONS} operations"));
        }
        let graphql = self.doc.get("protocol").and_then(Value::as_str) == Some("GRAPHQL");
        const ALLOWED: [&str; 7] = [
            "name",
            "description",
            "method",
            "path",
            "parameters",
            "body",
            "pagination",
        ];
        for (i, op) in ops.iter().enumerate() {
            let op_path = jindex(&path, i);
            let Some(op) = op.as_object() else {
                self.err(&op_path, "must be an object");
                continue;
            };
            for key in op.keys() {
                if !ALLOWED.contains(&key.as_str()) {
                    self.err(jpath(&op_path, key), "unknown key");
                }
            }
            if let Some(name) = self.string(op, "name", &op_path, true) {
                if !is_identifier(name, true) {
                    self.err(jpath(&op_path, "name"), "must be lowerCamelCase");
                }
                if by_name.contains_key(name) {
                    self.err(
                        jpath(&op_path, "name"),
                        format!("duplicate operation name {name:?}"),
                    );
                }
                by_name.insert(name.to_owned(), op);
            }
            if self.rules.built_in {
                self.string(op, "description", &op_path, true);
            }
            let method = op.get("method").and_then(Value::as_str);
            if !method.is_some_and(|m| METHODS.contains(&m)) {
                self.err(
                    jpath(&op_path, "method"),
                    format!("must be one of {}", METHODS.join(", ")),
                );
            }
            let no_body = matches!(method, Some("GET" | "HEAD"));
            let op_route = self.string(op, "path", &op_path, true);
            let params: &[Value] = match op.get("parameters") {
                None | Some(Value::Null) => &[],
                Some(Value::Array(p)) => p,
                Some(_) => {
                    self.err(jpath(&op_path, "parameters"), "must be an array");
                    &[]
                }
            };
            let mut declared: BTreeMap<&str, &Map<String, Value>> = BTreeMap::new();
            for (j, param) in params.iter().enumerate() {
                let pp = jindex(&jpath(&op_path, "parameters"), j);
                let Some(param) = param.as_object() else {
                    self.err(&pp, "must be an object");
                    continue;
                };
                for key in param.keys() {
                    if !matches!(
                        key.as_str(),
                        "name" | "in" | "required" | "schema" | "description"
                    ) {
                        self.err(jpath(&pp, key), "unknown key");
                    }
                }
                let pname = self.string(param, "name", &pp, true);
                let location = param.get("in").and_then(Value::as_str);
                if !matches!(location, Some("path" | "query" | "body")) {
                    self.err(jpath(&pp, "in"), "must be one of path, query, body");
                }
                if param.get("required").is_some_and(|r| !r.is_boolean()) {
                    self.err(jpath(&pp, "required"), "must be a boolean");
                }
                match param.get("schema") {
                    None => self.err(jpath(&pp, "schema"), "is required"),
                    Some(schema) => {
                        self.check_schema(schema, &jpath(&pp, "schema"), false);
                    }
                }
                if param.get("description").is_some_and(|d| !d.is_string()) {
                    self.err(jpath(&pp, "description"), "must be a string");
                }
                let Some(pname) = pname else {
                    continue;
                };
                if declared.contains_key(pname) {
                    self.err(
                        jpath(&pp, "name"),
                        format!("duplicate parameter name {pname:?}"),
                    );
                }
                declared.insert(pname, param);
                if location == Some("path") {
                    if param.get("required") != Some(&Value::Bool(true)) {
                        self.err(
                            jpath(&pp, "required"),
                            "path parameters must be required: true",
                        );
                    }
                    if !is_identifier(pname, false) {
                        self.err(
                            jpath(&pp, "name"),
                            "path parameter names must be identifiers",
                        );
                    }
                    if let Some(route) = op_route
                        && !route.contains(&format!("{{{pname}}}"))
                    {
                        self.err(
                            jpath(&pp, "name"),
                            format!("path parameter {pname:?} does not appear in the path"),
                        );
                    }
                }
                if location == Some("body") && no_body {
                    self.err(
                        jpath(&pp, "in"),
                        format!(
                            "{} operations take no body parameters",
                            method.unwrap_or_default()
                        ),
                    );
                }
            }
            if let Some(route) = op_route {
                let rp = jpath(&op_path, "path");
                if !route.starts_with('/') {
                    self.err(&rp, "must start with '/'");
                }
                if route.contains("{{") || route.contains("}}") {
                    self.err(&rp, "path templates use {param}, not {{…}}");
                } else if route.contains(['?', '#']) {
                    self.err(
                        &rp,
                        "must not contain a query or fragment; declare query parameters instead",
                    );
                }
                let (refs, unbalanced) = path_params(route);
                for reference in refs {
                    let is_path = declared
                        .get(reference.as_str())
                        .and_then(|p| p.get("in"))
                        .and_then(Value::as_str)
                        == Some("path");
                    if !is_path {
                        self.err(
                            &rp,
                            format!("{{{reference}}} is not a declared parameter with in: path"),
                        );
                    }
                }
                if unbalanced {
                    self.err(&rp, "has unbalanced braces");
                }
            }
            if let Some(body) = op.get("body") {
                if !body.is_object() {
                    self.err(jpath(&op_path, "body"), "must be a JSON object");
                }
                if no_body {
                    self.err(
                        jpath(&op_path, "body"),
                        format!("{} operations take no body", method.unwrap_or_default()),
                    );
                }
            }
            if graphql {
                let fixed_query = op
                    .get("body")
                    .and_then(|b| b.get("query"))
                    .is_some_and(Value::is_string);
                let query_param = declared
                    .get("query")
                    .is_some_and(|p| p.get("in").and_then(Value::as_str) == Some("body"));
                if method != Some("POST") || !(fixed_query || query_param) {
                    self.err(
                        &op_path,
                        "GRAPHQL operations must be POST with a fixed body.query or a body parameter 'query'",
                    );
                }
            }
            if let Some(pagination) = op.get("pagination") {
                self.check_pagination(pagination, &jpath(&op_path, "pagination"), &declared);
            }
        }
        by_name
    }

    fn check_pagination(
        &mut self,
        pagination: &Value,
        path: &str,
        declared: &BTreeMap<&str, &Map<String, Value>>,
    ) {
        let Some(pg) = pagination.as_object() else {
            self.err(path, "must be an object");
            return;
        };
        let style = pg.get("style").and_then(Value::as_str).unwrap_or("");
        let Some((required, optional)) = pagination_keys(style) else {
            self.err(
                jpath(path, "style"),
                "must be one of CURSOR, PAGE, OFFSET, LINK_HEADER",
            );
            return;
        };
        for key in required {
            if !pg.contains_key(*key) {
                self.err(jpath(path, key), format!("is required for style {style}"));
            }
        }
        for key in pg.keys() {
            if key != "style"
                && !required.contains(&key.as_str())
                && !optional.contains(&key.as_str())
            {
                self.err(jpath(path, key), format!("unknown key for style {style}"));
            }
        }
        if style == "CURSOR"
            && pg.contains_key("nextCursorPointer") == pg.contains_key("nextCursorFromLastItem")
        {
            self.err(
                path,
                "CURSOR needs exactly one of nextCursorPointer or nextCursorFromLastItem",
            );
        }
        for key in PAGINATION_POINTER_KEYS {
            if let Some(pointer) = pg.get(key)
                && !pointer.as_str().is_some_and(valid_pointer)
            {
                self.err(
                    jpath(path, key),
                    "must be an RFC 6901 JSON pointer ('' or starting with '/')",
                );
            }
        }
        for key in PAGINATION_PARAM_KEYS {
            if let Some(name) = pg.get(key) {
                let param = name.as_str().and_then(|n| declared.get(n));
                match param {
                    None => self.err(
                        jpath(path, key),
                        format!("{name} is not a declared parameter of the operation"),
                    ),
                    Some(p)
                        if p.get("in").and_then(Value::as_str) == Some("path")
                            || p.get("required") == Some(&Value::Bool(true)) =>
                    {
                        self.err(
                            jpath(path, key),
                            format!("{name} must be an optional query or body parameter"),
                        )
                    }
                    Some(_) => {}
                }
            }
        }
        if let Some(first) = pg.get("firstPage")
            && first.as_u64().is_none_or(|n| n >= i64::MAX as u64)
        {
            self.err(jpath(path, "firstPage"), "must be a non-negative integer");
        }
        if pg.get("xml").is_some_and(|x| !x.is_boolean()) {
            self.err(jpath(path, "xml"), "must be a boolean");
        }
    }

    fn check_health(
        &mut self,
        health: Option<&Value>,
        ops: &BTreeMap<String, &Map<String, Value>>,
    ) {
        let path = self.at("healthCheck");
        let health = match health {
            None | Some(Value::Null) => return,
            Some(Value::Object(h)) => h,
            Some(_) => {
                self.err(&path, "must be an object");
                return;
            }
        };
        for key in health.keys() {
            if !matches!(
                key.as_str(),
                "operation" | "expectedStatus" | "maxLatencyMs"
            ) {
                self.err(jpath(&path, key), "unknown key");
            }
        }
        if let Some(name) = self.string(health, "operation", &path, true) {
            let op_path = jpath(&path, "operation");
            match ops.get(name) {
                None => self.err(&op_path, format!("operation {name:?} is not in operations")),
                Some(op) => {
                    let required: Vec<String> = op
                        .get("parameters")
                        .and_then(Value::as_array)
                        .map(|params| {
                            params
                                .iter()
                                .filter(|p| p.get("required") == Some(&Value::Bool(true)))
                                .filter_map(|p| p.get("name").and_then(Value::as_str))
                                .map(str::to_owned)
                                .collect()
                        })
                        .unwrap_or_default();
                    for param in required {
                        self.err(
                            &op_path,
                            format!("operation {name:?} has a required parameter {param:?}"),
                        );
                    }
                    let method = op.get("method").and_then(Value::as_str).unwrap_or("");
                    if !matches!(method, "GET" | "HEAD" | "POST") {
                        self.err(
                            &op_path,
                            format!(
                                "a health check must be a GET (or an RPC-style POST), not {method}"
                            ),
                        );
                    }
                }
            }
        }
        let statuses_ok = health
            .get("expectedStatus")
            .and_then(Value::as_array)
            .is_some_and(|s| {
                !s.is_empty()
                    && s.iter()
                        .all(|c| c.as_u64().is_some_and(|c| (100..=599).contains(&c)))
            });
        if !statuses_ok {
            self.err(
                jpath(&path, "expectedStatus"),
                "must be a non-empty array of HTTP status codes",
            );
        }
        match health.get("maxLatencyMs") {
            None if !self.rules.built_in => {}
            Some(ms) if ms.as_u64().is_some_and(|ms| (1..=300_000).contains(&ms)) => {}
            _ => self.err(
                jpath(&path, "maxLatencyMs"),
                "must be a positive integer (at most 300000)",
            ),
        }
    }

    fn check_rate_limit(&mut self, limit: Option<&Value>) {
        let path = self.at("rateLimit");
        let limit = match limit {
            None | Some(Value::Null) => return,
            Some(Value::Object(l)) if !l.is_empty() => l,
            Some(_) => {
                self.err(&path, "must be a non-empty object");
                return;
            }
        };
        for (key, value) in limit {
            match key.as_str() {
                "requestsPerMinute" => {
                    if !value.as_u64().is_some_and(|n| (1..=1_000_000).contains(&n)) {
                        self.err(jpath(&path, key), "must be a positive integer");
                    }
                }
                "remainingHeader" | "resetHeader" => {
                    if !value.as_str().is_some_and(valid_header_name) {
                        self.err(jpath(&path, key), "must be a header name");
                    }
                }
                _ => self.err(jpath(&path, key), "unknown key"),
            }
        }
    }

    fn check_oauth2(&mut self, oauth: Option<&Value>, auth: &[&str]) {
        let path = self.at("oauth2");
        let wants = auth.contains(&"OAUTH2");
        let oauth = match oauth {
            None | Some(Value::Null) => {
                if wants {
                    self.err(&path, "is required when OAUTH2 is in authKinds");
                }
                return;
            }
            Some(o) => o,
        };
        if !wants {
            self.err(&path, "only allowed when OAUTH2 is in authKinds");
        }
        let Some(oauth) = oauth.as_object() else {
            self.err(&path, "must be an object");
            return;
        };
        for key in oauth.keys() {
            if !matches!(key.as_str(), "authorizeUrl" | "tokenUrl" | "scopes") {
                self.err(jpath(&path, key), "unknown key");
            }
        }
        for key in ["authorizeUrl", "tokenUrl"] {
            if let Some(url) = self.string(oauth, key, &path, true) {
                let url_path = jpath(&path, key);
                self.check_placeholders(url, &url_path, &["config"]);
                self.check_url(url, &url_path, true);
            }
        }
        match oauth.get("scopes").and_then(Value::as_array) {
            Some(scopes)
                if scopes.iter().all(|s| {
                    s.as_str()
                        .is_some_and(|s| !s.is_empty() && !s.contains(' '))
                }) =>
            {
                let unique: BTreeSet<&str> = scopes.iter().filter_map(Value::as_str).collect();
                if unique.len() != scopes.len() {
                    self.err(jpath(&path, "scopes"), "has duplicates");
                }
            }
            _ => self.err(
                jpath(&path, "scopes"),
                "must be an array of scope strings (may be empty)",
            ),
        }
    }

    fn check_incoming(&mut self, incoming: Option<&Value>) {
        let path = self.at("incomingWebhooks");
        let incoming = match incoming {
            None | Some(Value::Null) => return,
            Some(Value::Object(i)) => i,
            Some(_) => {
                self.err(&path, "must be an object");
                return;
            }
        };
        for key in incoming.keys() {
            if !matches!(key.as_str(), "scheme" | "eventNameSource") {
                self.err(jpath(&path, key), "unknown key");
            }
        }
        if !incoming
            .get("scheme")
            .and_then(Value::as_str)
            .is_some_and(|s| WEBHOOK_SCHEMES.contains(&s))
        {
            self.err(
                jpath(&path, "scheme"),
                format!("must be one of {}", WEBHOOK_SCHEMES.join(", ")),
            );
        }
        let source = incoming.get("eventNameSource").and_then(Value::as_str);
        let ok = match source {
            Some(s) if s.starts_with("header:") => valid_header_name(&s["header:".len()..]),
            Some(s) if s.starts_with("body:") => valid_pointer(&s["body:".len()..]),
            _ => false,
        };
        if !ok {
            self.err(
                jpath(&path, "eventNameSource"),
                "must be header:<Name> or body:<JSON pointer>",
            );
        }
    }

    fn check_events(&mut self, events: Option<&Value>) {
        let path = self.at("webhookEvents");
        match events {
            // An empty list, like none, means the template names no events.
            None | Some(Value::Null) => {}
            Some(Value::Array(events)) => {
                for (i, event) in events.iter().enumerate() {
                    if event.as_str().is_none_or(|e| e.trim().is_empty()) {
                        self.err(
                            format!("{path}[{i}]"),
                            format!("must be a non-empty event name, got {}", kind_of(event)),
                        );
                    }
                }
                let names: Vec<&str> = events.iter().filter_map(Value::as_str).collect();
                let unique: BTreeSet<&str> = names.iter().copied().collect();
                if names.len() == events.len() && unique.len() != names.len() {
                    self.err(&path, "has duplicates");
                }
            }
            Some(other) => self.err(
                &path,
                format!("must be an array of event names, got {}", kind_of(other)),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn minimal() -> Value {
        json!({
            "slug": "acme",
            "name": "Acme",
            "category": "CUSTOM",
            "authKinds": ["BEARER"],
            "configSchema": { "type": "object", "required": ["host"],
                "properties": { "host": { "type": "string" } } },
            "credentialSchema": { "type": "object", "required": ["token"],
                "properties": { "token": { "type": "string" } } },
            "credentialMapping": { "kind": "BEARER", "token": "{{credentials.token}}" },
            "exampleConfig": { "host": "api.acme.test" },
            "baseUrl": "https://{{config.host}}",
            "operations": [ { "name": "getItem", "method": "GET", "path": "/items/{id}",
                "parameters": [ { "name": "id", "in": "path", "required": true, "schema": { "type": "string" } } ] },
                { "name": "ping", "method": "GET", "path": "/ping" } ],
            "healthCheck": { "operation": "ping", "expectedStatus": [200] }
        })
    }

    fn fields(doc: &Value) -> Vec<String> {
        match check(doc, "input", Rules { built_in: false }, None) {
            Ok(_) => Vec::new(),
            Err(problems) => problems.into_iter().map(|p| p.field).collect(),
        }
    }

    #[test]
    fn webhook_events_may_be_empty_and_bad_entries_are_named() {
        let mut doc = minimal();
        doc["webhookEvents"] = json!([]);
        assert!(fields(&doc).is_empty(), "an empty list means none");
        doc["webhookEvents"] = json!(["push", 3, ""]);
        assert_eq!(
            fields(&doc),
            ["input.webhookEvents[1]", "input.webhookEvents[2]"]
        );
        doc["webhookEvents"] = json!(["push", "push"]);
        assert_eq!(fields(&doc), ["input.webhookEvents"]);
    }

    #[test]
    fn a_minimal_custom_template_is_valid() {
        let definition = check(&minimal(), "input", Rules { built_in: false }, None).unwrap();
        assert_eq!(definition.operations.len(), 2);
        assert_eq!(definition.protocol, Protocol::Rest);
    }

    #[test]
    fn every_problem_is_reported_with_its_path() {
        let mut doc = minimal();
        doc["operations"][0]["path"] = json!("/items/{itemId}");
        doc["configSchema"]["type"] = json!("objekt");
        doc["healthCheck"]["operation"] = json!("nope");
        let found = fields(&doc);
        assert!(
            found.contains(&"input.operations[0].path".to_owned()),
            "{found:?}"
        );
        assert!(
            found.contains(&"input.operations[0].parameters[0].name".to_owned()),
            "{found:?}"
        );
        assert!(
            found.contains(&"input.configSchema.type".to_owned()),
            "{found:?}"
        );
        assert!(
            found.contains(&"input.healthCheck.operation".to_owned()),
            "{found:?}"
        );
    }

    #[test]
    fn example_config_errors_point_into_the_example() {
        let mut doc = minimal();
        doc["exampleConfig"] = json!({ "host": 5 });
        assert_eq!(fields(&doc), vec!["input.exampleConfig.host"]);
    }

    #[test]
    fn placeholders_and_paths_parse() {
        assert_eq!(
            placeholders("https://{{ config.a }}.x/{{config.b}}").0,
            vec!["config.a", "config.b"]
        );
        assert!(placeholders("https://{{config.a}").1);
        assert_eq!(path_params("/a/{x}/b/{y}").0, vec!["x", "y"]);
        assert!(path_params("/a/{x").1);
        let config = Map::from_iter([("site".to_owned(), json!("acme"))]);
        let values = BTreeMap::from([("config", &config)]);
        assert_eq!(
            render("https://{{config.site}}.atlassian.net", &values),
            "https://acme.atlassian.net"
        );
        assert_eq!(
            pointer_path("input.config", "/a/0/b~1c", &json!({"a": [{"b/c": 1}]})),
            "input.config.a[0][\"b/c\"]"
        );
    }
}
