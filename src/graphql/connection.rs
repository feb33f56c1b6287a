//! Relay connections over keyset pages: `first`/`after`, `last`/`before`, `totalCount`.

use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, OutputType, SimpleObject};

use crate::domain::validate;
use crate::domain::{Page, PageRequest};
use crate::error::{AppError, AppResult};
use crate::ids::IdKind;

/// Default page size when neither `first` nor `last` is given.
pub const DEFAULT_PAGE: i32 = 50;
/// Largest page a client may ask for.
pub const MAX_PAGE: i32 = 500;

/// Fields every connection has besides edges and pageInfo.
#[derive(SimpleObject)]
pub struct ConnectionTotal {
    /// How many items match, across all pages.
    pub total_count: i64,
}

/// A connection whose cursors are the items' IDs.
pub type IdConnection<T> = Connection<String, T, ConnectionTotal>;

/// The paging arguments of a connection field.
pub struct PageArgs {
    pub first: Option<i32>,
    pub after: Option<String>,
    pub last: Option<i32>,
    pub before: Option<String>,
}

impl PageArgs {
    pub fn forward(first: Option<i32>, after: Option<String>) -> Self {
        PageArgs {
            first,
            after,
            last: None,
            before: None,
        }
    }

    /// Validates the arguments into a store page request for items of `kind`, counting
    /// all matches only when the selection asks for `totalCount`.
    pub fn request(&self, ctx: &Context<'_>, kind: IdKind) -> AppResult<PageRequest> {
        let size = |field: &str, n: i32| {
            if (0..=MAX_PAGE).contains(&n) {
                Ok(i64::from(n))
            } else {
                Err(AppError::invalid(
                    field,
                    format!("must be between 0 and {MAX_PAGE}"),
                ))
            }
        };
        let (limit, from_end) = match (self.first, self.last) {
            (Some(_), Some(_)) => {
                return Err(AppError::invalid(
                    "last",
                    "give `first` or `last`, not both",
                ));
            }
            (Some(first), None) => (size("first", first)?, false),
            (None, Some(last)) => (size("last", last)?, true),
            (None, None) => (i64::from(DEFAULT_PAGE), false),
        };
        let cursor = |field: &str, value: &Option<String>| {
            value
                .as_deref()
                .map(|v| validate::id(field, v, kind))
                .transpose()
        };
        Ok(PageRequest {
            after: cursor("after", &self.after)?,
            before: cursor("before", &self.before)?,
            limit,
            from_end,
            count_total: ctx.look_ahead().field("totalCount").exists(),
        })
    }
}

/// Builds a connection from a page; `id_of` gives each item's cursor.
pub fn connection<T, N: OutputType>(
    page: Page<T>,
    request: &PageRequest,
    id_of: impl Fn(&T) -> String,
    wrap: impl Fn(T) -> N,
) -> IdConnection<N> {
    let (has_previous, has_next) = if request.from_end {
        (page.has_more, request.before.is_some())
    } else {
        (request.after.is_some(), page.has_more)
    };
    let mut connection = Connection::with_additional_fields(
        has_previous,
        has_next,
        ConnectionTotal {
            // Only read when `totalCount` is selected, which is when it was counted.
            total_count: page.total.unwrap_or_default(),
        },
    );
    connection.edges = page
        .rows
        .into_iter()
        .map(|item| Edge::new(id_of(&item), wrap(item)))
        .collect();
    connection
}
