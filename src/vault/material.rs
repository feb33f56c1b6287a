//! Auth material for one outgoing request: the one function the outbound client calls.
//! Credentials are decrypted on demand; OAuth2 access tokens are refreshed before they
//! expire and after a 401, one refresh at a time per integration.

use std::sync::Arc;
use std::time::Duration;

use http::{HeaderName, HeaderValue};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::credentials::{ApiKeyLocation, CredentialSecret};
use super::{Vault, VaultError};
use crate::app::App;
use crate::domain::logs::{LogEntry, LogLevel};
use crate::events::BusEvent;
use crate::store::vault::{self as vault_store, CredentialRow};
use crate::store::{Journal, now};

/// Headers and query parameters that authenticate one request. Header values are
/// marked sensitive (never logged by the HTTP stack); nothing here prints a secret.
#[derive(Default)]
pub struct AuthMaterial {
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub query: Vec<(String, SecretString)>,
    /// SHA-256 of the OAuth2 access token used, to tell after a 401 whether it is stale.
    access_token_fingerprint: Option<[u8; 32]>,
}

impl std::fmt::Debug for AuthMaterial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<_> = self.headers.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("AuthMaterial")
            .field("headers", &names)
            .field(
                "query",
                &self
                    .query
                    .iter()
                    .map(|(n, _)| n.as_str())
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// Why auth material could not be produced.
#[derive(Debug, thiserror::Error)]
pub enum MaterialError {
    #[error(transparent)]
    Vault(#[from] VaultError),
    #[error("OAuth2 token refresh failed: {0}")]
    Refresh(String),
    #[error("stored credentials cannot be sent: {0}")]
    Unusable(String),
}

impl From<crate::store::StoreError> for MaterialError {
    fn from(err: crate::store::StoreError) -> Self {
        MaterialError::Vault(err.into())
    }
}

fn fingerprint(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

fn sensitive(value: &str) -> Result<HeaderValue, MaterialError> {
    let mut value = HeaderValue::from_str(value)
        .map_err(|_| MaterialError::Unusable("a header value is not valid".into()))?;
    value.set_sensitive(true);
    Ok(value)
}

fn header_name(name: &str) -> Result<HeaderName, MaterialError> {
    HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| MaterialError::Unusable(format!("`{name}` is not a header name")))
}

fn build(secret: &CredentialSecret) -> Result<AuthMaterial, MaterialError> {
    let mut material = AuthMaterial::default();
    match secret {
        CredentialSecret::ApiKey {
            value,
            location: ApiKeyLocation::Header,
            name,
        } => {
            material
                .headers
                .push((header_name(name)?, sensitive(value)?));
        }
        CredentialSecret::ApiKey {
            value,
            location: ApiKeyLocation::Query,
            name,
        } => {
            material
                .query
                .push((name.clone(), SecretString::from(value.clone())));
        }
        CredentialSecret::Bearer { token } => {
            let value = Zeroizing::new(format!("Bearer {token}"));
            material
                .headers
                .push((http::header::AUTHORIZATION, sensitive(&value)?));
        }
        CredentialSecret::Basic { username, password } => {
            use base64::Engine;
            let pair = Zeroizing::new(format!("{username}:{password}"));
            let value = Zeroizing::new(format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(pair.as_bytes())
            ));
            material
                .headers
                .push((http::header::AUTHORIZATION, sensitive(&value)?));
        }
        CredentialSecret::Oauth2 { access_token, .. } => {
            let token = access_token
                .as_deref()
                .ok_or_else(|| MaterialError::Refresh("no access token".into()))?;
            let value = Zeroizing::new(format!("Bearer {token}"));
            material
                .headers
                .push((http::header::AUTHORIZATION, sensitive(&value)?));
            material.access_token_fingerprint = Some(fingerprint(token));
        }
        CredentialSecret::Custom { headers } => {
            for (name, value) in headers {
                material
                    .headers
                    .push((header_name(name)?, sensitive(value)?));
            }
        }
    }
    Ok(material)
}

fn needs_refresh(secret: &CredentialSecret, skew: Duration) -> bool {
    match secret {
        CredentialSecret::Oauth2 {
            access_token: None, ..
        } => true,
        CredentialSecret::Oauth2 {
            expires_at: Some(at),
            ..
        } => {
            *at <= chrono::Utc::now().timestamp()
                + i64::try_from(skew.as_secs()).unwrap_or(i64::MAX)
        }
        _ => false,
    }
}

/// The auth material for a request through an integration (empty without credentials).
pub async fn auth_material(app: &App, integration_id: &str) -> Result<AuthMaterial, MaterialError> {
    let Some(row) = vault_store::get_credentials(&app.store, integration_id).await? else {
        return Ok(AuthMaterial::default());
    };
    let secret = app.vault.open(&row)?;
    if needs_refresh(&secret, app.config.oauth_refresh_skew) {
        let fresh = refresh(app, integration_id, Stale::Expiring).await?;
        return build(&fresh);
    }
    build(&secret)
}

/// New auth material after the upstream answered 401 to `used`: refreshes the OAuth2
/// token once (or takes the one a concurrent caller just got). Other kinds get the
/// stored material again.
pub async fn after_unauthorized(
    app: &App,
    integration_id: &str,
    used: &AuthMaterial,
) -> Result<AuthMaterial, MaterialError> {
    match used.access_token_fingerprint {
        Some(stale) => build(&refresh(app, integration_id, Stale::Rejected(stale)).await?),
        None => auth_material(app, integration_id).await,
    }
}

enum Stale {
    /// The stored token is missing or about to expire.
    Expiring,
    /// The upstream refused the token with this fingerprint.
    Rejected([u8; 32]),
}

/// One refresh at a time per integration; callers queued behind it take its result.
async fn refresh(
    app: &App,
    integration_id: &str,
    stale: Stale,
) -> Result<CredentialSecret, MaterialError> {
    let lock = app.refresh_locks.get_with(integration_id.to_owned(), || {
        Arc::new(tokio::sync::Mutex::new(()))
    });
    let _guard = lock.lock().await;
    let row = vault_store::get_credentials(&app.store, integration_id)
        .await?
        .ok_or_else(|| MaterialError::Refresh("the credentials were removed".into()))?;
    let current = app.vault.open(&row)?;
    let CredentialSecret::Oauth2 { access_token, .. } = &current else {
        return Ok(current);
    };
    let already_fresh = match stale {
        Stale::Expiring => !needs_refresh(&current, app.config.oauth_refresh_skew),
        Stale::Rejected(fingerprint_used) => access_token
            .as_deref()
            .is_some_and(|t| fingerprint(t) != fingerprint_used),
    };
    if already_fresh {
        return Ok(current);
    }
    match request_token(app, &current).await {
        Ok(fresh) => {
            store_refreshed(&app.vault, app, &row, &fresh).await?;
            Ok(fresh)
        }
        Err(message) => {
            record_failure(app, &row, &message).await;
            Err(MaterialError::Refresh(message))
        }
    }
}

#[derive(serde::Deserialize)]
struct TokenResponse {
    access_token: String,
    refresh_token: Option<String>,
    expires_in: Option<i64>,
}

impl Drop for TokenResponse {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        self.access_token.zeroize();
        if let Some(token) = &mut self.refresh_token {
            token.zeroize();
        }
    }
}

/// Calls the token endpoint; the error message never includes a secret or the body.
async fn request_token(app: &App, current: &CredentialSecret) -> Result<CredentialSecret, String> {
    let CredentialSecret::Oauth2 {
        client_id,
        client_secret,
        token_url,
        scopes,
        refresh_token,
        ..
    } = current
    else {
        return Err("not OAuth2 credentials".into());
    };
    let url = url::Url::parse(token_url).map_err(|_| "the token URL is not valid".to_owned())?;
    crate::outbound::ssrf::check_url(&url, &app.ssrf)
        .await
        .map_err(|e| e.to_string())?;
    let mut form: Vec<(&str, &str)> = vec![("client_id", client_id)];
    if let Some(secret) = client_secret {
        form.push(("client_secret", secret));
    }
    match refresh_token {
        Some(token) => form.extend([
            ("grant_type", "refresh_token"),
            ("refresh_token", token.as_str()),
        ]),
        None => form.push(("grant_type", "client_credentials")),
    }
    let scope = scopes.join(" ");
    if !scopes.is_empty() {
        form.push(("scope", &scope));
    }
    let response = app
        .http
        .post(url)
        .form(&form)
        .send()
        .await
        .map_err(|e| format!("token endpoint unreachable: {}", e.without_url()))?;
    let status = response.status();
    if !status.is_success() {
        // OAuth2 error codes (`invalid_grant`, …) are not secret; the rest of the body may be.
        let code = response
            .json::<serde_json::Value>()
            .await
            .ok()
            .and_then(|v| {
                v.get("error")
                    .and_then(|e| e.as_str())
                    .map(|e| e.chars().take(64).collect::<String>())
            });
        return Err(format!(
            "token endpoint answered {status}{}",
            code.map(|c| format!(" ({c})")).unwrap_or_default()
        ));
    }
    let body: TokenResponse = response
        .json()
        .await
        .map_err(|_| "token endpoint answered with an unexpected body".to_owned())?;
    let mut fresh = current.clone();
    if let CredentialSecret::Oauth2 {
        access_token,
        refresh_token,
        expires_at,
        ..
    } = &mut fresh
    {
        *access_token = Some(body.access_token.clone());
        if let Some(token) = &body.refresh_token {
            *refresh_token = Some(token.clone());
        }
        *expires_at = body.expires_in.map(|s| chrono::Utc::now().timestamp() + s);
    }
    Ok(fresh)
}

async fn store_refreshed(
    vault: &Vault,
    app: &App,
    row: &CredentialRow,
    fresh: &CredentialSecret,
) -> Result<(), MaterialError> {
    let sealed = vault.seal(&row.integration_id, fresh)?;
    let updated = CredentialRow {
        integration_id: row.integration_id.clone(),
        kind: row.kind.clone(),
        key_id: sealed.key_id,
        wrapped_dek: sealed.wrapped_dek,
        sealed: sealed.sealed,
        set_fields: serde_json::to_string(&fresh.set_fields()).unwrap_or_else(|_| "[]".into()),
        expires_at: fresh
            .expires_at()
            .and_then(|s| chrono::DateTime::from_timestamp(s, 0))
            .map(|t| t.naive_utc()),
        refresh_error: None,
        refresh_failed_at: None,
        updated_at: now(),
    };
    if !vault_store::update_sealed(&app.store, &updated, &row.sealed).await? {
        return Err(MaterialError::Refresh(
            "the credentials changed during the refresh".into(),
        ));
    }
    Ok(())
}

async fn record_failure(app: &App, row: &CredentialRow, message: &str) {
    if let Err(err) =
        vault_store::record_refresh_failure(&app.store, &row.integration_id, message, now()).await
    {
        tracing::warn!(error = %err, "could not record the refresh failure");
    }
    tracing::warn!(integration = %row.integration_id, class = "authentication", %message, "OAuth2 token refresh failed");
    let Ok(Some(integration)) =
        crate::store::integrations::get(&app.store, &row.integration_id).await
    else {
        return;
    };
    let entry = LogEntry::new(
        &integration.project_id,
        Some(&row.integration_id),
        LogLevel::Error,
        "OAuth2 token refresh failed",
        serde_json::json!({ "class": "authentication", "error": message }),
    );
    let journal = Journal {
        logs: vec![entry.to_row()],
        audit: crate::domain::access::Caller::local_operator().audit(
            "credentials.refresh_failed",
            ("integration", Some(&row.integration_id)),
            Some(&integration.project_id),
            serde_json::json!({ "class": "authentication" }),
        ),
        events: Vec::new(),
    };
    if crate::store::logs::insert_journal(&app.store, &journal)
        .await
        .is_ok()
    {
        app.events.publish(BusEvent::Log(entry));
    }
}

impl AuthMaterial {
    /// Test and diagnostics helper: the value of a header, exposed deliberately.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.as_str() == name)
            .and_then(|(_, v)| v.to_str().ok())
    }

    /// The value of a query parameter, exposed deliberately.
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.expose_secret())
    }
}
