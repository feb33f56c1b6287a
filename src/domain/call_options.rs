//! How calls through an integration are shaped: transforms, error-mapping rules (plain
//! data of the outbound room, validated here), the connection check `testConnection`
//! runs, and whether absolute URLs may be called. Stored as one JSON column; every
//! expression is compiled when it is saved.

use async_graphql::{InputObject, SimpleObject};
use serde::{Deserialize, Serialize};

use crate::error::{AppError, AppResult};
pub use crate::outbound::policy::HttpMethod;
use crate::outbound::transform;
pub use crate::outbound::transform::{ErrorRule, Transforms};

/// The request `testConnection` sends and what counts as success.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, SimpleObject, InputObject)]
#[graphql(input_name = "ConnectionCheckInput")]
#[serde(rename_all = "camelCase")]
pub struct ConnectionCheck {
    #[graphql(default_with = "HttpMethod::Get")]
    pub method: HttpMethod,
    /// Relative to the base URL.
    #[graphql(default_with = "\"/\".to_owned()")]
    pub path: String,
    /// Statuses that mean the connection works (empty: any 2xx).
    #[graphql(default)]
    #[serde(default)]
    pub expected_status: Vec<i32>,
}

impl Default for ConnectionCheck {
    fn default() -> Self {
        ConnectionCheck {
            method: HttpMethod::Get,
            path: "/".to_owned(),
            expected_status: Vec::new(),
        }
    }
}

/// Everything stored in `integrations.call_options`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct CallOptions {
    pub transforms: Transforms,
    pub error_rules: Vec<ErrorRule>,
    pub connection_check: Option<ConnectionCheck>,
    pub allow_absolute_urls: bool,
    /// The scheduled health check (none: health comes from real traffic only).
    pub health_check: Option<super::health::HealthCheck>,
}

const MAX_RULES: usize = 50;
const MAX_EXPRESSION: usize = 2000;

fn expression(field: &str, value: Option<String>) -> AppResult<Option<String>> {
    let Some(value) = value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if value.len() > MAX_EXPRESSION {
        return Err(AppError::invalid(
            field,
            format!("at most {MAX_EXPRESSION} characters"),
        ));
    }
    transform::check(&value)
        .map_err(|e| AppError::invalid(field, format!("not a valid JMESPath expression: {e}")))?;
    Ok(Some(value))
}

fn statuses(field: &str, codes: &[i32]) -> AppResult<()> {
    if let Some((i, bad)) = codes
        .iter()
        .enumerate()
        .find(|(_, c)| !(100..=599).contains(*c))
    {
        return Err(AppError::invalid(
            format!("{field}[{i}]"),
            format!("{bad} is not an HTTP status"),
        ));
    }
    Ok(())
}

/// Checks transforms, compiling their expressions.
pub fn validate_transforms(field: &str, input: Transforms) -> AppResult<Transforms> {
    Ok(Transforms {
        request: expression(&format!("{field}.request"), input.request)?,
        response: expression(&format!("{field}.response"), input.response)?,
    })
}

/// Checks error rules.
pub fn validate_rules(field: &str, rules: Vec<ErrorRule>) -> AppResult<Vec<ErrorRule>> {
    if rules.len() > MAX_RULES {
        return Err(AppError::invalid(
            field,
            format!("at most {MAX_RULES} rules"),
        ));
    }
    rules
        .into_iter()
        .enumerate()
        .map(|(i, rule)| {
            let at = format!("{field}[{i}]");
            statuses(&format!("{at}.statusCodes"), &rule.status_codes)?;
            Ok(ErrorRule {
                body_matches: expression(&format!("{at}.bodyMatches"), rule.body_matches)?,
                body_contains: rule.body_contains.filter(|t| !t.is_empty()),
                message: super::validate::optional_text(
                    &format!("{at}.message"),
                    rule.message.as_deref(),
                    500,
                )?,
                ..rule
            })
        })
        .collect()
}

/// Checks a connection check (the path is resolved against the base URL at call time).
pub fn validate_check(field: &str, check: ConnectionCheck) -> AppResult<ConnectionCheck> {
    statuses(&format!("{field}.expectedStatus"), &check.expected_status)?;
    if check.path.is_empty() || check.path.len() > 2000 {
        return Err(AppError::invalid(
            format!("{field}.path"),
            "must be 1-2000 characters",
        ));
    }
    Ok(check)
}
