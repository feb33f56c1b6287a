//! OAuth2 connect: `startOAuth` makes the provider's authorize URL (state + PKCE S256),
//! `GET /oauth/callback` checks the state and has the code exchanged for tokens, which
//! replace the integration's OAuth2 credentials.
//!
//! Policy:
//! - The state (32 random bytes) is stored only as its SHA-256 hash; the PKCE verifier
//!   is sealed by the vault, bound to that hash. A state is single use (claimed in one
//!   statement) and expires after [`STATE_TTL`]. Unknown, used and expired states end on
//!   an error page (400) and nothing else happens.
//! - The client id and secret come from the integration's sealed OAuth2 credentials
//!   (set them first: `setCredentials` or a template deploy); the authorize URL and
//!   default scopes from its template, else from those credentials.
//! - Denial by the user, a missing code or a failing token endpoint go back to the
//!   caller's page with `?oauth=error&reason=…` and are written to the integration's log
//!   and the audit log. Success goes back with `?oauth=connected`, after the tokens are
//!   sealed, an audit row, a log entry and the `integration.credentials_updated` event
//!   are written in one transaction (the outbox rule).

use std::collections::BTreeMap;
use std::time::Duration;

use async_graphql::InputObject;
use base64::Engine;
use chrono::{DateTime, Utc};
use rand::RngCore;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::access::{Caller, Principal, Role};
use super::integrations::{self, Integration};
use super::logs::{LogEntry, LogLevel};
use super::templates::definition;
use crate::app::App;
use crate::error::{AppError, AppResult};
use crate::events::BusEvent;
use crate::store::oauth_states::{self as state_store, OAuthStateRow};
use crate::store::vault::{self as vault_store, CredentialRow};
use crate::store::{Journal, now};
use crate::vault::credentials::CredentialSecret;

/// How long an authorization may take from `startOAuth` to the callback.
pub const STATE_TTL: Duration = Duration::from_secs(600);
/// The path of the callback on this server.
pub const CALLBACK_PATH: &str = "/oauth/callback";

/// Input of `startOAuth`.
#[derive(InputObject)]
#[graphql(name = "StartOAuthInput")]
pub struct StartOAuthInput {
    /// An integration with OAuth2 credentials (client id and secret set).
    pub integration_id: async_graphql::ID,
    /// The page to return to afterwards (an absolute http(s) URL); it gets
    /// `?oauth=connected` or `?oauth=error&reason=…`.
    pub redirect_uri: String,
    /// Scopes to ask for instead of the stored (or the template's default) ones.
    pub scopes: Option<Vec<String>>,
}

/// A started authorization: send the user to `authorize_url`.
pub struct OAuthStart {
    pub authorize_url: String,
    pub state: String,
    pub expires_at: DateTime<Utc>,
    pub integration: Integration,
}

fn random_token() -> String {
    let mut bytes = Zeroizing::new([0u8; 32]);
    rand::rng().fill_bytes(bytes.as_mut());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes.as_ref())
}

fn state_hash(state: &str) -> String {
    hex::encode(Sha256::digest(state.as_bytes()))
}

/// The PKCE S256 challenge of a verifier (RFC 7636).
pub fn pkce_challenge(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

fn web_url(field: &str, text: &str) -> AppResult<url::Url> {
    if text.len() > 2048 {
        return Err(AppError::invalid(field, "at most 2048 characters"));
    }
    url::Url::parse(text.trim())
        .ok()
        .filter(|u| {
            matches!(u.scheme(), "http" | "https")
                && u.host_str().is_some()
                && u.username().is_empty()
                && u.password().is_none()
                && u.fragment().is_none()
        })
        .ok_or_else(|| {
            AppError::invalid(
                field,
                "must be an absolute http(s) URL without credentials or fragment",
            )
        })
}

/// This server's callback URL, from the public base URL.
fn callback_url(app: &App) -> String {
    let base = app
        .config
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", app.config.listen));
    format!("{}{CALLBACK_PATH}", base.trim_end_matches('/'))
}

/// The template's OAuth2 block rendered with the integration's config, if any.
async fn template_oauth(
    app: &App,
    integration: &Integration,
) -> AppResult<Option<(String, Vec<String>)>> {
    let Some(template_id) = &integration.template_id else {
        return Ok(None);
    };
    let templates =
        super::templates::get_many_unchecked(&app.store, std::slice::from_ref(template_id)).await?;
    let Some(oauth) = templates
        .into_iter()
        .next()
        .and_then(|t| t.definition.oauth2.clone().map(|o| (t, o)))
    else {
        return Ok(None);
    };
    let (template, oauth) = oauth;
    let mut config = template.definition.config_defaults();
    config.extend(integration.config.clone());
    let empty = serde_json::Map::new();
    let values = BTreeMap::from([("config", &config), ("credentials", &empty)]);
    Ok(Some((
        definition::render(&oauth.authorize_url, &values),
        oauth.scopes,
    )))
}

fn check_scopes(scopes: &[String]) -> AppResult<()> {
    if scopes.len() > 50 {
        return Err(AppError::invalid("input.scopes", "at most 50 scopes"));
    }
    for (i, scope) in scopes.iter().enumerate() {
        if scope.is_empty()
            || scope.len() > 200
            || scope.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(AppError::invalid(
                format!("input.scopes[{i}]"),
                "a scope is one word",
            ));
        }
    }
    Ok(())
}

/// Starts connecting an integration (EDITOR in its project): stores the state and
/// returns the provider's authorize URL.
pub async fn start(app: &App, caller: &Caller, input: StartOAuthInput) -> AppResult<OAuthStart> {
    caller.principal.require(Role::Editor)?;
    let integration = integrations::get(&app.store, caller, &input.integration_id).await?;
    let redirect_uri = web_url("input.redirectUri", &input.redirect_uri)?;
    let secret = vault_store::get_credentials(&app.store, &integration.id)
        .await?
        .map(|row| app.vault.open(&row))
        .transpose()
        .map_err(AppError::internal)?;
    let Some(CredentialSecret::Oauth2 {
        client_id,
        scopes: stored_scopes,
        authorize_url: stored_authorize_url,
        ..
    }) = &secret
    else {
        return Err(AppError::invalid(
            "input.integrationId",
            "the integration has no OAuth2 credentials: set them first (clientId, clientSecret, tokenUrl)",
        ));
    };
    let from_template = template_oauth(app, &integration).await?;
    let (authorize_url, default_scopes) = match (&from_template, stored_authorize_url) {
        (Some((url, scopes)), _) => (url.clone(), scopes.clone()),
        (None, Some(url)) => (url.clone(), Vec::new()),
        (None, None) => {
            return Err(AppError::invalid(
                "input.integrationId",
                "no authorize URL: the integration has no template with one; set `authorizeUrl` in its OAuth2 credentials",
            ));
        }
    };
    let mut url = web_url("input.integrationId", &authorize_url).map_err(|_| {
        AppError::invalid(
            "input.integrationId",
            "the authorize URL is not an http(s) URL",
        )
    })?;
    let scopes = match input.scopes {
        Some(scopes) => {
            check_scopes(&scopes)?;
            scopes
        }
        None if !stored_scopes.is_empty() => stored_scopes.clone(),
        None => default_scopes,
    };
    let state = random_token();
    let verifier = Zeroizing::new(random_token());
    let hash = state_hash(&state);
    let callback = callback_url(app);
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", client_id)
        .append_pair("redirect_uri", &callback);
    if !scopes.is_empty() {
        url.query_pairs_mut()
            .append_pair("scope", &scopes.join(" "));
    }
    url.query_pairs_mut()
        .append_pair("state", &state)
        .append_pair("code_challenge", &pkce_challenge(&verifier))
        .append_pair("code_challenge_method", "S256");
    drop(secret);
    let (key_id, sealed_verifier) = app
        .vault
        .seal_secret(&hash, verifier.as_bytes())
        .map_err(AppError::internal)?;
    let at = now();
    let ttl = chrono::Duration::from_std(STATE_TTL).unwrap_or(chrono::Duration::minutes(10));
    let row = OAuthStateRow {
        state_hash: hash,
        integration_id: integration.id.clone(),
        project_id: integration.project_id.clone(),
        key_id,
        sealed_verifier,
        redirect_uri: redirect_uri.to_string(),
        callback_url: callback,
        scopes: serde_json::to_string(&scopes).unwrap_or_else(|_| "[]".into()),
        created_by_id: caller.principal.token_id.clone(),
        created_by_name: caller.principal.name.clone(),
        created_at: at,
        expires_at: at + ttl,
        used_at: None,
    };
    let log = LogEntry::new(
        &integration.project_id,
        Some(&integration.id),
        LogLevel::Info,
        "OAuth2 authorization started",
        serde_json::json!({ "scopes": scopes, "by": caller.principal.name }),
    );
    let journal = Journal {
        logs: vec![log.to_row()],
        audit: caller.audit(
            "integration.oauth_start",
            ("integration", Some(&integration.id)),
            Some(&integration.project_id),
            serde_json::json!({ "scopes": scopes, "redirectUri": row.redirect_uri }),
        ),
        events: Vec::new(),
    };
    state_store::insert(&app.store, &row, at - chrono::Duration::days(1), &journal).await?;
    app.events.publish(BusEvent::Log(Box::new(log.to_row())));
    Ok(OAuthStart {
        authorize_url: url.to_string(),
        state,
        expires_at: row.expires_at.and_utc(),
        integration,
    })
}

/// The query of `GET /oauth/callback`.
#[derive(Debug, Default)]
pub struct CallbackParams {
    pub code: Option<String>,
    pub state: Option<String>,
    pub error: Option<String>,
}

/// Why a callback ends on an error page instead of going back to the caller's page.
/// Messages are shown to the user; none carries a secret.
#[derive(Debug, thiserror::Error)]
pub enum CallbackError {
    #[error("The answer from the provider carries no state. Start connecting again from patchbay.")]
    MissingState,
    #[error("This authorization is not known to patchbay. Start connecting again from patchbay.")]
    UnknownState,
    #[error("This authorization was already used. Start connecting again from patchbay.")]
    Replayed,
    #[error(
        "This authorization expired (it lasts 10 minutes). Start connecting again from patchbay."
    )]
    Expired,
    #[error("Something went wrong on patchbay's side; the details are in its log.")]
    Internal(#[source] anyhow::Error),
}

impl From<crate::store::StoreError> for CallbackError {
    fn from(err: crate::store::StoreError) -> Self {
        CallbackError::Internal(err.into())
    }
}

/// Where to send the browser: the caller's page with `oauth=…` added.
fn back_to(redirect_uri: &str, outcome: &[(&str, &str)]) -> String {
    match url::Url::parse(redirect_uri) {
        Ok(mut url) => {
            url.query_pairs_mut().extend_pairs(outcome);
            url.to_string()
        }
        Err(_) => redirect_uri.to_owned(),
    }
}

/// An OAuth2 error code as a reason: `[a-z0-9_]`, at most 64 characters.
fn reason_code(text: &str) -> String {
    let code: String = text
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .take(64)
        .collect::<String>()
        .to_ascii_lowercase();
    if code.is_empty() {
        "error".to_owned()
    } else {
        code
    }
}

/// Who started the authorization, for the audit rows of its callback.
fn starter(row: &OAuthStateRow) -> Caller {
    Caller {
        principal: Principal {
            token_id: row.created_by_id.clone(),
            name: row.created_by_name.clone(),
            role: Role::Editor,
            project_id: Some(row.project_id.clone()),
        },
        request_id: None,
    }
}

/// Writes a log entry and an audit row for a failed authorization.
async fn journal_failure(
    app: &App,
    row: &OAuthStateRow,
    level: LogLevel,
    message: &str,
    reason: &str,
    details: serde_json::Value,
) {
    let entry = LogEntry::new(
        &row.project_id,
        Some(&row.integration_id),
        level,
        message,
        details,
    );
    let journal = Journal {
        logs: vec![entry.to_row()],
        audit: starter(row).audit(
            "integration.oauth_failed",
            ("integration", Some(&row.integration_id)),
            Some(&row.project_id),
            serde_json::json!({ "reason": reason }),
        ),
        events: Vec::new(),
    };
    match crate::store::logs::insert_journal(&app.store, &journal).await {
        Ok(()) => app.events.publish(BusEvent::Log(Box::new(entry.to_row()))),
        Err(err) => tracing::warn!(error = %err, "could not journal a failed OAuth2 authorization"),
    }
}

/// Handles the provider's redirect: returns where to send the browser, or why the
/// request is refused (an error page).
pub async fn callback(app: &App, params: CallbackParams) -> Result<String, CallbackError> {
    let state = params
        .state
        .filter(|s| !s.is_empty() && s.len() <= 512)
        .ok_or(CallbackError::MissingState)?;
    let hash = state_hash(&state);
    let row = state_store::get(&app.store, &hash)
        .await?
        .ok_or(CallbackError::UnknownState)?;
    let refused = |reason: &'static str| serde_json::json!({ "reason": reason });
    if row.used_at.is_some() {
        journal_failure(
            app,
            &row,
            LogLevel::Warn,
            "OAuth2 authorization refused: the state was already used",
            "replayed_state",
            refused("replayed_state"),
        )
        .await;
        return Err(CallbackError::Replayed);
    }
    let at = now();
    if row.expires_at <= at {
        journal_failure(
            app,
            &row,
            LogLevel::Warn,
            "OAuth2 authorization refused: the state expired",
            "expired_state",
            refused("expired_state"),
        )
        .await;
        return Err(CallbackError::Expired);
    }
    if !state_store::claim(&app.store, &hash, at).await? {
        journal_failure(
            app,
            &row,
            LogLevel::Warn,
            "OAuth2 authorization refused: the state was already used",
            "replayed_state",
            refused("replayed_state"),
        )
        .await;
        return Err(CallbackError::Replayed);
    }
    let failed =
        |reason: &str| back_to(&row.redirect_uri, &[("oauth", "error"), ("reason", reason)]);
    if let Some(error) = params.error {
        let reason = reason_code(&error);
        journal_failure(
            app,
            &row,
            LogLevel::Warn,
            "OAuth2 authorization denied at the provider",
            &reason,
            serde_json::json!({ "class": "authorization", "error": reason }),
        )
        .await;
        return Ok(failed(&reason));
    }
    let Some(code) = params.code.filter(|c| !c.is_empty() && c.len() <= 4096) else {
        journal_failure(
            app,
            &row,
            LogLevel::Error,
            "OAuth2 authorization failed: the provider sent no code",
            "missing_code",
            refused("missing_code"),
        )
        .await;
        return Ok(failed("missing_code"));
    };
    let code = Zeroizing::new(code);
    let verifier = app
        .vault
        .open_secret(&row.state_hash, &row.key_id, &row.sealed_verifier)
        .map_err(|e| CallbackError::Internal(e.into()))?;
    let verifier = std::str::from_utf8(&verifier)
        .map_err(|e| CallbackError::Internal(e.into()))?
        .to_owned();
    let verifier = Zeroizing::new(verifier);
    let current = vault_store::get_credentials(&app.store, &row.integration_id)
        .await?
        .map(|r| app.vault.open(&r))
        .transpose()
        .map_err(|e| CallbackError::Internal(e.into()))?;
    let Some(current @ CredentialSecret::Oauth2 { .. }) = current else {
        journal_failure(
            app,
            &row,
            LogLevel::Error,
            "OAuth2 authorization failed: the integration no longer has OAuth2 credentials",
            "no_credentials",
            refused("no_credentials"),
        )
        .await;
        return Ok(failed("no_credentials"));
    };
    let fresh = match app
        .outbound
        .refresher
        .exchange_code(&current, &code, &row.callback_url, &verifier)
        .await
    {
        Ok(fresh) => fresh,
        Err(err) => {
            journal_failure(
                app,
                &row,
                LogLevel::Error,
                "OAuth2 authorization failed at the token endpoint",
                "token_endpoint",
                serde_json::json!({ "class": "authentication", "reason": "token_endpoint", "error": err.to_string() }),
            )
            .await;
            return Ok(failed("token_endpoint"));
        }
    };
    drop(current);
    store_tokens(app, &row, &fresh).await?;
    Ok(back_to(&row.redirect_uri, &[("oauth", "connected")]))
}

/// Seals the new tokens as the integration's credentials, with the audit row, the log
/// entry and the event in the same transaction; retried when the integration changed
/// in between.
async fn store_tokens(
    app: &App,
    row: &OAuthStateRow,
    fresh: &CredentialSecret,
) -> Result<(), CallbackError> {
    let internal = |e: AppError| CallbackError::Internal(e.into());
    for _ in 0..3 {
        let Some(integration) =
            integrations::get_many_unchecked(&app.store, std::slice::from_ref(&row.integration_id))
                .await
                .map_err(internal)?
                .into_iter()
                .next()
        else {
            return Err(CallbackError::Internal(anyhow::anyhow!(
                "the integration was deleted during its authorization"
            )));
        };
        let sealed = app
            .vault
            .seal(&integration.id, fresh)
            .map_err(|e| CallbackError::Internal(e.into()))?;
        let at = now();
        let fields = fresh.set_fields();
        let credentials = CredentialRow {
            integration_id: integration.id.clone(),
            kind: fresh.kind().as_str().to_owned(),
            key_id: sealed.key_id,
            wrapped_dek: sealed.wrapped_dek,
            sealed: sealed.sealed,
            set_fields: serde_json::to_string(&fields).unwrap_or_else(|_| "[]".into()),
            expires_at: fresh
                .expires_at()
                .and_then(|s| DateTime::from_timestamp(s, 0))
                .map(|t| t.naive_utc()),
            refresh_error: None,
            refresh_failed_at: None,
            updated_at: at,
        };
        let kind = fresh.kind();
        let log = LogEntry::new(
            &integration.project_id,
            Some(&integration.id),
            LogLevel::Info,
            "OAuth2 connected: credentials updated",
            serde_json::json!({ "kind": kind.as_str(), "fields": fields, "via": "oauth", "by": row.created_by_name }),
        );
        let journal = Journal {
            logs: vec![log.to_row()],
            audit: starter(row).audit(
                "integration.oauth_connect",
                ("integration", Some(&integration.id)),
                Some(&integration.project_id),
                serde_json::json!({ "kind": kind.as_str(), "fields": fields }),
            ),
            events: vec![crate::events::outbox::event(
                &integration.project_id,
                "integration.credentials_updated",
                serde_json::json!({
                    "integration": { "id": integration.id, "name": integration.name },
                    "kind": kind.as_str(),
                    "setFields": fields,
                    "via": "oauth",
                }),
            )],
        };
        if vault_store::replace_credentials(
            &app.store,
            &integration.id,
            Some(&credentials),
            kind.as_str(),
            integration.version,
            at,
            &journal,
        )
        .await?
        {
            app.events.publish(BusEvent::Log(Box::new(log.to_row())));
            app.workers.wake.dispatcher.notify_one();
            return Ok(());
        }
    }
    Err(CallbackError::Internal(anyhow::anyhow!(
        "the integration kept changing while its OAuth2 tokens were stored"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_challenge_is_unpadded_base64url_of_sha256() {
        // Computed independently: base64.urlsafe_b64encode(hashlib.sha256(v).digest()).rstrip("=")
        assert_eq!(
            pkce_challenge("dBjftJeZ4CVP-mJ92K9N6LrUfyRQZP4sqgt0gKtGnQg"),
            "bi2-UKC7IpZvp0nQRmNX_TsPTIs8XMv-iQBdTwgvcEE"
        );
    }

    #[test]
    fn redirect_uris_are_absolute_web_urls() {
        assert!(web_url("f", "https://app.example.com/settings?tab=1").is_ok());
        for bad in [
            "/relative",
            "javascript:alert(1)",
            "ftp://example.com/",
            "https://user:pw@example.com/",
            "https://example.com/#frag",
        ] {
            assert!(web_url("f", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn outcomes_are_added_to_the_callers_page() {
        assert_eq!(
            back_to(
                "https://app.example.com/i?tab=auth",
                &[("oauth", "connected")]
            ),
            "https://app.example.com/i?tab=auth&oauth=connected"
        );
        assert_eq!(reason_code("access_denied"), "access_denied");
        assert_eq!(reason_code("<script>"), "script");
        assert_eq!(reason_code("!!"), "error");
    }
}
