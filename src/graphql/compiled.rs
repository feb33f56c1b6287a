//! Compiled answers: the list pages dashboards ask for over and over, answered without
//! async-graphql's executor.
//!
//! Why: a 50-row page of plain fields cost the executor ~92,000 instructions more than the
//! same rows written as JSON by hand (building a `Value` tree of index maps, a context and
//! a resolver call per field, then serializing the tree), about a fifth of the answer's CPU
//! (bench/README.md). A document whose operation passed full validation once is compiled
//! here when it has the one shape below; requests for it after that (with any variables)
//! run the resolver's own domain call (`integrations::integrations_page`) and write the
//! answer straight into the response body, as Hasura and graphql-jit do with theirs.
//!
//! The shape: a query operation without directives whose only root field is `integrations`,
//! each argument given in the document or as a whole variable, selecting `totalCount`,
//! `pageInfo { … }`, `edges { cursor node { … } }`, `nodes { … }` and `__typename`, each
//! response key once, no fragments or directives anywhere, node fields from `Integration`'s
//! `PLAIN_FIELDS` and `circuitState`, plus `health { … }` (with `score`), `credentials { … }`
//! and `project { … }` of their plain fields (read for the whole page in one query each, as
//! the data loaders batch them): the dashboard's own `Integrations` and `HealthGrid` pages
//! among them. Anything else is
//! not compiled; and a compiled request whose variables or calls fail (an undeclared or
//! missing non-null variable, a value its argument does not take, paging arguments out of
//! range, an unknown cursor, scope, the store) goes to the executor, which answers it,
//! errors and all, as it always did. The answers are the executor's byte for byte
//! (tests/e2e/integrations.rs compares them shape by shape on both stores).

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, Field, OperationType, Selection, SelectionSet,
};
use async_graphql::resolver_utils::EnumType;
use async_graphql::{ID, InputType, OutputType, Positioned, ScalarType};

use super::connection::{IdConnection, PageArgs};
use super::credentials::CredentialsInfo;
use super::health::{HEALTH_PLAIN_FIELDS, HealthField, SCORE_WINDOW, score};
use super::integrations::{Integration, integrations_page};
use super::projects::Project;
use crate::app::App;
use crate::domain::access::Caller;
use crate::domain::integrations::IntegrationFilter;
use crate::domain::{credentials, health, projects};
use crate::error::AppError;
use crate::error::AppResult;

/// An object whose plain fields (scalars, enums and lists of them, no arguments) a
/// compiled answer writes straight from the value, each exactly as its resolver answers it.
pub trait PlainObject: OutputType + Sized + 'static {
    const PLAIN_FIELDS: &'static [(&'static str, PlainField<Self>)];
}

/// Writes one plain field's value as JSON.
pub type PlainField<T> = fn(&T, &mut JsonOut);

/// An operation compiled to a domain call and a JSON writer.
pub struct CompiledQuery {
    variables: Vec<Variable>,
    /// The root field's response key, written as `"key":`.
    root_key: Vec<u8>,
    root: Root,
}

/// A variable the operation declares.
struct Variable {
    name: String,
    non_null: bool,
    default: Option<async_graphql::Value>,
}

/// A request's variables as the operation binds them (absent ones without a default left out).
type Bound = HashMap<String, async_graphql::Value>;

/// An argument: given in the document, or a variable's value (the whole argument).
enum Arg<T> {
    Given(T),
    Variable(String),
}

impl<T: InputType + Clone> Arg<T> {
    /// The argument's value, parsed as the resolver's argument type parses it; `None`
    /// when the variable's value is not one (the executor reports it).
    fn value(&self, bound: &Bound) -> Option<T> {
        match self {
            Arg::Given(value) => Some(value.clone()),
            Arg::Variable(name) => T::parse(bound.get(name).cloned()).ok(),
        }
    }
}

enum Root {
    Integrations {
        project_id: Arg<Option<ID>>,
        filter: Arg<Option<IntegrationFilter>>,
        first: Arg<Option<i32>>,
        after: Arg<Option<String>>,
        last: Arg<Option<i32>>,
        before: Arg<Option<String>>,
        page: ConnectionPlan,
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
    if operation.ty != OperationType::Query || !operation.directives.is_empty() {
        return None;
    }
    let variables = operation
        .variable_definitions
        .iter()
        .map(|definition| {
            let definition = &definition.node;
            definition.directives.is_empty().then(|| Variable {
                name: definition.name.node.to_string(),
                non_null: !definition.var_type.node.nullable,
                default: definition.default_value.as_ref().map(|v| v.node.clone()),
            })
        })
        .collect::<Option<Vec<_>>>()?;
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
        variables,
        root_key: key(root),
        root: compiled,
    }))
}

/// `integrations(projectId, filter, first, after, last, before)`: an argument this does not
/// know (one added to the resolver later), or a variable inside an argument's value, leaves
/// the document to the executor.
fn compile_integrations(field: &Field) -> Option<Root> {
    fn arg<T: InputType>(value: &async_graphql_value::Value) -> Option<Arg<T>> {
        match value {
            async_graphql_value::Value::Variable(name) => Some(Arg::Variable(name.to_string())),
            value => T::parse(Some(value.clone().into_const()?))
                .ok()
                .map(Arg::Given),
        }
    }
    let mut project_id = Arg::Given(None);
    let mut filter = Arg::Given(None);
    let mut first = Arg::Given(None);
    let mut after = Arg::Given(None);
    let mut last = Arg::Given(None);
    let mut before = Arg::Given(None);
    for (name, value) in &field.arguments {
        match name.node.as_str() {
            "projectId" => project_id = arg(&value.node)?,
            "filter" => filter = arg(&value.node)?,
            "first" => first = arg(&value.node)?,
            "after" => after = arg(&value.node)?,
            "last" => last = arg(&value.node)?,
            "before" => before = arg(&value.node)?,
            _ => return None,
        }
    }
    Some(Root::Integrations {
        project_id,
        filter,
        first,
        after,
        last,
        before,
        page: ConnectionPlan::compile(&field.selection_set.node)?,
    })
}

impl CompiledQuery {
    /// Binds a request's variables as the executor would, or `None` when they need its
    /// errors (an undeclared one, a non-null one missing or null, a value that is not JSON
    /// GraphQL takes).
    fn bind(
        &self,
        variables: Option<&serde_json::Map<String, serde_json::Value>>,
    ) -> Option<Bound> {
        let mut bound = Bound::with_capacity(self.variables.len());
        if let Some(variables) = variables {
            for (name, value) in variables {
                if !self.variables.iter().any(|v| v.name == *name) {
                    return None;
                }
                bound.insert(
                    name.clone(),
                    async_graphql::Value::from_json(value.clone()).ok()?,
                );
            }
        }
        for variable in &self.variables {
            match bound.get(&variable.name) {
                Some(async_graphql::Value::Null) if variable.non_null => return None,
                Some(_) => {}
                None => match &variable.default {
                    Some(default) => {
                        bound.insert(variable.name.clone(), default.clone());
                    }
                    None if variable.non_null => return None,
                    None => {}
                },
            }
        }
        Some(bound)
    }

    /// The whole response body, or `None` when the variables or a call need the executor
    /// (it runs the same calls again and reports the error its way).
    pub async fn answer(
        &self,
        app: &App,
        caller: &Caller,
        variables: Option<&serde_json::Map<String, serde_json::Value>>,
    ) -> Option<Vec<u8>> {
        let bound = self.bind(variables)?;
        let mut out = JsonOut(Vec::with_capacity(8 * 1024));
        out.raw(b"{\"data\":{");
        out.raw(&self.root_key);
        match &self.root {
            Root::Integrations {
                project_id,
                filter,
                first,
                after,
                last,
                before,
                page,
            } => {
                let args = PageArgs {
                    first: first.value(&bound)?,
                    after: after.value(&bound)?,
                    last: last.value(&bound)?,
                    before: before.value(&bound)?,
                };
                let project_id = project_id.value(&bound)?;
                let connection = integrations_page(
                    app,
                    caller,
                    project_id.as_ref().map(|id| id.as_str()),
                    filter.value(&bound)?.unwrap_or_default(),
                    &args,
                    page.counts_total,
                )
                .await
                .ok()?;
                let related = Related::load(app, page.loads, &connection).await.ok()?;
                page.write(&connection, &related, &mut out);
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

/// `set` compiled field by field with `compile` (`None` for a field it does not answer).
fn compile_fields<F>(
    set: &SelectionSet,
    mut compile: impl FnMut(&Field) -> Option<F>,
) -> Option<Vec<(Vec<u8>, F)>> {
    plain_fields(set)?
        .into_iter()
        .map(|(key, field)| Some((key, compile(field)?)))
        .collect()
}

struct ConnectionPlan {
    fields: Vec<(Vec<u8>, ConnectionField)>,
    counts_total: bool,
    loads: Loads,
}

/// Which related objects the page's nodes select.
#[derive(Clone, Copy, Default)]
struct Loads {
    health: bool,
    /// The health figures over `SCORE_WINDOW` (`health { score }`).
    score: bool,
    credentials: bool,
    projects: bool,
}

enum ConnectionField {
    Typename,
    TotalCount,
    PageInfo(Vec<(Vec<u8>, PageInfoField)>),
    Edges(Vec<(Vec<u8>, EdgeField)>),
    Nodes(NodePlan),
}

enum PageInfoField {
    Typename,
    HasPreviousPage,
    HasNextPage,
    StartCursor,
    EndCursor,
}

enum EdgeField {
    Typename,
    Cursor,
    Node(NodePlan),
}

struct NodePlan(Vec<(Vec<u8>, NodeField)>);

enum NodeField {
    Typename,
    Plain(PlainField<Integration>),
    /// The circuit breaker's state, held in this process (as the resolver reads it).
    CircuitState,
    Health(Vec<(Vec<u8>, Nested<HealthPart>)>),
    Credentials(Vec<(Vec<u8>, Nested<PlainField<CredentialsInfo>>)>),
    Project(Vec<(Vec<u8>, Nested<PlainField<Project>>)>),
}

/// A field of an object below the node.
enum Nested<W> {
    Typename,
    Field(W),
}

/// A field of `health { … }`.
#[derive(Clone, Copy)]
enum HealthPart {
    Plain(HealthField),
    Score,
}

type Edge = async_graphql::connection::Edge<
    String,
    Box<Integration>,
    async_graphql::connection::EmptyFields,
>;

/// What the page's nodes share: their health states and figures, credentials and
/// projects, each read for the whole page in one query (the data loaders' batches, without
/// their wait), run side by side.
struct Related<'a> {
    app: &'a App,
    health: HashMap<String, health::Health>,
    figures: HashMap<String, health::Figures>,
    credentials: HashMap<String, CredentialsInfo>,
    projects: HashMap<String, Project>,
}

impl<'a> Related<'a> {
    async fn load(
        app: &'a App,
        loads: Loads,
        connection: &IdConnection<Integration>,
    ) -> AppResult<Self> {
        let rows = || connection.0.edges.iter().map(|edge| &edge.node.0);
        let ids: Vec<String> = rows().map(|row| row.id.clone()).collect();
        let mut project_ids: Vec<String> = Vec::new();
        if loads.projects {
            for row in rows() {
                if !project_ids.contains(&row.project_id) {
                    project_ids.push(row.project_id.clone());
                }
            }
        }
        let health = async {
            match loads.health && !ids.is_empty() {
                true => health::states_unchecked(&app.store, &ids).await,
                false => Ok(Vec::new()),
            }
        };
        let figures = async {
            match loads.score && !ids.is_empty() {
                true => health::figures_unchecked(&app.store, &ids, SCORE_WINDOW).await,
                false => Ok(HashMap::new()),
            }
        };
        let credentials = async {
            match loads.credentials && !ids.is_empty() {
                true => credentials::info_many(&app.store, &ids).await,
                false => Ok(Vec::new()),
            }
        };
        let projects = async {
            match project_ids.is_empty() {
                false => projects::get_many_unchecked(&app.store, &project_ids).await,
                true => Ok(Vec::new()),
            }
        };
        let (health, figures, credentials, projects) =
            futures_util::try_join!(health, figures, credentials, projects)?;
        let projects: HashMap<String, Project> = projects
            .into_iter()
            .map(|project| (project.id.clone(), Project(project)))
            .collect();
        // The resolver's error for a row without its project (a broken store): the
        // executor reports it.
        if project_ids.iter().any(|id| !projects.contains_key(id)) {
            return Err(AppError::internal(anyhow::anyhow!(
                "integration without its project"
            )));
        }
        Ok(Related {
            app,
            health: health
                .into_iter()
                .map(|state| (state.integration_id.clone(), state))
                .collect(),
            figures,
            credentials: credentials
                .into_iter()
                .map(|(id, info)| (id, info.into()))
                .collect(),
            projects,
        })
    }
}

impl ConnectionPlan {
    fn compile(set: &SelectionSet) -> Option<Self> {
        let mut counts_total = false;
        let mut loads = Loads::default();
        let fields = compile_fields(set, |field| {
            Some(match field.name.node.as_str() {
                "__typename" => ConnectionField::Typename,
                "totalCount" => {
                    counts_total = true;
                    ConnectionField::TotalCount
                }
                "pageInfo" => {
                    ConnectionField::PageInfo(compile_fields(&field.selection_set.node, |field| {
                        Some(match field.name.node.as_str() {
                            "__typename" => PageInfoField::Typename,
                            "hasPreviousPage" => PageInfoField::HasPreviousPage,
                            "hasNextPage" => PageInfoField::HasNextPage,
                            "startCursor" => PageInfoField::StartCursor,
                            "endCursor" => PageInfoField::EndCursor,
                            _ => return None,
                        })
                    })?)
                }
                "edges" => {
                    ConnectionField::Edges(compile_fields(&field.selection_set.node, |field| {
                        Some(match field.name.node.as_str() {
                            "__typename" => EdgeField::Typename,
                            "cursor" => EdgeField::Cursor,
                            "node" => EdgeField::Node(NodePlan::compile(
                                &field.selection_set.node,
                                &mut loads,
                            )?),
                            _ => return None,
                        })
                    })?)
                }
                "nodes" => ConnectionField::Nodes(NodePlan::compile(
                    &field.selection_set.node,
                    &mut loads,
                )?),
                _ => return None,
            })
        })?;
        Some(ConnectionPlan {
            fields,
            counts_total,
            loads,
        })
    }

    fn write(&self, connection: &IdConnection<Integration>, related: &Related, out: &mut JsonOut) {
        let connection = &connection.0;
        let cursor = |edge: Option<&Edge>, out: &mut JsonOut| match edge {
            Some(edge) => out.str(&edge.cursor),
            None => out.raw(b"null"),
        };
        out.object(&self.fields, |field, out| match field {
            ConnectionField::Typename => out.str(&IdConnection::<Integration>::type_name()),
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
                    EdgeField::Typename => out.str(&Edge::type_name()),
                    EdgeField::Cursor => out.str(&edge.cursor),
                    EdgeField::Node(plan) => plan.write(&edge.node, related, out),
                });
            }),
            ConnectionField::Nodes(plan) => {
                out.list(&connection.edges, |edge, out| {
                    plan.write(&edge.node, related, out);
                });
            }
        });
    }
}

/// `set`'s fields among `plain` (and `__typename`).
fn compile_nested<W: Copy>(
    set: &SelectionSet,
    plain: &[(&str, W)],
) -> Option<Vec<(Vec<u8>, Nested<W>)>> {
    compile_fields(set, |field| {
        let name = field.name.node.as_str();
        if name == "__typename" {
            return Some(Nested::Typename);
        }
        let (_, write) = plain.iter().find(|(plain, _)| *plain == name)?;
        Some(Nested::Field(*write))
    })
}

impl NodePlan {
    fn compile(set: &SelectionSet, loads: &mut Loads) -> Option<Self> {
        let fields = compile_fields(set, |field| {
            let nested = &field.selection_set.node;
            Some(match field.name.node.as_str() {
                "__typename" => NodeField::Typename,
                "circuitState" => NodeField::CircuitState,
                "health" => {
                    loads.health = true;
                    NodeField::Health(compile_fields(nested, |field| {
                        Some(match field.name.node.as_str() {
                            "__typename" => Nested::Typename,
                            "score" => {
                                loads.score = true;
                                Nested::Field(HealthPart::Score)
                            }
                            name => {
                                let plain = HEALTH_PLAIN_FIELDS.iter();
                                let (_, write) = plain.into_iter().find(|(p, _)| *p == name)?;
                                Nested::Field(HealthPart::Plain(*write))
                            }
                        })
                    })?)
                }
                "credentials" => {
                    loads.credentials = true;
                    NodeField::Credentials(compile_nested(nested, CredentialsInfo::PLAIN_FIELDS)?)
                }
                "project" => {
                    loads.projects = true;
                    NodeField::Project(compile_nested(nested, Project::PLAIN_FIELDS)?)
                }
                name => {
                    let plain = Integration::PLAIN_FIELDS.iter();
                    let (_, write) = plain.into_iter().find(|(plain, _)| *plain == name)?;
                    NodeField::Plain(*write)
                }
            })
        })?;
        Some(NodePlan(fields))
    }

    fn write(&self, node: &Integration, related: &Related, out: &mut JsonOut) {
        out.object(&self.0, |field, out| match field {
            NodeField::Typename => out.str(&node.introspection_type_name()),
            NodeField::Plain(write) => write(node, out),
            NodeField::CircuitState => {
                out.enum_item(related.app.outbound.circuit_state(&node.0.id));
            }
            NodeField::Health(fields) => {
                let id = &node.0.id;
                let unknown;
                let state = match related.health.get(id) {
                    Some(state) => state,
                    None => {
                        // As the resolver answers an integration never checked.
                        unknown = health::Health::unknown(id);
                        &unknown
                    }
                };
                out.object(fields, |field, out| match field {
                    Nested::Typename => out.str(&super::health::Health::type_name()),
                    Nested::Field(HealthPart::Plain(write)) => write(state, &node.0, out),
                    Nested::Field(HealthPart::Score) => {
                        let none = health::Figures::default();
                        let figures = related.figures.get(id).unwrap_or(&none);
                        match score(state, figures, &node.0) {
                            Some(score) => out.int(score),
                            None => out.raw(b"null"),
                        }
                    }
                });
            }
            NodeField::Credentials(fields) => match related.credentials.get(&node.0.id) {
                Some(info) => out.object(fields, |field, out| match field {
                    Nested::Typename => out.str(&CredentialsInfo::type_name()),
                    Nested::Field(write) => write(info, out),
                }),
                None => out.raw(b"null"),
            },
            NodeField::Project(fields) => match related.projects.get(&node.0.project_id) {
                Some(project) => out.object(fields, |field, out| match field {
                    Nested::Typename => out.str(&Project::type_name()),
                    Nested::Field(write) => write(project, out),
                }),
                // `load` refused a page with a row whose project it did not find.
                None => out.raw(b"null"),
            },
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

    pub fn opt_int(&mut self, value: Option<i32>) {
        match value {
            Some(value) => self.int(value),
            None => self.raw(b"null"),
        }
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

    pub fn opt_scalar<S: ScalarType>(&mut self, value: Option<&S>) {
        match value {
            Some(value) => self.scalar(value),
            None => self.raw(b"null"),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

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
        let related = "{ integrations { nodes { id h: health { __typename status reason checked } credentials { kind setFields } } } }";
        assert_eq!(compiles(related, None), Some(false));
        let variables = "query($n: Int = 2, $f: IntegrationFilter) { integrations(first: $n, filter: $f) { totalCount nodes { id } } }";
        assert_eq!(compiles(variables, None), Some(true));
        // The dashboard's pages (web-client/src/gql).
        let dashboard = "query Integrations($projectId: ID, $filter: IntegrationFilter, $first: Int, $after: String) { integrations(projectId: $projectId, filter: $filter, first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id name description category protocol status enabled tags baseUrl authKind circuitState updatedAt version project { id name } health { status reason } } } } }";
        assert_eq!(compiles(dashboard, None), Some(true));
        let grid = "query HealthGrid($projectId: ID, $first: Int) { integrations(projectId: $projectId, first: $first) { totalCount nodes { id name enabled status category project { id name } health { status reason checked score changedAt lastCheckedAt } } } }";
        assert_eq!(compiles(grid, None), Some(true));
    }

    /// What `answer` would bind, or `None` when the request goes to the executor.
    fn bind(query: &str, variables: serde_json::Value) -> Option<Vec<(String, String)>> {
        let document = async_graphql::parser::parse_query(query).expect("parses");
        let compiled = compile(&document, None).expect("compiles");
        let mut bound: Vec<_> = compiled
            .bind(variables.as_object())?
            .into_iter()
            .map(|(name, value)| (name, value.to_string()))
            .collect();
        bound.sort();
        Some(bound)
    }

    #[test]
    fn variables_bind_as_the_executor_binds_them() {
        let query = "query($p: ID, $f: IntegrationFilter, $n: Int! = 5, $a: String!) { integrations(projectId: $p, filter: $f, first: $n, after: $a) { nodes { id } } }";
        let pair = |name: &str, value: &str| (name.to_owned(), value.to_owned());
        assert_eq!(
            bind(query, json!({ "a": "x", "f": { "tag": "t" } })),
            Some(vec![
                pair("a", "\"x\""),
                pair("f", "{tag: \"t\"}"),
                pair("n", "5")
            ])
        );
        assert_eq!(
            bind(query, json!({ "a": "x", "n": 7, "p": null })),
            Some(vec![pair("a", "\"x\""), pair("n", "7"), pair("p", "null")])
        );
        // A non-null variable missing or null, or one the operation does not declare.
        assert_eq!(bind(query, json!({})), None);
        assert_eq!(bind(query, json!({ "a": null })), None);
        assert_eq!(bind(query, json!({ "a": "x", "n": null })), None);
        assert_eq!(bind(query, json!({ "a": "x", "other": 1 })), None);
    }

    #[test]
    fn other_shapes_are_left_to_the_executor() {
        for query in [
            // A variable inside an argument's value, fragments, directives.
            "query($t: String) { integrations(filter: { tag: $t }) { nodes { id } } }",
            "query($n: Int @deprecated) { integrations(first: $n) { nodes { id } } }",
            "{ integrations { nodes { ...F } } } fragment F on Integration { id }",
            "{ integrations { nodes { ... on Integration { id } } } }",
            "{ integrations { nodes { id @include(if: true) } } }",
            "query @deprecated { integrations { nodes { id } } }",
            // More than the one root field; another root; not a query.
            "{ integrations { nodes { id } } viewer { role } }",
            "{ projects { nodes { id } } }",
            "mutation { integrations { nodes { id } } }",
            "subscription { integrations { nodes { id } } }",
            // Fields with arguments, objects not compiled, a related object's related
            // objects; a key twice.
            "{ integrations { nodes { id health { uptime(window: DAY) } } } }",
            "{ integrations { nodes { id health { transitions { id } } } } }",
            "{ integrations { nodes { id project { id stats { integrations } } } } }",
            "{ integrations { nodes { id project { integrations { totalCount } } } } }",
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
