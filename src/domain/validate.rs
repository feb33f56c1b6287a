//! Input checks shared by every domain. Each error names the field it is about
//! (a JSON path such as `input.headers.X-Foo`).

use std::collections::BTreeMap;

use crate::error::{AppError, AppResult};
use crate::ids::IdKind;

/// A trimmed, non-empty name of at most `max` characters without control characters.
pub fn name(field: &str, value: &str, max: usize) -> AppResult<String> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(AppError::invalid(field, "must not be empty"));
    }
    if trimmed.chars().count() > max {
        return Err(AppError::invalid(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(AppError::invalid(
            field,
            "must not contain control characters",
        ));
    }
    Ok(trimmed.to_owned())
}

/// Optional free text: trimmed, empty becomes `None`, bounded length.
pub fn optional_text(field: &str, value: Option<&str>, max: usize) -> AppResult<Option<String>> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(text) if text.chars().count() > max => Err(AppError::invalid(
            field,
            format!("must be at most {max} characters"),
        )),
        Some(text) => Ok(Some(text.to_owned())),
    }
}

/// An ID of the expected kind (a malformed or foreign ID is bad input, not "not found").
pub fn id(field: &str, value: &str, kind: IdKind) -> AppResult<String> {
    if IdKind::of(value) == Some(kind) {
        Ok(value.to_owned())
    } else {
        Err(AppError::invalid(
            field,
            format!("`{value}` is not a {} ID", kind.prefix()),
        ))
    }
}

/// A URL slug: `[a-z0-9-]`, 1 to 63 characters, no leading or trailing dash.
pub fn slug(field: &str, value: &str) -> AppResult<String> {
    let ok = !value.is_empty()
        && value.len() <= 63
        && value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !value.starts_with('-')
        && !value.ends_with('-');
    if ok {
        Ok(value.to_owned())
    } else {
        Err(AppError::invalid(
            field,
            "must be 1-63 characters of a-z, 0-9 and '-', not starting or ending with '-'",
        ))
    }
}

/// A slug derived from a name ("My Project!" → "my-project").
pub fn slugify(name: &str) -> String {
    let mut slug = String::new();
    for ch in name.chars().flat_map(char::to_lowercase) {
        if ch.is_ascii_alphanumeric() {
            slug.push(ch);
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    let slug = slug.trim_end_matches('-');
    slug.chars()
        .take(63)
        .collect::<String>()
        .trim_end_matches('-')
        .to_owned()
}

/// Tags: lowercased, `[a-z0-9._:-]`, 1-50 characters each, at most 20, duplicates dropped.
pub fn tags(field: &str, values: &[String]) -> AppResult<Vec<String>> {
    if values.len() > 20 {
        return Err(AppError::invalid(field, "at most 20 tags"));
    }
    let mut out: Vec<String> = Vec::with_capacity(values.len());
    for (i, raw) in values.iter().enumerate() {
        let tag = tag(&format!("{field}[{i}]"), raw)?;
        if !out.contains(&tag) {
            out.push(tag);
        }
    }
    Ok(out)
}

/// One tag, normalised (also used by the `tag` filter).
pub fn tag(field: &str, raw: &str) -> AppResult<String> {
    let tag = raw.trim().to_lowercase();
    let ok = !tag.is_empty()
        && tag.len() <= 50
        && tag
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._:-".contains(&b));
    if ok {
        Ok(tag)
    } else {
        Err(AppError::invalid(
            field,
            "tags are 1-50 characters of a-z, 0-9, '.', '_', ':' and '-'",
        ))
    }
}

/// An http(s) base URL without credentials or fragment (secrets belong in the vault).
pub fn base_url(field: &str, value: &str) -> AppResult<String> {
    let url = url::Url::parse(value.trim())
        .map_err(|e| AppError::invalid(field, format!("not a valid URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(AppError::invalid(field, "must be an http or https URL"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(AppError::invalid(field, "must have a host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(AppError::invalid(
            field,
            "must not contain credentials; set them with setCredentials",
        ));
    }
    if url.fragment().is_some() {
        return Err(AppError::invalid(field, "must not have a fragment"));
    }
    Ok(url.to_string())
}

/// Maximum size of a stored JSON document (config, metadata), serialised.
pub const MAX_JSON_BYTES: usize = 64 * 1024;

/// A JSON object of bounded size (the integration's `config`).
pub fn json_object(
    field: &str,
    value: serde_json::Value,
) -> AppResult<serde_json::Map<String, serde_json::Value>> {
    let serde_json::Value::Object(map) = value else {
        return Err(AppError::invalid(
            field,
            format!("must be a JSON object, got {}", json_kind(&value)),
        ));
    };
    let size = serde_json::to_vec(&map)
        .map(|v| v.len())
        .unwrap_or(usize::MAX);
    if size > MAX_JSON_BYTES {
        return Err(AppError::invalid(
            field,
            format!("must be at most {MAX_JSON_BYTES} bytes serialised"),
        ));
    }
    Ok(map)
}

fn json_kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

/// Headers sent to the upstream with every call: names and values valid in HTTP,
/// and none that carry credentials (those belong in the vault).
pub fn headers(field: &str, value: serde_json::Value) -> AppResult<BTreeMap<String, String>> {
    const CREDENTIAL_HEADERS: [&str; 3] = ["authorization", "proxy-authorization", "cookie"];
    const TRANSPORT_HEADERS: [&str; 6] = [
        "host",
        "content-length",
        "transfer-encoding",
        "connection",
        "upgrade",
        "te",
    ];
    let map = json_object(field, value)?;
    if map.len() > 50 {
        return Err(AppError::invalid(field, "at most 50 headers"));
    }
    let mut out = BTreeMap::new();
    for (name, value) in map {
        let path = format!("{field}.{name}");
        let header = http::HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| AppError::invalid(&path, "not a valid HTTP header name"))?;
        if CREDENTIAL_HEADERS.contains(&header.as_str()) {
            return Err(AppError::invalid(
                &path,
                "credentials must not be plain headers; set them with setCredentials",
            ));
        }
        if TRANSPORT_HEADERS.contains(&header.as_str()) {
            return Err(AppError::invalid(
                &path,
                "this header is set by the HTTP client",
            ));
        }
        let serde_json::Value::String(text) = value else {
            return Err(AppError::invalid(&path, "header values must be strings"));
        };
        if http::HeaderValue::from_str(&text).is_err() || text.len() > 8 * 1024 {
            return Err(AppError::invalid(&path, "not a valid HTTP header value"));
        }
        out.insert(header.as_str().to_owned(), text);
    }
    Ok(out)
}

/// An integer within bounds.
pub fn within(field: &str, value: i32, min: i32, max: i32) -> AppResult<i32> {
    if (min..=max).contains(&value) {
        Ok(value)
    } else {
        Err(AppError::invalid(
            field,
            format!("must be between {min} and {max}"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn field_of(err: AppError) -> String {
        match err {
            AppError::BadUserInput { field, .. } => field.unwrap_or_default(),
            other => panic!("expected bad input, got {other:?}"),
        }
    }

    #[test]
    fn slugs_come_from_names() {
        assert_eq!(slugify("My Project!"), "my-project");
        assert_eq!(slugify("  --Déjà vu 2--"), "d-j-vu-2");
        assert_eq!(slugify("!!!"), "");
    }

    #[test]
    fn tags_are_normalised_and_checked() {
        let tags = tags("t", &["Prod".into(), "prod".into(), "team:core".into()]).unwrap();
        assert_eq!(tags, vec!["prod", "team:core"]);
        assert_eq!(
            field_of(super::tags("input.tags", &["ok".into(), "no spaces".into()]).unwrap_err()),
            "input.tags[1]"
        );
    }

    #[test]
    fn base_urls_reject_credentials_and_other_schemes() {
        assert!(base_url("u", "https://api.example.com/v1").is_ok());
        assert!(base_url("u", "ftp://example.com").is_err());
        assert!(base_url("u", "https://user:pw@example.com").is_err());
        assert!(base_url("u", "not a url").is_err());
    }

    #[test]
    fn headers_refuse_credentials_and_bad_values() {
        let ok = headers("h", json!({"X-Team": "core", "Accept": "application/json"})).unwrap();
        assert_eq!(ok["x-team"], "core");
        assert_eq!(
            field_of(headers("h", json!({"Authorization": "Bearer x"})).unwrap_err()),
            "h.Authorization"
        );
        assert!(headers("h", json!({"X-Num": 3})).is_err());
        assert!(headers("h", json!({"bad name": "x"})).is_err());
        assert!(headers("h", json!(["x"])).is_err());
    }

    #[test]
    fn config_must_be_a_bounded_object() {
        assert!(json_object("c", json!({"a": 1})).is_ok());
        assert!(json_object("c", json!("{not json")).is_err());
        let huge = json!({"a": "x".repeat(MAX_JSON_BYTES)});
        assert!(json_object("c", huge).is_err());
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// A slug derived from any name is either empty or a valid slug.
        #[test]
        fn derived_slugs_are_valid(name in ".{0,100}") {
            let derived = slugify(&name);
            prop_assert!(derived.is_empty() || slug("s", &derived).is_ok(), "{derived:?}");
        }

        /// Normalised tags are idempotent and always pass the tag filter's own check.
        #[test]
        fn tags_normalise_idempotently(raw in prop::collection::vec("[A-Za-z0-9._:-]{1,20}", 0..20)) {
            let once = tags("t", &raw).unwrap();
            prop_assert_eq!(tags("t", &once).unwrap(), once.clone());
            for t in &once {
                prop_assert_eq!(tag("f", t).unwrap(), t.clone());
            }
        }

        /// Checks of free input never panic.
        #[test]
        fn input_checks_never_panic(text in ".{0,300}") {
            let _ = name("n", &text, 100);
            let _ = base_url("u", &text);
            let _ = id("i", &text, IdKind::Integration);
            let _ = headers("h", serde_json::json!({ text.clone(): text.clone() }));
        }
    }
}
