//! Outbox events: what changed, as a durable message `{type, id, timestamp, projectId,
//! data}`, appended in the transaction of the change and dispatched after commit.

use crate::ids::{IdKind, new_id};
use crate::store::events::EventRow;
use crate::store::now;

/// A new, not yet dispatched event.
pub fn event(project_id: &str, event_type: &str, data: serde_json::Value) -> EventRow {
    let id = new_id(IdKind::Message);
    let at = now();
    let payload = serde_json::json!({
        "type": event_type,
        "id": id,
        "timestamp": at.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "projectId": project_id,
        "data": data,
    });
    EventRow {
        id,
        project_id: project_id.to_owned(),
        event_type: event_type.to_owned(),
        payload: payload.to_string(),
        dispatched: false,
        dedupe_key: None,
        created_at: at,
    }
}

/// Whether an endpoint's pattern covers an event type: exact, `prefix.*` (any depth
/// below the prefix) or `*`.
pub fn pattern_matches(pattern: &str, event_type: &str) -> bool {
    if pattern == "*" || pattern == event_type {
        return true;
    }
    pattern.strip_suffix(".*").is_some_and(|prefix| {
        event_type.len() > prefix.len() + 1
            && event_type.starts_with(prefix)
            && event_type.as_bytes()[prefix.len()] == b'.'
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_exactly_or_by_prefix() {
        assert!(pattern_matches(
            "integration.created",
            "integration.created"
        ));
        assert!(pattern_matches("integration.*", "integration.created"));
        assert!(pattern_matches("incoming.*", "incoming.github.push"));
        assert!(pattern_matches("*", "custom.deploy"));
        assert!(!pattern_matches("integration.*", "integrations.created"));
        assert!(!pattern_matches("integration.*", "integration"));
        assert!(!pattern_matches(
            "integration.created",
            "integration.updated"
        ));
    }
}
