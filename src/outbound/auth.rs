//! Auth material for one outgoing request. Credentials are opened by the vault on demand;
//! OAuth2 access tokens are refreshed here, before they expire and after a 401, one
//! refresh at a time per integration (the locks live with the refresher; on PostgreSQL
//! an advisory lock makes it one at a time across replicas too). A failed
//! refresh is recorded on the credentials row and returned as a typed error; what it
//! means (a log entry, an audit row) is the domain's to decide.

use std::sync::Arc;
use std::time::Duration;

use http::{HeaderName, HeaderValue};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::ssrf::{SsrfError, SsrfPolicy};
use crate::store::vault::{self as vault_store, CredentialRow};
use crate::store::{Store, now};
use crate::vault::credentials::{ApiKeyLocation, CredentialSecret};
use crate::vault::{Vault, VaultError};

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
    Refresh(#[from] RefreshError),
    #[error("stored credentials cannot be sent: {0}")]
    Unusable(String),
}

impl From<crate::store::StoreError> for MaterialError {
    fn from(err: crate::store::StoreError) -> Self {
        MaterialError::Vault(err.into())
    }
}

/// Why an OAuth2 refresh failed. No variant carries a secret or a response body.
#[derive(Debug, Clone, thiserror::Error)]
pub enum RefreshError {
    #[error("no access token")]
    NoAccessToken,
    #[error("the credentials were removed")]
    Removed,
    #[error("not OAuth2 credentials")]
    NotOauth2,
    #[error("the token URL is not valid")]
    InvalidTokenUrl,
    #[error("{0}")]
    Blocked(String),
    #[error("token endpoint unreachable: {0}")]
    Unreachable(String),
    /// The endpoint refused; `code` is the OAuth2 error code (`invalid_grant`, …).
    #[error("token endpoint answered {status}{}", code.as_deref().map(|c| format!(" ({c})")).unwrap_or_default())]
    Refused {
        status: http::StatusCode,
        code: Option<String>,
    },
    #[error("token endpoint answered with an unexpected body")]
    UnexpectedBody,
    #[error("the credentials changed during the refresh")]
    ChangedMeanwhile,
}

impl RefreshError {
    /// The token endpoint was asked and failed (recorded on the credentials and worth a
    /// log entry), as opposed to a refresh that found nothing to do or lost a race.
    pub fn from_token_endpoint(&self) -> bool {
        !matches!(
            self,
            RefreshError::NoAccessToken | RefreshError::Removed | RefreshError::ChangedMeanwhile
        )
    }
}

impl From<SsrfError> for RefreshError {
    fn from(err: SsrfError) -> Self {
        RefreshError::Blocked(err.to_string())
    }
}

/// Opens credentials and keeps OAuth2 tokens fresh: the store and vault handles it needs,
/// the HTTP client for token endpoints, and one lock per integration.
pub struct Refresher {
    store: Store,
    vault: std::sync::Arc<Vault>,
    http: reqwest::Client,
    ssrf: Arc<SsrfPolicy>,
    /// Refresh this long before a token expires.
    skew: Duration,
    locks: moka::sync::Cache<String, Arc<tokio::sync::Mutex<()>>>,
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

pub(crate) fn build(secret: &CredentialSecret) -> Result<AuthMaterial, MaterialError> {
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
            let token = access_token.as_deref().ok_or(RefreshError::NoAccessToken)?;
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

impl Refresher {
    pub fn new(
        store: Store,
        vault: std::sync::Arc<Vault>,
        http: reqwest::Client,
        ssrf: Arc<SsrfPolicy>,
        skew: Duration,
    ) -> Self {
        Refresher {
            store,
            vault,
            http,
            ssrf,
            skew,
            locks: moka::sync::Cache::builder()
                .max_capacity(10_000)
                .time_to_idle(Duration::from_secs(600))
                .build(),
        }
    }

    /// The auth material for a request through an integration (empty without credentials).
    pub async fn auth_material(&self, integration_id: &str) -> Result<AuthMaterial, MaterialError> {
        let Some(row) = vault_store::get_credentials(&self.store, integration_id).await? else {
            return Ok(AuthMaterial::default());
        };
        let secret = self.vault.open(&row)?;
        if needs_refresh(&secret, self.skew) {
            let fresh = self.refresh(integration_id, Stale::Expiring).await?;
            return build(&fresh);
        }
        build(&secret)
    }

    /// New auth material after the upstream answered 401 to `used`: refreshes the OAuth2
    /// token once (or takes the one a concurrent caller just got). Other kinds get the
    /// stored material again.
    pub async fn after_unauthorized(
        &self,
        integration_id: &str,
        used: &AuthMaterial,
    ) -> Result<AuthMaterial, MaterialError> {
        match used.access_token_fingerprint {
            Some(stale) => build(&self.refresh(integration_id, Stale::Rejected(stale)).await?),
            None => self.auth_material(integration_id).await,
        }
    }

    /// One refresh at a time per integration; callers queued behind it take its result.
    async fn refresh(
        &self,
        integration_id: &str,
        stale: Stale,
    ) -> Result<CredentialSecret, MaterialError> {
        let lock = self.locks.get_with(integration_id.to_owned(), || {
            Arc::new(tokio::sync::Mutex::new(()))
        });
        let _guard = lock.lock().await;
        // Replicas share the credentials row: the one holding the lock refreshes, the
        // others wait and then find the new token (refresh tokens are often single-use).
        crate::store::pg::while_locked(
            &self.store,
            "patchbay.oauth2.refresh",
            integration_id,
            self.refresh_held(integration_id, stale),
        )
        .await?
    }

    /// [`Self::refresh`] with the locks held.
    async fn refresh_held(
        &self,
        integration_id: &str,
        stale: Stale,
    ) -> Result<CredentialSecret, MaterialError> {
        let row = vault_store::get_credentials(&self.store, integration_id)
            .await?
            .ok_or(RefreshError::Removed)?;
        let current = self.vault.open(&row)?;
        let CredentialSecret::Oauth2 { access_token, .. } = &current else {
            return Ok(current);
        };
        let already_fresh = match stale {
            Stale::Expiring => !needs_refresh(&current, self.skew),
            Stale::Rejected(fingerprint_used) => access_token
                .as_deref()
                .is_some_and(|t| fingerprint(t) != fingerprint_used),
        };
        if already_fresh {
            return Ok(current);
        }
        match self.request_token(&current).await {
            Ok(fresh) => {
                self.store_refreshed(&row, &fresh).await?;
                Ok(fresh)
            }
            Err(err) => {
                let message = err.to_string();
                if let Err(store_err) = vault_store::record_refresh_failure(
                    &self.store,
                    &row.integration_id,
                    &message,
                    now(),
                )
                .await
                {
                    tracing::warn!(error = %store_err, "could not record the refresh failure");
                }
                tracing::warn!(integration = %row.integration_id, class = "authentication", %message, "OAuth2 token refresh failed");
                Err(err.into())
            }
        }
    }
}

enum Stale {
    /// The stored token is missing or about to expire.
    Expiring,
    /// The upstream refused the token with this fingerprint.
    Rejected([u8; 32]),
}

#[derive(serde::Deserialize)]
struct TokenResponse {
    access_token: String,
    refresh_token: Option<String>,
    expires_in: Option<i64>,
    /// The scopes granted, space-separated (when they differ from those asked for).
    scope: Option<String>,
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

impl Refresher {
    /// Calls the token endpoint; the error never includes a secret or the body.
    async fn request_token(
        &self,
        current: &CredentialSecret,
    ) -> Result<CredentialSecret, RefreshError> {
        let CredentialSecret::Oauth2 {
            client_id,
            client_secret,
            token_url,
            scopes,
            refresh_token,
            ..
        } = current
        else {
            return Err(RefreshError::NotOauth2);
        };
        let url = url::Url::parse(token_url).map_err(|_| RefreshError::InvalidTokenUrl)?;
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
        let body = self.token_request(url, &form).await?;
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

    /// POSTs a token request (after the SSRF check) and reads a successful answer; the
    /// error never includes a secret or the body beyond the OAuth2 error code.
    async fn token_request(
        &self,
        url: url::Url,
        form: &[(&str, &str)],
    ) -> Result<TokenResponse, RefreshError> {
        super::ssrf::check_url(&url, &self.ssrf).await?;
        let response = self
            .http
            .post(url)
            .header(http::header::ACCEPT, "application/json")
            .form(form)
            .send()
            .await
            .map_err(|e| RefreshError::Unreachable(e.without_url().to_string()))?;
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
            return Err(RefreshError::Refused { status, code });
        }
        response
            .json()
            .await
            .map_err(|_| RefreshError::UnexpectedBody)
    }

    /// Exchanges an authorization code and its PKCE verifier at the token endpoint of
    /// `current` (OAuth2 credentials holding the client id and secret), through the SSRF
    /// guard. Returns `current` with the new tokens, expiry and granted scopes.
    pub async fn exchange_code(
        &self,
        current: &CredentialSecret,
        code: &str,
        redirect_uri: &str,
        verifier: &str,
    ) -> Result<CredentialSecret, RefreshError> {
        let CredentialSecret::Oauth2 {
            client_id,
            client_secret,
            token_url,
            ..
        } = current
        else {
            return Err(RefreshError::NotOauth2);
        };
        let url = url::Url::parse(token_url).map_err(|_| RefreshError::InvalidTokenUrl)?;
        let mut form: Vec<(&str, &str)> = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("code_verifier", verifier),
            ("client_id", client_id),
        ];
        if let Some(secret) = client_secret {
            form.push(("client_secret", secret));
        }
        let body = self.token_request(url, &form).await?;
        let mut fresh = current.clone();
        if let CredentialSecret::Oauth2 {
            access_token,
            refresh_token,
            expires_at,
            scopes,
            ..
        } = &mut fresh
        {
            *access_token = Some(body.access_token.clone());
            *refresh_token = body.refresh_token.clone();
            *expires_at = body.expires_in.map(|s| chrono::Utc::now().timestamp() + s);
            if let Some(granted) = &body.scope {
                *scopes = granted.split_whitespace().map(str::to_owned).collect();
            }
        }
        Ok(fresh)
    }

    async fn store_refreshed(
        &self,
        row: &CredentialRow,
        fresh: &CredentialSecret,
    ) -> Result<(), MaterialError> {
        let sealed = self.vault.seal(&row.integration_id, fresh)?;
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
        if !vault_store::update_sealed(&self.store, &updated, &row.sealed).await? {
            return Err(RefreshError::ChangedMeanwhile.into());
        }
        Ok(())
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
