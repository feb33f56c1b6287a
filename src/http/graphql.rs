//! `/graphql` over HTTP, to the letter of the GraphQL-over-HTTP specification:
//! content negotiation, 4xx for requests that are not well-formed or fail before
//! execution (under `application/graphql-response+json`), no `data` entry on such
//! failures, 415 for a POST without a JSON content type, 405 for mutations over GET.

use std::sync::{Arc, RwLock};

use async_graphql::parser::types::{DocumentOperations, ExecutableDocument, OperationType};
use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::header::{ALLOW, CONTENT_TYPE, WWW_AUTHENTICATE};
use http::{HeaderMap, HeaderValue, StatusCode};
use serde_json::{Value, json};

use super::negotiate::{self, ContentTypeProblem, ResponseMedia};
use super::{AppState, request_id};
use crate::domain::access::Caller;
use crate::error::AppError;
use crate::graphql::compiled::{self, CompiledQuery};
use crate::graphql::request_errors;

/// A failure before GraphQL execution, answered as a GraphQL response without `data`.
#[derive(Debug)]
pub(super) struct RequestFailure {
    status: StatusCode,
    code: &'static str,
    message: String,
    extra_headers: Vec<(http::HeaderName, HeaderValue)>,
}

impl RequestFailure {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        RequestFailure {
            status,
            code,
            message: message.into(),
            extra_headers: Vec::new(),
        }
    }

    fn with_header(mut self, name: http::HeaderName, value: &'static str) -> Self {
        self.extra_headers
            .push((name, HeaderValue::from_static(value)));
        self
    }

    pub(super) fn respond(self, media: ResponseMedia) -> Response {
        let body =
            json!({ "errors": [{ "message": self.message, "extensions": { "code": self.code } }] });
        let mut response = json_response(self.status, media, &body);
        response.headers_mut().extend(self.extra_headers);
        response
    }
}

fn json_response(status: StatusCode, media: ResponseMedia, body: &Value) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_else(|_| b"{}".to_vec());
    (
        status,
        [(CONTENT_TYPE, HeaderValue::from_static(media.content_type()))],
        bytes,
    )
        .into_response()
}

fn not_acceptable() -> Response {
    RequestFailure::new(
        StatusCode::NOT_ACCEPTABLE,
        "NOT_ACCEPTABLE",
        "accept application/graphql-response+json or application/json",
    )
    .respond(ResponseMedia::Json)
}

/// Resolves the caller from `Authorization: Bearer …`.
pub(super) async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Caller, RequestFailure> {
    let unauthenticated = |message: &str| {
        RequestFailure::new(StatusCode::UNAUTHORIZED, "UNAUTHENTICATED", message)
            .with_header(WWW_AUTHENTICATE, "Bearer")
    };
    let header = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| unauthenticated("send an API token as `Authorization: Bearer <token>`"))?;
    let token = bearer_token(header)
        .ok_or_else(|| unauthenticated("the Authorization header must be `Bearer <token>`"))?;
    match state.app.auth.authenticate(token).await {
        Ok(principal) => Ok(Caller {
            principal,
            request_id: request_id(headers),
        }),
        Err(AppError::Unauthenticated(message)) => Err(unauthenticated(&message)),
        Err(other) => {
            tracing::error!(error = %other, "token lookup failed");
            Err(RequestFailure::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "INTERNAL",
                "the token could not be checked; try again",
            ))
        }
    }
}

/// The token of a `Bearer` credential (scheme matched case-insensitively).
pub(super) fn bearer_token(header: &str) -> Option<&str> {
    let (scheme, token) = header.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// The parts of a GraphQL-over-HTTP request.
struct Params {
    query: String,
    operation_name: Option<String>,
    variables: Option<Value>,
    extensions: Option<Value>,
}

fn bad_request(message: impl Into<String>) -> RequestFailure {
    RequestFailure::new(StatusCode::BAD_REQUEST, "BAD_REQUEST", message)
}

/// Checks the shape of a POST body: an object with a string `query` and optional
/// `operationName` (string), `variables` and `extensions` (objects).
fn params_from_json(body: Value) -> Result<Params, RequestFailure> {
    let Value::Object(mut map) = body else {
        return Err(bad_request(if body.is_array() {
            "batched requests are not supported; send one operation per request"
        } else {
            "the request body must be a JSON object"
        }));
    };
    let query = match map.remove("query") {
        Some(Value::String(query)) => query,
        Some(_) => return Err(bad_request("`query` must be a string")),
        None => return Err(bad_request("the request has no `query`")),
    };
    let operation_name = match map.remove("operationName") {
        None | Some(Value::Null) => None,
        Some(Value::String(name)) => Some(name),
        Some(_) => return Err(bad_request("`operationName` must be a string")),
    };
    let object_or_null = |key: &str, value: Option<Value>| match value {
        None | Some(Value::Null) => Ok(None),
        Some(value @ Value::Object(_)) => Ok(Some(value)),
        Some(_) => Err(bad_request(format!("`{key}` must be an object"))),
    };
    Ok(Params {
        query,
        operation_name,
        variables: object_or_null("variables", map.remove("variables"))?,
        extensions: object_or_null("extensions", map.remove("extensions"))?,
    })
}

fn params_from_query_string(raw: Option<&str>) -> Result<Params, RequestFailure> {
    let mut query = None;
    let mut operation_name = None;
    let mut variables = None;
    let mut extensions = None;
    for (key, value) in url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
        match &*key {
            "query" => query = Some(value.into_owned()),
            "operationName" if !value.is_empty() => operation_name = Some(value.into_owned()),
            "variables" if !value.is_empty() => variables = Some(value.into_owned()),
            "extensions" if !value.is_empty() => extensions = Some(value.into_owned()),
            _ => {}
        }
    }
    let parse_object = |key: &str, text: Option<String>| -> Result<Option<Value>, RequestFailure> {
        match text.map(|t| serde_json::from_str::<Value>(&t)) {
            None => Ok(None),
            Some(Ok(value @ Value::Object(_))) => Ok(Some(value)),
            Some(Ok(Value::Null)) => Ok(None),
            Some(_) => Err(bad_request(format!(
                "`{key}` must be a JSON-encoded object"
            ))),
        }
    };
    Ok(Params {
        query: query.ok_or_else(|| bad_request("the request has no `query` parameter"))?,
        operation_name,
        variables: parse_object("variables", variables)?,
        extensions: parse_object("extensions", extensions)?,
    })
}

/// Parsed documents by query text: dashboards send the same few queries over and over,
/// and parsing costs more than cloning a parsed document. Bounded by total query size.
pub struct DocumentCache(moka::sync::Cache<String, Arc<ParsedDocument>>);

/// A parsed document, and which of its operations already passed validation: validation
/// depends only on the document, the operation and the variables, so a request without
/// variables whose operation passed before without variables need not be validated again
/// (`prevalidated_schema`), and one that passed with any variables may be compiled.
pub struct ParsedDocument {
    pub document: ExecutableDocument,
    validated: RwLock<Vec<ValidatedOperation>>,
}

/// An operation that passed validation, compiled when it can be.
struct ValidatedOperation {
    operation: Option<String>,
    validation: Validated,
}

/// What an earlier validation of an operation lets a request skip or use.
#[derive(Clone)]
pub struct Validated {
    /// It passed validation without variables.
    pub without_variables: bool,
    pub compiled: Option<Arc<CompiledQuery>>,
}

impl ParsedDocument {
    /// `operation`, if it passed validation before.
    pub fn validated(&self, operation: Option<&str>) -> Option<Validated> {
        let validated = self.validated.read().ok()?;
        validated
            .iter()
            .find(|v| v.operation.as_deref() == operation)
            .map(|v| v.validation.clone())
    }

    /// Records that `operation` passed validation, with or without variables (and
    /// compiles it the first time).
    pub fn mark_validated(&self, operation: Option<&str>, without_variables: bool) {
        match self.validated(operation) {
            Some(known) if known.without_variables || !without_variables => return,
            _ => {}
        }
        let compiled = compiled::compile(&self.document, operation);
        if let Ok(mut validated) = self.validated.write() {
            match validated
                .iter_mut()
                .find(|v| v.operation.as_deref() == operation)
            {
                Some(known) => known.validation.without_variables |= without_variables,
                None => validated.push(ValidatedOperation {
                    operation: operation.map(str::to_owned),
                    validation: Validated {
                        without_variables,
                        compiled,
                    },
                }),
            }
        }
    }
}

impl DocumentCache {
    pub fn new(max_bytes: u64) -> Self {
        DocumentCache(
            moka::sync::Cache::builder()
                .weigher(|query: &String, _| u32::try_from(query.len()).unwrap_or(u32::MAX))
                .max_capacity(max_bytes)
                .build(),
        )
    }

    /// The parsed document, or `None` when it does not parse (execution reports why).
    pub fn parse(&self, query: &str) -> Option<Arc<ParsedDocument>> {
        if let Some(parsed) = self.0.get(query) {
            return Some(parsed);
        }
        let parsed = Arc::new(ParsedDocument {
            document: async_graphql::parser::parse_query(query).ok()?,
            validated: RwLock::new(Vec::new()),
        });
        self.0.insert(query.to_owned(), parsed.clone());
        Some(parsed)
    }
}

/// The type of the operation that would run.
fn operation_type(
    document: &ExecutableDocument,
    operation_name: Option<&str>,
) -> Option<OperationType> {
    match (&document.operations, operation_name) {
        (DocumentOperations::Single(op), _) => Some(op.node.ty),
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name).map(|op| op.node.ty),
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => {
            ops.values().next().map(|op| op.node.ty)
        }
        _ => None,
    }
}

/// POST /graphql.
pub async fn post(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Response {
    let Some(media) = negotiate::response_media(&headers) else {
        return not_acceptable();
    };
    match negotiate::check_json_content_type(&headers) {
        Ok(()) => {}
        Err(ContentTypeProblem::Missing) => {
            return RequestFailure::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "BAD_REQUEST",
                "send the request as Content-Type: application/json",
            )
            .respond(media);
        }
        Err(ContentTypeProblem::Unsupported) => {
            return RequestFailure::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "BAD_REQUEST",
                "unsupported Content-Type; use application/json",
            )
            .respond(media);
        }
    }
    let caller = match authenticate(&state, &headers).await {
        Ok(caller) => caller,
        Err(failure) => return failure.respond(media),
    };
    let body = match body {
        Ok(body) => body,
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return RequestFailure::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "PAYLOAD_TOO_LARGE",
                format!(
                    "the request body exceeds {} bytes",
                    state.app.config.max_body_bytes
                ),
            )
            .respond(media);
        }
        Err(rejection) => return bad_request(rejection.body_text()).respond(media),
    };
    let params = match serde_json::from_slice::<Value>(&body) {
        Ok(json) => params_from_json(json),
        Err(e) => Err(bad_request(format!(
            "the request body is not valid JSON: {e}"
        ))),
    };
    match params {
        Ok(params) => execute(&state, caller, params, media, false).await,
        Err(failure) => failure.respond(media),
    }
}

/// GET /graphql with a `query` parameter (queries only).
pub(super) async fn get(
    state: &AppState,
    headers: &HeaderMap,
    raw_query: Option<&str>,
) -> Response {
    let Some(media) = negotiate::response_media(headers) else {
        return not_acceptable();
    };
    let caller = match authenticate(state, headers).await {
        Ok(caller) => caller,
        Err(failure) => return failure.respond(media),
    };
    match params_from_query_string(raw_query) {
        Ok(params) => execute(state, caller, params, media, true).await,
        Err(failure) => failure.respond(media),
    }
}

async fn execute(
    state: &AppState,
    caller: Caller,
    params: Params,
    media: ResponseMedia,
    via_get: bool,
) -> Response {
    let parsed = state.documents.parse(&params.query);
    let document = parsed.as_ref().map(|parsed| &parsed.document);
    let kind = document
        .and_then(|d| operation_type(d, params.operation_name.as_deref()))
        .map_or("unknown", |ty| match ty {
            OperationType::Query => "query",
            OperationType::Mutation => "mutation",
            OperationType::Subscription => "subscription",
        });
    if let Some(document) = document {
        match operation_type(document, params.operation_name.as_deref()) {
            Some(OperationType::Mutation) if via_get => {
                return RequestFailure::new(
                    StatusCode::METHOD_NOT_ALLOWED,
                    "BAD_REQUEST",
                    "mutations must be sent with POST",
                )
                .with_header(ALLOW, "POST")
                .respond(media);
            }
            Some(OperationType::Subscription) => {
                return bad_request("subscriptions run over a WebSocket on this path (graphql-transport-ws or graphql-ws)")
                    .respond(media);
            }
            _ => {}
        }
    }
    let without_variables = params
        .variables
        .as_ref()
        .is_none_or(|v| v.as_object().is_some_and(serde_json::Map::is_empty));
    let operation_name = params.operation_name.as_deref();
    let validated = parsed
        .as_ref()
        .and_then(|parsed| parsed.validated(operation_name));
    let prevalidated = without_variables && validated.as_ref().is_some_and(|v| v.without_variables);
    // Request extensions go to the executor (none of patchbay's reads them today).
    let variables = params.variables.as_ref().and_then(Value::as_object);
    if let Some(compiled) = validated.and_then(|v| v.compiled)
        && params.extensions.is_none()
        && let Some(body) = compiled.answer(&state.app, &caller, variables).await
    {
        state.app.telemetry.graphql_operation(kind, "OK");
        state.app.telemetry.graphql_compiled_answer();
        return (
            StatusCode::OK,
            [(CONTENT_TYPE, HeaderValue::from_static(media.content_type()))],
            body,
        )
            .into_response();
    }
    let request_id = caller.request_id.clone();
    let mut request = async_graphql::Request::new(params.query).data(caller);
    let parses = document.is_some();
    if let Some(document) = document {
        request.set_parsed_query(document.clone());
    }
    if let Some(name) = operation_name {
        request = request.operation_name(name);
    }
    if let Some(variables) = params.variables {
        request = request.variables(async_graphql::Variables::from_json(variables));
    }
    if let Some(Value::Object(extensions)) = params.extensions {
        for (key, value) in extensions {
            if let Ok(value) = async_graphql::Value::from_json(value) {
                request.extensions.insert(key, value);
            }
        }
    }
    let mut response = if prevalidated {
        state.prevalidated_schema.execute(request).await
    } else {
        state.schema.execute(request).await
    };
    if !prevalidated
        && request_errors::executed(&response)
        && let Some(parsed) = &parsed
    {
        parsed.mark_validated(operation_name, without_variables);
    }
    let code = response
        .errors
        .first()
        .and_then(|e| e.extensions.as_ref())
        .and_then(|ext| ext.get("code"))
        .and_then(|code| match code {
            async_graphql::Value::String(code) => Some(code.clone()),
            _ => None,
        })
        .unwrap_or_else(|| {
            if response.errors.is_empty() {
                "OK".to_owned()
            } else {
                "ERROR".to_owned()
            }
        });
    state.app.telemetry.graphql_operation(kind, &code);
    if request_errors::executed(&response) {
        if let Some(request_id) = &request_id {
            request_errors::add_request_id(&mut response.errors, request_id);
        }
        let bytes = serde_json::to_vec(&response).unwrap_or_else(|_| b"{}".to_vec());
        return (
            StatusCode::OK,
            [(CONTENT_TYPE, HeaderValue::from_static(media.content_type()))],
            bytes,
        )
            .into_response();
    }
    // A request error: the specification forbids a `data` entry.
    let errors: Vec<_> = response
        .errors
        .into_iter()
        .map(|e| request_errors::classify(e, parses))
        .collect();
    let status = match media {
        ResponseMedia::GraphqlResponseJson => StatusCode::BAD_REQUEST,
        ResponseMedia::Json => StatusCode::OK,
    };
    json_response(status, media, &json!({ "errors": errors }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn post_bodies_must_be_well_formed() {
        assert!(params_from_json(json!({"query": "{ viewer { name } }"})).is_ok());
        assert!(
            params_from_json(json!({"query": "{ a }", "variables": null, "operationName": null}))
                .is_ok()
        );
        for bad in [
            json!([{"query": "{ a }"}]),
            json!("{ a }"),
            json!({}),
            json!({"query": 1}),
            json!({"query": "{ a }", "variables": "[]"}),
            json!({"query": "{ a }", "operationName": 3}),
            json!({"query": "{ a }", "extensions": []}),
        ] {
            assert!(params_from_json(bad.clone()).is_err(), "{bad}");
        }
    }

    #[test]
    fn bearer_tokens_are_parsed() {
        assert_eq!(bearer_token("Bearer abc"), Some("abc"));
        assert_eq!(bearer_token("bearer  abc "), Some("abc"));
        assert_eq!(bearer_token("Basic abc"), None);
        assert_eq!(bearer_token("Bearer"), None);
    }

    fn op(query: &str, name: Option<&str>) -> Option<OperationType> {
        let parsed = DocumentCache::new(1 << 20).parse(query)?;
        operation_type(&parsed.document, name)
    }

    #[test]
    fn validated_operations_are_remembered_per_operation() {
        let cache = DocumentCache::new(1 << 20);
        let parsed = cache.parse("query A { a } query B { b }").expect("parses");
        assert!(parsed.validated(Some("A")).is_none());
        parsed.mark_validated(Some("A"), true);
        parsed.mark_validated(Some("A"), true);
        let again = cache.parse("query A { a } query B { b }").expect("parses");
        assert!(
            again
                .validated(Some("A"))
                .is_some_and(|v| v.without_variables)
        );
        assert!(again.validated(Some("B")).is_none());
        assert!(again.validated(None).is_none());
        // Validated with variables: known, but not for skipping validation without them,
        // until a run without variables passes too.
        parsed.mark_validated(None, false);
        assert!(again.validated(None).is_some_and(|v| !v.without_variables));
        parsed.mark_validated(None, true);
        assert!(again.validated(None).is_some_and(|v| v.without_variables));
        parsed.mark_validated(None, false);
        assert!(again.validated(None).is_some_and(|v| v.without_variables));
        // Not a page this compiles: validated, nothing compiled.
        assert!(again.validated(None).is_some_and(|v| v.compiled.is_none()));
    }

    #[test]
    fn operation_types_are_found() {
        assert_eq!(op("mutation { a }", None), Some(OperationType::Mutation));
        assert_eq!(
            op("query A { a } mutation B { b }", Some("B")),
            Some(OperationType::Mutation)
        );
        assert_eq!(op("{ a }", None), Some(OperationType::Query));
        assert_eq!(op("{", None), None);
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Request parsing never panics, whatever the body or query string.
        #[test]
        fn arbitrary_requests_parse_or_fail_cleanly(body in ".{0,200}", query in "[ -~]{0,200}") {
            if let Ok(json) = serde_json::from_str::<Value>(&body) {
                let _ = params_from_json(json);
            }
            let _ = params_from_query_string(Some(&query));
            let _ = DocumentCache::new(1 << 16).parse(&body);
        }

        /// A well-formed body round-trips its parts.
        #[test]
        fn well_formed_bodies_keep_their_parts(query in ".{1,50}", name in "[A-Za-z]{1,10}") {
            let params = params_from_json(json!({ "query": query, "operationName": name, "variables": { "a": 1 } })).unwrap();
            prop_assert_eq!(params.query, query);
            prop_assert_eq!(params.operation_name.as_deref(), Some(name.as_str()));
            prop_assert_eq!(params.variables, Some(json!({ "a": 1 })));
        }
    }
}
