//! Every event type patchbay emits, with a description and an example payload
//! (the `eventTypes` query; webhook subscriptions are checked against it).

use serde_json::{Value, json};

/// One documented event type.
pub struct EventTypeInfo {
    pub name: &'static str,
    pub description: &'static str,
    pub example_data: fn() -> Value,
}

fn integration_data() -> Value {
    json!({ "integration": { "id": "int_01jd8x3m5q6w7e8r9t0y1u2i3o", "name": "Jira", "category": "PROJECT_MANAGEMENT", "status": "ACTIVE", "enabled": true, "version": 2 } })
}

fn template_data() -> Value {
    json!({ "template": { "id": "tpl_01jd8x3m5q6w7e8r9t0y1u2i3o", "slug": "acme-crm", "name": "Acme CRM", "version": 2, "state": "PUBLISHED" } })
}

fn sync_data(status: &str) -> Value {
    json!({
        "integration": { "id": "int_01jd8x3m5q6w7e8r9t0y1u2i3o", "name": "Jira" },
        "sync": { "id": "syn_01jd8x3m5q6w7e8r9t0y1u2i3o", "name": "issues", "operation": "searchIssues" },
        "run": { "id": "srn_01jd8x3m5q6w7e8r9t0y1u2i3o", "status": status, "trigger": "SCHEDULE",
                 "startedAt": "2026-11-27T10:00:00.000Z", "finishedAt": "2026-11-27T10:00:04.210Z",
                 "pages": 12, "fetched": 1180, "created": 14, "updated": 3, "deleted": 1, "errors": 0,
                 "error": if status == "FAILED" { json!("the upstream answered 401 Unauthorized (AUTHENTICATION)") } else { Value::Null } }
    })
}

pub const EVENT_TYPES: &[EventTypeInfo] = &[
    EventTypeInfo {
        name: "sync.completed",
        description: "A sync run read every page: data.run has its counts of fetched, created, updated and deleted records.",
        example_data: || sync_data("SUCCEEDED"),
    },
    EventTypeInfo {
        name: "sync.failed",
        description: "A sync run failed (data.run.error says why); what it stored before the failure stays and nothing was marked deleted.",
        example_data: || sync_data("FAILED"),
    },
    EventTypeInfo {
        name: "integration.created",
        description: "An integration was created.",
        example_data: integration_data,
    },
    EventTypeInfo {
        name: "integration.updated",
        description: "An integration's settings changed (data.fields lists which).",
        example_data: || {
            let mut d = integration_data();
            d["fields"] = json!(["baseUrl", "timeoutMs"]);
            d
        },
    },
    EventTypeInfo {
        name: "integration.deleted",
        description: "An integration was deleted.",
        example_data: integration_data,
    },
    EventTypeInfo {
        name: "integration.enabled",
        description: "Calls through an integration were turned on.",
        example_data: integration_data,
    },
    EventTypeInfo {
        name: "integration.disabled",
        description: "Calls through an integration were turned off.",
        example_data: integration_data,
    },
    EventTypeInfo {
        name: "integration.credentials_updated",
        description: "An integration's credentials were set or removed (never their values).",
        example_data: || json!({ "integration": { "id": "int_01jd8x3m5q6w7e8r9t0y1u2i3o", "name": "Jira" }, "kind": "OAUTH2", "setFields": ["clientId", "clientSecret", "tokenUrl", "refreshToken"] }),
    },
    EventTypeInfo {
        name: "integration.circuit_opened",
        description: "An integration's circuit breaker opened after repeated failures; calls are rejected until a probe succeeds.",
        example_data: || json!({ "integration": { "id": "int_01jd8x3m5q6w7e8r9t0y1u2i3o", "name": "Jira" }, "reason": "5 consecutive failures" }),
    },
    EventTypeInfo {
        name: "integration.circuit_closed",
        description: "An integration's circuit breaker closed again.",
        example_data: || json!({ "integration": { "id": "int_01jd8x3m5q6w7e8r9t0y1u2i3o", "name": "Jira" } }),
    },
    EventTypeInfo {
        name: "execution.failed",
        description: "A call through an integration failed.",
        example_data: || json!({ "execution": { "id": "exe_01jd8x3m5q6w7e8r9t0y1u2i3o", "integrationId": "int_01jd8x3m5q6w7e8r9t0y1u2i3o", "method": "GET", "path": "/rest/api/3/search", "statusCode": 503, "errorClass": "SERVER_ERROR", "retries": 3 } }),
    },
    EventTypeInfo {
        name: "webhook.disabled",
        description: "A webhook endpoint was disabled after sustained failure or a 410 Gone.",
        example_data: || json!({ "webhook": { "id": "whk_01jd8x3m5q6w7e8r9t0y1u2i3o", "url": "https://hooks.example.com/patchbay" }, "reason": "410 Gone" }),
    },
    EventTypeInfo {
        name: "webhook.test",
        description: "A test event sent with sendTestEvent (to one endpoint only).",
        example_data: || json!({ "message": "This is a test event from patchbay." }),
    },
    EventTypeInfo {
        name: "alert.fired",
        description: "An alert started firing (or, with `data.reminder: true`, is still firing unacknowledged).",
        example_data: || json!({ "alert": { "id": "alr_01jd8x3m5q6w7e8r9t0y1u2i3o", "kind": "HEALTH_TRANSITION", "severity": "CRITICAL", "state": "FIRING", "summary": "Jira is UNHEALTHY: 3 consecutive failures", "integrationId": "int_01jd8x3m5q6w7e8r9t0y1u2i3o", "ruleId": "arl_01jd8x3m5q6w7e8r9t0y1u2i3o" } }),
    },
    EventTypeInfo {
        name: "alert.acknowledged",
        description: "Someone acknowledged a firing alert.",
        example_data: || json!({ "alert": { "id": "alr_01jd8x3m5q6w7e8r9t0y1u2i3o", "kind": "HEALTH_TRANSITION", "severity": "CRITICAL", "state": "FIRING", "summary": "Jira is UNHEALTHY: 3 consecutive failures", "integrationId": "int_01jd8x3m5q6w7e8r9t0y1u2i3o", "ruleId": "arl_01jd8x3m5q6w7e8r9t0y1u2i3o" } }),
    },
    EventTypeInfo {
        name: "alert.resolved",
        description: "An alert was resolved, by hand or because its condition cleared.",
        example_data: || json!({ "alert": { "id": "alr_01jd8x3m5q6w7e8r9t0y1u2i3o", "kind": "HEALTH_TRANSITION", "severity": "CRITICAL", "state": "FIRING", "summary": "Jira is UNHEALTHY: 3 consecutive failures", "integrationId": "int_01jd8x3m5q6w7e8r9t0y1u2i3o", "ruleId": "arl_01jd8x3m5q6w7e8r9t0y1u2i3o" } }),
    },
    EventTypeInfo {
        name: "integration.health_changed",
        description: "An integration's health status changed (HEALTHY, DEGRADED, UNHEALTHY, UNKNOWN), with the reason.",
        example_data: || json!({ "integration": { "id": "int_01jd8x3m5q6w7e8r9t0y1u2i3o", "name": "Jira", "category": "PROJECT_MANAGEMENT" }, "previous": "HEALTHY", "current": "UNHEALTHY", "reason": "3 consecutive failures; last: answered 503, expected 2xx" }),
    },
    EventTypeInfo {
        name: "template.created",
        description: "A custom integration template was created (version 1, a DRAFT).",
        example_data: template_data,
    },
    EventTypeInfo {
        name: "template.updated",
        description: "A template draft changed, or a new draft version was made from a published one.",
        example_data: template_data,
    },
    EventTypeInfo {
        name: "template.published",
        description: "A template version was published (immutable from now on; deployable).",
        example_data: template_data,
    },
    EventTypeInfo {
        name: "template.deprecated",
        description: "A template version was deprecated (integrations on it keep working; no new deployments).",
        example_data: template_data,
    },
    EventTypeInfo {
        name: "template.shared",
        description: "Who a template is shared with changed.",
        example_data: template_data,
    },
    EventTypeInfo {
        name: "custom.*",
        description: "Your own events, published with publishEvent (type `custom.<name>`).",
        example_data: || json!({ "anything": "you publish" }),
    },
    EventTypeInfo {
        name: "incoming.*",
        description: "A provider's webhook received at /hooks/{integrationId} and verified: `incoming.<provider>.<event>`, data = the provider's JSON body.",
        example_data: || json!({ "integrationId": "int_01jd8x3m5q6w7e8r9t0y1u2i3o", "event": "push", "body": { "ref": "refs/heads/main" } }),
    },
];

/// Whether a subscription pattern can ever match: `*`, a known type, a known prefix
/// with `.*`, or anything under `custom.` / `incoming.`.
pub fn known_pattern(pattern: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    if pattern.starts_with("custom.") || pattern.starts_with("incoming.") {
        return valid_type(pattern.strip_suffix(".*").unwrap_or(pattern));
    }
    EVENT_TYPES.iter().any(|t| {
        t.name == pattern
            || pattern
                .strip_suffix(".*")
                .is_some_and(|prefix| t.name.starts_with(&format!("{prefix}.")))
    })
}

/// Characters an event type may use: lowercase letters, digits, `_`, `-`, dots between parts.
pub fn valid_type(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 200
        && name.split('.').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
        })
}
