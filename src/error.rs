//! The error policy.
//!
//! - Store code returns `StoreError`; start-up, CLI and background tasks use `anyhow`.
//! - Domain services and resolvers return [`AppError`], mapped exactly once to a GraphQL
//!   error with `extensions.code` (and `extensions.field` for bad input) in
//!   [`AppError::into_graphql`]. `INTERNAL` errors log their cause and show the client
//!   only a request id, never an internal message.

use async_graphql::ErrorExtensions;

use crate::store::StoreError;

/// Errors a caller of the API can see.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    Unauthenticated(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{kind} `{id}` not found")]
    NotFound { kind: &'static str, id: String },
    #[error("{message}")]
    BadUserInput {
        message: String,
        field: Option<String>,
    },
    #[error("{0}")]
    Conflict(String),
    #[error("too many requests; retry in {retry_after_seconds}s")]
    RateLimited { retry_after_seconds: u64 },
    /// The integration takes no calls (disabled, MAINTENANCE, DEPRECATED).
    #[error("{0}")]
    Unavailable(String),
    /// An outgoing call failed without a usable upstream answer.
    #[error("{message}")]
    Execution {
        class: crate::outbound::classify::ErrorClass,
        message: String,
        retry_after_seconds: Option<u64>,
        execution_id: Option<String>,
    },
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl AppError {
    /// Bad input on a named field (a JSON path such as `input.config.url`).
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        AppError::BadUserInput {
            message: message.into(),
            field: Some(field.into()),
        }
    }

    pub fn not_found(kind: &'static str, id: impl Into<String>) -> Self {
        AppError::NotFound {
            kind,
            id: id.into(),
        }
    }

    pub fn internal(err: impl Into<anyhow::Error>) -> Self {
        AppError::Internal(err.into())
    }

    /// The `extensions.code` of this error.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Unauthenticated(_) => "UNAUTHENTICATED",
            AppError::Forbidden(_) => "FORBIDDEN",
            AppError::NotFound { .. } => "NOT_FOUND",
            AppError::BadUserInput { .. } => "BAD_USER_INPUT",
            AppError::Conflict(_) => "CONFLICT",
            AppError::RateLimited { .. } => "RATE_LIMITED",
            AppError::Unavailable(_) => "INTEGRATION_UNAVAILABLE",
            AppError::Execution { class, .. } => class.api_code(),
            AppError::Internal(_) => "INTERNAL",
        }
    }

    /// The one mapping to a GraphQL error.
    pub fn into_graphql(self) -> async_graphql::Error {
        if let AppError::Internal(cause) = &self {
            // The request span carries the request id that the client is shown.
            tracing::error!(error = format!("{cause:#}"), "internal error");
        }
        let code = self.code();
        let message = self.to_string();
        let error = async_graphql::Error::new(message);
        match self {
            AppError::BadUserInput {
                field: Some(field), ..
            } => error.extend_with(|_, e| {
                e.set("code", code);
                e.set("field", field.clone());
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
}

impl From<StoreError> for AppError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound => AppError::not_found("record", ""),
            StoreError::Conflict(constraint) => {
                AppError::Conflict(format!("conflicts with an existing record ({constraint})"))
            }
            other => AppError::internal(other),
        }
    }
}

pub type AppResult<T> = Result<T, AppError>;

/// The error type of resolvers. It deliberately has no `Display`: async-graphql turns any
/// `Display` type into an error by its message alone, which would drop `extensions.code`;
/// this type can only be made from an [`AppError`] (mapped) or an async-graphql error.
#[derive(Debug, Clone)]
pub struct ApiError(async_graphql::Error);

impl From<AppError> for ApiError {
    fn from(err: AppError) -> Self {
        ApiError(err.into_graphql())
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        AppError::from(err).into()
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
        let gql = err.into_graphql();
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
        let internal = AppError::internal(anyhow::anyhow!("secret detail")).into_graphql();
        assert!(!internal.message.contains("secret detail"));
        let limited = extensions(AppError::RateLimited {
            retry_after_seconds: 7,
        });
        assert_eq!(limited["retryAfterSeconds"], 7);
    }
}
