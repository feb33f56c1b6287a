//! Marks which phase a request failed in, so the HTTP layer can follow the
//! GraphQL-over-HTTP rules (a request error has no `data` and a 4xx status), and gives
//! parse and validation errors their `extensions.code`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery, NextValidation,
};
use async_graphql::parser::types::ExecutableDocument;
use async_graphql::{Response, ServerError, ServerResult, ValidationResult, Value, Variables};

use crate::domain::access::Caller;

/// Set once execution starts: a response without it is a request error.
#[derive(Debug, Clone, Default)]
pub struct ExecutionMarker(Arc<AtomicBool>);

impl ExecutionMarker {
    pub fn started(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}

/// The extension factory (installed on every schema).
pub struct RequestPhases;

impl ExtensionFactory for RequestPhases {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(RequestPhasesExtension)
    }
}

struct RequestPhasesExtension;

fn with_code(mut error: ServerError, code: &str) -> ServerError {
    let has_code = error
        .extensions
        .as_ref()
        .is_some_and(|e| e.get("code").is_some());
    if !has_code {
        error
            .extensions
            .get_or_insert_with(Default::default)
            .set("code", code);
    }
    error
}

/// Argument values that do not fit their type (literal or from a variable) and missing
/// variable values are bad input, as Apollo reports them, with the argument path as `field`; every other
/// validation failure is a malformed document.
fn classify_validation_error(error: ServerError) -> ServerError {
    const BAD_ARGUMENT: &str = "Invalid value for argument ";
    // async-graphql's wording for a declared variable that was given no value
    // (its rule for undeclared variables quotes the name, `"$x"`, and is a document error).
    if let Some(name) = error
        .message
        .strip_prefix("Variable ")
        .and_then(|rest| rest.strip_suffix(" is not defined."))
        .filter(|name| !name.contains('"'))
    {
        let field = name.to_owned();
        let mut error = with_code(error, "BAD_USER_INPUT");
        if let Some(extensions) = error.extensions.as_mut() {
            extensions.set("field", field);
        }
        return error;
    }
    let Some(rest) = error.message.strip_prefix(BAD_ARGUMENT) else {
        return with_code(error, "GRAPHQL_VALIDATION_FAILED");
    };
    let field = rest
        .strip_prefix('"')
        .and_then(|quoted| quoted.split_once('"'))
        .map(|(field, _)| field.to_owned());
    let mut error = with_code(error, "BAD_USER_INPUT");
    if let (Some(field), Some(extensions)) = (field, error.extensions.as_mut()) {
        extensions.set("field", field);
    }
    error
}

#[async_trait::async_trait]
impl Extension for RequestPhasesExtension {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        next.run(ctx, query, variables)
            .await
            .map_err(|e| with_code(e, "GRAPHQL_PARSE_FAILED"))
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        next.run(ctx)
            .await
            .map_err(|errors| errors.into_iter().map(classify_validation_error).collect())
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        if let Some(marker) = ctx.data_opt::<ExecutionMarker>() {
            marker.0.store(true, Ordering::Release);
        }
        let mut response = next.run(ctx, operation_name).await;
        // INTERNAL errors show only a request id; the cause is in the server log under it.
        if let Some(request_id) = ctx.data_opt::<Caller>().and_then(|c| c.request_id.clone()) {
            for error in &mut response.errors {
                let internal = error
                    .extensions
                    .as_ref()
                    .and_then(|e| e.get("code"))
                    .is_some_and(|code| *code == Value::from("INTERNAL"));
                if internal && let Some(extensions) = error.extensions.as_mut() {
                    extensions.set("requestId", request_id.clone());
                }
            }
        }
        response
    }
}
