//! Content negotiation of the GraphQL-over-HTTP specification.

use http::HeaderMap;
use http::header::{ACCEPT, CONTENT_TYPE};

/// The media type a GraphQL response is sent as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseMedia {
    /// `application/graphql-response+json`: request errors use 4xx statuses.
    GraphqlResponseJson,
    /// `application/json`: the legacy type; well-formed requests answer 200.
    Json,
}

impl ResponseMedia {
    pub fn content_type(self) -> &'static str {
        match self {
            ResponseMedia::GraphqlResponseJson => {
                "application/graphql-response+json; charset=utf-8"
            }
            ResponseMedia::Json => "application/json; charset=utf-8",
        }
    }
}

/// Picks the response media type from `Accept`; `None` when nothing acceptable is offered.
/// No `Accept` header means `application/json` (the specification's legacy default).
pub fn response_media(headers: &HeaderMap) -> Option<ResponseMedia> {
    let values: Vec<&str> = headers
        .get_all(ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    if values.iter().all(|v| v.trim().is_empty()) {
        return Some(ResponseMedia::Json);
    }
    let mut best: Option<(f32, u8, ResponseMedia)> = None;
    for range in values.iter().flat_map(|v| v.split(',')) {
        let mut parts = range.split(';').map(str::trim);
        let essence = parts.next().unwrap_or_default().to_ascii_lowercase();
        let mut quality = 1.0_f32;
        let mut charset_ok = true;
        for param in parts {
            let Some((key, value)) = param.split_once('=') else {
                continue;
            };
            let value = value.trim().trim_matches('"');
            match key.trim().to_ascii_lowercase().as_str() {
                "q" => quality = value.parse().unwrap_or(0.0),
                "charset" => charset_ok = value.eq_ignore_ascii_case("utf-8"),
                _ => {}
            }
        }
        if quality <= 0.0 || !charset_ok {
            continue;
        }
        // Specific types beat wildcards at equal quality; the new type beats the legacy one.
        let candidate = match essence.as_str() {
            "application/graphql-response+json" => (3, ResponseMedia::GraphqlResponseJson),
            "application/json" => (2, ResponseMedia::Json),
            "application/*" | "*/*" => (1, ResponseMedia::Json),
            _ => continue,
        };
        let better =
            best.is_none_or(|(q, rank, _)| quality > q || (quality == q && candidate.0 > rank));
        if better {
            best = Some((quality, candidate.0, candidate.1));
        }
    }
    best.map(|(_, _, media)| media)
}

/// Why a POST body's content type was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum ContentTypeProblem {
    Missing,
    Unsupported,
}

/// Checks a POST is `application/json` (UTF-8).
pub fn check_json_content_type(headers: &HeaderMap) -> Result<(), ContentTypeProblem> {
    let Some(value) = headers.get(CONTENT_TYPE) else {
        return Err(ContentTypeProblem::Missing);
    };
    let value = value
        .to_str()
        .map_err(|_| ContentTypeProblem::Unsupported)?;
    let mime: mime::Mime = value.parse().map_err(|_| ContentTypeProblem::Unsupported)?;
    let charset_ok = mime
        .get_param(mime::CHARSET)
        .is_none_or(|c| c.as_str().eq_ignore_ascii_case("utf-8"));
    if mime.essence_str() == "application/json" && charset_ok {
        Ok(())
    } else {
        Err(ContentTypeProblem::Unsupported)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(value: &str) -> Option<ResponseMedia> {
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, value.parse().unwrap());
        response_media(&headers)
    }

    #[test]
    fn negotiation_follows_the_accept_header() {
        assert_eq!(response_media(&HeaderMap::new()), Some(ResponseMedia::Json));
        assert_eq!(
            accept("application/graphql-response+json"),
            Some(ResponseMedia::GraphqlResponseJson)
        );
        assert_eq!(accept("application/json"), Some(ResponseMedia::Json));
        assert_eq!(
            accept("application/json, application/graphql-response+json"),
            Some(ResponseMedia::GraphqlResponseJson)
        );
        assert_eq!(
            accept("application/graphql-response+json;q=0.5, application/json"),
            Some(ResponseMedia::Json)
        );
        assert_eq!(accept("*/*"), Some(ResponseMedia::Json));
        assert_eq!(accept("text/html"), None);
        assert_eq!(accept("application/json; charset=iso-8859-1"), None);
        assert_eq!(accept("application/json;q=0"), None);
    }

    #[test]
    fn post_needs_json_content() {
        let mut headers = HeaderMap::new();
        assert_eq!(
            check_json_content_type(&headers),
            Err(ContentTypeProblem::Missing)
        );
        headers.insert(
            CONTENT_TYPE,
            "application/json; charset=utf-8".parse().unwrap(),
        );
        assert_eq!(check_json_content_type(&headers), Ok(()));
        headers.insert(CONTENT_TYPE, "text/plain".parse().unwrap());
        assert_eq!(
            check_json_content_type(&headers),
            Err(ContentTypeProblem::Unsupported)
        );
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Any Accept header is handled without panicking, and naming the new media type
        /// with the highest quality always selects it.
        #[test]
        fn any_accept_header_is_negotiated(header in "[ -~]{0,120}") {
            let mut headers = HeaderMap::new();
            if let Ok(value) = header.parse() {
                headers.insert(ACCEPT, value);
                let _ = response_media(&headers);
                let preferred = format!("application/graphql-response+json;q=1, {header}");
                if let Ok(value) = preferred.parse() {
                    headers.insert(ACCEPT, value);
                    prop_assert_eq!(response_media(&headers), Some(ResponseMedia::GraphqlResponseJson));
                }
            }
        }

        #[test]
        fn any_content_type_is_checked_without_panicking(header in "[ -~]{0,80}") {
            let mut headers = HeaderMap::new();
            if let Ok(value) = header.parse() {
                headers.insert(CONTENT_TYPE, value);
                let _ = check_json_content_type(&headers);
            }
        }
    }
}
