//! Codes for request errors: failures before execution (the document does not parse
//! or validate, a variable is missing or does not fit its type, the operation is
//! ambiguous). Applied by the HTTP layer on the error path only, so the hot path runs
//! without an async-graphql extension (any extension sends every field through the
//! slow, boxed resolve chain).

use std::sync::Arc;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextValidation,
};
use async_graphql::parser::types::ExecutableDocument;
use async_graphql::{Response, ServerError, ServerResult, ValidationResult, Variables};

/// Whether execution ran: field errors carry a path and execution always yields data;
/// request errors have neither.
pub fn executed(response: &Response) -> bool {
    response.data != async_graphql::Value::Null
        || response.errors.iter().any(|e| !e.path.is_empty())
}

fn has_code(error: &ServerError) -> bool {
    error
        .extensions
        .as_ref()
        .is_some_and(|e| e.get("code").is_some())
}

fn set(error: &mut ServerError, key: &str, value: impl Into<async_graphql::Value>) {
    error
        .extensions
        .get_or_insert_with(Default::default)
        .set(key, value);
}

/// Gives a request error its code. Argument values that do not fit their type (literal
/// or from a variable) and missing variable values are `BAD_USER_INPUT`, as Apollo
/// reports them, with the argument or variable as `field`; a document that does not
/// parse is `GRAPHQL_PARSE_FAILED`; anything else `GRAPHQL_VALIDATION_FAILED`.
pub fn classify(mut error: ServerError, document_parses: bool) -> ServerError {
    if has_code(&error) {
        return error;
    }
    if !document_parses {
        set(&mut error, "code", "GRAPHQL_PARSE_FAILED");
        return error;
    }
    // async-graphql's wording for a declared variable given no value (its rule for an
    // undeclared variable quotes the name, `"$x"`, and is a document error).
    let missing_variable = error
        .message
        .strip_prefix("Variable ")
        .and_then(|rest| rest.strip_suffix(" is not defined."))
        .filter(|name| !name.contains('"'))
        .map(str::to_owned);
    let bad_argument = error
        .message
        .strip_prefix("Invalid value for argument \"")
        .and_then(|rest| rest.split_once('"'))
        .map(|(field, _)| field.to_owned());
    match missing_variable.or(bad_argument) {
        Some(field) => {
            set(&mut error, "code", "BAD_USER_INPUT");
            set(&mut error, "field", field);
        }
        None => set(&mut error, "code", "GRAPHQL_VALIDATION_FAILED"),
    }
    error
}

/// Adds the request id to INTERNAL errors: the client sees only that id, and the
/// server log has the cause under it.
pub fn add_request_id(errors: &mut [ServerError], request_id: &str) {
    for error in errors {
        let internal = error
            .extensions
            .as_ref()
            .and_then(|e| e.get("code"))
            .is_some_and(|code| *code == async_graphql::Value::from("INTERNAL"));
        if internal {
            set(error, "requestId", request_id);
        }
    }
}

/// Codes for request errors on WebSocket operations (see [`classify`]).
pub struct RequestErrorCodes;

impl ExtensionFactory for RequestErrorCodes {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(RequestErrorCodes)
    }
}

#[async_trait::async_trait]
impl Extension for RequestErrorCodes {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        next.run(ctx, query, variables)
            .await
            .map_err(|e| classify(e, false))
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        next.run(ctx)
            .await
            .map_err(|errors| errors.into_iter().map(|e| classify(e, true)).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(error: &ServerError) -> String {
        serde_json::to_value(error).unwrap()["extensions"]["code"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    #[test]
    fn request_errors_are_classified() {
        let bad = classify(
            ServerError::new(
                "Invalid value for argument \"input.category\", enumeration type",
                None,
            ),
            true,
        );
        assert_eq!(code(&bad), "BAD_USER_INPUT");
        assert_eq!(
            serde_json::to_value(&bad).unwrap()["extensions"]["field"],
            "input.category"
        );
        assert_eq!(
            code(&classify(
                ServerError::new("Variable n is not defined.", None),
                true
            )),
            "BAD_USER_INPUT"
        );
        assert_eq!(
            code(&classify(
                ServerError::new("Variable \"$n\" is not defined", None),
                true
            )),
            "GRAPHQL_VALIDATION_FAILED"
        );
        assert_eq!(
            code(&classify(ServerError::new("Unknown field", None), true)),
            "GRAPHQL_VALIDATION_FAILED"
        );
        assert_eq!(
            code(&classify(ServerError::new("expected name", None), false)),
            "GRAPHQL_PARSE_FAILED"
        );
    }

    #[test]
    fn internal_errors_get_the_request_id() {
        let mut errors = vec![
            crate::graphql::errors::to_graphql(crate::error::AppError::internal(anyhow::anyhow!(
                "x"
            )))
            .into_server_error(Default::default()),
        ];
        add_request_id(&mut errors, "req-1");
        assert_eq!(
            serde_json::to_value(&errors[0]).unwrap()["extensions"]["requestId"],
            "req-1"
        );
    }
}
