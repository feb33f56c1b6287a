//! Setting an integration's credentials: validated per auth kind, sealed in the vault,
//! stored with the integration's new auth kind in one transaction. Responses show which
//! fields are set, never a value.

use std::collections::BTreeMap;

use async_graphql::{InputObject, OneofObject};
use chrono::{DateTime, Utc};

use super::access::{Caller, Role};
use super::integrations::{self, Integration};
use super::logs::{LogEntry, LogLevel};
use super::{AuthKind, utc};
use crate::app::App;
use crate::error::{AppError, AppResult};
use crate::events::BusEvent;
use crate::outbound::auth::{AuthMaterial, MaterialError, RefreshError};
use crate::store::vault::{self as vault_store, CredentialRow};
use crate::store::{Journal, Store, decode_json, now};
use crate::vault::credentials::{ApiKeyLocation, CredentialSecret};

/// An API key sent in a header or a query parameter.
#[derive(InputObject)]
pub struct ApiKeyInput {
    pub value: String,
    /// Where the key goes.
    #[graphql(name = "in")]
    pub location: ApiKeyLocation,
    /// The header or query parameter name (e.g. `X-Api-Key`, `api_key`).
    pub name: String,
}

/// A bearer token.
#[derive(InputObject)]
pub struct BearerInput {
    pub token: String,
}

/// HTTP Basic credentials.
#[derive(InputObject)]
pub struct BasicInput {
    pub username: String,
    pub password: String,
}

/// OAuth 2.0: the access token is refreshed with the refresh token (or the client
/// credentials grant) before it expires and after a 401.
#[derive(InputObject)]
#[graphql(name = "OAuth2Input")]
pub struct OAuth2Input {
    pub client_id: String,
    pub client_secret: Option<String>,
    pub token_url: String,
    pub scopes: Option<Vec<String>>,
    pub access_token: Option<String>,
    pub refresh_token: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
    /// The provider's authorization page, for `startOAuth` on integrations not made from
    /// a template (a template's `oauth2.authorizeUrl` wins).
    pub authorize_url: Option<String>,
}

/// Custom headers (a JSON object of strings).
#[derive(InputObject)]
pub struct CustomCredentialsInput {
    pub headers: async_graphql::Json<serde_json::Value>,
}

/// Exactly one kind of credentials (`none: true` removes them).
#[derive(OneofObject)]
pub enum CredentialsInput {
    ApiKey(ApiKeyInput),
    Bearer(BearerInput),
    Basic(BasicInput),
    Oauth2(OAuth2Input),
    Custom(CustomCredentialsInput),
    None(bool),
}

/// Input of `setCredentials`.
#[derive(InputObject)]
pub struct SetCredentialsInput {
    pub integration_id: async_graphql::ID,
    pub credentials: CredentialsInput,
}

/// What is stored, without any secret value.
#[derive(Debug, Clone)]
pub struct CredentialsInfo {
    pub kind: AuthKind,
    pub set_fields: Vec<String>,
    pub updated_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub key_id: String,
    pub refresh_error: Option<String>,
    pub refresh_failed_at: Option<DateTime<Utc>>,
}

const MAX_SECRET: usize = 16 * 1024;

fn secret(field: &str, value: &str) -> AppResult<String> {
    if value.is_empty() {
        return Err(AppError::invalid(field, "must not be empty"));
    }
    if value.len() > MAX_SECRET {
        return Err(AppError::invalid(
            field,
            format!("must be at most {MAX_SECRET} bytes"),
        ));
    }
    if value.chars().any(|c| c.is_control()) {
        return Err(AppError::invalid(
            field,
            "must not contain control characters",
        ));
    }
    Ok(value.to_owned())
}

fn header_name(field: &str, name: &str) -> AppResult<String> {
    http::HeaderName::from_bytes(name.trim().as_bytes())
        .map(|h| h.as_str().to_owned())
        .map_err(|_| AppError::invalid(field, "not a valid HTTP header name"))
}

/// Validates input into the secret to seal (`None` removes credentials).
pub fn validate(input: CredentialsInput) -> AppResult<Option<CredentialSecret>> {
    const BASE: &str = "input.credentials";
    let secret = match input {
        CredentialsInput::None(true) => return Ok(None),
        CredentialsInput::None(false) => {
            return Err(AppError::invalid(
                format!("{BASE}.none"),
                "must be true (it removes the credentials)",
            ));
        }
        CredentialsInput::ApiKey(key) => {
            let field = |f: &str| format!("{BASE}.apiKey.{f}");
            let name = match key.location {
                ApiKeyLocation::Header => header_name(&field("name"), &key.name)?,
                ApiKeyLocation::Query => {
                    let name = key.name.trim();
                    if name.is_empty()
                        || name.len() > 100
                        || name.chars().any(|c| c.is_control() || c.is_whitespace())
                    {
                        return Err(AppError::invalid(
                            field("name"),
                            "a query parameter name of 1-100 visible characters",
                        ));
                    }
                    name.to_owned()
                }
            };
            CredentialSecret::ApiKey {
                value: secret(&field("value"), &key.value)?,
                location: key.location,
                name,
            }
        }
        CredentialsInput::Bearer(bearer) => CredentialSecret::Bearer {
            token: secret(&format!("{BASE}.bearer.token"), bearer.token.trim())?,
        },
        CredentialsInput::Basic(basic) => {
            let username = secret(&format!("{BASE}.basic.username"), &basic.username)?;
            if username.contains(':') {
                return Err(AppError::invalid(
                    format!("{BASE}.basic.username"),
                    "must not contain ':'",
                ));
            }
            CredentialSecret::Basic {
                username,
                password: secret(&format!("{BASE}.basic.password"), &basic.password)?,
            }
        }
        CredentialsInput::Oauth2(oauth) => {
            let field = |f: &str| format!("{BASE}.oauth2.{f}");
            let web_url = |name: &str, text: &str| {
                url::Url::parse(text.trim())
                    .ok()
                    .filter(|u| {
                        matches!(u.scheme(), "http" | "https")
                            && u.host_str().is_some()
                            && u.password().is_none()
                    })
                    .ok_or_else(|| {
                        AppError::invalid(field(name), "must be an http(s) URL without credentials")
                    })
            };
            let token_url = web_url("tokenUrl", &oauth.token_url)?;
            let authorize_url = oauth
                .authorize_url
                .as_deref()
                .map(|u| web_url("authorizeUrl", u).map(|u| u.to_string()))
                .transpose()?;
            let scopes = oauth.scopes.unwrap_or_default();
            for (i, scope) in scopes.iter().enumerate() {
                if scope.is_empty() || scope.chars().any(|c| c.is_whitespace() || c.is_control()) {
                    return Err(AppError::invalid(
                        format!("{}[{i}]", field("scopes")),
                        "a scope is one word",
                    ));
                }
            }
            let optional = |name: &str, value: Option<String>| {
                value.map(|v| secret(&field(name), &v)).transpose()
            };
            let client_secret = optional("clientSecret", oauth.client_secret)?;
            let access_token = optional("accessToken", oauth.access_token)?;
            let refresh_token = optional("refreshToken", oauth.refresh_token)?;
            if access_token.is_none() && refresh_token.is_none() && client_secret.is_none() {
                return Err(AppError::invalid(
                    field("refreshToken"),
                    "give an access token, a refresh token, or a client secret (client credentials grant)",
                ));
            }
            CredentialSecret::Oauth2 {
                client_id: secret(&field("clientId"), &oauth.client_id)?,
                client_secret,
                token_url: token_url.to_string(),
                scopes,
                access_token,
                refresh_token,
                expires_at: oauth.expires_at.map(|t| t.timestamp()),
                authorize_url,
            }
        }
        CredentialsInput::Custom(custom) => {
            let field = format!("{BASE}.custom.headers");
            let serde_json::Value::Object(map) = custom.headers.0 else {
                return Err(AppError::invalid(
                    field,
                    "must be a JSON object of header names to values",
                ));
            };
            if map.is_empty() || map.len() > 50 {
                return Err(AppError::invalid(field, "between 1 and 50 headers"));
            }
            let mut headers = BTreeMap::new();
            for (name, value) in map {
                let path = format!("{field}.{name}");
                let name = header_name(&path, &name)?;
                let serde_json::Value::String(value) = value else {
                    return Err(AppError::invalid(path, "header values must be strings"));
                };
                if http::HeaderValue::from_str(&value).is_err() {
                    return Err(AppError::invalid(path, "not a valid HTTP header value"));
                }
                headers.insert(name, secret(&path, &value)?);
            }
            CredentialSecret::Custom { headers }
        }
    };
    Ok(Some(secret))
}

/// Sets (or removes) an integration's credentials (EDITOR).
pub async fn set(app: &App, caller: &Caller, input: SetCredentialsInput) -> AppResult<Integration> {
    caller.principal.require(Role::Editor)?;
    let current = integrations::get(&app.store, caller, &input.integration_id).await?;
    let secret = validate(input.credentials)?;
    let at = now();
    let (row, kind) = match &secret {
        Some(secret) => {
            let sealed = app
                .vault
                .seal(&current.id, secret)
                .map_err(AppError::internal)?;
            let row = CredentialRow {
                integration_id: current.id.clone(),
                kind: secret.kind().as_str().to_owned(),
                key_id: sealed.key_id,
                wrapped_dek: sealed.wrapped_dek,
                sealed: sealed.sealed,
                set_fields: serde_json::to_string(&secret.set_fields())
                    .unwrap_or_else(|_| "[]".into()),
                expires_at: secret
                    .expires_at()
                    .and_then(|s| DateTime::from_timestamp(s, 0))
                    .map(|t| t.naive_utc()),
                refresh_error: None,
                refresh_failed_at: None,
                updated_at: at,
            };
            (Some(row), secret.kind())
        }
        None => (None, AuthKind::None),
    };
    let fields = secret
        .as_ref()
        .map(CredentialSecret::set_fields)
        .unwrap_or_default();
    let log = LogEntry::new(
        &current.project_id,
        Some(&current.id),
        LogLevel::Info,
        if secret.is_some() {
            "credentials updated"
        } else {
            "credentials removed"
        },
        serde_json::json!({ "kind": kind.as_str(), "fields": fields, "by": caller.principal.name }),
    );
    let journal = Journal {
        logs: vec![log.to_row()],
        audit: caller.audit(
            "integration.set_credentials",
            ("integration", Some(&current.id)),
            Some(&current.project_id),
            serde_json::json!({ "kind": kind.as_str(), "fields": fields }),
        ),
        events: vec![crate::events::outbox::event(
            &current.project_id,
            "integration.credentials_updated",
            serde_json::json!({
                "integration": { "id": current.id, "name": current.name },
                "kind": kind.as_str(),
                "setFields": fields,
            }),
        )],
    };
    drop(secret);
    if !vault_store::replace_credentials(
        &app.store,
        &current.id,
        row.as_ref(),
        kind.as_str(),
        current.version,
        at,
        &journal,
    )
    .await?
    {
        return Err(AppError::Conflict(
            "the integration changed while its credentials were set; retry".into(),
        ));
    }
    app.events.publish(BusEvent::Log(Box::new(log.to_row())));
    app.workers.wake.dispatcher.notify_one();
    integrations::get(&app.store, caller, &current.id).await
}

impl CredentialsInfo {
    fn from_row(row: CredentialRow) -> AppResult<Self> {
        Ok(CredentialsInfo {
            kind: AuthKind::from_stored("credentials.kind", &row.kind)?,
            set_fields: decode_json("credentials.set_fields", &row.set_fields)?,
            updated_at: utc(row.updated_at),
            expires_at: row.expires_at.map(utc),
            key_id: row.key_id,
            refresh_error: row.refresh_error,
            refresh_failed_at: row.refresh_failed_at.map(utc),
        })
    }
}

/// What is stored for an integration, without secrets; `None` without credentials.
pub async fn info(store: &Store, integration_id: &str) -> AppResult<Option<CredentialsInfo>> {
    vault_store::get_credentials(store, integration_id)
        .await?
        .map(CredentialsInfo::from_row)
        .transpose()
}

/// [`info`] for several integrations in one query, keyed by integration id.
pub async fn info_many(
    store: &Store,
    integration_ids: &[String],
) -> AppResult<Vec<(String, CredentialsInfo)>> {
    vault_store::get_many_credentials(store, integration_ids)
        .await?
        .into_iter()
        .map(|row| Ok((row.integration_id.clone(), CredentialsInfo::from_row(row)?)))
        .collect()
}

/// The auth material of a call through an integration (operators' tools and tests; calls
/// get theirs inside the engine). A failed OAuth2 refresh is journaled as one met by a call.
pub async fn auth_material(app: &App, integration_id: &str) -> Result<AuthMaterial, MaterialError> {
    let result = app.outbound.refresher.auth_material(integration_id).await;
    journal_refresh(app, integration_id, &result).await;
    result
}

/// New auth material after the upstream refused `used` with a 401 (see
/// [`crate::outbound::auth::Refresher::after_unauthorized`]).
pub async fn after_unauthorized(
    app: &App,
    integration_id: &str,
    used: &AuthMaterial,
) -> Result<AuthMaterial, MaterialError> {
    let result = app
        .outbound
        .refresher
        .after_unauthorized(integration_id, used)
        .await;
    journal_refresh(app, integration_id, &result).await;
    result
}

async fn journal_refresh(
    app: &App,
    integration_id: &str,
    result: &Result<AuthMaterial, MaterialError>,
) {
    if let Err(MaterialError::Refresh(failure)) = result
        && failure.from_token_endpoint()
    {
        record_refresh_failure(app, integration_id, failure).await;
    }
}

/// A refresh at the token endpoint failed: an ERROR log entry (an authentication failure)
/// and an audit row, so operators see why calls fail.
pub(crate) async fn record_refresh_failure(
    app: &App,
    integration_id: &str,
    failure: &RefreshError,
) {
    let Ok(Some(integration)) = crate::store::integrations::get(&app.store, integration_id).await
    else {
        return;
    };
    let entry = LogEntry::new(
        &integration.project_id,
        Some(integration_id),
        LogLevel::Error,
        "OAuth2 token refresh failed",
        serde_json::json!({ "class": "authentication", "error": failure.to_string() }),
    );
    let journal = Journal {
        logs: vec![entry.to_row()],
        audit: Caller::local_operator().audit(
            "credentials.refresh_failed",
            ("integration", Some(integration_id)),
            Some(&integration.project_id),
            serde_json::json!({ "class": "authentication" }),
        ),
        events: Vec::new(),
    };
    if crate::store::logs::insert_journal(&app.store, &journal)
        .await
        .is_ok()
    {
        app.events.publish(BusEvent::Log(Box::new(entry.to_row())));
    }
}

/// A key rotation's progress as stored.
pub type KeyRotation = crate::store::vault::KeyRotationRow;

/// Progress of a key rotation (ADMIN).
pub async fn key_rotation(
    store: &Store,
    caller: &Caller,
    id: &str,
) -> AppResult<Option<KeyRotation>> {
    caller.principal.require(Role::Admin)?;
    Ok(vault_store::get_rotation(store, id).await?)
}

/// Starts (or resumes) re-wrapping every data key under a new key-encryption key, in the
/// background (ADMIN, not project-scoped).
pub async fn rotate_encryption_key(
    app: &std::sync::Arc<App>,
    caller: &Caller,
) -> AppResult<KeyRotation> {
    caller.principal.require(Role::Admin)?;
    caller.principal.require_unscoped()?;
    let started = crate::vault::rotation::start(&app.store, &app.vault)
        .await
        .map_err(AppError::internal)?;
    let audit = caller.audit(
        "vault.rotate_key",
        ("key_rotation", Some(&started.id)),
        None,
        serde_json::json!({ "targetKeyId": started.target_key_id }),
    );
    crate::store::audit::insert(&app.store, &audit).await?;
    let rotation_id = started.id.clone();
    let app = app.clone();
    tokio::spawn(async move {
        if let Err(err) =
            crate::vault::rotation::run(&app.store, &app.vault, &rotation_id, |_, _| {}).await
        {
            tracing::error!(error = %err, "key rotation failed; it resumes at the next start");
        }
    });
    Ok(started)
}
