//! Request and response transforms (JMESPath: select, reshape and rename fields) and the
//! error-mapping rules that turn an upstream answer into a failure class, such as
//! Slack's `200 {"ok": false}`.

use serde_json::Value;

use crate::domain::call_options::ErrorRule;

/// Compiles an expression, reporting why it is invalid.
pub fn check(expression: &str) -> Result<(), String> {
    jmespath::compile(expression)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// Evaluates `expression` against `value`.
pub fn apply(expression: &str, value: &Value) -> Result<Value, String> {
    let compiled = jmespath::compile(expression).map_err(|e| e.to_string())?;
    let result = compiled.search(value).map_err(|e| e.to_string())?;
    serde_json::to_value(&*result).map_err(|e| e.to_string())
}

/// JMESPath truthiness of `expression` against `value` (false, null and empty values are false).
pub fn truthy(expression: &str, value: &Value) -> Result<bool, String> {
    let compiled = jmespath::compile(expression).map_err(|e| e.to_string())?;
    let result = compiled.search(value).map_err(|e| e.to_string())?;
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
    use crate::outbound::classify::ErrorClass;
    use serde_json::json;

    #[test]
    fn selects_and_renames_fields() {
        let body = json!({ "issues": [ { "key": "A-1", "fields": { "summary": "x" } } ] });
        let out = apply("issues[].{id: key, title: fields.summary}", &body).unwrap();
        assert_eq!(out, json!([{ "id": "A-1", "title": "x" }]));
        assert!(check("issues[").is_err());
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
