//! Paging through an operation's results in the four styles a template declares
//! (cursor, page number, offset, Link header): which request comes next, and when the
//! last page was seen. Pure functions; the state is stored as the run's cursor.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::domain::templates::definition::{PaginationDef, PaginationStyle};

/// Where the next page starts; stored (as JSON) as the run's cursor after every page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "next", rename_all = "camelCase")]
pub enum PageState {
    /// The first page.
    First,
    Cursor {
        cursor: String,
    },
    Page {
        page: i64,
    },
    Offset {
        offset: i64,
    },
    /// A path (and query) under the base URL, from a `Link: <…>; rel="next"` header.
    Link {
        path: String,
    },
    /// Every page was read.
    Done,
}

impl PageState {
    /// Decodes a stored cursor (`None`: the run has not read a page yet).
    pub fn decode(stored: Option<&str>) -> Result<Self, String> {
        match stored {
            None => Ok(PageState::First),
            Some(text) => serde_json::from_str(text).map_err(|e| format!("stored cursor: {e}")),
        }
    }

    pub fn encode(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{\"next\":\"first\"}".to_owned())
    }
}

/// The request for a page.
#[derive(Debug, Clone, PartialEq)]
pub enum PageRequest {
    /// The operation with these parameters.
    Operation(Map<String, Value>),
    /// A path under the base URL (Link header style, after the first page).
    Path(String),
}

/// The request that fetches the page `state` points at.
pub fn request(
    pagination: Option<&PaginationDef>,
    page_size: Option<i32>,
    params: &Map<String, Value>,
    state: &PageState,
) -> PageRequest {
    let mut params = params.clone();
    let Some(pg) = pagination else {
        return PageRequest::Operation(params);
    };
    if let (Some(limit), Some(size)) = (&pg.limit_param, page_size) {
        params.insert(limit.clone(), Value::from(size));
    }
    match state {
        PageState::Link { path } => return PageRequest::Path(path.clone()),
        PageState::Cursor { cursor } => {
            if let Some(name) = &pg.cursor_param {
                params.insert(name.clone(), Value::from(cursor.clone()));
            }
        }
        PageState::Page { page } => {
            if let Some(name) = &pg.page_param {
                params.insert(name.clone(), Value::from(*page));
            }
        }
        PageState::Offset { offset } => {
            if let Some(name) = &pg.offset_param {
                params.insert(name.clone(), Value::from(*offset));
            }
        }
        PageState::First => match pg.style {
            PaginationStyle::Page => {
                if let Some(name) = &pg.page_param {
                    params.insert(name.clone(), Value::from(pg.first_page.unwrap_or(1)));
                }
            }
            PaginationStyle::Offset => {
                if let Some(name) = &pg.offset_param {
                    params.insert(name.clone(), Value::from(0));
                }
            }
            PaginationStyle::Cursor | PaginationStyle::LinkHeader => {}
        },
        PageState::Done => {}
    }
    PageRequest::Operation(params)
}

/// The records of a page: the array at `pointer` (`""`: the body itself).
pub fn items<'a>(body: &'a Value, pointer: &str) -> Result<&'a [Value], String> {
    match body.pointer(pointer) {
        Some(Value::Array(items)) => Ok(items),
        Some(Value::Null) | None if !pointer.is_empty() => Ok(&[]),
        Some(other) => Err(format!(
            "the records pointer `{pointer}` addresses {} in the page, not an array",
            kind(other)
        )),
        None => Err(format!("the records pointer `{pointer}` addresses nothing")),
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// What the page after this one is, given the page's body, records and headers.
pub fn next(
    pagination: Option<&PaginationDef>,
    page_size: Option<i32>,
    state: &PageState,
    body: &Value,
    item_count: usize,
    headers: &[(String, String)],
    base_url: Option<&str>,
) -> Result<PageState, String> {
    let Some(pg) = pagination else {
        return Ok(PageState::Done);
    };
    if item_count == 0 {
        return Ok(PageState::Done);
    }
    let short = page_size.is_some_and(|size| item_count < usize::try_from(size).unwrap_or(0));
    Ok(match pg.style {
        PaginationStyle::Cursor => {
            let value = match (&pg.next_cursor_pointer, &pg.next_cursor_from_last_item) {
                (Some(pointer), _) => body.pointer(pointer),
                (None, Some(pointer)) => {
                    last_item(body, pg)?.and_then(|item| item.pointer(pointer))
                }
                (None, None) => None,
            };
            let cursor = match value {
                Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
                Some(Value::Number(n)) => Some(n.to_string()),
                _ => None,
            };
            match cursor {
                None => PageState::Done,
                Some(cursor) => {
                    if matches!(state, PageState::Cursor { cursor: current } if *current == cursor)
                    {
                        return Err(format!(
                            "the upstream returned the cursor `{cursor}` again; stopping to avoid a loop"
                        ));
                    }
                    PageState::Cursor { cursor }
                }
            }
        }
        PaginationStyle::Page => {
            let current = match state {
                PageState::Page { page } => *page,
                _ => pg.first_page.unwrap_or(1),
            };
            if short {
                PageState::Done
            } else {
                PageState::Page { page: current + 1 }
            }
        }
        PaginationStyle::Offset => {
            let current = match state {
                PageState::Offset { offset } => *offset,
                _ => 0,
            };
            let offset = current + item_count as i64;
            let total = pg
                .total_pointer
                .as_deref()
                .and_then(|p| body.pointer(p))
                .and_then(Value::as_i64);
            if short || total.is_some_and(|total| offset >= total) {
                PageState::Done
            } else {
                PageState::Offset { offset }
            }
        }
        PaginationStyle::LinkHeader => match next_link(headers) {
            None => PageState::Done,
            Some(link) => PageState::Link {
                path: relative_to_base(&link, base_url)?,
            },
        },
    })
}

fn last_item<'a>(body: &'a Value, pg: &PaginationDef) -> Result<Option<&'a Value>, String> {
    Ok(items(body, &pg.items_pointer)?.last())
}

/// The `rel="next"` target of `Link` headers (RFC 8288), if any.
pub fn next_link(headers: &[(String, String)]) -> Option<String> {
    for (name, value) in headers {
        if !name.eq_ignore_ascii_case("link") {
            continue;
        }
        for part in value.split('<').skip(1) {
            let Some((target, params)) = part.split_once('>') else {
                continue;
            };
            let is_next = params.split(';').any(|param| {
                let param = param.trim().trim_end_matches(',').trim();
                param
                    .strip_prefix("rel=")
                    .map(|rel| rel.trim_matches('"'))
                    .is_some_and(|rel| {
                        rel.split_whitespace()
                            .any(|r| r.eq_ignore_ascii_case("next"))
                    })
            });
            if is_next {
                return Some(target.trim().to_owned());
            }
        }
    }
    None
}

/// A next-page link as a path under the base URL. A link that leaves the base URL (other
/// host, scheme, port or path prefix) is refused: the engine would not call it anyway,
/// and following it would send the integration's credentials elsewhere.
pub fn relative_to_base(link: &str, base_url: Option<&str>) -> Result<String, String> {
    let base = base_url.ok_or("the integration has no baseUrl to resolve a Link header against")?;
    let base = url::Url::parse(base).map_err(|e| format!("baseUrl: {e}"))?;
    let target = base
        .join(link)
        .map_err(|e| format!("the next-page link `{link}` is not a URL: {e}"))?;
    let same_origin = target.scheme() == base.scheme()
        && target.host_str() == base.host_str()
        && target.port_or_known_default() == base.port_or_known_default();
    let base_path = base.path().trim_end_matches('/');
    let rest = target.path().strip_prefix(base_path).unwrap_or("\u{0}");
    if !same_origin || !(rest.is_empty() || rest.starts_with('/')) {
        return Err(format!(
            "the next-page link `{link}` leaves the integration's baseUrl"
        ));
    }
    Ok(match target.query() {
        Some(query) => format!("{rest}?{query}"),
        None => rest.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn def(value: Value) -> PaginationDef {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn cursor_pages_follow_the_next_cursor_until_it_is_missing() {
        let pg = def(
            json!({ "style": "CURSOR", "itemsPointer": "/items", "cursorParam": "c", "nextCursorPointer": "/next", "limitParam": "limit" }),
        );
        let base = Map::new();
        let first = request(Some(&pg), Some(2), &base, &PageState::First);
        assert_eq!(
            first,
            PageRequest::Operation(json!({ "limit": 2 }).as_object().unwrap().clone())
        );
        let body = json!({ "items": [1, 2], "next": "abc" });
        let state = next(Some(&pg), Some(2), &PageState::First, &body, 2, &[], None).unwrap();
        assert_eq!(
            state,
            PageState::Cursor {
                cursor: "abc".into()
            }
        );
        let second = request(Some(&pg), Some(2), &base, &state);
        assert_eq!(
            second,
            PageRequest::Operation(
                json!({ "limit": 2, "c": "abc" })
                    .as_object()
                    .unwrap()
                    .clone()
            )
        );
        // The same cursor twice is a loop.
        assert!(next(Some(&pg), Some(2), &state, &body, 2, &[], None).is_err());
        let last = json!({ "items": [3], "next": null });
        assert_eq!(
            next(Some(&pg), None, &state, &last, 1, &[], None).unwrap(),
            PageState::Done
        );
        let from_item = def(
            json!({ "style": "CURSOR", "itemsPointer": "/items", "cursorParam": "after", "nextCursorFromLastItem": "/id" }),
        );
        let body = json!({ "items": [{ "id": 7 }, { "id": 9 }] });
        assert_eq!(
            next(
                Some(&from_item),
                None,
                &PageState::First,
                &body,
                2,
                &[],
                None
            )
            .unwrap(),
            PageState::Cursor { cursor: "9".into() }
        );
    }

    #[test]
    fn page_and_offset_styles_stop_on_a_short_or_empty_page_or_the_total() {
        let pg = def(
            json!({ "style": "PAGE", "itemsPointer": "", "pageParam": "page", "firstPage": 1 }),
        );
        let body = json!([1, 2]);
        let s = next(Some(&pg), None, &PageState::First, &body, 2, &[], None).unwrap();
        assert_eq!(s, PageState::Page { page: 2 });
        assert_eq!(
            next(Some(&pg), Some(3), &s, &body, 2, &[], None).unwrap(),
            PageState::Done
        );
        assert_eq!(
            next(Some(&pg), None, &s, &json!([]), 0, &[], None).unwrap(),
            PageState::Done
        );
        let off = def(
            json!({ "style": "OFFSET", "itemsPointer": "/data", "offsetParam": "offset", "limitParam": "limit", "totalPointer": "/total" }),
        );
        let body = json!({ "data": [1, 2], "total": 4 });
        let s = next(Some(&off), Some(2), &PageState::First, &body, 2, &[], None).unwrap();
        assert_eq!(s, PageState::Offset { offset: 2 });
        assert_eq!(
            next(Some(&off), Some(2), &s, &body, 2, &[], None).unwrap(),
            PageState::Done
        );
    }

    #[test]
    fn link_headers_are_followed_only_under_the_base_url() {
        let headers = vec![(
            "Link".to_owned(),
            r#"<https://api.example.com/v1/items?page=3>; rel="next", <https://api.example.com/v1/items?page=9>; rel="last""#.to_owned(),
        )];
        let link = next_link(&headers).unwrap();
        assert_eq!(link, "https://api.example.com/v1/items?page=3");
        let base = Some("https://api.example.com/v1");
        assert_eq!(relative_to_base(&link, base).unwrap(), "/items?page=3");
        assert_eq!(relative_to_base("/v1/x?a=1", base).unwrap(), "/x?a=1");
        assert!(relative_to_base("https://evil.example.com/v1/items", base).is_err());
        assert!(relative_to_base("https://api.example.com/v2/items", base).is_err());
        assert!(relative_to_base("https://api.example.com/v10/items", base).is_err());
        assert_eq!(
            next_link(&[("link".into(), "<https://a/b>; rel=\"prev\"".into())]),
            None
        );
    }

    #[test]
    fn states_round_trip_as_stored_cursors() {
        for state in [
            PageState::First,
            PageState::Cursor { cursor: "x".into() },
            PageState::Page { page: 3 },
            PageState::Offset { offset: 40 },
            PageState::Link {
                path: "/a?b=1".into(),
            },
            PageState::Done,
        ] {
            assert_eq!(PageState::decode(Some(&state.encode())).unwrap(), state);
        }
        assert_eq!(PageState::decode(None).unwrap(), PageState::First);
    }

    #[test]
    fn items_are_the_array_at_the_pointer() {
        let body = json!({ "data": { "rows": [1] } });
        assert_eq!(items(&body, "/data/rows").unwrap().len(), 1);
        assert!(items(&body, "/data").is_err());
        assert_eq!(items(&body, "/missing").unwrap().len(), 0);
        assert!(items(&json!([1, 2]), "").is_ok());
    }
}
