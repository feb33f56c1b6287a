//! Integrations in the API.

use async_graphql::dataloader::DataLoader;
use async_graphql::{Context, ID, Json, Object, SimpleObject};
use chrono::{DateTime, Utc};
use futures_util::FutureExt;

use super::compiled::{PlainField, PlainObject};
use super::connection::{ConnectionNode, IdConnection, PageArgs, connection};
use super::errors::ApiResult;
use super::loaders::{ProjectLoader, TemplateLoader};
use super::logs::{LogEntry, log_connection};
use super::projects::Project;
use super::{app, caller};
use crate::app::App;
use crate::domain::access::Caller;
use crate::domain::call_options::{ConnectionCheck, ErrorRule, Transforms};
use crate::domain::executions::{ExecutionSelection, Metrics, TimeWindow};
use crate::domain::integrations::{
    self as domain, CachePolicy, CreateIntegrationInput, IntegrationFilter, RateLimit, RetryPolicy,
    UpdateIntegrationInput,
};
use crate::domain::logs::{LogLevel, LogSelection};
use crate::domain::{AuthKind, Category, IntegrationStatus, Protocol};
use crate::error::{AppError, AppResult};
use crate::ids::IdKind;
use crate::outbound::guard::CircuitState;

/// A registered outside tool: where it is, how to call it, and what happened to it.
pub struct Integration(pub domain::Integration);

impl ConnectionNode for Integration {
    const IMMEDIATE_FIELDS: &'static [&'static str] = &[
        "id",
        "name",
        "description",
        "category",
        "protocol",
        "status",
        "enabled",
        "tags",
        "baseUrl",
        "config",
        "headers",
        "authKind",
        "timeoutMs",
        "retryPolicy",
        "rateLimit",
        "cache",
        "transforms",
        "errorRules",
        "connectionCheck",
        "healthCheck",
        "allowAbsoluteUrls",
        "circuitState",
        "createdBy",
        "version",
        "createdAt",
        "updatedAt",
    ];
}

impl PlainObject for Integration {
    const PLAIN_FIELDS: &'static [(&'static str, PlainField<Self>)] = &[
        ("id", |i, out| out.str(&i.0.id)),
        ("name", |i, out| out.str(&i.0.name)),
        ("description", |i, out| {
            out.opt_str(i.0.description.as_deref())
        }),
        ("category", |i, out| out.enum_item(i.0.category)),
        ("protocol", |i, out| out.enum_item(i.0.protocol)),
        ("status", |i, out| out.enum_item(i.0.status)),
        ("enabled", |i, out| out.bool(i.0.enabled)),
        ("tags", |i, out| out.strs(&i.0.tags)),
        ("baseUrl", |i, out| out.opt_str(i.0.base_url.as_deref())),
        ("authKind", |i, out| out.enum_item(i.0.auth_kind)),
        ("timeoutMs", |i, out| out.int(i.0.timeout_ms)),
        ("allowAbsoluteUrls", |i, out| {
            out.bool(i.0.call_options.allow_absolute_urls)
        }),
        ("createdBy", |i, out| out.str(&i.0.created_by)),
        ("version", |i, out| out.int(i.0.version)),
        ("createdAt", |i, out| out.scalar(&i.0.created_at)),
        ("updatedAt", |i, out| out.scalar(&i.0.updated_at)),
    ];
}

/// The `integrations` root field's page: its resolver's work, shared with compiled
/// answers (`graphql::compiled`) so that both read the same rows the same way.
pub(super) async fn integrations_page(
    app: &App,
    caller: &Caller,
    project_id: Option<&str>,
    filter: IntegrationFilter,
    args: &PageArgs,
    count_total: bool,
) -> AppResult<IdConnection<Integration>> {
    let request = args.request_counting(IdKind::Integration, count_total)?;
    let page = domain::list(&app.store, caller, project_id, filter, &request).await?;
    Ok(connection(page, &request, |i| i.id.clone(), Integration))
}

/// `Integration.kind` of an integration configured by hand (made from no template).
const CUSTOM_KIND: &str = "custom";

impl Integration {
    /// The template version it was made from, batched over the page by the loader.
    async fn made_from(
        &self,
        ctx: &Context<'_>,
    ) -> ApiResult<Option<crate::domain::templates::Template>> {
        let Some(id) = self.0.template_id.clone() else {
            return Ok(None);
        };
        let loader = ctx.data_unchecked::<DataLoader<TemplateLoader>>();
        async move { Ok(loader.load_one(id).await?) }.boxed().await
    }
}

// Fields that wait on the store or a loader run boxed (`.boxed()`): async-graphql inlines
// every field's future into one `resolve_field` state machine and allocates and copies that
// machine for each field it resolves, so unboxed store work (diesel, deadpool, loader
// state) made each `id` or `name` of a 50-row page cost a large allocation and copy.
#[Object]
impl Integration {
    pub async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    /// The project the integration belongs to.
    async fn project(&self, ctx: &Context<'_>) -> ApiResult<Project> {
        async move {
            let loader = ctx.data_unchecked::<DataLoader<ProjectLoader>>();
            let project = loader
                .load_one(self.0.project_id.clone())
                .await?
                .ok_or_else(|| {
                    AppError::internal(anyhow::anyhow!("integration without its project"))
                })?;
            Ok(Project(project))
        }
        .boxed()
        .await
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    async fn category(&self) -> Category {
        self.0.category
    }
    /// What kind of integration it is: the slug of the template it was made from (`jira`,
    /// `slack`, …), or `custom` when configured by hand.
    async fn kind(&self, ctx: &Context<'_>) -> ApiResult<String> {
        Ok(self
            .made_from(ctx)
            .await?
            .map_or_else(|| CUSTOM_KIND.to_owned(), |t| t.definition.slug.clone()))
    }
    async fn protocol(&self) -> Protocol {
        self.0.protocol
    }
    async fn status(&self) -> IntegrationStatus {
        self.0.status
    }
    /// Calls go through only while enabled.
    async fn enabled(&self) -> bool {
        self.0.enabled
    }
    async fn tags(&self) -> &[String] {
        &self.0.tags
    }
    async fn base_url(&self) -> Option<&str> {
        self.0.base_url.as_deref()
    }
    /// Free-form settings (a JSON object).
    async fn config(&self) -> Json<&serde_json::Map<String, serde_json::Value>> {
        Json(&self.0.config)
    }
    /// Extra headers sent with every call (a JSON object of strings).
    async fn headers(&self) -> Json<&std::collections::BTreeMap<String, String>> {
        Json(&self.0.headers)
    }
    /// How patchbay authenticates to the service (credentials are set with setCredentials).
    async fn auth_kind(&self) -> AuthKind {
        self.0.auth_kind
    }
    /// Which credentials are stored (never their values); null without credentials.
    async fn credentials(
        &self,
        ctx: &Context<'_>,
    ) -> ApiResult<Option<super::credentials::CredentialsInfo>> {
        async move {
            let loader = ctx.data_unchecked::<DataLoader<super::loaders::CredentialsLoader>>();
            Ok(loader.load_one(self.0.id.clone()).await?.map(Into::into))
        }
        .boxed()
        .await
    }
    /// Total time limit of one call, in milliseconds.
    async fn timeout_ms(&self) -> i32 {
        self.0.timeout_ms
    }
    async fn retry_policy(&self) -> &RetryPolicy {
        &self.0.retry_policy
    }
    async fn rate_limit(&self) -> Option<&RateLimit> {
        self.0.rate_limit.as_ref()
    }
    async fn cache(&self) -> &CachePolicy {
        &self.0.cache
    }
    /// JMESPath transforms of JSON request and response bodies.
    async fn transforms(&self) -> &Transforms {
        &self.0.call_options.transforms
    }
    /// Rules that turn upstream answers into failures of a chosen class.
    async fn error_rules(&self) -> &[ErrorRule] {
        &self.0.call_options.error_rules
    }
    /// What `testConnection` sends (null: GET / expecting 2xx).
    async fn connection_check(&self) -> Option<&ConnectionCheck> {
        self.0.call_options.connection_check.as_ref()
    }
    /// How `/hooks/{id}` verifies this integration's incoming webhooks (null: not set).
    async fn incoming_webhook(
        &self,
        ctx: &Context<'_>,
    ) -> ApiResult<Option<crate::domain::incoming::IncomingWebhook>> {
        async move {
            Ok(crate::domain::incoming::get(&app(ctx).store, caller(ctx)?, &self.0).await?)
        }
        .boxed()
        .await
    }
    /// How the integration is doing (status, uptime, latency, error rate, history).
    async fn health(&self, ctx: &Context<'_>) -> ApiResult<super::health::Health<'_>> {
        super::health::health_of(ctx, &self.0).boxed().await
    }
    /// Is it ready for production? A scored checklist, each check with its detail.
    async fn readiness(&self, ctx: &Context<'_>) -> ApiResult<crate::domain::readiness::Readiness> {
        async move {
            Ok(crate::domain::readiness::of(&app(ctx).store, caller(ctx)?, &self.0).await?)
        }
        .boxed()
        .await
    }
    /// The scheduled health check (null: health comes from real calls only).
    async fn health_check(&self) -> Option<&crate::domain::health::HealthCheck> {
        self.0.call_options.health_check.as_ref()
    }
    /// Alerts about this integration, oldest first.
    #[graphql(complexity = "first.unwrap_or(50).clamp(0, 500) as usize * child_complexity + 1")]
    async fn alerts(
        &self,
        ctx: &Context<'_>,
        state: Option<crate::domain::alerts::AlertState>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<IdConnection<super::alerts::Alert>> {
        async move {
            super::alerts::integration_alerts(ctx, &self.0, state, PageArgs::forward(first, after))
                .await
        }
        .boxed()
        .await
    }
    /// Its sync definitions, oldest first.
    async fn syncs(&self, ctx: &Context<'_>) -> ApiResult<Vec<super::syncs::SyncObject>> {
        async move { super::syncs::syncs_of(ctx, &self.0).await }
            .boxed()
            .await
    }
    /// Records its syncs keep, in the order they were first seen. `changedSince` lists
    /// records created, changed or deleted after that moment (deleted ones included, with
    /// `deletedAt`); without it deleted records are left out unless `includeDeleted`.
    #[graphql(complexity = "first.unwrap_or(50).clamp(0, 500) as usize * child_complexity + 1")]
    async fn records(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        changed_since: Option<DateTime<Utc>>,
        sync_id: Option<ID>,
        include_deleted: Option<bool>,
    ) -> ApiResult<IdConnection<super::syncs::SyncRecord>> {
        async move {
            let filter = crate::domain::sync::RecordFilter {
                sync_id: sync_id.map(|id| id.0),
                changed_since,
                include_deleted: include_deleted.unwrap_or(false),
            };
            super::syncs::records_of(ctx, &self.0, filter, PageArgs::forward(first, after)).await
        }
        .boxed()
        .await
    }
    /// Whether `executeRequest` may call absolute URLs.
    async fn allow_absolute_urls(&self) -> bool {
        self.0.call_options.allow_absolute_urls
    }
    /// The circuit breaker's state in this server process.
    async fn circuit_state(&self, ctx: &Context<'_>) -> CircuitState {
        app(ctx).outbound.circuit_state(&self.0.id)
    }
    /// Call metrics over a window (default: the last day).
    async fn metrics(&self, ctx: &Context<'_>, window: Option<TimeWindow>) -> ApiResult<Metrics> {
        async move {
            let window = window.unwrap_or_default();
            Ok(
                crate::domain::executions::metrics(&app(ctx).store, caller(ctx)?, &self.0, window)
                    .await?,
            )
        }
        .boxed()
        .await
    }
    /// Recorded calls, oldest first; `success` filters by outcome.
    #[graphql(complexity = "first.unwrap_or(50).clamp(0, 500) as usize * child_complexity + 1")]
    async fn executions(
        &self,
        ctx: &Context<'_>,
        success: Option<bool>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<IdConnection<super::executions::Execution>> {
        async move {
            let selection = ExecutionSelection::of_integration(caller(ctx)?, &self.0, success)?;
            super::executions::execution_connection(
                ctx,
                &selection,
                PageArgs::forward(first, after),
            )
            .await
        }
        .boxed()
        .await
    }
    /// The template version it was made from (null: configured by hand).
    async fn template(&self, ctx: &Context<'_>) -> ApiResult<Option<super::templates::Template>> {
        Ok(self.made_from(ctx).await?.map(super::templates::Template))
    }
    /// Name of the token that created it.
    async fn created_by(&self) -> &str {
        &self.0.created_by
    }
    /// Increases with every change; pass it as `expectedVersion` to update safely.
    async fn version(&self) -> i32 {
        self.0.version
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }

    /// The integration's log entries, oldest first.
    #[graphql(complexity = "first.unwrap_or(50).clamp(0, 500) as usize * child_complexity + 1")]
    async fn logs(
        &self,
        ctx: &Context<'_>,
        min_level: Option<LogLevel>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<IdConnection<LogEntry>> {
        async move {
            let selection = LogSelection::of_integration(caller(ctx)?, &self.0, min_level)?;
            log_connection(ctx, &selection, PageArgs::forward(first, after)).await
        }
        .boxed()
        .await
    }
}

#[derive(Default)]
pub struct IntegrationQuery;

#[expect(
    clippy::too_many_arguments,
    reason = "GraphQL field arguments are flat by contract"
)]
#[Object]
impl IntegrationQuery {
    /// Integrations the caller can see, optionally of one project, filtered.
    #[graphql(
        complexity = "first.or(last).unwrap_or(50).clamp(0, 500) as usize * child_complexity + 1"
    )]
    async fn integrations(
        &self,
        ctx: &Context<'_>,
        project_id: Option<ID>,
        filter: Option<IntegrationFilter>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> ApiResult<IdConnection<Integration>> {
        let args = PageArgs {
            first,
            after,
            last,
            before,
        };
        let counts_total = ctx.look_ahead().field("totalCount").exists();
        Ok(integrations_page(
            app(ctx),
            caller(ctx)?,
            project_id.as_ref().map(|id| id.as_str()),
            filter.unwrap_or_default(),
            &args,
            counts_total,
        )
        .await?)
    }

    /// One integration; NOT_FOUND when unknown or not visible to the caller.
    async fn integration(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Option<Integration>> {
        let integration = domain::get(&app(ctx).store, caller(ctx)?, &id).await?;
        Ok(Some(Integration(integration)))
    }
}

/// Result of the mutations that return an integration.
#[derive(SimpleObject)]
pub struct IntegrationPayload {
    pub integration: Integration,
}

/// Result of a delete.
#[derive(SimpleObject)]
pub struct DeletePayload {
    /// The ID of what was deleted.
    pub deleted_id: ID,
}

#[derive(Default)]
pub struct IntegrationMutation;

#[Object]
impl IntegrationMutation {
    /// Registers an integration in a project (EDITOR).
    async fn create_integration(
        &self,
        ctx: &Context<'_>,
        input: CreateIntegrationInput,
    ) -> ApiResult<IntegrationPayload> {
        let integration = domain::create(app(ctx), caller(ctx)?, input)
            .boxed()
            .await?;
        Ok(IntegrationPayload {
            integration: Integration(integration),
        })
    }

    /// Changes some fields of an integration (EDITOR); omitted fields stay as they are.
    async fn update_integration(
        &self,
        ctx: &Context<'_>,
        input: UpdateIntegrationInput,
    ) -> ApiResult<IntegrationPayload> {
        let integration = domain::update(app(ctx), caller(ctx)?, input)
            .boxed()
            .await?;
        Ok(IntegrationPayload {
            integration: Integration(integration),
        })
    }

    /// Deletes an integration (EDITOR).
    async fn delete_integration(&self, ctx: &Context<'_>, id: ID) -> ApiResult<DeletePayload> {
        let deleted = domain::delete(app(ctx), caller(ctx)?, &id).await?;
        Ok(DeletePayload {
            deleted_id: ID(deleted.id),
        })
    }

    /// Turns calls through an integration on or off (EDITOR).
    async fn set_integration_enabled(
        &self,
        ctx: &Context<'_>,
        id: ID,
        enabled: bool,
    ) -> ApiResult<IntegrationPayload> {
        let integration = domain::set_enabled(app(ctx), caller(ctx)?, &id, enabled)
            .boxed()
            .await?;
        Ok(IntegrationPayload {
            integration: Integration(integration),
        })
    }
}
