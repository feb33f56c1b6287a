//! Webhook signatures, both ways: signing outgoing deliveries per Standard Webhooks
//! (`v1,` base64 HMAC-SHA256 over `id.timestamp.body` with a `whsec_` secret), and
//! verifying incoming provider webhooks by the scheme an integration sets (GitHub
//! `X-Hub-Signature-256`, Slack `v0=` signatures, Standard Webhooks, a shared token).

use base64::Engine;
use chrono::Utc;
use hmac::{Hmac, Mac};
use http::HeaderMap;
use sha2::Sha256;

use super::incoming::{IncomingScheme, Rejection};
use crate::store::webhooks::IncomingSecretRow;

/// Signs `id.timestamp.body` with a `whsec_` secret: `v1,<base64 HMAC-SHA256>`.
pub fn sign(secret: &str, message_id: &str, timestamp: i64, body: &[u8]) -> Option<String> {
    let key = base64::engine::general_purpose::STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap_or(secret))
        .ok()?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).ok()?;
    mac.update(format!("{message_id}.{timestamp}.").as_bytes());
    mac.update(body);
    Some(format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    ))
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn hmac_hex(secret: &[u8], parts: &[&[u8]]) -> Option<Vec<u8>> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).ok()?;
    for part in parts {
        mac.update(part);
    }
    Some(mac.finalize().into_bytes().to_vec())
}

fn equal(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Checks a request against the scheme; returns the provider's event name and delivery id.
pub(super) fn verify(
    row: &IncomingSecretRow,
    secret: &[u8],
    headers: &HeaderMap,
    body: &[u8],
    json: Option<&serde_json::Value>,
) -> Result<(String, Option<String>), Rejection> {
    let bad = Rejection::Unauthorized("the signature does not verify");
    let body_type = || {
        json.and_then(|j| {
            j["event"]["type"]
                .as_str()
                .or_else(|| j["type"].as_str())
                .or_else(|| j["event"].as_str())
        })
        .map(str::to_owned)
    };
    let scheme = IncomingScheme::from_stored("incoming_webhook_secrets.scheme", &row.scheme)
        .map_err(|e| Rejection::Internal(e.into()))?;
    match scheme {
        IncomingScheme::Github => {
            let given = header(headers, "x-hub-signature-256")
                .and_then(|s| s.strip_prefix("sha256="))
                .and_then(|hex_sig| hex::decode(hex_sig).ok())
                .ok_or(Rejection::Unauthorized(
                    "missing or malformed X-Hub-Signature-256",
                ))?;
            let expected =
                hmac_hex(secret, &[body]).ok_or(Rejection::Unauthorized("bad secret"))?;
            if !equal(&given, &expected) {
                return Err(bad);
            }
            Ok((
                header(headers, "x-github-event")
                    .unwrap_or("unknown")
                    .to_owned(),
                header(headers, "x-github-delivery").map(|d| format!("github:{d}")),
            ))
        }
        IncomingScheme::Slack => {
            let timestamp = header(headers, "x-slack-request-timestamp")
                .and_then(|t| t.parse::<i64>().ok())
                .ok_or(Rejection::Unauthorized("missing X-Slack-Request-Timestamp"))?;
            if (Utc::now().timestamp() - timestamp).abs() > i64::from(row.tolerance_seconds) {
                return Err(Rejection::Unauthorized("the request timestamp is too old"));
            }
            let given = header(headers, "x-slack-signature")
                .and_then(|s| s.strip_prefix("v0="))
                .and_then(|hex_sig| hex::decode(hex_sig).ok())
                .ok_or(Rejection::Unauthorized(
                    "missing or malformed X-Slack-Signature",
                ))?;
            let base = format!("v0:{timestamp}:");
            let expected = hmac_hex(secret, &[base.as_bytes(), body])
                .ok_or(Rejection::Unauthorized("bad secret"))?;
            if !equal(&given, &expected) {
                return Err(bad);
            }
            let delivery = json
                .and_then(|j| j["event_id"].as_str())
                .map(|id| format!("slack:{id}"))
                .unwrap_or_else(|| format!("slack:{}", hex::encode(&given)));
            Ok((
                body_type().unwrap_or_else(|| "unknown".to_owned()),
                Some(delivery),
            ))
        }
        IncomingScheme::StandardWebhooks => {
            let secret = std::str::from_utf8(secret).map_err(|_| bad_secret())?;
            let verifier = standardwebhooks::Webhook::new(secret).map_err(|_| bad_secret())?;
            verifier.verify(body, headers).map_err(|e| match e {
                standardwebhooks::WebhookError::TimestampTooOldError
                | standardwebhooks::WebhookError::FutureTimestampError => {
                    Rejection::Unauthorized("the request timestamp is outside the tolerance")
                }
                _ => Rejection::Unauthorized("the signature does not verify"),
            })?;
            Ok((
                body_type().unwrap_or_else(|| "unknown".to_owned()),
                header(headers, "webhook-id").map(|id| format!("standard:{id}")),
            ))
        }
        IncomingScheme::SharedToken => {
            let name = row.header.as_deref().unwrap_or("x-webhook-token");
            let given =
                header(headers, name).ok_or(Rejection::Unauthorized("missing token header"))?;
            if !equal(given.as_bytes(), secret) {
                return Err(Rejection::Unauthorized("the token does not match"));
            }
            Ok((
                body_type().unwrap_or_else(|| "received".to_owned()),
                header(headers, "idempotency-key").map(|k| format!("token:{k}")),
            ))
        }
    }
}

fn bad_secret() -> Rejection {
    Rejection::Internal(anyhow::anyhow!(
        "the stored incoming webhook secret is unusable"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_with_the_reference_library() {
        let secret = &crate::domain::webhooks::new_secret();
        let body = br#"{"type":"integration.created"}"#;
        let timestamp = chrono::Utc::now().timestamp();
        let signature = sign(secret, "msg_1", timestamp, body).unwrap();
        let mut headers = http::HeaderMap::new();
        headers.insert("webhook-id", "msg_1".parse().unwrap());
        headers.insert("webhook-timestamp", timestamp.to_string().parse().unwrap());
        headers.insert("webhook-signature", signature.parse().unwrap());
        standardwebhooks::Webhook::new(secret)
            .unwrap()
            .verify(body, &headers)
            .unwrap();
    }
}
