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
            let token_url = url::Url::parse(oauth.token_url.trim())
                .ok()
                .filter(|u| {
                    matches!(u.scheme(), "http" | "https")
                        && u.host_str().is_some()
                        && u.password().is_none()
                })
                .ok_or_else(|| {
                    AppError::invalid(
                        field("tokenUrl"),
                        "must be an http(s) URL without credentials",
                    )
                })?;
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
    app.events.publish(BusEvent::Log(log));
    app.wake.dispatcher.notify_one();
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
