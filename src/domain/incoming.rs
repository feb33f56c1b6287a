//! Incoming webhooks: a provider posts to `/hooks/{integrationId}`; the request is
//! verified by the integration's scheme (GitHub, Slack, Standard Webhooks, shared token)
//! against a secret sealed in the vault, stored as an `incoming.<provider>.<event>`
//! event (once per provider delivery id), and fanned out like any other event.

use async_graphql::{InputObject, SimpleObject};
use chrono::{DateTime, Utc};
use http::HeaderMap;
use zeroize::Zeroizing;

use super::access::{Caller, Role};
use super::{stored_enum, utc, validate};
use crate::app::App;
use crate::error::{AppError, AppResult};
use crate::events::outbox;
use crate::store::webhooks::{self as webhook_store, IncomingSecretRow};
use crate::store::{events as event_store, now};

stored_enum! {
    /// How an incoming webhook proves it comes from the provider.
    IncomingScheme {
        /// `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>`.
        Github,
        /// `X-Slack-Signature: v0=<hex HMAC-SHA256 of "v0:{timestamp}:{body}">` with
        /// `X-Slack-Request-Timestamp` within the tolerance.
        Slack,
        /// Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`).
        StandardWebhooks,
        /// A header (default `X-Webhook-Token`) carrying the shared secret.
        SharedToken,
    }
}

/// Input of `setIncomingWebhook`.
#[derive(Debug, InputObject)]
pub struct SetIncomingWebhookInput {
    pub integration_id: async_graphql::ID,
    pub scheme: IncomingScheme,
    /// The provider's signing secret (GitHub webhook secret, Slack signing secret,
    /// `whsec_…`, or the shared token). Write-only.
    pub secret: String,
    /// SHARED_TOKEN: the header carrying the token (default `X-Webhook-Token`).
    pub header: Option<String>,
    /// Slack: accepted clock difference in seconds, 30-3600 (default 300).
    pub tolerance_seconds: Option<i32>,
}

/// How an integration's incoming webhooks are verified (never the secret).
#[derive(Debug, Clone, SimpleObject)]
pub struct IncomingWebhook {
    pub scheme: IncomingScheme,
    pub header: Option<String>,
    pub tolerance_seconds: i32,
    /// Where the provider should post: `/hooks/{integrationId}` under this server.
    pub path: String,
    pub updated_at: DateTime<Utc>,
}

impl IncomingWebhook {
    pub fn from_row(row: &IncomingSecretRow) -> AppResult<Self> {
        Ok(IncomingWebhook {
            scheme: IncomingScheme::from_stored("incoming_webhook_secrets.scheme", &row.scheme)?,
            header: row.header.clone(),
            tolerance_seconds: row.tolerance_seconds,
            path: format!("/hooks/{}", row.integration_id),
            updated_at: utc(row.updated_at),
        })
    }
}

/// How an integration the caller holds verifies incoming webhooks (`None`: not set).
pub async fn get(
    store: &crate::store::Store,
    caller: &Caller,
    integration: &super::integrations::Integration,
) -> AppResult<Option<IncomingWebhook>> {
    if !caller.principal.sees_project(&integration.project_id) {
        return Err(AppError::not_found("integration", &integration.id));
    }
    webhook_store::incoming_secret(store, &integration.id)
        .await?
        .map(|row| IncomingWebhook::from_row(&row))
        .transpose()
}

/// Sets how an integration's incoming webhooks are verified (EDITOR).
pub async fn set(
    app: &App,
    caller: &Caller,
    input: SetIncomingWebhookInput,
) -> AppResult<IncomingWebhook> {
    caller.principal.require(Role::Editor)?;
    let integration = super::integrations::get(&app.store, caller, &input.integration_id).await?;
    if input.secret.len() < 8 || input.secret.len() > 1024 {
        return Err(AppError::invalid(
            "input.secret",
            "must be 8-1024 characters",
        ));
    }
    if input.scheme == IncomingScheme::StandardWebhooks
        && standardwebhooks::Webhook::new(&input.secret).is_err()
    {
        return Err(AppError::invalid(
            "input.secret",
            "a Standard Webhooks secret is `whsec_` followed by base64",
        ));
    }
    let header = match (&input.scheme, input.header) {
        (IncomingScheme::SharedToken, header) => {
            let name = header.unwrap_or_else(|| "x-webhook-token".to_owned());
            let parsed = http::HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| AppError::invalid("input.header", "not a valid header name"))?;
            Some(parsed.as_str().to_owned())
        }
        (_, Some(_)) => {
            return Err(AppError::invalid(
                "input.header",
                "only SHARED_TOKEN takes a header",
            ));
        }
        (_, None) => None,
    };
    let tolerance = validate::within(
        "input.toleranceSeconds",
        input.tolerance_seconds.unwrap_or(300),
        30,
        3600,
    )?;
    let (key_id, sealed) = app
        .vault
        .seal_secret(&integration.id, input.secret.as_bytes())
        .map_err(AppError::internal)?;
    let row = IncomingSecretRow {
        integration_id: integration.id.clone(),
        scheme: input.scheme.as_str().to_owned(),
        header,
        tolerance_seconds: tolerance,
        key_id,
        secret: sealed,
        updated_at: now(),
    };
    let journal = crate::store::Journal {
        logs: Vec::new(),
        audit: caller.audit(
            "integration.set_incoming_webhook",
            ("integration", Some(&integration.id)),
            Some(&integration.project_id),
            serde_json::json!({ "scheme": row.scheme, "header": row.header, "toleranceSeconds": row.tolerance_seconds }),
        ),
        events: Vec::new(),
    };
    webhook_store::set_incoming_secret(&app.store, &row, &journal).await?;
    IncomingWebhook::from_row(&row)
}

/// Why a request was refused (the HTTP status says which).
#[derive(Debug, thiserror::Error)]
pub enum Rejection {
    #[error("no integration here takes webhooks")]
    NotFound,
    #[error("{0}")]
    Unauthorized(&'static str),
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl From<crate::store::StoreError> for Rejection {
    fn from(err: crate::store::StoreError) -> Self {
        Rejection::Internal(err.into())
    }
}

/// An accepted request.
pub struct Received {
    pub event_id: String,
    pub event_type: String,
    /// A replay of a request already stored (nothing new was stored).
    pub duplicate: bool,
}

/// Lowercase `[a-z0-9_-]`, other characters as `_`, at most 64.
fn slug(text: &str) -> String {
    let slug: String = text
        .chars()
        .take(64)
        .map(|c| {
            let c = c.to_ascii_lowercase();
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if slug.is_empty() {
        "unknown".to_owned()
    } else {
        slug
    }
}

/// Verifies and stores one incoming webhook; the event is durable when this returns.
pub async fn receive(
    app: &App,
    integration_id: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Received, Rejection> {
    if crate::ids::IdKind::of(integration_id) != Some(crate::ids::IdKind::Integration) {
        return Err(Rejection::NotFound);
    }
    let Some(row) = webhook_store::incoming_secret(&app.store, integration_id).await? else {
        return Err(Rejection::NotFound);
    };
    let Some(integration) = crate::store::integrations::get(&app.store, integration_id).await?
    else {
        return Err(Rejection::NotFound);
    };
    let secret: Zeroizing<Vec<u8>> = app
        .vault
        .open_secret(integration_id, &row.key_id, &row.secret)
        .map_err(|e| Rejection::Internal(e.into()))?;
    let json: Option<serde_json::Value> = serde_json::from_slice(body).ok();
    let (event, delivery_id) =
        super::signatures::verify(&row, &secret, headers, body, json.as_ref())?;
    let event_type = format!("incoming.{}.{}", slug(&integration.name), slug(&event));
    let data = serde_json::json!({
        "integrationId": integration.id,
        "provider": slug(&integration.name),
        "event": event,
        "body": json.unwrap_or_else(|| serde_json::Value::String(String::from_utf8_lossy(body).into_owned())),
    });
    let mut stored = outbox::event(&integration.project_id, &event_type, data);
    stored.dedupe_key = delivery_id.map(|d| format!("{integration_id}:{d}"));
    let inserted = event_store::insert_once(&app.store, &stored).await?;
    if inserted {
        app.workers.wake.dispatcher.notify_one();
    }
    Ok(Received {
        event_id: stored.id,
        event_type,
        duplicate: !inserted,
    })
}
