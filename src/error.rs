//! The error policy.
//!
//! - Store code returns `StoreError`; the vault `VaultError`; the outbound room its own
//!   typed errors (`OutboundError`, `CallError`, `MaterialError`); start-up, CLI and
//!   background tasks use `anyhow`.
//! - Domain services return [`AppError`], which knows nothing of GraphQL. The API edge
//!   maps it exactly once to a GraphQL error with `extensions.code` (and
//!   `extensions.field` for bad input) in `crate::graphql::errors`. `INTERNAL` errors log
//!   their cause and show the client only a request id, never an internal message.

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
    /// Several problems with the input at once (a template, a config checked against its
    /// schema): every problem with its JSON path, so a client can fix them in one go.
    #[error("{}", describe_problems(.0))]
    InvalidFields(Vec<FieldProblem>),
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
            AppError::BadUserInput { .. } | AppError::InvalidFields(_) => "BAD_USER_INPUT",
            AppError::Conflict(_) => "CONFLICT",
            AppError::RateLimited { .. } => "RATE_LIMITED",
            AppError::Unavailable(_) => "INTEGRATION_UNAVAILABLE",
            AppError::Execution { class, .. } => class.api_code(),
            AppError::Internal(_) => "INTERNAL",
        }
    }
}

/// One problem of an input, at a JSON path such as `input.operations[0].path`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldProblem {
    pub field: String,
    pub message: String,
}

impl FieldProblem {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldProblem {
            field: field.into(),
            message: message.into(),
        }
    }
}

fn describe_problems(problems: &[FieldProblem]) -> String {
    let listed: Vec<String> = problems
        .iter()
        .map(|p| format!("{}: {}", p.field, p.message))
        .collect();
    match problems.len() {
        1 => listed.concat(),
        n => format!("{n} problems: {}", listed.join("; ")),
    }
}

impl AppError {
    /// Bad input with every problem listed; one problem is plain [`AppError::BadUserInput`].
    pub fn invalid_all(mut problems: Vec<FieldProblem>) -> Self {
        if problems.len() == 1 {
            let only = problems.remove(0);
            return AppError::invalid(only.field, only.message);
        }
        AppError::InvalidFields(problems)
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
