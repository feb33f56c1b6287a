//! Relay connections over keyset pages: `first`/`after`, `last`/`before`, `totalCount`.

use std::borrow::Cow;

use async_graphql::connection::{Connection, Edge, EmptyFields, PageInfo};
use async_graphql::indexmap::IndexMap;
use async_graphql::parser::types::{Field, Selection, SelectionSet};
use async_graphql::registry::Registry;
use futures_util::future::join_all;

use async_graphql::{
    ContainerType, Context, ContextSelectionSet, Name, OutputType, Positioned, ServerResult,
    SimpleObject, Value,
};

use crate::domain::validate;
use crate::domain::{Page, PageRequest};
use crate::error::{AppError, AppResult};
use crate::ids::IdKind;

/// Binds `$ctx_node` to node `$index`'s context as async-graphql builds it: the list
/// index, then the edge's `node` field (none when resolving the `nodes` list).
macro_rules! node_context {
    ($ctx_node:ident = $ctx_list:expr, $index:expr, $node_field:expr, $list_field:expr) => {
        let ctx_index = $ctx_list.with_index($index);
        let ctx_node_field;
        let $ctx_node = match $node_field {
            Some(node_field) => {
                ctx_node_field = ctx_index.with_field(node_field);
                ctx_node_field.with_selection_set(&node_field.node.selection_set)
            }
            None => ctx_index.with_selection_set(&$list_field.node.selection_set),
        };
    };
}

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

// Nodes boxed: a row (an integration is ~600 bytes) is then copied once on its way into
// the page instead of at every step of building the edges, and the edge list stays small.
type Inner<T> = Connection<String, Box<T>, ConnectionTotal>;

/// A connection whose cursors are the items' IDs. Its type, fields and answers are
/// async-graphql's `Connection`; only how a page is resolved differs (see `resolve_direct`).
pub struct IdConnection<T: ConnectionNode>(pub(super) Inner<T>);

/// An object listed in connections.
pub trait ConnectionNode: ContainerType {
    /// Fields answered from the value in hand, without waiting on the store or a loader:
    /// a page resolves them in place instead of as one concurrent task per field.
    /// Listing a field that does wait is still correct, only slower (it is awaited in turn).
    const IMMEDIATE_FIELDS: &'static [&'static str] = &[];
}

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
        self.request_counting(kind, ctx.look_ahead().field("totalCount").exists())
    }

    /// `request`, told whether to count all matches.
    pub fn request_counting(&self, kind: IdKind, count_total: bool) -> AppResult<PageRequest> {
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
            count_total,
        })
    }
}

/// Builds a connection from a page; `id_of` gives each item's cursor.
pub fn connection<T, N: ConnectionNode>(
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
    let mut connection = Inner::with_additional_fields(
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
        .map(|item| Edge::new(id_of(&item), Box::new(wrap(item))))
        .collect();
    IdConnection(connection)
}

// Why a resolver of our own: async-graphql resolves every object of a page as a set of
// boxed field futures polled through a `FuturesUnordered`, and every edge is such an object.
// On a 50-row page that machinery cost more CPU than reading the rows. The connection, its
// edges and pageInfo hold their values already, and most node fields do too; so a selection
// made only of plain fields (no fragments, no directives, each field once) is answered
// here: those fields in place, the rest of each node's fields concurrently across the page
// through the node's own resolvers (so loaders still batch the page into one query). Any
// other selection goes to async-graphql's resolver unchanged. The answer is the same
// (tests/e2e/integrations.rs compares the two on every shape) except that an object's
// fields come in selection order, as the specification asks, where async-graphql orders
// them as they finish. Per-field extension hooks are not run on this path; patchbay's
// schemas install none (`RequestErrorCodes` hooks parsing and validation only). The
// context methods used (`with_field`, `with_index`, `with_selection_set`) are public but
// hidden from async-graphql's docs: Cargo.lock pins the version they were read from.
impl<T: ConnectionNode> OutputType for IdConnection<T> {
    fn type_name() -> Cow<'static, str> {
        Inner::<T>::type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        Inner::<T>::create_type_info(registry)
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        if direct_selection(&ctx.item.node, &CONNECTION_FIELDS) {
            Ok(self.resolve_direct(ctx).await)
        } else {
            self.0.resolve(ctx, field).await
        }
    }
}

const CONNECTION_FIELDS: [&str; 4] = ["edges", "nodes", "pageInfo", "totalCount"];
const EDGE_FIELDS: [&str; 2] = ["node", "cursor"];
const PAGE_INFO_FIELDS: [&str; 4] = ["hasPreviousPage", "hasNextPage", "startCursor", "endCursor"];

/// Whether `set` is only fields of `names` (or `__typename`), each at most once, without
/// directives, with `edges` and `pageInfo` selections of the same kind.
fn direct_selection(set: &SelectionSet, names: &[&str]) -> bool {
    set.items.iter().enumerate().all(|(index, selection)| {
        let Selection::Field(field) = &selection.node else {
            return false;
        };
        let name = field.node.name.node.as_str();
        let nested_ok = match name {
            "edges" => direct_selection(&field.node.selection_set.node, &EDGE_FIELDS),
            "pageInfo" => direct_selection(&field.node.selection_set.node, &PAGE_INFO_FIELDS),
            _ => true,
        };
        field.node.directives.is_empty()
            && (name == "__typename" || names.contains(&name))
            && nested_ok
            && !set.items[..index].iter().any(|earlier| {
                matches!(&earlier.node, Selection::Field(other) if other.node.name.node == name)
            })
    })
}

/// The fields of a selection set that `direct_selection` accepted.
fn fields(set: &SelectionSet) -> impl Iterator<Item = &Positioned<Field>> {
    set.items
        .iter()
        .filter_map(|selection| match &selection.node {
            Selection::Field(field) => Some(field),
            _ => None,
        })
}

fn object(map: IndexMap<Name, Value>) -> Value {
    // As async-graphql answers an object none of whose fields resolved.
    if map.is_empty() {
        Value::Null
    } else {
        Value::Object(map)
    }
}

impl<T: ConnectionNode> IdConnection<T> {
    async fn resolve_direct(&self, ctx: &ContextSelectionSet<'_>) -> Value {
        let mut map = IndexMap::with_capacity(ctx.item.node.items.len());
        for field in fields(&ctx.item.node) {
            let value = match field.node.name.node.as_str() {
                "totalCount" => Value::from(self.0.additional_fields.total_count),
                "pageInfo" => self.page_info(&field.node.selection_set.node),
                "edges" => {
                    let ctx_field = ctx.with_field(field);
                    let ctx_list = ctx_field.with_selection_set(&field.node.selection_set);
                    self.edges(&ctx_list, field).await
                }
                "nodes" => {
                    let ctx_field = ctx.with_field(field);
                    let ctx_list = ctx_field.with_selection_set(&field.node.selection_set);
                    let nodes = self.nodes(&ctx_list, field, None).await;
                    match nodes.into_iter().collect::<ServerResult<Vec<_>>>() {
                        Ok(nodes) => Value::List(nodes),
                        // As async-graphql answers a list with a failed item: left out.
                        Err(error) => {
                            ctx.add_error(error);
                            continue;
                        }
                    }
                }
                _ => Value::String(Self::type_name().into_owned()),
            };
            map.insert(field.node.response_key().node.clone(), value);
        }
        object(map)
    }

    fn page_info(&self, set: &SelectionSet) -> Value {
        let cursor = |edge: Option<&Edge<String, Box<T>, EmptyFields>>| {
            edge.map_or(Value::Null, |edge| Value::String(edge.cursor.clone()))
        };
        let mut map = IndexMap::with_capacity(set.items.len());
        for field in fields(set) {
            let value = match field.node.name.node.as_str() {
                "hasPreviousPage" => Value::Boolean(self.0.has_previous_page),
                "hasNextPage" => Value::Boolean(self.0.has_next_page),
                "startCursor" => cursor(self.0.edges.first()),
                "endCursor" => cursor(self.0.edges.last()),
                _ => Value::String(PageInfo::type_name().into_owned()),
            };
            map.insert(field.node.response_key().node.clone(), value);
        }
        object(map)
    }

    async fn edges(
        &self,
        ctx_list: &ContextSelectionSet<'_>,
        list_field: &Positioned<Field>,
    ) -> Value {
        let edge_set = &list_field.node.selection_set.node;
        let mut nodes = match fields(edge_set).find(|field| field.node.name.node == "node") {
            Some(node_field) => self.nodes(ctx_list, list_field, Some(node_field)).await,
            None => Vec::new(),
        }
        .into_iter();
        let edges = self.0.edges.iter().map(|edge| {
            let mut map = IndexMap::with_capacity(edge_set.items.len());
            for field in fields(edge_set) {
                let value = match field.node.name.node.as_str() {
                    "cursor" => Value::String(edge.cursor.clone()),
                    "node" => match nodes.next() {
                        Some(Ok(node)) => node,
                        // As async-graphql answers an edge whose node failed: left out.
                        Some(Err(error)) => {
                            ctx_list.add_error(error);
                            continue;
                        }
                        None => continue,
                    },
                    _ => {
                        Value::String(Edge::<String, Box<T>, EmptyFields>::type_name().into_owned())
                    }
                };
                map.insert(field.node.response_key().node.clone(), value);
            }
            object(map)
        });
        Value::List(edges.collect())
    }

    /// Resolves every node of the page, each as async-graphql would with the same context
    /// (so errors carry the same paths): `node_field` is the edges' `node` field, none for
    /// the connection's `nodes` field `list_field`.
    async fn nodes<'a>(
        &'a self,
        ctx_list: &'a ContextSelectionSet<'a>,
        list_field: &'a Positioned<Field>,
        node_field: Option<&'a Positioned<Field>>,
    ) -> Vec<ServerResult<Value>> {
        let field = node_field.unwrap_or(list_field);
        let selection = &field.node.selection_set.node;
        let count = self.0.edges.len();
        // One future type for every piece of work left to run concurrently.
        let run = |index: usize, work: Option<&'a Positioned<Field>>| async move {
            node_context!(ctx_node = ctx_list, index, node_field, list_field);
            let node = &self.0.edges[index].node;
            match work {
                Some(field) => node.resolve_field(&ctx_node.with_field(field)).await,
                None => node.resolve(&ctx_node, field).await.map(Some),
            }
        };
        if !plain_fields(selection) {
            // Futures gathered in loops, not iterator adapters: adapters' closures held
            // across the await fail `Send`'s higher-ranked lifetime check.
            let mut whole = Vec::with_capacity(count);
            for index in 0..count {
                whole.push(run(index, None));
            }
            let resolved = join_all(whole).await;
            return resolved
                .into_iter()
                .map(|node| node.map(Option::unwrap_or_default))
                .collect();
        }

        let immediate = |field: &Positioned<Field>| {
            let name = field.node.name.node.as_str();
            name == "__typename" || T::IMMEDIATE_FIELDS.contains(&name)
        };
        // Decided once per page, not per node: which fields resolve in place, and a map
        // holding every response key in selection order, cloned per node so that keys
        // are hashed once per page (the others hold their place until resolved).
        let plan: Vec<(&Positioned<Field>, bool)> = fields(selection)
            .map(|field| (field, immediate(field)))
            .collect();
        // Keys copied for this page rather than shared with the cached document: every node
        // clones them, and the cached document's reference counts are shared by all requests
        // in flight, so per-node clones of those would bounce one cache line between cores.
        let template: IndexMap<Name, Value> = plan
            .iter()
            .map(|(field, _)| {
                (
                    Name::new(field.node.response_key().node.as_str()),
                    Value::Null,
                )
            })
            .collect();
        let mut maps = Vec::with_capacity(count);
        let mut failed = Vec::new();
        for (index, edge) in self.0.edges.iter().enumerate() {
            node_context!(ctx_node = ctx_list, index, node_field, list_field);
            let mut map = template.clone();
            for (slot, &(field, in_place)) in plan.iter().enumerate() {
                if !in_place {
                    continue;
                }
                if field.node.name.node == "__typename" {
                    map[slot] = Value::String(edge.node.introspection_type_name().into());
                    continue;
                }
                match edge.node.resolve_field(&ctx_node.with_field(field)).await {
                    Ok(value) => map[slot] = value.unwrap_or_default(),
                    Err(error) => {
                        ctx_node.add_error(error);
                        failed.push((index, slot));
                    }
                }
            }
            maps.push(map);
        }
        // The rest concurrently across the page, so that loaders batch it.
        let deferred: Vec<(usize, &Positioned<Field>)> = plan
            .iter()
            .enumerate()
            .filter(|(_, (_, in_place))| !in_place)
            .map(|(slot, &(field, _))| (slot, field))
            .collect();
        if !deferred.is_empty() {
            let mut work = Vec::with_capacity(count * deferred.len());
            let mut pending = Vec::with_capacity(count * deferred.len());
            for index in 0..count {
                for &(slot, field) in &deferred {
                    work.push((index, slot));
                    pending.push(run(index, Some(field)));
                }
            }
            let resolved = join_all(pending).await;
            for ((index, slot), value) in work.into_iter().zip(resolved) {
                match value {
                    Ok(value) => maps[index][slot] = value.unwrap_or_default(),
                    Err(error) => {
                        ctx_list.add_error(error);
                        failed.push((index, slot));
                    }
                }
            }
        }
        // As async-graphql answers an object with a failed field: the key is left out.
        // Removed last, highest slot first, so that the other slots stay where they are.
        failed.sort_unstable_by(|a, b| b.cmp(a));
        for (index, slot) in failed {
            maps[index].shift_remove_index(slot);
        }
        maps.into_iter().map(|map| Ok(object(map))).collect()
    }
}

/// Whether a node's selection is only fields, each response key once, without directives.
fn plain_fields(set: &SelectionSet) -> bool {
    set.items.iter().enumerate().all(|(index, selection)| {
        let Selection::Field(field) = &selection.node else {
            return false;
        };
        let key = &field.node.response_key().node;
        field.node.directives.is_empty()
            && !set.items[..index].iter().any(|earlier| {
                matches!(&earlier.node, Selection::Field(other) if other.node.response_key().node == *key)
            })
    })
}

#[cfg(test)]
mod tests {
    use async_graphql::parser::types::{TypeKind, TypeSystemDefinition};

    use super::ConnectionNode;
    use crate::graphql::{alerts, audit, executions, integrations, logs, projects};
    use crate::graphql::{syncs, templates, webhooks};

    /// Argument-free fields of `T` in the exported schema, or none if `T` is not there.
    fn plain_fields_of<T: ConnectionNode>() -> Option<Vec<String>> {
        let document = async_graphql::parser::parse_schema(crate::graphql::sdl()).ok()?;
        document.definitions.iter().find_map(|definition| {
            let TypeSystemDefinition::Type(ty) = definition else {
                return None;
            };
            let TypeKind::Object(object) = &ty.node.kind else {
                return None;
            };
            (ty.node.name.node.as_str() == T::type_name()).then(|| {
                let fields = object.fields.iter().map(|field| &field.node);
                let plain = fields.filter(|field| field.arguments.is_empty());
                plain.map(|field| field.name.node.to_string()).collect()
            })
        })
    }

    fn check<T: ConnectionNode>(problems: &mut Vec<String>) {
        let Some(fields) = plain_fields_of::<T>() else {
            problems.push(format!("{} is not in the schema", T::type_name()));
            return;
        };
        for name in T::IMMEDIATE_FIELDS {
            if !fields.iter().any(|field| field == name) {
                problems.push(format!(
                    "{}.{name} is not an argument-free field",
                    T::type_name()
                ));
            }
        }
    }

    /// A misspelt immediate field would silently never be taken in place.
    #[test]
    fn immediate_fields_are_argument_free_fields_of_their_type() {
        let mut problems = Vec::new();
        check::<integrations::Integration>(&mut problems);
        check::<logs::LogEntry>(&mut problems);
        check::<executions::Execution>(&mut problems);
        check::<alerts::Alert>(&mut problems);
        check::<alerts::AlertRule>(&mut problems);
        check::<webhooks::Webhook>(&mut problems);
        check::<webhooks::Delivery>(&mut problems);
        check::<audit::AuditEntry>(&mut problems);
        check::<projects::Project>(&mut problems);
        check::<templates::Template>(&mut problems);
        check::<syncs::SyncRecord>(&mut problems);
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }
}
