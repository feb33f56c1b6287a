//! The rooms of `src/` and which may use which (README "Where things are"): a room uses
//! rooms below it, never above. This test fails naming the file, the line and the import
//! when a room reaches where it must not.

use std::path::{Path, PathBuf};

/// (room, forbidden paths, why)
const RULES: &[(&str, &[&str], &str)] = &[
    (
        "src/vault",
        &[
            "crate::outbound",
            "crate::http",
            "crate::graphql",
            "reqwest",
        ],
        "the vault only seals and opens; it never calls out",
    ),
    (
        "src/store",
        &["crate::graphql", "crate::http"],
        "the store knows no API types",
    ),
    (
        "src/domain",
        &["crate::graphql", "crate::http"],
        "the domain knows no API types",
    ),
    (
        "src/jobs",
        &["crate::graphql", "crate::http"],
        "workers are entry points beside the API, not above it",
    ),
    (
        "src/outbound",
        &["crate::graphql", "crate::http", "crate::domain"],
        "outbound sends and returns outcomes; the domain decides what they mean",
    ),
    (
        "src/events",
        &["crate::graphql", "crate::http", "crate::domain"],
        "events carry facts in their own (stored) types",
    ),
    (
        "src/graphql",
        &["crate::store"],
        "GraphQL reads through the domain, which checks the caller's scope",
    ),
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Whether `line` names `path` as code (not in a comment), e.g. `use crate::store::x`,
/// `crate::store::now()`, or `reqwest::Client`.
fn names(line: &str, path: &str) -> bool {
    let code = line.split("//").next().unwrap_or_default();
    code.match_indices(path).any(|(at, _)| {
        let before = code[..at].chars().next_back();
        let after = code[at + path.len()..].chars().next();
        !before.is_some_and(|c| c.is_alphanumeric() || c == '_')
            && !after.is_some_and(|c| c.is_alphanumeric() || c == '_')
    })
}

#[test]
fn rooms_only_reach_down() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut violations = Vec::new();
    for (room, forbidden, why) in RULES {
        let mut files = Vec::new();
        rust_files(&root.join(room), &mut files);
        assert!(!files.is_empty(), "{room} has no Rust files");
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            for (number, line) in text.lines().enumerate() {
                for path in *forbidden {
                    if names(line, path) {
                        violations.push(format!(
                            "{}:{}: imports `{path}` ({why}): {}",
                            file.strip_prefix(root).unwrap().display(),
                            number + 1,
                            line.trim()
                        ));
                    }
                }
            }
        }
    }
    assert!(
        violations.is_empty(),
        "rooms reaching where they must not:\n{}",
        violations.join("\n")
    );
}

#[test]
fn the_checker_sees_imports_and_ignores_comments_and_longer_names() {
    assert!(names("use crate::store::logs::LogQuery;", "crate::store"));
    assert!(names("    let x = crate::store::now();", "crate::store"));
    assert!(names("use crate::store;", "crate::store"));
    assert!(names("    http: reqwest::Client,", "reqwest"));
    assert!(!names("// see crate::store for why", "crate::store"));
    assert!(!names("use crate::storefront::X;", "crate::store"));
    assert!(!names("use my_reqwest_shim::X;", "reqwest"));
}
