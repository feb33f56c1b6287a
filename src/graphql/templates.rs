//! Integration templates in the API: the catalog (built-in and custom), their lifecycle,
//! sharing, deploying one as an integration and upgrading integrations to a newer version.

use async_graphql::dataloader::DataLoader;
use async_graphql::{Context, ID, Json, Object, SimpleObject};
use chrono::{DateTime, Utc};
use futures_util::FutureExt;
use serde_json::Value;

use super::connection::{ConnectionNode, IdConnection, PageArgs, connection};
use super::errors::ApiResult;
use super::integrations::{Integration, IntegrationPayload};
use super::loaders::ProjectLoader;
use super::projects::Project;
use super::{app, caller};
use crate::domain::templates::definition::{
    HealthCheckDef, IncomingWebhooksDef, OAuth2Def, OperationDef, RateLimitHint,
};
use crate::domain::templates::deploy::{self, DeployTemplateInput, UpgradeIntegrationInput};
use crate::domain::templates::{
    self as domain, CreateTemplateInput, ShareTemplateInput, SupportLevel, TemplateAuthKind,
    TemplateFilter, TemplateState, UpdateTemplateInput,
};
use crate::domain::{Category, Protocol};
use crate::error::AppError;
use crate::ids::IdKind;

/// What a kind of integration is: its settings and credentials (JSON Schemas), where it
/// calls, the operations it offers by name, its health check. One object per version.
pub struct Template(pub domain::Template);

impl ConnectionNode for Template {
    const IMMEDIATE_FIELDS: &'static [&'static str] = &[
        "id",
        "slug",
        "name",
        "description",
        "category",
        "protocol",
        "icon",
        "docsUrl",
        "version",
        "state",
        "current",
        "supportLevel",
        "builtIn",
        "authKinds",
        "configSchema",
        "credentialSchema",
        "credentialMapping",
        "exampleConfig",
        "baseUrl",
        "headers",
        "operations",
        "healthCheck",
        "rateLimit",
        "oauth2",
        "incomingWebhooks",
        "webhookEvents",
    ];
}

#[Object]
impl Template {
    pub async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    /// Unique among built-ins, and within a project for custom templates.
    async fn slug(&self) -> &str {
        &self.0.definition.slug
    }
    async fn name(&self) -> &str {
        &self.0.definition.name
    }
    async fn description(&self) -> Option<&str> {
        self.0.definition.description.as_deref()
    }
    async fn category(&self) -> Category {
        self.0.definition.category
    }
    async fn protocol(&self) -> Protocol {
        self.0.definition.protocol
    }
    /// An emoji or an https URL.
    async fn icon(&self) -> Option<&str> {
        self.0.definition.icon.as_deref()
    }
    /// The provider's API reference.
    async fn docs_url(&self) -> Option<&str> {
        self.0.definition.docs_url.as_deref()
    }
    /// This version's number (1, 2, …) within the template.
    async fn version(&self) -> i32 {
        self.0.version
    }
    async fn state(&self) -> TemplateState {
        self.0.state
    }
    /// Whether this is the version listings show (the newest published one).
    async fn current(&self) -> bool {
        self.0.is_current
    }
    async fn support_level(&self) -> SupportLevel {
        self.0.support_level
    }
    /// Shipped with patchbay (read-only, visible to every project).
    async fn built_in(&self) -> bool {
        self.0.built_in
    }
    /// The project that owns a custom template (null for built-ins).
    async fn project(&self, ctx: &Context<'_>) -> ApiResult<Option<Project>> {
        let Some(project_id) = &self.0.project_id else {
            return Ok(None);
        };
        if !caller(ctx)?.principal.sees_project(project_id) {
            return Ok(None);
        }
        let loader = ctx.data_unchecked::<DataLoader<ProjectLoader>>();
        Ok(loader.load_one(project_id.clone()).await?.map(Project))
    }
    /// Supported auth kinds; the first is the default (the one credentialSchema describes).
    async fn auth_kinds(&self) -> &[TemplateAuthKind] {
        &self.0.definition.auth_kinds
    }
    /// JSON Schema 2020-12 of the integration's `config`.
    async fn config_schema(&self) -> Json<&Value> {
        Json(&self.0.definition.config_schema)
    }
    /// JSON Schema 2020-12 of the `credentials` given when deploying.
    async fn credential_schema(&self) -> Json<&Value> {
        Json(&self.0.definition.credential_schema)
    }
    /// How credential fields become patchbay credentials (placeholders, never values).
    async fn credential_mapping(&self) -> Option<Json<&serde_json::Map<String, Value>>> {
        self.0.definition.credential_mapping.as_ref().map(Json)
    }
    /// A config that validates against configSchema.
    async fn example_config(&self) -> Json<&Value> {
        Json(&self.0.definition.example_config)
    }
    /// Base URL pattern, e.g. `https://{{config.site}}.atlassian.net`.
    async fn base_url(&self) -> &str {
        &self.0.definition.base_url
    }
    /// Headers sent with every call (a JSON object; values may use `{{config.<key>}}`).
    async fn headers(&self) -> Json<&std::collections::BTreeMap<String, String>> {
        Json(&self.0.definition.headers)
    }
    /// Calls the template offers by name (`executeRequest(input: { operation, params })`).
    async fn operations(&self) -> &[OperationDef] {
        &self.0.definition.operations
    }
    /// The operation health checks call, and the statuses that pass.
    async fn health_check(&self) -> &HealthCheckDef {
        &self.0.definition.health_check
    }
    /// Pacing hints from the provider's documentation.
    async fn rate_limit(&self) -> Option<&RateLimitHint> {
        self.0.definition.rate_limit.as_ref()
    }
    /// OAuth2 authorize and token URLs and default scopes.
    async fn oauth2(&self) -> Option<&OAuth2Def> {
        self.0.definition.oauth2.as_ref()
    }
    /// How the provider's webhooks are verified and where their event name is.
    async fn incoming_webhooks(&self) -> Option<&IncomingWebhooksDef> {
        self.0.definition.incoming_webhooks.as_ref()
    }
    /// Event names the provider sends (they arrive as `incoming.<integration>.<event>`).
    async fn webhook_events(&self) -> &[String] {
        self.0
            .definition
            .webhook_events
            .as_deref()
            .unwrap_or_default()
    }
    /// Integrations (that the caller sees) made from any version of this template.
    async fn usage_count(&self, ctx: &Context<'_>) -> ApiResult<i64> {
        Ok(domain::usage_count(&app(ctx).store, caller(ctx)?, &self.0).await?)
    }
    /// Those integrations, oldest first.
    #[graphql(complexity = "first.unwrap_or(50).clamp(0, 500) as usize * child_complexity + 1")]
    async fn integrations(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<IdConnection<Integration>> {
        let request = PageArgs::forward(first, after).request(ctx, IdKind::Integration)?;
        let page = crate::domain::integrations::list_of_template(
            &app(ctx).store,
            caller(ctx)?,
            &self.0.family_id,
            &request,
        )
        .await?;
        Ok(connection(page, &request, |i| i.id.clone(), Integration))
    }
    /// Every version of this template the caller sees, oldest first.
    async fn versions(&self, ctx: &Context<'_>) -> ApiResult<Vec<Template>> {
        let versions = domain::versions(&app(ctx).store, caller(ctx)?, &self.0).await?;
        Ok(versions.into_iter().map(Template).collect())
    }
    /// Who a custom template is shared with (null for built-ins and outside its project).
    async fn sharing(&self, ctx: &Context<'_>) -> ApiResult<Option<TemplateSharing>> {
        let sharing = domain::sharing(&app(ctx).store, caller(ctx)?, &self.0).await?;
        Ok(sharing.map(|s| TemplateSharing {
            all_projects: s.all_projects,
            project_ids: s.project_ids.into_iter().map(ID).collect(),
        }))
    }
    /// Name of the token that created this version.
    async fn created_by(&self) -> &str {
        &self.0.created_by
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    async fn published_at(&self) -> Option<DateTime<Utc>> {
        self.0.published_at
    }
    async fn deprecated_at(&self) -> Option<DateTime<Utc>> {
        self.0.deprecated_at
    }
}

/// Who may see and deploy a custom template besides its own project.
#[derive(SimpleObject)]
pub struct TemplateSharing {
    /// Every project, present and future.
    pub all_projects: bool,
    /// The projects it is shared with (those the caller sees).
    pub project_ids: Vec<ID>,
}

/// Loads a template the caller may see (for `node(id:)`).
pub(crate) async fn get(ctx: &Context<'_>, id: &str) -> ApiResult<Template> {
    Ok(Template(
        domain::get(&app(ctx).store, caller(ctx)?, id).await?,
    ))
}

#[derive(Default)]
pub struct TemplateQuery;

#[Object]
impl TemplateQuery {
    /// Templates the caller may see: built-ins, its projects' own, and those shared with
    /// them; each template's current version unless `filter.allVersions`.
    #[graphql(
        complexity = "first.or(last).unwrap_or(50).clamp(0, 500) as usize * child_complexity + 1"
    )]
    async fn templates(
        &self,
        ctx: &Context<'_>,
        filter: Option<TemplateFilter>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> ApiResult<IdConnection<Template>> {
        let request = PageArgs {
            first,
            after,
            last,
            before,
        }
        .request(ctx, IdKind::Template)?;
        let page = domain::list(
            &app(ctx).store,
            caller(ctx)?,
            filter.unwrap_or_default(),
            &request,
        )
        .await?;
        Ok(connection(page, &request, |t| t.id.clone(), Template))
    }

    /// One template version by ID, or the current version of a slug (`projectId` picks
    /// among custom templates of several projects); NOT_FOUND when not visible.
    async fn template(
        &self,
        ctx: &Context<'_>,
        id: Option<ID>,
        slug: Option<String>,
        project_id: Option<ID>,
    ) -> ApiResult<Option<Template>> {
        let store = &app(ctx).store;
        let caller = caller(ctx)?;
        let template = match (id, slug) {
            (Some(id), None) => domain::get(store, caller, &id).await?,
            (None, Some(slug)) => {
                domain::by_slug(
                    store,
                    caller,
                    &slug,
                    project_id.as_ref().map(|p| p.as_str()),
                )
                .await?
            }
            _ => return Err(AppError::invalid("id", "give either id or slug").into()),
        };
        Ok(Some(Template(template)))
    }
}

/// Result of the mutations that return a template.
#[derive(SimpleObject)]
pub struct TemplatePayload {
    pub template: Template,
}

#[derive(Default)]
pub struct TemplateMutation;

#[Object]
impl TemplateMutation {
    /// Creates a custom template in a project (EDITOR) as version 1, a DRAFT. Every problem
    /// comes back with its path (`extensions.field`, `extensions.problems`); nothing is
    /// written then.
    async fn create_template(
        &self,
        ctx: &Context<'_>,
        input: CreateTemplateInput,
    ) -> ApiResult<TemplatePayload> {
        let template = domain::create(app(ctx), caller(ctx)?, input)
            .boxed()
            .await?;
        Ok(TemplatePayload {
            template: Template(template),
        })
    }

    /// Changes a template (EDITOR in its project): a DRAFT in place; a PUBLISHED or
    /// DEPRECATED version is immutable, so the change becomes the next version, a DRAFT.
    async fn update_template(
        &self,
        ctx: &Context<'_>,
        input: UpdateTemplateInput,
    ) -> ApiResult<TemplatePayload> {
        let template = domain::update(app(ctx), caller(ctx)?, input)
            .boxed()
            .await?;
        Ok(TemplatePayload {
            template: Template(template),
        })
    }

    /// Publishes a DRAFT version: immutable from now on, deployable, the current version.
    async fn publish_template(&self, ctx: &Context<'_>, id: ID) -> ApiResult<TemplatePayload> {
        let template = domain::publish(app(ctx), caller(ctx)?, &id).await?;
        Ok(TemplatePayload {
            template: Template(template),
        })
    }

    /// Deprecates a PUBLISHED version: integrations on it keep working, no new deployments.
    async fn deprecate_template(&self, ctx: &Context<'_>, id: ID) -> ApiResult<TemplatePayload> {
        let template = domain::deprecate(app(ctx), caller(ctx)?, &id).await?;
        Ok(TemplatePayload {
            template: Template(template),
        })
    }

    /// Replaces who a custom template is shared with (EDITOR in its project).
    async fn share_template(
        &self,
        ctx: &Context<'_>,
        input: ShareTemplateInput,
    ) -> ApiResult<TemplatePayload> {
        let template = domain::share(app(ctx), caller(ctx)?, input).await?;
        Ok(TemplatePayload {
            template: Template(template),
        })
    }

    /// Makes an integration from a published template version (EDITOR): config and
    /// credentials are checked against its schemas (every problem with its path, nothing
    /// written on failure); `testConnection` refuses to save when the health check fails.
    async fn deploy_template(
        &self,
        ctx: &Context<'_>,
        input: DeployTemplateInput,
    ) -> ApiResult<IntegrationPayload> {
        let integration = deploy::deploy(app(ctx), caller(ctx)?, input)
            .boxed()
            .await?;
        Ok(IntegrationPayload {
            integration: Integration(integration),
        })
    }

    /// Moves an integration to another version of its template (default: the newest
    /// published), checking its config against that version and deriving its settings again.
    async fn upgrade_integration(
        &self,
        ctx: &Context<'_>,
        input: UpgradeIntegrationInput,
    ) -> ApiResult<IntegrationPayload> {
        let integration = deploy::upgrade(app(ctx), caller(ctx)?, input)
            .boxed()
            .await?;
        Ok(IntegrationPayload {
            integration: Integration(integration),
        })
    }
}
