//! `verifySync`'s comparison: stored records against a fresh fetch of a sample, by
//! record id. Self-contained (records in, report out) so it can be replaced by, or fed
//! into, a general `compareData` later.

use std::collections::BTreeMap;

use serde_json::Value;

/// How one sampled record compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, async_graphql::Enum)]
pub enum RecordDifferenceKind {
    /// Upstream has it; the store does not (or has it as deleted).
    Missing,
    /// Both have it, with different content.
    Changed,
}

/// One record that differs.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordDifference {
    pub record_id: String,
    pub kind: RecordDifferenceKind,
    /// Top-level fields whose values differ (sorted), for CHANGED.
    pub fields: Vec<String>,
}

/// The result of a comparison.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// Records of the fresh sample.
    pub sampled: usize,
    /// Sampled records stored with the same content.
    pub matching: usize,
    pub differences: Vec<RecordDifference>,
    /// matching / sampled, 0-1 (1 for an empty sample: nothing disagrees).
    pub score: f64,
}

/// Compares a fresh sample (record id → data) with what is stored for those ids
/// (`None` data: stored as deleted).
pub fn compare(fresh: &[(String, Value)], stored: &BTreeMap<String, Option<Value>>) -> Comparison {
    let mut matching = 0;
    let mut differences = Vec::new();
    for (record_id, data) in fresh {
        match stored.get(record_id) {
            Some(Some(kept)) if kept == data => matching += 1,
            Some(Some(kept)) => differences.push(RecordDifference {
                record_id: record_id.clone(),
                kind: RecordDifferenceKind::Changed,
                fields: changed_fields(kept, data),
            }),
            _ => differences.push(RecordDifference {
                record_id: record_id.clone(),
                kind: RecordDifferenceKind::Missing,
                fields: Vec::new(),
            }),
        }
    }
    let sampled = fresh.len();
    Comparison {
        sampled,
        matching,
        differences,
        score: if sampled == 0 {
            1.0
        } else {
            matching as f64 / sampled as f64
        },
    }
}

/// Top-level keys whose values differ between two objects (`""`: not both objects).
fn changed_fields(kept: &Value, fresh: &Value) -> Vec<String> {
    let (Value::Object(a), Value::Object(b)) = (kept, fresh) else {
        return vec![String::new()];
    };
    let mut fields: Vec<String> = a
        .keys()
        .chain(b.keys())
        .filter(|k| a.get(*k) != b.get(*k))
        .cloned()
        .collect();
    fields.sort();
    fields.dedup();
    fields
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn matching_changed_and_missing_records_are_scored() {
        let fresh = vec![
            ("1".to_owned(), json!({ "a": 1, "b": 2 })),
            ("2".to_owned(), json!({ "a": 1, "b": 3, "c": 0 })),
            ("3".to_owned(), json!({ "a": 1 })),
            ("4".to_owned(), json!({ "a": 1 })),
        ];
        let stored = BTreeMap::from([
            ("1".to_owned(), Some(json!({ "b": 2, "a": 1 }))),
            ("2".to_owned(), Some(json!({ "a": 1, "b": 2 }))),
            ("4".to_owned(), None),
        ]);
        let report = compare(&fresh, &stored);
        assert_eq!(report.sampled, 4);
        assert_eq!(report.matching, 1);
        assert!((report.score - 0.25).abs() < f64::EPSILON);
        assert_eq!(report.differences[0].record_id, "2");
        assert_eq!(report.differences[0].kind, RecordDifferenceKind::Changed);
        assert_eq!(report.differences[0].fields, vec!["b", "c"]);
        assert_eq!(report.differences[1].kind, RecordDifferenceKind::Missing);
        assert_eq!(report.differences[2].record_id, "4");
        assert_eq!(compare(&[], &BTreeMap::new()).score, 1.0);
    }
}
