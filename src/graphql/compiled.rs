//! Compiled answers: the list pages dashboards ask for over and over, answered without
//! async-graphql's executor.
//!
//! Why: a 50-row page of plain fields cost the executor ~92,000 instructions more than the
//! same rows written as JSON by hand (building a `Value` tree of index maps, a context and
//! a resolver call per field, then serializing the tree), about a fifth of the answer's CPU
//! (bench/README.md). A document whose operation passed full validation once without
//! variables is compiled here when it has the one shape below; identical requests after
//! it run the resolver's own domain call (`integrations::integrations_page`) and write the
//! answer straight into the response body, as Hasura and graphql-jit do with theirs.
//!
//! The shape: a query operation without variables or directives whose only root field is
//! `integrations` with literal arguments, selecting `totalCount`, `pageInfo { … }`,
//! `edges { cursor node { … } }`, `nodes { … }` and `__typename`, each response key once,
//! no fragments or directives anywhere, node fields only from the node type's
//! `PLAIN_FIELDS`. Anything else is not compiled; and a compiled request whose call fails
//! (paging arguments out of range, an unknown cursor, the store) goes to the executor,
//! which answers it, errors and all, as it always did. The answers are the executor's byte
//! for byte (tests/e2e/integrations.rs compares them shape by shape on both stores).

use std::sync::Arc;

use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, Field, OperationType, Selection, SelectionSet,
};
use async_graphql::resolver_utils::EnumType;
use async_graphql::{ID, InputType, OutputType, Positioned, ScalarType};

use super::connection::{ConnectionNode, IdConnection, PageArgs, PlainField};
use super::integrations::{Integration, integrations_page};
use crate::app::App;
use crate::domain::access::Caller;
use crate::domain::integrations::IntegrationFilter;

/// An operation compiled to a domain call and a JSON writer.
pub struct CompiledQuery {
    /// The root field's response key, written as `"key":`.
    root_key: Vec<u8>,
    root: Root,
}

enum Root {
    Integrations {
        project_id: Option<ID>,
        filter: IntegrationFilter,
        args: PageArgs,
        page: ConnectionPlan<Integration>,
    },
}

/// Compiles `operation_name` of `document` (which passed validation), or `None` when it
/// does not have the shape this module answers.
pub fn compile(
    document: &ExecutableDocument,
    operation_name: Option<&str>,
) -> Option<Arc<CompiledQuery>> {
    let operation = match (&document.operations, operation_name) {
        (DocumentOperations::Single(operation), _) => operation,
        (DocumentOperations::Multiple(operations), Some(name)) => operations.get(name)?,
        (DocumentOperations::Multiple(operations), None) if operations.len() == 1 => {
            operations.values().next()?
        }
        _ => return None,
    };
    let operation = &operation.node;
    if operation.ty != OperationType::Query
        || !operation.variable_definitions.is_empty()
        || !operation.directives.is_empty()
    {
        return None;
    }
    let [only] = operation.selection_set.node.items.as_slice() else {
        return None;
    };
    let Selection::Field(root) = &only.node else {
        return None;
    };
    if !root.node.directives.is_empty() {
        return None;
    }
    let compiled = match root.node.name.node.as_str() {
        "integrations" => compile_integrations(&root.node)?,
        _ => return None,
    };
    Some(Arc::new(CompiledQuery {
        root_key: key(root),
        root: compiled,
    }))
}

/// `integrations(projectId, filter, first, after, last, before)`: an argument this does not
/// know (one added to the resolver later) leaves the document to the executor.
fn compile_integrations(field: &Field) -> Option<Root> {
    fn parse<T: InputType>(value: async_graphql::Value) -> Option<T> {
        T::parse(Some(value)).ok()
    }
    let mut project_id = None;
    let mut filter = None;
    let mut args = PageArgs::forward(None, None);
    for (name, value) in &field.arguments {
        let value = value.node.clone().into_const()?;
        match name.node.as_str() {
            "projectId" => project_id = parse::<Option<ID>>(value)?,
            "filter" => filter = parse::<Option<IntegrationFilter>>(value)?,
            "first" => args.first = parse(value)?,
            "after" => args.after = parse(value)?,
            "last" => args.last = parse(value)?,
            "before" => args.before = parse(value)?,
            _ => return None,
        }
    }
    Some(Root::Integrations {
        project_id,
        filter: filter.unwrap_or_default(),
        args,
        page: ConnectionPlan::compile(&field.selection_set.node)?,
    })
}

impl CompiledQuery {
    /// The whole response body, or `None` when the call failed and the executor should
    /// answer instead (it runs the same call again and reports the error its way).
    pub async fn answer(&self, app: &App, caller: &Caller) -> Option<Vec<u8>> {
        let mut out = JsonOut(Vec::with_capacity(8 * 1024));
        out.raw(b"{\"data\":{");
        out.raw(&self.root_key);
        match &self.root {
            Root::Integrations {
                project_id,
                filter,
                args,
                page,
            } => {
                let connection = integrations_page(
                    app,
                    caller,
                    project_id.as_ref().map(|id| id.as_str()),
                    filter.clone(),
                    args,
                    page.counts_total,
                )
                .await
                .ok()?;
                page.write(&connection, &mut out);
            }
        }
        out.raw(b"}}");
        Some(out.0)
    }
}

/// The response key of `field` as a JSON object key followed by `:`.
fn key(field: &Positioned<Field>) -> Vec<u8> {
    let mut out = JsonOut(Vec::new());
    out.str(field.node.response_key().node.as_str());
    out.raw(b":");
    out.0
}

/// The fields of `set` with their keys, when it is only fields without directives or
/// arguments, each response key once.
fn plain_fields(set: &SelectionSet) -> Option<Vec<(Vec<u8>, &Field)>> {
    let mut fields: Vec<(Vec<u8>, &Field)> = Vec::with_capacity(set.items.len());
    for selection in &set.items {
        let Selection::Field(field) = &selection.node else {
            return None;
        };
        let key = key(field);
        if !field.node.directives.is_empty()
            || !field.node.arguments.is_empty()
            || fields.iter().any(|(other, _)| *other == key)
        {
            return None;
        }
        fields.push((key, &field.node));
    }
    Some(fields)
}

struct ConnectionPlan<T: ConnectionNode> {
    fields: Vec<(Vec<u8>, ConnectionField<T>)>,
    counts_total: bool,
}

enum ConnectionField<T: ConnectionNode> {
    Typename,
    TotalCount,
    PageInfo(Vec<(Vec<u8>, PageInfoField)>),
    Edges(Vec<(Vec<u8>, EdgeField<T>)>),
    Nodes(NodePlan<T>),
}

enum PageInfoField {
    Typename,
    HasPreviousPage,
    HasNextPage,
    StartCursor,
    EndCursor,
}

enum EdgeField<T: ConnectionNode> {
    Typename,
    Cursor,
    Node(NodePlan<T>),
}

struct NodePlan<T: ConnectionNode>(Vec<(Vec<u8>, NodeField<T>)>);

enum NodeField<T: ConnectionNode> {
    Typename,
    Plain(PlainField<T>),
}

type Edge<T> =
    async_graphql::connection::Edge<String, Box<T>, async_graphql::connection::EmptyFields>;

impl<T: ConnectionNode> ConnectionPlan<T> {
    fn compile(set: &SelectionSet) -> Option<Self> {
        let mut counts_total = false;
        let mut fields = Vec::new();
        for (key, field) in plain_fields(set)? {
            let compiled = match field.name.node.as_str() {
                "__typename" => ConnectionField::Typename,
                "totalCount" => {
                    counts_total = true;
                    ConnectionField::TotalCount
                }
                "pageInfo" => ConnectionField::PageInfo(
                    plain_fields(&field.selection_set.node)?
                        .into_iter()
                        .map(|(key, field)| {
                            let compiled = match field.name.node.as_str() {
                                "__typename" => PageInfoField::Typename,
                                "hasPreviousPage" => PageInfoField::HasPreviousPage,
                                "hasNextPage" => PageInfoField::HasNextPage,
                                "startCursor" => PageInfoField::StartCursor,
                                "endCursor" => PageInfoField::EndCursor,
                                _ => return None,
                            };
                            Some((key, compiled))
                        })
                        .collect::<Option<_>>()?,
                ),
                "edges" => ConnectionField::Edges(
                    plain_fields(&field.selection_set.node)?
                        .into_iter()
                        .map(|(key, field)| {
                            let compiled = match field.name.node.as_str() {
                                "__typename" => EdgeField::Typename,
                                "cursor" => EdgeField::Cursor,
                                "node" => {
                                    EdgeField::Node(NodePlan::compile(&field.selection_set.node)?)
                                }
                                _ => return None,
                            };
                            Some((key, compiled))
                        })
                        .collect::<Option<_>>()?,
                ),
                "nodes" => ConnectionField::Nodes(NodePlan::compile(&field.selection_set.node)?),
                _ => return None,
            };
            fields.push((key, compiled));
        }
        Some(ConnectionPlan {
            fields,
            counts_total,
        })
    }

    fn write(&self, connection: &IdConnection<T>, out: &mut JsonOut) {
        let connection = &connection.0;
        let cursor = |edge: Option<&Edge<T>>, out: &mut JsonOut| match edge {
            Some(edge) => out.str(&edge.cursor),
            None => out.raw(b"null"),
        };
        out.object(&self.fields, |field, out| match field {
            ConnectionField::Typename => out.str(&IdConnection::<T>::type_name()),
            ConnectionField::TotalCount => out.int(connection.additional_fields.total_count),
            ConnectionField::PageInfo(fields) => out.object(fields, |field, out| match field {
                PageInfoField::Typename => {
                    out.str(&async_graphql::connection::PageInfo::type_name());
                }
                PageInfoField::HasPreviousPage => out.bool(connection.has_previous_page),
                PageInfoField::HasNextPage => out.bool(connection.has_next_page),
                PageInfoField::StartCursor => cursor(connection.edges.first(), out),
                PageInfoField::EndCursor => cursor(connection.edges.last(), out),
            }),
            ConnectionField::Edges(fields) => out.list(&connection.edges, |edge, out| {
                out.object(fields, |field, out| match field {
                    EdgeField::Typename => out.str(&Edge::<T>::type_name()),
                    EdgeField::Cursor => out.str(&edge.cursor),
                    EdgeField::Node(plan) => plan.write(&edge.node, out),
                });
            }),
            ConnectionField::Nodes(plan) => {
                out.list(&connection.edges, |edge, out| plan.write(&edge.node, out));
            }
        });
    }
}

impl<T: ConnectionNode> NodePlan<T> {
    fn compile(set: &SelectionSet) -> Option<Self> {
        let fields = plain_fields(set)?
            .into_iter()
            .map(|(key, field)| {
                let name = field.name.node.as_str();
                let compiled = if name == "__typename" {
                    NodeField::Typename
                } else {
                    let (_, write) = T::PLAIN_FIELDS.iter().find(|(plain, _)| *plain == name)?;
                    NodeField::Plain(*write)
                };
                Some((key, compiled))
            })
            .collect::<Option<_>>()?;
        Some(NodePlan(fields))
    }

    fn write(&self, node: &T, out: &mut JsonOut) {
        out.object(&self.0, |field, out| match field {
            NodeField::Typename => out.str(&node.introspection_type_name()),
            NodeField::Plain(write) => write(node, out),
        });
    }
}

/// A response body being written, as serde_json writes async-graphql's `Value`s.
pub struct JsonOut(Vec<u8>);

impl JsonOut {
    fn raw(&mut self, bytes: &[u8]) {
        self.0.extend_from_slice(bytes);
    }

    /// An object of `fields` (each key already written as `"key":`).
    fn object<F>(&mut self, fields: &[(Vec<u8>, F)], mut value: impl FnMut(&F, &mut Self)) {
        self.raw(b"{");
        for (index, (key, field)) in fields.iter().enumerate() {
            if index > 0 {
                self.raw(b",");
            }
            self.raw(key);
            value(field, self);
        }
        self.raw(b"}");
    }

    fn list<I>(&mut self, items: &[I], mut value: impl FnMut(&I, &mut Self)) {
        self.raw(b"[");
        for (index, item) in items.iter().enumerate() {
            if index > 0 {
                self.raw(b",");
            }
            value(item, self);
        }
        self.raw(b"]");
    }

    /// Any serializable value, as serde_json writes it.
    fn serialize(&mut self, value: &impl serde::Serialize) {
        // Writing into a Vec cannot fail, and these values (strings, numbers,
        // async-graphql values) always serialize.
        let _ = serde_json::to_writer(&mut self.0, value);
    }

    pub fn str(&mut self, value: &str) {
        self.serialize(&value);
    }

    pub fn opt_str(&mut self, value: Option<&str>) {
        match value {
            Some(value) => self.str(value),
            None => self.raw(b"null"),
        }
    }

    pub fn strs(&mut self, values: &[String]) {
        self.list(values, |value, out| out.str(value));
    }

    pub fn bool(&mut self, value: bool) {
        self.raw(if value { b"true" } else { b"false" });
    }

    pub fn int(&mut self, value: impl Into<i64>) {
        self.serialize(&value.into());
    }

    /// An enum value under its GraphQL name.
    pub fn enum_item<E: EnumType>(&mut self, value: E) {
        match E::items().iter().find(|item| item.value == value) {
            Some(item) => self.str(item.name),
            None => self.raw(b"null"),
        }
    }

    /// A custom scalar, as its `ScalarType` gives it to the executor.
    pub fn scalar<S: ScalarType>(&mut self, value: &S) {
        self.serialize(&value.to_value());
    }
}

#[cfg(test)]
mod tests {
    use super::{Root, compile};

    fn compiles(query: &str, operation: Option<&str>) -> Option<bool> {
        let document = async_graphql::parser::parse_query(query).ok()?;
        let compiled = compile(&document, operation)?;
        let Root::Integrations { page, .. } = &compiled.root;
        Some(page.counts_total)
    }

    #[test]
    fn plain_list_pages_compile() {
        let plain = "{ integrations(first: 50) { edges { node { id name status } } } }";
        assert_eq!(compiles(plain, None), Some(false));
        let aliased = "query Q { l: integrations(first: 2, projectId: \"p\", filter: { category: CI_CD, tag: \"x\", text: \"y\" }) { __typename t: totalCount pageInfo { hasNextPage endCursor __typename } nodes { __typename id tags createdAt } edges { cursor } } }";
        assert_eq!(compiles(aliased, Some("Q")), Some(true));
        assert_eq!(compiles(aliased, None), Some(true));
    }

    #[test]
    fn other_shapes_are_left_to_the_executor() {
        for query in [
            // Variables, fragments, directives.
            "query($n: Int) { integrations(first: $n) { nodes { id } } }",
            "query($n: Int = 2) { integrations { nodes { id } } }",
            "{ integrations { nodes { ...F } } } fragment F on Integration { id }",
            "{ integrations { nodes { ... on Integration { id } } } }",
            "{ integrations { nodes { id @include(if: true) } } }",
            "query @deprecated { integrations { nodes { id } } }",
            // More than the one root field; another root; not a query.
            "{ integrations { nodes { id } } viewer { role } }",
            "{ projects { nodes { id } } }",
            "mutation { integrations { nodes { id } } }",
            "subscription { integrations { nodes { id } } }",
            // Fields that need the store or a loader, arguments, objects; a key twice.
            "{ integrations { nodes { id health { status } } } }",
            "{ integrations { nodes { retryPolicy { maxRetries } } } }",
            "{ integrations { nodes { config } } }",
            "{ integrations { nodes { logs(first: 1) { totalCount } } } }",
            "{ integrations { nodes { id id } } }",
            "{ integrations { nodes { a: id a: name } } }",
            "{ integrations { edges { node { id } node { name } } } }",
            // An argument it does not know.
            "{ integrations(orderBy: NAME) { nodes { id } } }",
        ] {
            assert_eq!(compiles(query, None), None, "{query}");
        }
        let two =
            "query A { integrations { nodes { id } } } query B { integrations { nodes { id } } }";
        assert_eq!(compiles(two, None), None);
        assert_eq!(compiles(two, Some("B")), Some(false));
        assert_eq!(compiles(two, Some("C")), None);
    }
}
