//! `compareData`: a deep diff of two JSON documents and a consistency score. A pure
//! function (no store, no I/O); inputs are bounded in depth and size first.
//!
//! Policy, where the issue left it open:
//! - `local` is what patchbay holds, `remote` what the provider answered. ADDED: present
//!   in `remote`, absent from `local`; REMOVED: present in `local`, absent from `remote`;
//!   CHANGED: present in both with different values (a type change included).
//! - Paths are JSON pointers (RFC 6901, `""` is the whole document). In an array matched
//!   by key, the segment is the element's key value instead of its index
//!   (`/users/u-42/email`), so a reordered array reports nothing.
//! - A leaf is a scalar or an empty object or array. `score = matched / compared` where
//!   `compared` counts the leaves looked at: equal leaves count once as matched; a changed
//!   leaf counts once; an added or removed subtree counts all its leaves; a type change
//!   counts the larger side's leaves. Ignored paths count nowhere. Nothing compared: 1.
//! - Numbers are compared by value (`1` equals `1.0`), within `numericTolerance` when given.

use std::collections::{BTreeMap, BTreeSet};

use async_graphql::InputObject;
use serde_json::Value;

use crate::error::AppError;

/// Deepest nesting accepted in `local` or `remote`.
pub const MAX_DEPTH: usize = 64;
/// Most values (scalars and containers) accepted in `local` or `remote`.
pub const MAX_VALUES: usize = 100_000;
/// Most differences listed in a report (all are counted).
pub const MAX_REPORTED: usize = 1_000;
/// Most entries in `arrayKeys` and `ignorePaths`.
const MAX_OPTION_ENTRIES: usize = 100;

/// An array matched by a key field instead of by position.
#[derive(Debug, Clone, InputObject)]
pub struct ArrayKeyInput {
    /// JSON pointer of the array, in report form (`*` matches any one segment).
    pub path: String,
    /// The field of each element that identifies it (a string or number).
    pub key: String,
}

/// How `compareData` matches and what it skips.
#[derive(Debug, Clone, Default, InputObject)]
pub struct CompareOptions {
    /// Arrays matched by a key; every element on both sides must carry a unique key.
    pub array_keys: Option<Vec<ArrayKeyInput>>,
    /// A key for every other array whose elements all carry it (unique per side);
    /// arrays where it does not fit are matched by index.
    pub key_field: Option<String>,
    /// JSON pointers (report form, `*` matches one segment) left out of the comparison.
    pub ignore_paths: Option<Vec<String>>,
    /// Numbers within this absolute difference are equal (default 0).
    pub numeric_tolerance: Option<f64>,
}

/// What differs at a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, async_graphql::Enum)]
#[graphql(name = "DifferenceKind")]
pub enum DifferenceKind {
    /// Present in `remote`, absent from `local`.
    Added,
    /// Present in `local`, absent from `remote`.
    Removed,
    /// Present in both, with different values.
    Changed,
}

/// One difference: where, what kind, and both values (absent side `None`).
#[derive(Debug, Clone, PartialEq)]
pub struct Difference {
    pub path: String,
    pub kind: DifferenceKind,
    pub local: Option<Value>,
    pub remote: Option<Value>,
}

/// The result of a comparison.
#[derive(Debug, Clone, PartialEq)]
pub struct ConsistencyReport {
    /// `matched / compared`, 1 when nothing was compared.
    pub score: f64,
    pub matched: u64,
    pub compared: u64,
    /// The differences, in document order, at most [`MAX_REPORTED`].
    pub differences: Vec<Difference>,
    /// How many differences there are (also those not listed).
    pub difference_count: u64,
    /// How the score was computed, in words.
    pub method: String,
}

/// Why two documents cannot be compared (bad input; nothing internal).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CompareError {
    #[error("nested deeper than {MAX_DEPTH} levels")]
    TooDeep { field: &'static str },
    #[error("more than {MAX_VALUES} values")]
    TooLarge { field: &'static str },
    #[error("{message}")]
    BadOption { field: String, message: String },
    #[error("the array at `{path}` cannot be matched by `{key}`: {reason}")]
    KeyMismatch {
        path: String,
        key: String,
        reason: String,
    },
}

impl From<CompareError> for AppError {
    fn from(err: CompareError) -> Self {
        let field = match &err {
            CompareError::TooDeep { field } | CompareError::TooLarge { field } => {
                (*field).to_owned()
            }
            CompareError::BadOption { field, .. } => field.clone(),
            CompareError::KeyMismatch { .. } => "options.arrayKeys".to_owned(),
        };
        AppError::invalid(field, err.to_string())
    }
}

/// A path pattern: segments, `*` matching any one.
type Pattern = Vec<String>;

struct Rules {
    array_keys: Vec<(Pattern, String)>,
    key_field: Option<String>,
    ignore: Vec<Pattern>,
    tolerance: f64,
}

fn bad(field: impl Into<String>, message: impl Into<String>) -> CompareError {
    CompareError::BadOption {
        field: field.into(),
        message: message.into(),
    }
}

/// Parses a JSON pointer into unescaped segments.
fn parse_pointer(field: &str, text: &str) -> Result<Pattern, CompareError> {
    if text.is_empty() {
        return Ok(Vec::new());
    }
    let Some(rest) = text.strip_prefix('/') else {
        return Err(bad(field, "a JSON pointer starts with `/` (or is empty)"));
    };
    if text.len() > 1_000 {
        return Err(bad(field, "at most 1000 characters"));
    }
    Ok(rest
        .split('/')
        .map(|s| s.replace("~1", "/").replace("~0", "~"))
        .collect())
}

fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

fn pointer(path: &[String]) -> String {
    path.iter().map(|s| format!("/{}", escape(s))).collect()
}

fn matches(pattern: &[String], path: &[String]) -> bool {
    pattern.len() == path.len() && pattern.iter().zip(path).all(|(p, s)| p == "*" || p == s)
}

impl Rules {
    fn from_options(options: &CompareOptions) -> Result<Rules, CompareError> {
        let array_keys = options.array_keys.as_deref().unwrap_or_default();
        let ignore = options.ignore_paths.as_deref().unwrap_or_default();
        if array_keys.len() > MAX_OPTION_ENTRIES {
            return Err(bad(
                "options.arrayKeys",
                format!("at most {MAX_OPTION_ENTRIES} entries"),
            ));
        }
        if ignore.len() > MAX_OPTION_ENTRIES {
            return Err(bad(
                "options.ignorePaths",
                format!("at most {MAX_OPTION_ENTRIES} entries"),
            ));
        }
        let key_name = |field: String, key: &str| {
            if key.is_empty() || key.len() > 200 {
                Err(bad(field, "a field name of 1-200 characters"))
            } else {
                Ok(key.to_owned())
            }
        };
        let array_keys = array_keys
            .iter()
            .enumerate()
            .map(|(i, k)| {
                Ok((
                    parse_pointer(&format!("options.arrayKeys[{i}].path"), &k.path)?,
                    key_name(format!("options.arrayKeys[{i}].key"), &k.key)?,
                ))
            })
            .collect::<Result<_, CompareError>>()?;
        let ignore = ignore
            .iter()
            .enumerate()
            .map(|(i, p)| parse_pointer(&format!("options.ignorePaths[{i}]"), p))
            .collect::<Result<_, _>>()?;
        let key_field = options
            .key_field
            .as_deref()
            .map(|k| key_name("options.keyField".to_owned(), k))
            .transpose()?;
        let tolerance = options.numeric_tolerance.unwrap_or(0.0);
        if !tolerance.is_finite() || tolerance < 0.0 {
            return Err(bad(
                "options.numericTolerance",
                "a finite number of at least 0",
            ));
        }
        Ok(Rules {
            array_keys,
            key_field,
            ignore,
            tolerance,
        })
    }

    fn ignored(&self, path: &[String]) -> bool {
        self.ignore.iter().any(|p| matches(p, path))
    }

    fn equal(&self, local: &Value, remote: &Value) -> bool {
        if local == remote {
            return true;
        }
        let (Value::Number(a), Value::Number(b)) = (local, remote) else {
            return false;
        };
        if let (Some(a), Some(b)) = (a.as_i64(), b.as_i64()) {
            return (a.abs_diff(b) as f64) <= self.tolerance;
        }
        if let (Some(a), Some(b)) = (a.as_u64(), b.as_u64()) {
            return (a.abs_diff(b) as f64) <= self.tolerance;
        }
        match (a.as_f64(), b.as_f64()) {
            (Some(a), Some(b)) => (a - b).abs() <= self.tolerance,
            _ => false,
        }
    }
}

/// Counts values and checks nesting before any comparison.
fn measure(value: &Value, field: &'static str) -> Result<(), CompareError> {
    fn walk(
        v: &Value,
        depth: usize,
        count: &mut usize,
        field: &'static str,
    ) -> Result<(), CompareError> {
        *count += 1;
        if *count > MAX_VALUES {
            return Err(CompareError::TooLarge { field });
        }
        if depth > MAX_DEPTH {
            return Err(CompareError::TooDeep { field });
        }
        match v {
            Value::Array(items) => items
                .iter()
                .try_for_each(|i| walk(i, depth + 1, count, field)),
            Value::Object(map) => map
                .values()
                .try_for_each(|i| walk(i, depth + 1, count, field)),
            _ => Ok(()),
        }
    }
    walk(value, 0, &mut 0, field)
}

/// The key of an element as a path segment (strings and numbers only).
fn key_of(element: &Value, key: &str) -> Option<String> {
    match element.as_object()?.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Elements by key, in order; `Err` names why the key does not fit.
fn keyed<'v>(items: &'v [Value], key: &str) -> Result<Vec<(String, &'v Value)>, String> {
    let mut seen = BTreeSet::new();
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let k = key_of(item, key)
                .ok_or_else(|| format!("element {i} has no string or number `{key}`"))?;
            if !seen.insert(k.clone()) {
                return Err(format!("the key `{k}` appears twice"));
            }
            Ok((k, item))
        })
        .collect()
}

struct Walker<'r> {
    rules: &'r Rules,
    matched: u64,
    compared: u64,
    differences: Vec<Difference>,
    difference_count: u64,
    /// Arrays matched by key: (pointer, key).
    keyed_arrays: BTreeSet<(String, String)>,
}

impl Walker<'_> {
    fn differ(
        &mut self,
        path: &[String],
        kind: DifferenceKind,
        local: Option<&Value>,
        remote: Option<&Value>,
    ) {
        self.difference_count += 1;
        if self.differences.len() < MAX_REPORTED {
            self.differences.push(Difference {
                path: pointer(path),
                kind,
                local: local.cloned(),
                remote: remote.cloned(),
            });
        }
    }

    /// Leaves of a value not under an ignored path.
    fn leaves(&self, path: &mut Vec<String>, value: &Value) -> u64 {
        if self.rules.ignored(path) {
            return 0;
        }
        let mut count = 0;
        match value {
            Value::Object(map) if !map.is_empty() => {
                for (k, v) in map {
                    path.push(k.clone());
                    count += self.leaves(path, v);
                    path.pop();
                }
            }
            Value::Array(items) if !items.is_empty() => {
                for (i, v) in items.iter().enumerate() {
                    path.push(i.to_string());
                    count += self.leaves(path, v);
                    path.pop();
                }
            }
            _ => count = 1,
        }
        count
    }

    fn one_sided(&mut self, path: &mut Vec<String>, local: Option<&Value>, remote: Option<&Value>) {
        if self.rules.ignored(path) {
            return;
        }
        let (kind, value) = match (local, remote) {
            (Some(l), None) => (DifferenceKind::Removed, l),
            (None, Some(r)) => (DifferenceKind::Added, r),
            _ => return,
        };
        self.compared += self.leaves(path, value).max(1);
        self.differ(path, kind, local, remote);
    }

    /// The key an array at `path` is matched by, if any.
    fn array_key(
        &self,
        path: &[String],
        local: &[Value],
        remote: &[Value],
    ) -> Result<Option<String>, CompareError> {
        if let Some((_, key)) = self.rules.array_keys.iter().find(|(p, _)| matches(p, path)) {
            for side in [local, remote] {
                keyed(side, key).map_err(|reason| CompareError::KeyMismatch {
                    path: pointer(path),
                    key: key.clone(),
                    reason,
                })?;
            }
            return Ok(Some(key.clone()));
        }
        Ok(self
            .rules
            .key_field
            .as_ref()
            .filter(|key| keyed(local, key).is_ok() && keyed(remote, key).is_ok())
            .cloned())
    }

    fn walk(
        &mut self,
        path: &mut Vec<String>,
        local: &Value,
        remote: &Value,
    ) -> Result<(), CompareError> {
        if self.rules.ignored(path) {
            return Ok(());
        }
        match (local, remote) {
            (Value::Object(a), Value::Object(b)) if !(a.is_empty() && b.is_empty()) => {
                let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
                for key in keys {
                    path.push(key.clone());
                    match (a.get(key), b.get(key)) {
                        (Some(l), Some(r)) => self.walk(path, l, r)?,
                        (l, r) => self.one_sided(path, l, r),
                    }
                    path.pop();
                }
            }
            (Value::Array(a), Value::Array(b)) if !(a.is_empty() && b.is_empty()) => {
                match self.array_key(path, a, b)? {
                    Some(key) => {
                        self.keyed_arrays.insert((pointer(path), key.clone()));
                        // Checked by `array_key`: both sides key cleanly.
                        let local = keyed(a, &key).unwrap_or_default();
                        let remote: BTreeMap<String, &Value> =
                            keyed(b, &key).unwrap_or_default().into_iter().collect();
                        let local_keys: BTreeSet<&String> = local.iter().map(|(k, _)| k).collect();
                        for (k, l) in &local {
                            path.push(k.clone());
                            match remote.get(k) {
                                Some(r) => self.walk(path, l, r)?,
                                None => self.one_sided(path, Some(l), None),
                            }
                            path.pop();
                        }
                        for (k, r) in keyed(b, &key).unwrap_or_default() {
                            if !local_keys.contains(&k) {
                                path.push(k);
                                self.one_sided(path, None, Some(r));
                                path.pop();
                            }
                        }
                    }
                    None => {
                        for i in 0..a.len().max(b.len()) {
                            path.push(i.to_string());
                            match (a.get(i), b.get(i)) {
                                (Some(l), Some(r)) => self.walk(path, l, r)?,
                                (l, r) => self.one_sided(path, l, r),
                            }
                            path.pop();
                        }
                    }
                }
            }
            _ => {
                if self.rules.equal(local, remote) {
                    self.matched += 1;
                    self.compared += 1;
                } else {
                    let leaves = self
                        .leaves(path, local)
                        .max(self.leaves(path, remote))
                        .max(1);
                    self.compared += leaves;
                    self.differ(path, DifferenceKind::Changed, Some(local), Some(remote));
                }
            }
        }
        Ok(())
    }
}

/// Compares `local` with `remote` (see the module documentation for the rules).
pub fn compare(
    local: &Value,
    remote: &Value,
    options: &CompareOptions,
) -> Result<ConsistencyReport, CompareError> {
    let rules = Rules::from_options(options)?;
    measure(local, "local")?;
    measure(remote, "remote")?;
    let mut walker = Walker {
        rules: &rules,
        matched: 0,
        compared: 0,
        differences: Vec::new(),
        difference_count: 0,
        keyed_arrays: BTreeSet::new(),
    };
    walker.walk(&mut Vec::new(), local, remote)?;
    let score = if walker.compared == 0 {
        1.0
    } else {
        walker.matched as f64 / walker.compared as f64
    };
    let arrays = if walker.keyed_arrays.is_empty() {
        "arrays matched by index".to_owned()
    } else {
        let keyed: Vec<String> = walker
            .keyed_arrays
            .iter()
            .map(|(p, k)| format!("{} by `{k}`", if p.is_empty() { "(root)" } else { p }))
            .collect();
        format!(
            "arrays matched by key ({}), the rest by index",
            keyed.join(", ")
        )
    };
    let method = format!(
        "score = matched leaves / compared leaves = {}/{}; a leaf is a scalar or an empty object or array; an added or removed subtree counts all its leaves, a type change the larger side's; {arrays}; numbers equal within {}; {} ignored path(s)",
        walker.matched,
        walker.compared,
        rules.tolerance,
        rules.ignore.len(),
    );
    Ok(ConsistencyReport {
        score,
        matched: walker.matched,
        compared: walker.compared,
        differences: walker.differences,
        difference_count: walker.difference_count,
        method,
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;

    fn run(local: Value, remote: Value, options: CompareOptions) -> ConsistencyReport {
        compare(&local, &remote, &options).unwrap()
    }

    fn kinds(report: &ConsistencyReport) -> Vec<(String, DifferenceKind)> {
        report
            .differences
            .iter()
            .map(|d| (d.path.clone(), d.kind))
            .collect()
    }

    #[test]
    fn nested_objects_report_each_path_with_both_values() {
        let report = run(
            json!({ "a": 1, "b": { "c": "x", "d": [1, 2] }, "gone": true }),
            json!({ "a": 1, "b": { "c": "y", "d": [1, 2, 3] }, "new": { "n": 1, "m": 2 } }),
            CompareOptions::default(),
        );
        assert_eq!(
            kinds(&report),
            vec![
                ("/b/c".to_owned(), DifferenceKind::Changed),
                ("/b/d/2".to_owned(), DifferenceKind::Added),
                ("/gone".to_owned(), DifferenceKind::Removed),
                ("/new".to_owned(), DifferenceKind::Added),
            ]
        );
        assert_eq!(report.differences[0].local, Some(json!("x")));
        assert_eq!(report.differences[0].remote, Some(json!("y")));
        assert_eq!(report.differences[3].local, None);
        // Matched: a, d/0, d/1 (3); compared: those + c + d/2 + gone + new's 2 leaves = 8.
        assert_eq!((report.matched, report.compared), (3, 8));
        assert!((report.score - 3.0 / 8.0).abs() < 1e-12);
        assert!(report.method.contains("3/8"));
    }

    #[test]
    fn keyed_arrays_ignore_order_and_use_keys_in_paths() {
        let local = json!({ "users": [ { "id": "a", "n": 1 }, { "id": "b", "n": 2 } ] });
        let remote = json!({ "users": [ { "id": "c", "n": 3 }, { "id": "b", "n": 2 }, { "id": "a", "n": 5 } ] });
        let options = CompareOptions {
            array_keys: Some(vec![ArrayKeyInput {
                path: "/users".into(),
                key: "id".into(),
            }]),
            ..Default::default()
        };
        let report = run(local.clone(), remote.clone(), options.clone());
        assert_eq!(
            kinds(&report),
            vec![
                ("/users/a/n".to_owned(), DifferenceKind::Changed),
                ("/users/c".to_owned(), DifferenceKind::Added),
            ]
        );
        assert!(
            report.method.contains("/users by `id`"),
            "{}",
            report.method
        );
        // By index, everything shifts.
        let by_index = run(local, remote, CompareOptions::default());
        assert!(by_index.difference_count > report.difference_count);
        // The same through keyField.
        let report2 = run(
            json!([{ "k": 1 }, { "k": 2, "v": "x" }]),
            json!([{ "k": 2, "v": "x" }, { "k": 1 }]),
            CompareOptions {
                key_field: Some("k".into()),
                ..Default::default()
            },
        );
        assert_eq!(report2.difference_count, 0);
    }

    #[test]
    fn a_key_that_does_not_fit_is_bad_input() {
        let options = CompareOptions {
            array_keys: Some(vec![ArrayKeyInput {
                path: "/xs".into(),
                key: "id".into(),
            }]),
            ..Default::default()
        };
        let err = compare(
            &json!({ "xs": [{ "id": 1 }, { "id": 1 }] }),
            &json!({ "xs": [] }),
            &options,
        )
        .unwrap_err();
        assert!(err.to_string().contains("appears twice"), "{err}");
        let err = compare(
            &json!({ "xs": [{ "no": 1 }] }),
            &json!({ "xs": [] }),
            &options,
        )
        .unwrap_err();
        assert!(err.to_string().contains("element 0"), "{err}");
        assert_eq!(AppError::from(err).code(), "BAD_USER_INPUT");
    }

    #[test]
    fn ignored_paths_tolerance_and_number_forms() {
        let options = CompareOptions {
            ignore_paths: Some(vec!["/meta".into(), "/items/*/updatedAt".into()]),
            numeric_tolerance: Some(0.01),
            ..Default::default()
        };
        let report = run(
            json!({ "meta": { "etag": 1 }, "items": [{ "p": 1.0, "updatedAt": "x" }], "i": 1 }),
            json!({ "meta": { "etag": 2 }, "items": [{ "p": 1.005, "updatedAt": "y" }], "i": 1.0 }),
            options,
        );
        assert_eq!(report.difference_count, 0);
        assert_eq!((report.matched, report.compared), (2, 2));
    }

    #[test]
    fn limits_and_bad_options() {
        let mut deep = json!(1);
        for _ in 0..=MAX_DEPTH {
            deep = json!([deep]);
        }
        assert_eq!(
            compare(&deep, &json!(1), &CompareOptions::default()).unwrap_err(),
            CompareError::TooDeep { field: "local" }
        );
        let wide = Value::Array(vec![json!(0); MAX_VALUES]);
        assert_eq!(
            compare(&json!(1), &wide, &CompareOptions::default()).unwrap_err(),
            CompareError::TooLarge { field: "remote" }
        );
        let bad_pointer = CompareOptions {
            ignore_paths: Some(vec!["meta".into()]),
            ..Default::default()
        };
        assert!(matches!(
            compare(&json!(1), &json!(1), &bad_pointer).unwrap_err(),
            CompareError::BadOption { field, .. } if field == "options.ignorePaths[0]"
        ));
        let bad_tolerance = CompareOptions {
            numeric_tolerance: Some(-1.0),
            ..Default::default()
        };
        assert!(compare(&json!(1), &json!(1), &bad_tolerance).is_err());
    }

    #[test]
    fn pointers_escape_slash_and_tilde() {
        let report = run(
            json!({ "a/b": { "~c": 1 } }),
            json!({ "a/b": { "~c": 2 } }),
            CompareOptions::default(),
        );
        assert_eq!(report.differences[0].path, "/a~1b/~0c");
        let ignored = run(
            json!({ "a/b": { "~c": 1 } }),
            json!({ "a/b": { "~c": 2 } }),
            CompareOptions {
                ignore_paths: Some(vec!["/a~1b/~0c".into()]),
                ..Default::default()
            },
        );
        assert_eq!(ignored.difference_count, 0);
    }

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            (-5i64..5).prop_map(Value::from),
            "[a-c]{0,2}".prop_map(Value::from),
        ];
        leaf.prop_recursive(4, 48, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map("[a-d]", inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    fn swapped(kind: DifferenceKind) -> DifferenceKind {
        match kind {
            DifferenceKind::Added => DifferenceKind::Removed,
            DifferenceKind::Removed => DifferenceKind::Added,
            DifferenceKind::Changed => DifferenceKind::Changed,
        }
    }

    proptest! {
        #[test]
        fn a_document_matches_itself(x in json_value()) {
            let report = compare(&x, &x, &CompareOptions::default()).unwrap();
            prop_assert!(report.differences.is_empty());
            prop_assert_eq!(report.score, 1.0);
            prop_assert_eq!(report.matched, report.compared);
        }

        #[test]
        fn swapping_sides_swaps_added_and_removed(a in json_value(), b in json_value()) {
            let options = CompareOptions { key_field: Some("a".into()), ..Default::default() };
            let forward = compare(&a, &b, &options).unwrap();
            let backward = compare(&b, &a, &options).unwrap();
            let mut expected: Vec<_> = forward
                .differences
                .iter()
                .map(|d| (d.path.clone(), swapped(d.kind), d.remote.clone(), d.local.clone()))
                .collect();
            let mut got: Vec<_> = backward
                .differences
                .iter()
                .map(|d| (d.path.clone(), d.kind, d.local.clone(), d.remote.clone()))
                .collect();
            expected.sort_by(|x, y| (&x.0, x.1).cmp(&(&y.0, y.1)));
            got.sort_by(|x, y| (&x.0, x.1).cmp(&(&y.0, y.1)));
            prop_assert_eq!(expected, got);
            prop_assert_eq!(forward.score, backward.score);
            prop_assert!((0.0..=1.0).contains(&forward.score));
        }
    }
}
