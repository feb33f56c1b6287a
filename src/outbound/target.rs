//! Where a call goes: the integration's base URL joined with the request's path, so that
//! no path (`..`, encoded dots, backslashes, `//host`) can leave the base unless the
//! integration allows absolute URLs.

use url::Url;

/// Why a path cannot be called.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TargetError {
    #[error("the integration has no baseUrl; set one or use an absolute URL")]
    NoBaseUrl,
    #[error("absolute URLs are not allowed for this integration (set allowAbsoluteUrls)")]
    AbsoluteNotAllowed,
    #[error("the path may not contain `..` or `.` segments")]
    DotSegment,
    #[error("the path may not contain backslashes, control characters or a fragment")]
    BadCharacter,
    #[error("not a valid URL: {0}")]
    Invalid(String),
}

/// The URL a request path resolves to.
pub fn resolve(
    base_url: Option<&str>,
    path: &str,
    allow_absolute: bool,
) -> Result<Url, TargetError> {
    if path
        .chars()
        .any(|c| c.is_control() || c == '\\' || c == '#')
    {
        return Err(TargetError::BadCharacter);
    }
    if let Some(url) = absolute(path)? {
        if !allow_absolute {
            return Err(TargetError::AbsoluteNotAllowed);
        }
        return Ok(url);
    }
    let base = base_url.ok_or(TargetError::NoBaseUrl)?;
    let mut url = Url::parse(base).map_err(|e| TargetError::Invalid(e.to_string()))?;
    let (path_part, query_part) = match path.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (path, None),
    };
    let mut segments: Vec<String> = url
        .path_segments()
        .map(|s| s.filter(|s| !s.is_empty()).map(str::to_owned).collect())
        .unwrap_or_default();
    for segment in path_part.split('/').filter(|s| !s.is_empty()) {
        let decoded = percent_decode(segment);
        if decoded == "." || decoded == ".." || decoded.contains('/') || decoded.contains('\\') {
            return Err(TargetError::DotSegment);
        }
        segments.push(segment.to_owned());
    }
    let trailing_slash = path_part.ends_with('/') && path_part.len() > 1;
    let mut joined = format!("/{}", segments.join("/"));
    if trailing_slash {
        joined.push('/');
    }
    url.set_path(&joined);
    if let Some(query) = query_part.filter(|q| !q.is_empty()) {
        let combined = match url.query() {
            Some(existing) if !existing.is_empty() => format!("{existing}&{query}"),
            _ => query.to_owned(),
        };
        url.set_query(Some(&combined));
    }
    Ok(url)
}

/// Parses `path` as an absolute URL when it is one (a scheme, or `//host`).
fn absolute(path: &str) -> Result<Option<Url>, TargetError> {
    if path.starts_with("//") {
        return Err(TargetError::AbsoluteNotAllowed);
    }
    let has_scheme = path
        .split_once(':')
        .is_some_and(|(scheme, _)| !scheme.is_empty() && !scheme.contains('/'));
    if !has_scheme {
        return Ok(None);
    }
    let url = Url::parse(path).map_err(|e| TargetError::Invalid(e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(TargetError::Invalid("only http and https URLs".into()));
    }
    Ok(Some(url))
}

fn percent_decode(segment: &str) -> String {
    url::form_urlencoded::parse(format!("x={segment}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// A URL for records and messages: scheme, host, port and path; no user info or query.
pub fn describe(url: &Url) -> String {
    let mut shown = url.clone();
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.set_query(None);
    shown.set_fragment(None);
    shown.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const BASE: &str = "https://api.example.com/v2/";

    #[test]
    fn paths_join_under_the_base() {
        let url = |p: &str| resolve(Some(BASE), p, false).map(|u| u.to_string());
        assert_eq!(
            url("/issues/1").unwrap(),
            "https://api.example.com/v2/issues/1"
        );
        assert_eq!(url("issues").unwrap(), "https://api.example.com/v2/issues");
        assert_eq!(
            url("/search?q=a%20b&x=1").unwrap(),
            "https://api.example.com/v2/search?q=a%20b&x=1"
        );
        assert_eq!(url("/a/../b"), Err(TargetError::DotSegment));
        assert_eq!(url("/a/%2e%2E/b"), Err(TargetError::DotSegment));
        assert_eq!(url("/a/%2fetc"), Err(TargetError::DotSegment));
        assert_eq!(url("/a\\b"), Err(TargetError::BadCharacter));
        assert_eq!(url("//evil.com/x"), Err(TargetError::AbsoluteNotAllowed));
        assert_eq!(
            url("http://evil.com/x"),
            Err(TargetError::AbsoluteNotAllowed)
        );
        assert_eq!(
            resolve(Some(BASE), "https://other.example/x", true)
                .unwrap()
                .as_str(),
            "https://other.example/x"
        );
        assert_eq!(resolve(None, "/x", false), Err(TargetError::NoBaseUrl));
    }

    #[test]
    fn descriptions_drop_secrets() {
        let url = Url::parse("https://u:p@h.example/x?api_key=s#f").unwrap();
        assert_eq!(describe(&url), "https://h.example/x");
    }

    proptest! {
        #[test]
        fn no_path_leaves_the_base(path in "[a-zA-Z0-9./%?=&:@_~-]{0,40}") {
            if let Ok(url) = resolve(Some(BASE), &path, false) {
                prop_assert_eq!(url.host_str(), Some("api.example.com"));
                prop_assert!(url.path().starts_with("/v2"), "{}", url);
                prop_assert!(!url.path().split('/').any(|s| s == ".." || s == "."));
            }
        }
    }
}
