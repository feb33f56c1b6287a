//! Request and response transforms (JMESPath: select, reshape and rename fields) and the
//! error-mapping rules that turn an upstream answer into a failure class, such as
//! Slack's `200 {"ok": false}`. Plain data and pure functions: the domain validates and
//! stores them, and decides what an answer means with them.

use async_graphql::{InputObject, SimpleObject};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::classify::ErrorClass;

/// JMESPath expressions applied to JSON bodies.
#[derive(
    Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, SimpleObject, InputObject,
)]
#[graphql(input_name = "TransformsInput")]
#[serde(rename_all = "camelCase", default)]
pub struct Transforms {
    /// Reshapes a JSON request body before it is sent, e.g. `{fields: {summary: title}}`.
    pub request: Option<String>,
    /// Reshapes a successful JSON response, e.g. `issues[].{id: key, title: fields.summary}`.
    pub response: Option<String>,
}

/// Turns an upstream answer into a failure of a chosen class. Every condition set must
/// hold; the first matching rule wins.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, SimpleObject, InputObject)]
#[graphql(input_name = "ErrorRuleInput")]
#[serde(rename_all = "camelCase")]
pub struct ErrorRule {
    /// Statuses the rule applies to (empty: any).
    #[graphql(default)]
    #[serde(default)]
    pub status_codes: Vec<i32>,
    /// Text the response body must contain.
    pub body_contains: Option<String>,
    /// A JMESPath condition on the JSON body, e.g. ``ok == `false` ``.
    pub body_matches: Option<String>,
    pub class: ErrorClass,
    /// The message recorded instead of the upstream's status line.
    pub message: Option<String>,
}

/// Why an expression could not be compiled or evaluated.
#[derive(Debug, thiserror::Error)]
pub enum TransformError {
    #[error("{0}")]
    Compile(String),
    #[error("{0}")]
    Evaluate(String),
    #[error("the result is not JSON: {0}")]
    Encode(#[from] serde_json::Error),
}

fn compile(expression: &str) -> Result<jmespath::Expression<'static>, TransformError> {
    jmespath::compile(expression).map_err(|e| TransformError::Compile(e.to_string()))
}

/// Compiles an expression, reporting why it is invalid.
pub fn check(expression: &str) -> Result<(), TransformError> {
    compile(expression).map(|_| ())
}

/// Evaluates `expression` against `value`.
pub fn apply(expression: &str, value: &Value) -> Result<Value, TransformError> {
    let result = compile(expression)?
        .search(value)
        .map_err(|e| TransformError::Evaluate(e.to_string()))?;
    Ok(serde_json::to_value(&*result)?)
}

/// JMESPath truthiness of `expression` against `value` (false, null and empty values are false).
pub fn truthy(expression: &str, value: &Value) -> Result<bool, TransformError> {
    let result = compile(expression)?
        .search(value)
        .map_err(|e| TransformError::Evaluate(e.to_string()))?;
    Ok(result.is_truthy())
}

/// The first rule an answer matches: every condition a rule sets must hold.
pub fn matching_rule<'a>(
    rules: &'a [ErrorRule],
    status: u16,
    text: Option<&str>,
    json: Option<&Value>,
) -> Option<&'a ErrorRule> {
    rules.iter().find(|rule| {
        (rule.status_codes.is_empty() || rule.status_codes.contains(&i32::from(status)))
            && rule
                .body_contains
                .as_deref()
                .is_none_or(|needle| text.is_some_and(|t| t.contains(needle)))
            && rule.body_matches.as_deref().is_none_or(|expression| {
                json.is_some_and(|body| truthy(expression, body).unwrap_or(false))
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn selects_and_renames_fields() {
        let body = json!({ "issues": [ { "key": "A-1", "fields": { "summary": "x" } } ] });
        let out = apply("issues[].{id: key, title: fields.summary}", &body).unwrap();
        assert_eq!(out, json!([{ "id": "A-1", "title": "x" }]));
        assert!(matches!(check("issues["), Err(TransformError::Compile(_))));
    }

    #[test]
    fn rules_match_on_status_text_and_expression() {
        let rule = |codes: Vec<i32>, contains: Option<&str>, matches: Option<&str>| ErrorRule {
            status_codes: codes,
            body_contains: contains.map(str::to_owned),
            body_matches: matches.map(str::to_owned),
            class: ErrorClass::Authorization,
            message: None,
        };
        let slack = [rule(vec![200], None, Some("ok == `false`"))];
        let body = json!({ "ok": false, "error": "not_in_channel" });
        assert!(matching_rule(&slack, 200, None, Some(&body)).is_some());
        assert!(matching_rule(&slack, 200, None, Some(&json!({ "ok": true }))).is_none());
        let text = [rule(vec![], Some("quota"), None)];
        assert!(matching_rule(&text, 500, Some("quota exceeded"), None).is_some());
        assert!(matching_rule(&text, 500, Some("boom"), None).is_none());
    }
}
