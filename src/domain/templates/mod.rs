//! Integration templates: what a kind of integration is (schemas, base URL, operations,
//! health check, …), versioned and shared.
//!
//! - A *family* is one template across versions; each stored row is one *version*:
//!   DRAFT (editable in place) → PUBLISHED (immutable; `updateTemplate` on it creates the
//!   next version as a DRAFT) → DEPRECATED (still usable by integrations pinned to it, not
//!   deployable).
//! - Built-ins come from `templates/*.json` embedded in the binary ([`catalog`]); they are
//!   written to the store at start-up (so integrations reference them by ID like any
//!   other), read-only, OFFICIAL and visible to every project.
//! - A custom template belongs to a project (COMMUNITY); its project sees every version,
//!   projects it is shared with (or all, with `allProjects`) see its published and
//!   deprecated versions. Everything else answers NOT_FOUND, like an unknown ID.

pub mod catalog;
pub mod definition;
pub mod deploy;

use std::sync::Arc;

use async_graphql::{ID, InputObject, Json};
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::access::{Caller, Role};
use super::logs::{LogEntry, LogLevel};
use super::{Category, Protocol, stored_enum, utc, validate};
use crate::app::App;
use crate::error::{AppError, AppResult};
use crate::events::BusEvent;
use crate::ids::{IdKind, new_id};
use crate::store::templates::{
    self as template_store, FamilyRow, TemplateQuery, TemplateRow, Visibility,
};
use crate::store::{Journal, Page, PageRequest, Store, StoreError, StoreResult, decode_json, now};
pub use definition::{Definition, TemplateAuthKind};

stored_enum! {
    /// The lifecycle of a template version.
    TemplateState { Draft, Published, Deprecated }
}

stored_enum! {
    /// Who stands behind a template: OFFICIAL (built in) or COMMUNITY (written by users).
    SupportLevel { Official, Community }
}

/// One version of a template.
#[derive(Debug, Clone)]
pub struct Template {
    pub id: String,
    pub family_id: String,
    /// The owning project; `None` for built-ins.
    pub project_id: Option<String>,
    pub version: i32,
    pub state: TemplateState,
    pub is_current: bool,
    pub built_in: bool,
    pub support_level: SupportLevel,
    pub definition: Arc<Definition>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
    pub deprecated_at: Option<DateTime<Utc>>,
}

impl Template {
    pub(crate) fn from_row(row: TemplateRow) -> StoreResult<Self> {
        Ok(Template {
            state: TemplateState::from_stored("templates.state", &row.state)?,
            support_level: SupportLevel::from_stored(
                "templates.support_level",
                &row.support_level,
            )?,
            definition: Arc::new(decode_json("templates.definition", &row.definition)?),
            id: row.id,
            family_id: row.family_id,
            project_id: row.project_id,
            version: row.version,
            is_current: row.is_current,
            built_in: row.built_in,
            created_by: row.created_by,
            created_at: utc(row.created_at),
            updated_at: utc(row.updated_at),
            published_at: row.published_at.map(utc),
            deprecated_at: row.deprecated_at.map(utc),
        })
    }

    fn to_row(&self) -> TemplateRow {
        let definition = serde_json::to_string(&*self.definition).unwrap_or_default();
        let d = &self.definition;
        TemplateRow {
            id: self.id.clone(),
            family_id: self.family_id.clone(),
            project_id: self.project_id.clone(),
            version: self.version,
            state: self.state.as_str().to_owned(),
            is_current: self.is_current,
            built_in: self.built_in,
            support_level: self.support_level.as_str().to_owned(),
            slug: d.slug.clone(),
            name: d.name.clone(),
            description: d.description.clone(),
            category: d.category.as_str().to_owned(),
            protocol: d.protocol.as_str().to_owned(),
            icon: d.icon.clone(),
            content_hash: content_hash(&definition),
            definition,
            created_by: self.created_by.clone(),
            created_at: self.created_at.naive_utc(),
            updated_at: self.updated_at.naive_utc(),
            published_at: self.published_at.map(|t| t.naive_utc()),
            deprecated_at: self.deprecated_at.map(|t| t.naive_utc()),
        }
    }
}

/// SHA-256 (hex) of a template document.
pub(crate) fn content_hash(definition_json: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(definition_json.as_bytes()))
}

/// What a caller sees: its projects (`None`: all of them).
fn visibility(caller: &Caller) -> Visibility {
    Visibility {
        projects: caller.principal.project_restriction(),
    }
}

/// The versions visible to one project (deploying into it).
pub(crate) fn visibility_of_project(project_id: &str) -> Visibility {
    Visibility {
        projects: Some(vec![project_id.to_owned()]),
    }
}

/// Filters of the `templates` listing; all given parts must hold.
#[derive(Debug, Default, InputObject)]
pub struct TemplateFilter {
    pub category: Option<Category>,
    /// Case-insensitive text in slug, name or description.
    pub search: Option<String>,
    pub built_in: Option<bool>,
    /// Templates available to this project (built-ins, its own, shared with it).
    pub project_id: Option<ID>,
    pub state: Option<TemplateState>,
    /// Every version, not only each template's current one (default false).
    pub all_versions: Option<bool>,
}

/// Loads a template version the caller may see; NOT_FOUND otherwise.
pub async fn get(store: &Store, caller: &Caller, id: &str) -> AppResult<Template> {
    if IdKind::of(id) == Some(IdKind::Template)
        && template_store::is_visible(store, id, &visibility(caller)).await?
        && let Some(row) = template_store::get(store, id).await?
    {
        return Ok(Template::from_row(row)?);
    }
    Err(AppError::not_found("template", id))
}

/// Loads template versions by ID without access checks (what an integration the caller
/// sees was made from).
pub async fn get_many_unchecked(store: &Store, ids: &[String]) -> AppResult<Vec<Template>> {
    Ok(template_store::get_many(store, ids)
        .await?
        .into_iter()
        .map(Template::from_row)
        .collect::<StoreResult<Vec<_>>>()?)
}

pub(crate) async fn get_unchecked(store: &Store, id: &str) -> AppResult<Option<Template>> {
    Ok(template_store::get(store, id)
        .await?
        .map(Template::from_row)
        .transpose()?)
}

/// The current version of the template with this slug the caller sees; with several
/// (custom templates of different projects), `project_id` picks one.
pub async fn by_slug(
    store: &Store,
    caller: &Caller,
    slug: &str,
    project_id: Option<&str>,
) -> AppResult<Template> {
    let mut rows = template_store::current_by_slug(store, slug, &visibility(caller)).await?;
    if let Some(project) = project_id {
        super::projects::get(store, caller, project).await?;
        rows.retain(|r| r.built_in || r.project_id.as_deref() == Some(project));
    }
    match rows.len() {
        0 => Err(AppError::not_found("template", slug)),
        1 => Ok(Template::from_row(rows.remove(0))?),
        _ if rows[0].built_in => Ok(Template::from_row(rows.remove(0))?),
        n => Err(AppError::invalid(
            "slug",
            format!(
                "{n} templates of different projects have the slug `{slug}`; give projectId or the ID"
            ),
        )),
    }
}

/// Lists templates the caller may see (each template's current version by default).
pub async fn list(
    store: &Store,
    caller: &Caller,
    filter: TemplateFilter,
    page: &PageRequest,
) -> AppResult<Page<Template>> {
    let visibility = match &filter.project_id {
        Some(project) => {
            let project = validate::id("filter.projectId", project, IdKind::Project)?;
            super::projects::get(store, caller, &project).await?;
            visibility_of_project(&project)
        }
        None => visibility(caller),
    };
    let query = TemplateQuery {
        visibility,
        category: filter.category.map(|c| c.as_str().to_owned()),
        search: validate::optional_text("filter.search", filter.search.as_deref(), 200)?,
        built_in: filter.built_in,
        state: filter.state.map(|s| s.as_str().to_owned()),
        current_only: !filter.all_versions.unwrap_or(false),
        family_id: None,
    };
    let page = template_store::page(store, &query, page).await?;
    Ok(page.try_map(Template::from_row)?)
}

/// Every version of a template's family the caller may see, oldest first.
pub async fn versions(
    store: &Store,
    caller: &Caller,
    template: &Template,
) -> AppResult<Vec<Template>> {
    let mut out = Vec::new();
    for row in template_store::versions(store, &template.family_id).await? {
        let visible = row.built_in
            || caller
                .principal
                .project_restriction()
                .is_none_or(|own| row.project_id.as_ref().is_some_and(|p| own.contains(p)))
            || row.state != TemplateState::Draft.as_str();
        if visible {
            out.push(Template::from_row(row)?);
        }
    }
    Ok(out)
}

/// Integrations (in projects the caller sees) made from any version of the template.
pub async fn usage_count(store: &Store, caller: &Caller, template: &Template) -> AppResult<i64> {
    let projects = caller.principal.project_restriction();
    Ok(template_store::usage_count(store, &template.family_id, projects.as_deref()).await?)
}

/// Who a custom template is shared with (for callers of its own project).
#[derive(Debug, Clone)]
pub struct Sharing {
    pub all_projects: bool,
    /// The projects shared with that the caller sees.
    pub project_ids: Vec<String>,
}

/// The template's sharing; `None` for built-ins and for callers outside its project.
pub async fn sharing(
    store: &Store,
    caller: &Caller,
    template: &Template,
) -> AppResult<Option<Sharing>> {
    let Some(owner) = &template.project_id else {
        return Ok(None);
    };
    if !caller.principal.sees_project(owner) {
        return Ok(None);
    }
    let Some(family) = template_store::get_family(store, &template.family_id).await? else {
        return Ok(None);
    };
    let project_ids = template_store::shares(store, &template.family_id)
        .await?
        .into_iter()
        .filter(|p| caller.principal.sees_project(p))
        .collect();
    Ok(Some(Sharing {
        all_projects: family.shared_with_all,
        project_ids,
    }))
}

/// Input of `createTemplate`: the template document's fields (see `templates/README.md`);
/// schemas, operations and the health check are JSON, checked as a whole so that every
/// problem comes back with its path.
#[derive(Debug, InputObject)]
pub struct CreateTemplateInput {
    /// The project that owns the template.
    pub project_id: ID,
    /// `[a-z0-9]+(-[a-z0-9]+)*`, unique in the project and not a built-in's.
    pub slug: String,
    pub name: String,
    pub description: Option<String>,
    pub category: Category,
    /// REST (default) or GRAPHQL.
    pub protocol: Option<Protocol>,
    /// An emoji or an https URL.
    pub icon: Option<String>,
    pub docs_url: Option<String>,
    /// Supported auth kinds; the first is the default, which `credentialMapping` maps.
    pub auth_kinds: Vec<TemplateAuthKind>,
    /// JSON Schema 2020-12 (`type: object`) of the non-secret settings.
    pub config_schema: Json<Value>,
    /// JSON Schema 2020-12 of the secret fields of the default auth kind.
    pub credential_schema: Json<Value>,
    /// How credential fields become patchbay credentials (`{ kind, … }` with `{{credentials.x}}`).
    pub credential_mapping: Option<Json<Value>>,
    /// A config that must validate against configSchema.
    pub example_config: Json<Value>,
    pub example_credentials: Option<Json<Value>>,
    /// May use `{{config.<key>}}`, e.g. `https://{{config.site}}.atlassian.net`.
    pub base_url: String,
    /// Headers sent with every call (values may use `{{config.<key>}}`).
    pub headers: Option<Json<Value>>,
    /// `[{ name, method, path, parameters: [{ name, in, required, schema }], body, pagination }]`.
    pub operations: Json<Value>,
    /// `{ operation, expectedStatus, maxLatencyMs }`.
    pub health_check: Json<Value>,
    /// `{ requestsPerMinute, remainingHeader, resetHeader }`.
    pub rate_limit: Option<Json<Value>>,
    /// `{ authorizeUrl, tokenUrl, scopes }`, when OAUTH2 is an auth kind.
    pub oauth2: Option<Json<Value>>,
    /// `{ scheme, eventNameSource }`.
    pub incoming_webhooks: Option<Json<Value>>,
    pub webhook_events: Option<Vec<String>>,
}

/// Input of `updateTemplate`: given fields replace the template's. A DRAFT changes in
/// place; a PUBLISHED or DEPRECATED version is immutable, so its update becomes the
/// family's next version, a DRAFT.
#[derive(Debug, InputObject)]
pub struct UpdateTemplateInput {
    pub id: ID,
    pub name: Option<String>,
    pub description: Option<String>,
    pub category: Option<Category>,
    pub protocol: Option<Protocol>,
    pub icon: Option<String>,
    pub docs_url: Option<String>,
    pub auth_kinds: Option<Vec<TemplateAuthKind>>,
    pub config_schema: Option<Json<Value>>,
    pub credential_schema: Option<Json<Value>>,
    pub credential_mapping: Option<Json<Value>>,
    pub example_config: Option<Json<Value>>,
    pub example_credentials: Option<Json<Value>>,
    pub base_url: Option<String>,
    pub headers: Option<Json<Value>>,
    pub operations: Option<Json<Value>>,
    pub health_check: Option<Json<Value>>,
    pub rate_limit: Option<Json<Value>>,
    pub oauth2: Option<Json<Value>>,
    pub incoming_webhooks: Option<Json<Value>>,
    pub webhook_events: Option<Vec<String>>,
}

/// Input of `shareTemplate`: replaces who the template (all its versions) is shared with.
#[derive(Debug, InputObject)]
pub struct ShareTemplateInput {
    pub template_id: ID,
    /// Projects that may see and deploy its published versions.
    pub project_ids: Option<Vec<ID>>,
    /// Every project (present and future).
    pub all_projects: Option<bool>,
}

fn put(doc: &mut Map<String, Value>, key: &str, value: Option<Value>) {
    if let Some(value) = value {
        doc.insert(key.to_owned(), value);
    }
}

fn json_of<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

impl CreateTemplateInput {
    fn document(&self) -> Value {
        let mut doc = Map::new();
        put(&mut doc, "slug", Some(Value::from(self.slug.clone())));
        put(&mut doc, "name", Some(Value::from(self.name.trim())));
        put(
            &mut doc,
            "description",
            self.description.clone().map(Value::from),
        );
        put(
            &mut doc,
            "category",
            Some(Value::from(self.category.as_str())),
        );
        put(
            &mut doc,
            "protocol",
            self.protocol.map(|p| Value::from(p.as_str())),
        );
        put(&mut doc, "icon", self.icon.clone().map(Value::from));
        put(&mut doc, "docsUrl", self.docs_url.clone().map(Value::from));
        put(&mut doc, "authKinds", Some(json_of(&self.auth_kinds)));
        put(&mut doc, "configSchema", Some(self.config_schema.0.clone()));
        put(
            &mut doc,
            "credentialSchema",
            Some(self.credential_schema.0.clone()),
        );
        put(
            &mut doc,
            "credentialMapping",
            self.credential_mapping.as_ref().map(|j| j.0.clone()),
        );
        put(
            &mut doc,
            "exampleConfig",
            Some(self.example_config.0.clone()),
        );
        put(
            &mut doc,
            "exampleCredentials",
            self.example_credentials.as_ref().map(|j| j.0.clone()),
        );
        put(
            &mut doc,
            "baseUrl",
            Some(Value::from(self.base_url.clone())),
        );
        put(
            &mut doc,
            "headers",
            self.headers.as_ref().map(|j| j.0.clone()),
        );
        put(&mut doc, "operations", Some(self.operations.0.clone()));
        put(&mut doc, "healthCheck", Some(self.health_check.0.clone()));
        put(
            &mut doc,
            "rateLimit",
            self.rate_limit.as_ref().map(|j| j.0.clone()),
        );
        put(
            &mut doc,
            "oauth2",
            self.oauth2.as_ref().map(|j| j.0.clone()),
        );
        put(
            &mut doc,
            "incomingWebhooks",
            self.incoming_webhooks.as_ref().map(|j| j.0.clone()),
        );
        put(
            &mut doc,
            "webhookEvents",
            self.webhook_events.as_ref().map(json_of),
        );
        Value::Object(doc)
    }
}

impl UpdateTemplateInput {
    /// Whether the input changes anything at all.
    fn is_empty(&self) -> bool {
        matches!(self.document_over(Map::new()), Value::Object(m) if m.is_empty())
    }

    fn document_over(&self, mut doc: Map<String, Value>) -> Value {
        let j = |v: &Option<Json<Value>>| v.as_ref().map(|j| j.0.clone());
        put(
            &mut doc,
            "name",
            self.name.as_deref().map(|n| Value::from(n.trim())),
        );
        put(
            &mut doc,
            "description",
            self.description.clone().map(Value::from),
        );
        put(
            &mut doc,
            "category",
            self.category.map(|c| Value::from(c.as_str())),
        );
        put(
            &mut doc,
            "protocol",
            self.protocol.map(|p| Value::from(p.as_str())),
        );
        put(&mut doc, "icon", self.icon.clone().map(Value::from));
        put(&mut doc, "docsUrl", self.docs_url.clone().map(Value::from));
        put(&mut doc, "authKinds", self.auth_kinds.as_ref().map(json_of));
        put(&mut doc, "configSchema", j(&self.config_schema));
        put(&mut doc, "credentialSchema", j(&self.credential_schema));
        put(&mut doc, "credentialMapping", j(&self.credential_mapping));
        put(&mut doc, "exampleConfig", j(&self.example_config));
        put(&mut doc, "exampleCredentials", j(&self.example_credentials));
        put(&mut doc, "baseUrl", self.base_url.clone().map(Value::from));
        put(&mut doc, "headers", j(&self.headers));
        put(&mut doc, "operations", j(&self.operations));
        put(&mut doc, "healthCheck", j(&self.health_check));
        put(&mut doc, "rateLimit", j(&self.rate_limit));
        put(&mut doc, "oauth2", j(&self.oauth2));
        put(&mut doc, "incomingWebhooks", j(&self.incoming_webhooks));
        put(
            &mut doc,
            "webhookEvents",
            self.webhook_events.as_ref().map(json_of),
        );
        Value::Object(doc)
    }
}

fn check_custom(doc: &Value) -> AppResult<Definition> {
    definition::check(doc, "input", definition::Rules { built_in: false }, None)
        .map_err(AppError::invalid_all)
}

/// The journal of a template change, in its owning project.
fn journal(
    caller: &Caller,
    template: &Template,
    action: &str,
    message: &str,
    event_type: &str,
) -> (Journal, LogEntry) {
    let project = template.project_id.clone().unwrap_or_default();
    let summary = serde_json::json!({
        "id": template.id,
        "slug": template.definition.slug,
        "name": template.definition.name,
        "version": template.version,
        "state": template.state.as_str(),
    });
    let log = LogEntry::new(
        &project,
        None,
        LogLevel::Info,
        message,
        serde_json::json!({ "template": summary, "by": caller.principal.name }),
    );
    let journal = Journal {
        logs: vec![log.to_row()],
        audit: caller.audit(
            action,
            ("template", Some(&template.id)),
            Some(&project),
            serde_json::json!({ "slug": template.definition.slug, "version": template.version }),
        ),
        events: vec![crate::events::outbox::event(
            &project,
            event_type,
            serde_json::json!({ "template": summary }),
        )],
    };
    (journal, log)
}

fn after_commit(app: &App, log: LogEntry) {
    app.events.publish(BusEvent::Log(Box::new(log.to_row())));
    app.workers.wake.dispatcher.notify_one();
}

/// Creates a custom template (EDITOR in its project) as version 1, a DRAFT.
pub async fn create(app: &App, caller: &Caller, input: CreateTemplateInput) -> AppResult<Template> {
    caller.principal.require(Role::Editor)?;
    let project_id = validate::id("input.projectId", &input.project_id, IdKind::Project)?;
    super::projects::get(&app.store, caller, &project_id).await?;
    let definition = check_custom(&input.document())?;
    if catalog::is_builtin_slug(&definition.slug) {
        return Err(AppError::Conflict(format!(
            "`{}` is the slug of a built-in template; choose another",
            definition.slug
        )));
    }
    let at = now().and_utc();
    let template = Template {
        id: new_id(IdKind::Template),
        family_id: new_id(IdKind::TemplateFamily),
        project_id: Some(project_id.clone()),
        version: 1,
        state: TemplateState::Draft,
        is_current: true,
        built_in: false,
        support_level: SupportLevel::Community,
        definition: Arc::new(definition),
        created_by: caller.principal.name.clone(),
        created_at: at,
        updated_at: at,
        published_at: None,
        deprecated_at: None,
    };
    let family = FamilyRow {
        id: template.family_id.clone(),
        owner: project_id.clone(),
        project_id: Some(project_id),
        slug: template.definition.slug.clone(),
        built_in: false,
        shared_with_all: false,
        created_at: at.naive_utc(),
    };
    let (journal, log) = journal(
        caller,
        &template,
        "template.create",
        "template created",
        "template.created",
    );
    match template_store::insert_family(&app.store, &family, &template.to_row(), &journal).await {
        Ok(()) => {}
        Err(StoreError::Conflict(_)) => {
            return Err(AppError::Conflict(format!(
                "a template with the slug `{}` already exists in this project",
                template.definition.slug
            )));
        }
        Err(other) => return Err(other.into()),
    }
    after_commit(app, log);
    Ok(template)
}

/// The custom template `id` the caller may change: visible, not built in, and of a project
/// the caller's token covers.
async fn owned(app: &App, caller: &Caller, id: &str) -> AppResult<Template> {
    caller.principal.require(Role::Editor)?;
    let template = get(&app.store, caller, id).await?;
    if template.built_in {
        return Err(AppError::Forbidden(
            "built-in templates are read-only; create your own template to change one".to_owned(),
        ));
    }
    if !template
        .project_id
        .as_deref()
        .is_some_and(|p| caller.principal.sees_project(p))
    {
        return Err(AppError::Forbidden(
            "only the project that owns a template can change it".to_owned(),
        ));
    }
    Ok(template)
}

/// Changes a DRAFT in place, or makes the next version (a DRAFT) from a published one.
pub async fn update(app: &App, caller: &Caller, input: UpdateTemplateInput) -> AppResult<Template> {
    let current = owned(app, caller, &input.id).await?;
    if input.is_empty() {
        return Ok(current);
    }
    let base = match serde_json::to_value(&*current.definition) {
        Ok(Value::Object(map)) => map,
        _ => {
            return Err(AppError::internal(anyhow::anyhow!(
                "stored template is not an object"
            )));
        }
    };
    let definition = Arc::new(check_custom(&input.document_over(base))?);
    let at = now().and_utc();
    if current.state == TemplateState::Draft {
        let mut next = current.clone();
        next.definition = definition;
        next.updated_at = at;
        let (journal, log) = journal(
            caller,
            &next,
            "template.update",
            "template updated",
            "template.updated",
        );
        if !template_store::update_draft(
            &app.store,
            &next.to_row(),
            current.updated_at.naive_utc(),
            &journal,
        )
        .await?
        {
            return Err(AppError::Conflict(
                "the template was published or changed meanwhile; read it again".to_owned(),
            ));
        }
        after_commit(app, log);
        return Ok(next);
    }
    let versions = template_store::versions(&app.store, &current.family_id).await?;
    if let Some(draft) = versions
        .iter()
        .find(|v| v.state == TemplateState::Draft.as_str())
    {
        return Err(AppError::Conflict(format!(
            "version {} of this template is a draft already ({}); update that one",
            draft.version, draft.id
        )));
    }
    let version = versions
        .iter()
        .map(|v| v.version)
        .max()
        .unwrap_or(current.version)
        + 1;
    let next = Template {
        id: new_id(IdKind::Template),
        version,
        state: TemplateState::Draft,
        is_current: false,
        definition,
        created_by: caller.principal.name.clone(),
        created_at: at,
        updated_at: at,
        published_at: None,
        deprecated_at: None,
        ..current
    };
    let (journal, log) = journal(
        caller,
        &next,
        "template.update",
        "template version drafted",
        "template.updated",
    );
    match template_store::insert_version(&app.store, &next.to_row(), &journal).await {
        Ok(()) => {}
        Err(StoreError::Conflict(_)) => {
            return Err(AppError::Conflict(
                "another version was drafted meanwhile; read the template again".to_owned(),
            ));
        }
        Err(other) => return Err(other.into()),
    }
    after_commit(app, log);
    Ok(next)
}

/// DRAFT → PUBLISHED (immutable from now on; it becomes the template's current version).
pub async fn publish(app: &App, caller: &Caller, id: &str) -> AppResult<Template> {
    let current = owned(app, caller, id).await?;
    if current.state != TemplateState::Draft {
        return Err(AppError::Conflict(format!(
            "version {} is {}; only a DRAFT can be published",
            current.version,
            current.state.as_str()
        )));
    }
    let at = now().and_utc();
    let mut next = current.clone();
    next.state = TemplateState::Published;
    next.is_current = true;
    next.published_at = Some(at);
    next.updated_at = at;
    let (journal, log) = journal(
        caller,
        &next,
        "template.publish",
        "template published",
        "template.published",
    );
    if !template_store::publish(
        &app.store,
        &next.id,
        &next.family_id,
        at.naive_utc(),
        &journal,
    )
    .await?
    {
        return Err(AppError::Conflict(
            "the template is no longer a draft".to_owned(),
        ));
    }
    after_commit(app, log);
    Ok(next)
}

/// PUBLISHED → DEPRECATED: integrations pinned to it keep working; no new deployments.
pub async fn deprecate(app: &App, caller: &Caller, id: &str) -> AppResult<Template> {
    let current = owned(app, caller, id).await?;
    if current.state != TemplateState::Published {
        return Err(AppError::Conflict(format!(
            "version {} is {}; only a PUBLISHED version can be deprecated",
            current.version,
            current.state.as_str()
        )));
    }
    let at = now().and_utc();
    let mut next = current.clone();
    next.state = TemplateState::Deprecated;
    next.deprecated_at = Some(at);
    next.updated_at = at;
    let (journal, log) = journal(
        caller,
        &next,
        "template.deprecate",
        "template deprecated",
        "template.deprecated",
    );
    if !template_store::deprecate(&app.store, &next.id, at.naive_utc(), &journal).await? {
        return Err(AppError::Conflict(
            "the template is no longer published".to_owned(),
        ));
    }
    after_commit(app, log);
    Ok(next)
}

/// Replaces who a custom template is shared with (EDITOR in its project). Each project
/// named must be one the caller sees.
pub async fn share(app: &App, caller: &Caller, input: ShareTemplateInput) -> AppResult<Template> {
    let template = owned(app, caller, &input.template_id).await?;
    let all = input.all_projects.unwrap_or(false);
    let mut projects: Vec<String> = Vec::new();
    for (i, id) in input.project_ids.unwrap_or_default().iter().enumerate() {
        let field = format!("input.projectIds[{i}]");
        let id = validate::id(&field, id, IdKind::Project)?;
        super::projects::get(&app.store, caller, &id).await?;
        if Some(&id) != template.project_id.as_ref() && !projects.contains(&id) {
            projects.push(id);
        }
    }
    let (journal, log) = journal(
        caller,
        &template,
        "template.share",
        "template sharing changed",
        "template.shared",
    );
    let mut journal = journal;
    journal.audit.details = serde_json::json!({
        "slug": template.definition.slug, "allProjects": all, "projectIds": projects,
    })
    .to_string();
    template_store::set_sharing(&app.store, &template.family_id, all, &projects, &journal).await?;
    after_commit(app, log);
    Ok(template)
}

/// The family's newest published version (what `upgradeIntegration` moves to).
pub(crate) async fn latest_published(
    store: &Store,
    family_id: &str,
) -> AppResult<Option<Template>> {
    Ok(template_store::latest_published(store, family_id)
        .await?
        .map(Template::from_row)
        .transpose()?)
}
