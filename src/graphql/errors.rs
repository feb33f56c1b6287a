//! The one mapping from the domain's [`AppError`] to GraphQL errors with
//! `extensions.code`, and the error type resolvers return.

use async_graphql::ErrorExtensions;

use crate::error::AppError;

/// The one mapping to a GraphQL error.
pub fn to_graphql(err: AppError) -> async_graphql::Error {
    if let AppError::Internal(cause) = &err {
        // The request span carries the request id that the client is shown.
        tracing::error!(error = format!("{cause:#}"), "internal error");
    }
    let code = err.code();
    let message = err.to_string();
    let error = async_graphql::Error::new(message);
    match err {
        AppError::BadUserInput {
            field: Some(field), ..
        } => error.extend_with(|_, e| {
            e.set("code", code);
            e.set("field", field.clone());
        }),
        // `field` is the first problem's path (clients that read one field still get one);
        // `problems` lists every problem with its path.
        AppError::InvalidFields(problems) => error.extend_with(|_, e| {
            e.set("code", code);
            if let Some(first) = problems.first() {
                e.set("field", first.field.clone());
            }
            let listed: Vec<async_graphql::Value> = problems
                .iter()
                .map(|p| {
                    let mut entry = async_graphql::indexmap::IndexMap::new();
                    entry.insert(
                        async_graphql::Name::new("field"),
                        async_graphql::Value::from(p.field.clone()),
                    );
                    entry.insert(
                        async_graphql::Name::new("message"),
                        async_graphql::Value::from(p.message.clone()),
                    );
                    async_graphql::Value::Object(entry)
                })
                .collect();
            e.set("problems", async_graphql::Value::List(listed));
        }),
        AppError::RateLimited {
            retry_after_seconds,
        } => error.extend_with(|_, e| {
            e.set("code", code);
            e.set("retryAfterSeconds", retry_after_seconds);
        }),
        AppError::Execution {
            class,
            retry_after_seconds,
            execution_id,
            ..
        } => error.extend_with(|_, e| {
            e.set("code", code);
            e.set("errorClass", class.as_str());
            e.set("recoverable", class.recoverable());
            e.set("recoveryAction", class.recovery_action().as_str());
            if let Some(seconds) = retry_after_seconds {
                e.set("retryAfterSeconds", seconds);
            }
            if let Some(id) = &execution_id {
                e.set("executionId", id.as_str());
            }
        }),
        _ => error.extend_with(|_, e| e.set("code", code)),
    }
}

/// The error type of resolvers. It deliberately has no `Display`: async-graphql turns any
/// `Display` type into an error by its message alone, which would drop `extensions.code`;
/// this type can only be made from an [`AppError`] (mapped) or an async-graphql error.
#[derive(Debug, Clone)]
pub struct ApiError(async_graphql::Error);

impl From<AppError> for ApiError {
    fn from(err: AppError) -> Self {
        ApiError(to_graphql(err))
    }
}

impl From<async_graphql::Error> for ApiError {
    fn from(err: async_graphql::Error) -> Self {
        ApiError(err)
    }
}

impl From<ApiError> for async_graphql::Error {
    fn from(err: ApiError) -> Self {
        err.0
    }
}

/// What resolvers return.
pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    fn extensions(err: AppError) -> serde_json::Value {
        let gql = to_graphql(err);
        serde_json::to_value(gql.extensions).unwrap()
    }

    #[test]
    fn every_variant_maps_to_its_code() {
        let cases = [
            (AppError::Unauthenticated("x".into()), "UNAUTHENTICATED"),
            (AppError::Forbidden("x".into()), "FORBIDDEN"),
            (AppError::not_found("integration", "int_1"), "NOT_FOUND"),
            (AppError::invalid("input.name", "empty"), "BAD_USER_INPUT"),
            (AppError::Conflict("dup".into()), "CONFLICT"),
            (
                AppError::RateLimited {
                    retry_after_seconds: 3,
                },
                "RATE_LIMITED",
            ),
            (
                AppError::internal(anyhow::anyhow!("db password=hunter2 leaked")),
                "INTERNAL",
            ),
        ];
        for (err, code) in cases {
            assert_eq!(extensions(err)["code"], code);
        }
    }

    #[test]
    fn bad_input_names_the_field_and_internal_hides_the_cause() {
        assert_eq!(
            extensions(AppError::invalid("input.config", "x"))["field"],
            "input.config"
        );
        let internal = to_graphql(AppError::internal(anyhow::anyhow!("secret detail")));
        assert!(!internal.message.contains("secret detail"));
        let many = extensions(AppError::invalid_all(vec![
            crate::error::FieldProblem::new("input.a", "x"),
            crate::error::FieldProblem::new("input.b[0]", "y"),
        ]));
        assert_eq!(many["code"], "BAD_USER_INPUT");
        assert_eq!(many["field"], "input.a");
        assert_eq!(many["problems"][1]["field"], "input.b[0]");
        let limited = extensions(AppError::RateLimited {
            retry_after_seconds: 7,
        });
        assert_eq!(limited["retryAfterSeconds"], 7);
    }
}
