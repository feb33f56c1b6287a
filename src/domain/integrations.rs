//! Integrations: a connection to one outside tool, with its call settings.

use std::collections::BTreeMap;

use async_graphql::{InputObject, MaybeUndefined};
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::access::{Caller, Role};
use super::call_options::{self, CallOptions, ConnectionCheck, ErrorRule, Transforms};
use super::logs::{LogEntry, LogLevel};
use super::{AuthKind, Category, IntegrationStatus, Protocol, utc, validate};
use crate::app::App;
use crate::error::{AppError, AppResult};
use crate::events::BusEvent;
use crate::ids::{IdKind, new_id};
use crate::store::integrations::{self as integration_store, IntegrationQuery, IntegrationRow};
use crate::store::{
    Journal, Page, PageRequest, Store, StoreError, StoreResult, decode_json, now, projects,
};

pub use crate::outbound::policy::{CachePolicy, RateLimit, RetryPolicy};

const DEFAULT_TIMEOUT_MS: i32 = 30_000;

/// Retry settings; omitted fields keep their current (or default) value.
#[derive(Debug, Clone, InputObject)]
pub struct RetryPolicyInput {
    pub max_retries: Option<i32>,
    pub base_delay_ms: Option<i32>,
    pub max_delay_ms: Option<i32>,
}

/// Rate limit settings; `burst` defaults to a tenth of the per-minute rate (at least 1).
#[derive(Debug, Clone, InputObject)]
pub struct RateLimitInput {
    pub requests_per_minute: i32,
    pub burst: Option<i32>,
}

/// Cache settings; omitted fields keep their current (or default) value.
#[derive(Debug, Clone, InputObject)]
pub struct CachePolicyInput {
    pub enabled: Option<bool>,
    pub ttl_seconds: Option<i32>,
}

/// An integration as the domain sees it (JSON columns decoded, enums typed).
#[derive(Debug, Clone)]
pub struct Integration {
    pub id: String,
    pub project_id: String,
    pub name: String,
    pub description: Option<String>,
    pub category: Category,
    pub protocol: Protocol,
    pub status: IntegrationStatus,
    pub enabled: bool,
    pub auth_kind: AuthKind,
    pub tags: Vec<String>,
    pub base_url: Option<String>,
    pub config: serde_json::Map<String, serde_json::Value>,
    pub headers: BTreeMap<String, String>,
    pub timeout_ms: i32,
    pub retry_policy: RetryPolicy,
    pub rate_limit: Option<RateLimit>,
    pub cache: CachePolicy,
    pub call_options: CallOptions,
    /// The template version it was made from (`None`: configured by hand).
    pub template_id: Option<String>,
    pub created_by: String,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Integration {
    fn from_row(row: IntegrationRow) -> StoreResult<Self> {
        Ok(Integration {
            category: Category::from_stored("integrations.category", &row.category)?,
            protocol: Protocol::from_stored("integrations.protocol", &row.protocol)?,
            status: IntegrationStatus::from_stored("integrations.status", &row.status)?,
            auth_kind: AuthKind::from_stored("integrations.auth_kind", &row.auth_kind)?,
            tags: decode_json("integrations.tags", &row.tags)?,
            config: decode_json("integrations.config", &row.config)?,
            headers: decode_json("integrations.headers", &row.headers)?,
            retry_policy: decode_json("integrations.retry_policy", &row.retry_policy)?,
            rate_limit: row
                .rate_limit
                .as_deref()
                .map(|text| decode_json("integrations.rate_limit", text))
                .transpose()?,
            cache: decode_json("integrations.cache_policy", &row.cache_policy)?,
            call_options: decode_json("integrations.call_options", &row.call_options)?,
            template_id: row.template_id,
            id: row.id,
            project_id: row.project_id,
            name: row.name,
            description: row.description,
            enabled: row.enabled,
            base_url: row.base_url,
            timeout_ms: row.timeout_ms,
            created_by: row.created_by,
            version: row.version,
            created_at: utc(row.created_at),
            updated_at: utc(row.updated_at),
        })
    }

    fn to_row(&self) -> IntegrationRow {
        IntegrationRow {
            id: self.id.clone(),
            project_id: self.project_id.clone(),
            name: self.name.clone(),
            description: self.description.clone(),
            category: self.category.as_str().to_owned(),
            protocol: self.protocol.as_str().to_owned(),
            status: self.status.as_str().to_owned(),
            enabled: self.enabled,
            auth_kind: self.auth_kind.as_str().to_owned(),
            tags: json(&self.tags),
            base_url: self.base_url.clone(),
            config: json(&self.config),
            headers: json(&self.headers),
            timeout_ms: self.timeout_ms,
            retry_policy: json(&self.retry_policy),
            rate_limit: self.rate_limit.as_ref().map(json),
            cache_policy: json(&self.cache),
            call_options: json(&self.call_options),
            template_id: self.template_id.clone(),
            created_by: self.created_by.clone(),
            version: self.version,
            created_at: self.created_at.naive_utc(),
            updated_at: self.updated_at.naive_utc(),
        }
    }
}

/// Serialises plain data (maps, vectors, flat structs), which cannot fail.
fn json<T: Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".to_owned())
}

/// Input of `createIntegration`.
#[derive(Debug, InputObject)]
pub struct CreateIntegrationInput {
    pub project_id: async_graphql::ID,
    /// Unique within the project, 1-100 characters.
    pub name: String,
    pub description: Option<String>,
    /// Required unless `templateId` is given (then the template's category is the default).
    pub category: Option<Category>,
    /// A published template version to make the integration from: `config` and
    /// `credentials` are checked against its schemas, and base URL, headers, health check
    /// and rate limit come from it (fields given here win).
    pub template_id: Option<async_graphql::ID>,
    /// With `templateId`: secret fields checked against the template's credentialSchema
    /// and sealed in the vault (never shown again).
    pub credentials: Option<async_graphql::Json<serde_json::Value>>,
    /// With `templateId`: run the template's health-check operation first and refuse to
    /// save the integration if it fails.
    pub test_connection: Option<bool>,
    /// Defaults to REST.
    pub protocol: Option<Protocol>,
    /// Defaults to ACTIVE.
    pub status: Option<IntegrationStatus>,
    /// Defaults to true.
    pub enabled: Option<bool>,
    pub tags: Option<Vec<String>>,
    /// http(s) URL every call is relative to; no credentials in it.
    pub base_url: Option<String>,
    /// Free-form settings: a JSON object of at most 64 KiB.
    pub config: Option<async_graphql::Json<serde_json::Value>>,
    /// Extra headers for every call: a JSON object of strings (no credentials).
    pub headers: Option<async_graphql::Json<serde_json::Value>>,
    /// Total timeout of one call, 100-300000 ms (default 30000).
    pub timeout_ms: Option<i32>,
    pub retry_policy: Option<RetryPolicyInput>,
    pub rate_limit: Option<RateLimitInput>,
    pub cache: Option<CachePolicyInput>,
    /// JMESPath reshaping of JSON request and response bodies.
    pub transforms: Option<Transforms>,
    /// Rules that turn upstream answers into failures of a chosen class.
    pub error_rules: Option<Vec<ErrorRule>>,
    /// What `testConnection` sends (default: GET / expecting 2xx).
    pub connection_check: Option<ConnectionCheck>,
    /// Let `executeRequest` call absolute URLs instead of paths under the base URL
    /// (still checked by the SSRF guard). Defaults to false.
    pub allow_absolute_urls: Option<bool>,
    /// A scheduled health check (default: none; health then comes from real calls).
    pub health_check: Option<super::health::HealthCheckInput>,
}

impl CreateIntegrationInput {
    /// The smallest valid input: a name and a category, every other field defaulted
    /// (for seeding from code: benchmarks, tests).
    pub fn minimal(project_id: &str, name: impl Into<String>, category: Category) -> Self {
        CreateIntegrationInput {
            project_id: project_id.to_owned().into(),
            name: name.into(),
            description: None,
            category: Some(category),
            template_id: None,
            credentials: None,
            test_connection: None,
            protocol: None,
            status: None,
            enabled: None,
            tags: None,
            base_url: None,
            config: None,
            headers: None,
            timeout_ms: None,
            retry_policy: None,
            rate_limit: None,
            cache: None,
            transforms: None,
            error_rules: None,
            connection_check: None,
            allow_absolute_urls: None,
            health_check: None,
        }
    }
}

/// Input of `updateIntegration`: omitted fields stay, `null` clears a nullable field.
#[derive(Debug, InputObject)]
pub struct UpdateIntegrationInput {
    pub id: async_graphql::ID,
    /// Fail with CONFLICT unless the integration is still at this version.
    pub expected_version: Option<i32>,
    pub name: Option<String>,
    pub description: MaybeUndefined<String>,
    pub category: Option<Category>,
    pub protocol: Option<Protocol>,
    pub status: Option<IntegrationStatus>,
    pub enabled: Option<bool>,
    pub tags: Option<Vec<String>>,
    pub base_url: MaybeUndefined<String>,
    pub config: Option<async_graphql::Json<serde_json::Value>>,
    pub headers: Option<async_graphql::Json<serde_json::Value>>,
    pub timeout_ms: Option<i32>,
    pub retry_policy: Option<RetryPolicyInput>,
    pub rate_limit: MaybeUndefined<RateLimitInput>,
    pub cache: Option<CachePolicyInput>,
    pub transforms: Option<Transforms>,
    pub error_rules: Option<Vec<ErrorRule>>,
    pub connection_check: MaybeUndefined<ConnectionCheck>,
    pub allow_absolute_urls: Option<bool>,
    /// The scheduled health check; `null` removes it.
    pub health_check: MaybeUndefined<super::health::HealthCheckInput>,
}

/// Filters of the `integrations` listing; all given parts must hold.
#[derive(Debug, Clone, Default, InputObject)]
pub struct IntegrationFilter {
    pub category: Option<Category>,
    pub status: Option<IntegrationStatus>,
    pub enabled: Option<bool>,
    /// Integrations carrying this tag.
    pub tag: Option<String>,
    /// Case-insensitive text in the name or description.
    pub text: Option<String>,
}

fn retry_policy(
    field: &str,
    base: RetryPolicy,
    input: Option<RetryPolicyInput>,
) -> AppResult<RetryPolicy> {
    let Some(input) = input else { return Ok(base) };
    let policy = RetryPolicy {
        max_retries: validate::within(
            &format!("{field}.maxRetries"),
            input.max_retries.unwrap_or(base.max_retries),
            0,
            10,
        )?,
        base_delay_ms: validate::within(
            &format!("{field}.baseDelayMs"),
            input.base_delay_ms.unwrap_or(base.base_delay_ms),
            1,
            60_000,
        )?,
        max_delay_ms: validate::within(
            &format!("{field}.maxDelayMs"),
            input.max_delay_ms.unwrap_or(base.max_delay_ms),
            1,
            3_600_000,
        )?,
    };
    if policy.max_delay_ms < policy.base_delay_ms {
        return Err(AppError::invalid(
            format!("{field}.maxDelayMs"),
            "must not be below baseDelayMs",
        ));
    }
    Ok(policy)
}

fn rate_limit(field: &str, input: RateLimitInput) -> AppResult<RateLimit> {
    let per_minute = validate::within(
        &format!("{field}.requestsPerMinute"),
        input.requests_per_minute,
        1,
        1_000_000,
    )?;
    let burst = match input.burst {
        Some(burst) => validate::within(&format!("{field}.burst"), burst, 1, 100_000)?,
        None => (per_minute / 10).max(1),
    };
    Ok(RateLimit {
        requests_per_minute: per_minute,
        burst,
    })
}

fn cache_policy(
    field: &str,
    base: CachePolicy,
    input: Option<CachePolicyInput>,
) -> AppResult<CachePolicy> {
    let Some(input) = input else { return Ok(base) };
    Ok(CachePolicy {
        enabled: input.enabled.unwrap_or(base.enabled),
        ttl_seconds: validate::within(
            &format!("{field}.ttlSeconds"),
            input.ttl_seconds.unwrap_or(base.ttl_seconds),
            1,
            86_400 * 7,
        )?,
    })
}

fn timeout(field: &str, value: i32) -> AppResult<i32> {
    validate::within(field, value, 100, 300_000)
}

fn name_conflict(name: &str) -> AppError {
    AppError::Conflict(format!(
        "an integration named `{name}` already exists in this project"
    ))
}

/// Loads integrations by ID without access checks (the caller already saw what refers to them).
pub async fn get_many_unchecked(store: &Store, ids: &[String]) -> AppResult<Vec<Integration>> {
    let rows = integration_store::get_many(store, ids).await?;
    Ok(rows
        .into_iter()
        .map(Integration::from_row)
        .collect::<StoreResult<Vec<_>>>()?)
}

/// Loads an integration the caller may see; NOT_FOUND otherwise.
pub async fn get(store: &Store, caller: &Caller, id: &str) -> AppResult<Integration> {
    if IdKind::of(id) == Some(IdKind::Integration)
        && let Some(row) = integration_store::get(store, id).await?
        && caller.principal.sees_project(&row.project_id)
    {
        return Ok(Integration::from_row(row)?);
    }
    Err(AppError::not_found("integration", id))
}

/// Lists integrations the caller may see, optionally of one project.
pub async fn list(
    store: &Store,
    caller: &Caller,
    project_id: Option<&str>,
    filter: IntegrationFilter,
    page: &PageRequest,
) -> AppResult<Page<Integration>> {
    let project_ids = match project_id {
        Some(id) => {
            super::projects::get(store, caller, id).await?;
            Some(vec![id.to_owned()])
        }
        None => caller.principal.project_restriction(),
    };
    let query = IntegrationQuery {
        project_ids,
        category: filter.category.map(|c| c.as_str().to_owned()),
        status: filter.status.map(|s| s.as_str().to_owned()),
        enabled: filter.enabled,
        tag: filter
            .tag
            .as_deref()
            .map(|t| validate::tag("filter.tag", t))
            .transpose()?,
        text: validate::optional_text("filter.text", filter.text.as_deref(), 200)?,
        template_family: None,
    };
    let page = integration_store::page(store, &query, page).await?;
    Ok(page.try_map(Integration::from_row)?)
}

/// Integrations the caller may see made from any version of a template family.
pub async fn list_of_template(
    store: &Store,
    caller: &Caller,
    family_id: &str,
    page: &PageRequest,
) -> AppResult<Page<Integration>> {
    let query = IntegrationQuery {
        project_ids: caller.principal.project_restriction(),
        template_family: Some(family_id.to_owned()),
        ..IntegrationQuery::default()
    };
    let page = integration_store::page(store, &query, page).await?;
    Ok(page.try_map(Integration::from_row)?)
}

/// Creates an integration (EDITOR in the project), by hand or from a template.
pub async fn create(
    app: &App,
    caller: &Caller,
    mut input: CreateIntegrationInput,
) -> AppResult<Integration> {
    caller.principal.require(Role::Editor)?;
    let project_id = validate::id("input.projectId", &input.project_id, IdKind::Project)?;
    if !caller.principal.sees_project(&project_id)
        || projects::get(&app.store, &project_id).await?.is_none()
    {
        return Err(AppError::not_found("project", project_id));
    }
    let derived = match &input.template_id {
        Some(template_id) => {
            let template =
                super::templates::deploy::deployable(&app.store, &project_id, template_id).await?;
            Some(super::templates::deploy::derive(
                template,
                input.config.take().map(|c| c.0),
                input.credentials.take().map(|c| c.0),
            )?)
        }
        None => {
            if input.credentials.is_some() {
                return Err(AppError::invalid(
                    "input.credentials",
                    "credentials here need a templateId; otherwise set them with setCredentials",
                ));
            }
            if input.test_connection == Some(true) {
                return Err(AppError::invalid(
                    "input.testConnection",
                    "a connection test before saving needs a templateId (its health-check operation); otherwise use testConnection(id)",
                ));
            }
            None
        }
    };
    let category = match (input.category, &derived) {
        (Some(category), _) => category,
        (None, Some(derived)) => derived.category,
        (None, None) => {
            return Err(AppError::invalid(
                "input.category",
                "give a category (or a templateId)",
            ));
        }
    };
    let mut headers = derived
        .as_ref()
        .map(|d| d.headers.clone())
        .unwrap_or_default();
    if let Some(given) = input.headers {
        headers.extend(validate::headers("input.headers", given.0)?);
    }
    let at = now().and_utc();
    let integration = Integration {
        id: new_id(IdKind::Integration),
        project_id,
        name: validate::name("input.name", &input.name, 100)?,
        description: validate::optional_text(
            "input.description",
            input.description.as_deref(),
            2000,
        )?,
        category,
        protocol: input
            .protocol
            .or(derived.as_ref().map(|d| d.protocol))
            .unwrap_or(Protocol::Rest),
        status: input.status.unwrap_or(IntegrationStatus::Active),
        enabled: input.enabled.unwrap_or(true),
        auth_kind: derived
            .as_ref()
            .and_then(|d| d.secret.as_ref())
            .map_or(AuthKind::None, |s| s.kind()),
        tags: validate::tags("input.tags", input.tags.as_deref().unwrap_or_default())?,
        base_url: match input.base_url.as_deref() {
            Some(url) => Some(validate::base_url("input.baseUrl", url)?),
            None => derived.as_ref().map(|d| d.base_url.clone()),
        },
        config: match (&derived, input.config) {
            (Some(derived), _) => derived.config.clone(),
            (None, Some(config)) => validate::json_object("input.config", config.0)?,
            (None, None) => serde_json::Map::new(),
        },
        headers,
        timeout_ms: timeout(
            "input.timeoutMs",
            input.timeout_ms.unwrap_or(DEFAULT_TIMEOUT_MS),
        )?,
        retry_policy: retry_policy(
            "input.retryPolicy",
            RetryPolicy::default(),
            input.retry_policy,
        )?,
        rate_limit: match input.rate_limit {
            Some(limit) => Some(rate_limit("input.rateLimit", limit)?),
            None => derived.as_ref().and_then(|d| d.rate_limit.clone()),
        },
        cache: cache_policy("input.cache", CachePolicy::default(), input.cache)?,
        call_options: CallOptions {
            transforms: input
                .transforms
                .map(|t| call_options::validate_transforms("input.transforms", t))
                .transpose()?
                .unwrap_or_default(),
            error_rules: call_options::validate_rules(
                "input.errorRules",
                input.error_rules.unwrap_or_default(),
            )?,
            connection_check: match input.connection_check {
                Some(check) => Some(call_options::validate_check(
                    "input.connectionCheck",
                    check,
                )?),
                None => derived.as_ref().map(|d| d.connection_check.clone()),
            },
            allow_absolute_urls: input.allow_absolute_urls.unwrap_or(false),
            health_check: match input.health_check {
                Some(check) => Some(super::health::validate_check("input.healthCheck", check)?),
                None => derived.as_ref().map(|d| d.health_check.clone()),
            },
        },
        template_id: derived.as_ref().map(|d| d.template.id.clone()),
        created_by: caller.principal.name.clone(),
        version: 1,
        created_at: at,
        updated_at: at,
    };
    let secret = derived.as_ref().and_then(|d| d.secret.as_ref());
    if input.test_connection == Some(true) {
        super::templates::deploy::test_before_saving(app, &integration, secret).await?;
    }
    let credentials = match secret {
        Some(secret) => Some(sealed_row(app, &integration.id, secret)?),
        None => None,
    };
    let template = derived.as_ref().map(|d| {
        serde_json::json!({
            "id": d.template.id,
            "slug": d.template.definition.slug,
            "version": d.template.version,
        })
    });
    let log = LogEntry::new(
        &integration.project_id,
        Some(&integration.id),
        LogLevel::Info,
        "integration created",
        serde_json::json!({ "name": integration.name, "category": integration.category.as_str(), "template": template, "by": caller.principal.name }),
    );
    let mut data = integration_data(&integration);
    if let Some(template) = &template {
        data["template"] = template.clone();
    }
    let event = crate::events::outbox::event(&integration.project_id, "integration.created", data);
    let journal = Journal {
        events: vec![event],
        logs: vec![log.to_row()],
        audit: caller.audit(
            "integration.create",
            ("integration", Some(&integration.id)),
            Some(&integration.project_id),
            serde_json::json!({ "name": integration.name, "template": template, "authKind": integration.auth_kind.as_str() }),
        ),
    };
    match integration_store::insert_with_credentials(
        &app.store,
        &integration.to_row(),
        credentials.as_ref(),
        &journal,
    )
    .await
    {
        Ok(()) => {}
        Err(StoreError::Conflict(_)) => return Err(name_conflict(&integration.name)),
        Err(other) => return Err(other.into()),
    }
    app.events.publish(BusEvent::Log(Box::new(log.to_row())));
    app.workers.wake.dispatcher.notify_one();
    super::health::schedule(&app.store, &integration).await?;
    Ok(integration)
}

/// Seals credentials for an integration not stored yet (inserted with it).
fn sealed_row(
    app: &App,
    integration_id: &str,
    secret: &crate::vault::credentials::CredentialSecret,
) -> AppResult<crate::store::vault::CredentialRow> {
    let sealed = app
        .vault
        .seal(integration_id, secret)
        .map_err(AppError::internal)?;
    Ok(crate::store::vault::CredentialRow {
        integration_id: integration_id.to_owned(),
        kind: secret.kind().as_str().to_owned(),
        key_id: sealed.key_id,
        wrapped_dek: sealed.wrapped_dek,
        sealed: sealed.sealed,
        set_fields: serde_json::to_string(&secret.set_fields()).unwrap_or_else(|_| "[]".into()),
        expires_at: secret
            .expires_at()
            .and_then(|s| DateTime::from_timestamp(s, 0))
            .map(|t| t.naive_utc()),
        refresh_error: None,
        refresh_failed_at: None,
        updated_at: now(),
    })
}

/// Applies a partial update (EDITOR). Concurrent updates never overwrite each other silently:
/// the write only lands on the version it was computed from, else CONFLICT.
pub async fn update(
    app: &App,
    caller: &Caller,
    input: UpdateIntegrationInput,
) -> AppResult<Integration> {
    caller.principal.require(Role::Editor)?;
    let current = get(&app.store, caller, &input.id).await?;
    if let Some(expected) = input.expected_version
        && expected != current.version
    {
        return Err(AppError::Conflict(format!(
            "integration is at version {}, not {expected}",
            current.version
        )));
    }
    let mut next = current.clone();
    let mut changed: Vec<&'static str> = Vec::new();
    if let Some(name) = input.name {
        next.name = validate::name("input.name", &name, 100)?;
        changed.push("name");
    }
    match input.description {
        MaybeUndefined::Undefined => {}
        MaybeUndefined::Null => {
            next.description = None;
            changed.push("description");
        }
        MaybeUndefined::Value(text) => {
            next.description = validate::optional_text("input.description", Some(&text), 2000)?;
            changed.push("description");
        }
    }
    if let Some(category) = input.category {
        next.category = category;
        changed.push("category");
    }
    if let Some(protocol) = input.protocol {
        next.protocol = protocol;
        changed.push("protocol");
    }
    if let Some(status) = input.status {
        next.status = status;
        changed.push("status");
    }
    if let Some(enabled) = input.enabled {
        next.enabled = enabled;
        changed.push("enabled");
    }
    if let Some(tags) = input.tags {
        next.tags = validate::tags("input.tags", &tags)?;
        changed.push("tags");
    }
    match input.base_url {
        MaybeUndefined::Undefined => {}
        MaybeUndefined::Null => {
            next.base_url = None;
            changed.push("baseUrl");
        }
        MaybeUndefined::Value(url) => {
            next.base_url = Some(validate::base_url("input.baseUrl", &url)?);
            changed.push("baseUrl");
        }
    }
    if let Some(config) = input.config {
        next.config = validate::json_object("input.config", config.0)?;
        changed.push("config");
    }
    if let Some(headers) = input.headers {
        next.headers = validate::headers("input.headers", headers.0)?;
        changed.push("headers");
    }
    if let Some(timeout_ms) = input.timeout_ms {
        next.timeout_ms = timeout("input.timeoutMs", timeout_ms)?;
        changed.push("timeoutMs");
    }
    if input.retry_policy.is_some() {
        next.retry_policy = retry_policy(
            "input.retryPolicy",
            current.retry_policy.clone(),
            input.retry_policy,
        )?;
        changed.push("retryPolicy");
    }
    match input.rate_limit {
        MaybeUndefined::Undefined => {}
        MaybeUndefined::Null => {
            next.rate_limit = None;
            changed.push("rateLimit");
        }
        MaybeUndefined::Value(limit) => {
            next.rate_limit = Some(rate_limit("input.rateLimit", limit)?);
            changed.push("rateLimit");
        }
    }
    if input.cache.is_some() {
        next.cache = cache_policy("input.cache", current.cache.clone(), input.cache)?;
        changed.push("cache");
    }
    if let Some(transforms) = input.transforms {
        next.call_options.transforms =
            call_options::validate_transforms("input.transforms", transforms)?;
        changed.push("transforms");
    }
    if let Some(rules) = input.error_rules {
        next.call_options.error_rules = call_options::validate_rules("input.errorRules", rules)?;
        changed.push("errorRules");
    }
    match input.connection_check {
        MaybeUndefined::Undefined => {}
        MaybeUndefined::Null => {
            next.call_options.connection_check = None;
            changed.push("connectionCheck");
        }
        MaybeUndefined::Value(check) => {
            next.call_options.connection_check = Some(call_options::validate_check(
                "input.connectionCheck",
                check,
            )?);
            changed.push("connectionCheck");
        }
    }
    if let Some(allow) = input.allow_absolute_urls {
        next.call_options.allow_absolute_urls = allow;
        changed.push("allowAbsoluteUrls");
    }
    match input.health_check {
        MaybeUndefined::Undefined => {}
        MaybeUndefined::Null => {
            next.call_options.health_check = None;
            changed.push("healthCheck");
        }
        MaybeUndefined::Value(check) => {
            next.call_options.health_check =
                Some(super::health::validate_check("input.healthCheck", check)?);
            changed.push("healthCheck");
        }
    }
    if changed.is_empty() {
        return Ok(current);
    }
    let message = if changed == ["enabled"] {
        if next.enabled {
            "integration enabled"
        } else {
            "integration disabled"
        }
    } else {
        "integration updated"
    };
    let action = match message {
        "integration enabled" => "integration.enable",
        "integration disabled" => "integration.disable",
        _ => "integration.update",
    };
    save(app, caller, current, next, message, action, &changed).await
}

/// Turns calls through an integration on or off (EDITOR).
pub async fn set_enabled(
    app: &App,
    caller: &Caller,
    id: &str,
    enabled: bool,
) -> AppResult<Integration> {
    caller.principal.require(Role::Editor)?;
    let current = get(&app.store, caller, id).await?;
    if current.enabled == enabled {
        return Ok(current);
    }
    let mut next = current.clone();
    next.enabled = enabled;
    let (message, action) = if enabled {
        ("integration enabled", "integration.enable")
    } else {
        ("integration disabled", "integration.disable")
    };
    save(app, caller, current, next, message, action, &["enabled"]).await
}

pub(crate) async fn save(
    app: &App,
    caller: &Caller,
    current: Integration,
    mut next: Integration,
    message: &str,
    action: &str,
    changed: &[&'static str],
) -> AppResult<Integration> {
    next.version = current.version + 1;
    next.updated_at = now().and_utc();
    let log = LogEntry::new(
        &next.project_id,
        Some(&next.id),
        LogLevel::Info,
        message,
        serde_json::json!({ "fields": changed, "version": next.version, "by": caller.principal.name }),
    );
    let event_type = match action {
        "integration.enable" => "integration.enabled",
        "integration.disable" => "integration.disabled",
        _ => "integration.updated",
    };
    let journal = Journal {
        events: vec![integration_event(&next, event_type, Some(changed))],
        logs: vec![log.to_row()],
        audit: caller.audit(
            action,
            ("integration", Some(&next.id)),
            Some(&next.project_id),
            serde_json::json!({ "fields": changed }),
        ),
    };
    match integration_store::update(&app.store, &next.to_row(), current.version, &journal).await {
        Ok(true) => {}
        Ok(false) => {
            return Err(AppError::Conflict(
                "the integration changed while this update was applied; read it again and retry"
                    .to_owned(),
            ));
        }
        Err(StoreError::Conflict(_)) => return Err(name_conflict(&next.name)),
        Err(other) => return Err(other.into()),
    }
    app.events.publish(BusEvent::Log(Box::new(log.to_row())));
    app.workers.wake.dispatcher.notify_one();
    if current.call_options.health_check != next.call_options.health_check {
        super::health::schedule(&app.store, &next).await?;
    }
    Ok(next)
}

/// Deletes an integration (EDITOR); its log entries stay until retention removes them.
pub async fn delete(app: &App, caller: &Caller, id: &str) -> AppResult<Integration> {
    caller.principal.require(Role::Editor)?;
    let current = get(&app.store, caller, id).await?;
    let log = LogEntry::new(
        &current.project_id,
        Some(&current.id),
        LogLevel::Info,
        "integration deleted",
        serde_json::json!({ "name": current.name, "by": caller.principal.name }),
    );
    let journal = Journal {
        events: vec![integration_event(&current, "integration.deleted", None)],
        logs: vec![log.to_row()],
        audit: caller.audit(
            "integration.delete",
            ("integration", Some(&current.id)),
            Some(&current.project_id),
            serde_json::json!({ "name": current.name }),
        ),
    };
    if !integration_store::delete(&app.store, &current.id, &journal).await? {
        return Err(AppError::not_found("integration", id));
    }
    app.events.publish(BusEvent::Log(Box::new(log.to_row())));
    app.workers.wake.dispatcher.notify_one();
    Ok(current)
}

/// The outbox event of an integration change (no secrets: settings summary only).
fn integration_event(
    integration: &Integration,
    event_type: &str,
    fields: Option<&[&'static str]>,
) -> crate::store::events::EventRow {
    let mut data = integration_data(integration);
    if let Some(fields) = fields {
        data["fields"] = serde_json::json!(fields);
    }
    crate::events::outbox::event(&integration.project_id, event_type, data)
}

/// The `data` of an integration event: a settings summary, no secrets.
fn integration_data(integration: &Integration) -> serde_json::Value {
    serde_json::json!({ "integration": {
        "id": integration.id,
        "name": integration.name,
        "category": integration.category.as_str(),
        "status": integration.status.as_str(),
        "enabled": integration.enabled,
        "version": integration.version,
    } })
}
