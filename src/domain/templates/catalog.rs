//! The built-in catalog: `templates/*.json`, embedded in the binary, checked once per
//! process (a bad file stops start-up naming the file and the JSON path) and written to
//! the store at start-up when its content is new. Why the store and not memory only:
//! integrations reference a template version by ID with a foreign key, and listings page
//! built-ins and custom templates in one query. Each built-in's IDs are derived from its
//! slug and content, so replicas agree and an unchanged file costs one read per start.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use super::definition::{self, Definition, Rules};
use crate::ids::{IdKind, derived_id};
use crate::store::templates::{
    self as template_store, BUILTIN_OWNER, FamilyRow, Installed, TemplateRow,
};
use crate::store::{Store, now};

/// The folder, embedded (its README and validate.py come along; only `*.json` is read).
#[derive(rust_embed::Embed)]
#[folder = "templates/"]
struct Files;

/// One checked built-in template.
#[derive(Debug, Clone)]
pub struct BuiltIn {
    pub file: String,
    pub definition: Definition,
    /// The document as stored (canonical JSON of the definition).
    pub json: String,
    pub hash: String,
}

static CATALOG: OnceLock<Result<Vec<BuiltIn>, String>> = OnceLock::new();

/// The embedded catalog, checked on first use; the error names every bad file and path.
pub fn builtins() -> Result<&'static [BuiltIn], String> {
    CATALOG
        .get_or_init(|| {
            let mut files: Vec<(String, Vec<u8>)> = Files::iter()
                .filter_map(|name| Files::get(&name).map(|f| (name.to_string(), f.data.to_vec())))
                .collect();
            files.sort();
            load(files).map_err(|problems| problems.join("\n"))
        })
        .as_ref()
        .map(Vec::as_slice)
        .map_err(Clone::clone)
}

/// Checks template files (`name.json`, content); every problem as `templates/<file>: <path>: <message>`.
pub fn load(files: Vec<(String, Vec<u8>)>) -> Result<Vec<BuiltIn>, Vec<String>> {
    let mut problems = Vec::new();
    let mut loaded = Vec::new();
    for (file, bytes) in files {
        let Some(slug) = file.strip_suffix(".json") else {
            continue;
        };
        let doc: serde_json::Value = match serde_json::from_slice(&bytes) {
            Ok(doc) => doc,
            Err(e) => {
                problems.push(format!("templates/{file}: $: not valid JSON: {e}"));
                continue;
            }
        };
        match definition::check(&doc, "$", Rules { built_in: true }, Some(slug)) {
            Ok(definition) => {
                let json = serde_json::to_string(&definition).unwrap_or_default();
                let hash = super::content_hash(&json);
                loaded.push(BuiltIn {
                    file,
                    definition,
                    json,
                    hash,
                });
            }
            Err(found) => problems.extend(
                found
                    .into_iter()
                    .map(|p| format!("templates/{file}: {}: {}", p.field, p.message)),
            ),
        }
    }
    if problems.is_empty() {
        Ok(loaded)
    } else {
        Err(problems)
    }
}

/// Whether a built-in template has this slug (custom templates may not take it).
pub fn is_builtin_slug(slug: &str) -> bool {
    builtins().is_ok_and(|all| all.iter().any(|b| b.definition.slug == slug))
}

/// What start-up did with the catalog.
#[derive(Debug, Clone, Copy)]
pub struct InstallReport {
    pub templates: usize,
    /// Built-ins written (new, or changed since the last start).
    pub written: usize,
    pub elapsed: Duration,
}

/// Checks the catalog and writes what is new to the store (start-up).
pub async fn install(store: &Store) -> anyhow::Result<InstallReport> {
    let started = Instant::now();
    let builtins = builtins()
        .map_err(|problems| anyhow::anyhow!("the built-in templates are not valid:\n{problems}"))?;
    let stored: std::collections::HashMap<String, String> = template_store::builtin_hashes(store)
        .await?
        .into_iter()
        .collect();
    let mut written = 0;
    for builtin in builtins {
        let slug = &builtin.definition.slug;
        if stored.get(slug) == Some(&builtin.hash) {
            continue;
        }
        let at = now();
        let family = FamilyRow {
            id: derived_id(IdKind::TemplateFamily, format!("builtin:{slug}").as_bytes()),
            owner: BUILTIN_OWNER.to_owned(),
            project_id: None,
            slug: slug.clone(),
            built_in: true,
            shared_with_all: true,
            created_at: at,
        };
        let d = &builtin.definition;
        let row = TemplateRow {
            id: derived_id(
                IdKind::Template,
                format!("builtin:{slug}:{}", builtin.hash).as_bytes(),
            ),
            family_id: family.id.clone(),
            project_id: None,
            version: 1,
            state: super::TemplateState::Published.as_str().to_owned(),
            is_current: true,
            built_in: true,
            support_level: super::SupportLevel::Official.as_str().to_owned(),
            slug: slug.clone(),
            name: d.name.clone(),
            description: d.description.clone(),
            category: d.category.as_str().to_owned(),
            protocol: d.protocol.as_str().to_owned(),
            icon: d.icon.clone(),
            definition: builtin.json.clone(),
            content_hash: builtin.hash.clone(),
            created_by: "patchbay".to_owned(),
            created_at: at,
            updated_at: at,
            published_at: Some(at),
            deprecated_at: None,
        };
        if let Installed::NewVersion(version) =
            template_store::install_builtin(store, &family, &row).await?
        {
            tracing::debug!(slug, version, "built-in template written");
            written += 1;
        }
    }
    Ok(InstallReport {
        templates: builtins.len(),
        written,
        elapsed: started.elapsed(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every built-in loads, and its schemas accept its own examples (checked here again,
    /// directly, so a change to the checker cannot silently skip them).
    #[test]
    fn every_builtin_loads_and_validates_its_own_examples() {
        let all = builtins().unwrap_or_else(|problems| panic!("{problems}"));
        assert!(all.len() >= 45, "only {} built-in templates", all.len());
        for builtin in all {
            let d = &builtin.definition;
            let config = definition::compile(&d.config_schema).unwrap();
            assert!(
                config.is_valid(&d.example_config),
                "{}: exampleConfig",
                builtin.file
            );
            let credentials = definition::compile(&d.credential_schema).unwrap();
            let example = d.example_credentials.clone().unwrap();
            assert!(
                credentials.is_valid(&example),
                "{}: exampleCredentials",
                builtin.file
            );
            assert!(
                d.operation(&d.health_check.operation).is_some(),
                "{}: health check operation",
                builtin.file
            );
            // Not a tautology: a wrong config must fail the same schema.
            if d.config_schema.get("required").is_some() {
                assert!(!config.is_valid(&serde_json::json!({})), "{}", builtin.file);
            }
        }
    }

    #[test]
    fn a_bad_file_is_refused_naming_the_file_and_the_path() {
        let good = Files::get("jira.json").unwrap().data.to_vec();
        let mut doc: serde_json::Value = serde_json::from_slice(&good).unwrap();
        doc["operations"][2]["path"] = serde_json::json!("/rest/api/3/issue/{key}");
        let bad = serde_json::to_vec(&doc).unwrap();
        let problems = load(vec![("jira.json".into(), bad)]).unwrap_err();
        assert!(
            problems
                .iter()
                .any(|p| p.starts_with("templates/jira.json: $.operations[2].path: ")),
            "{problems:?}"
        );
        let problems = load(vec![("x.json".into(), b"{".to_vec())]).unwrap_err();
        assert!(problems[0].starts_with("templates/x.json: $: not valid JSON"));
    }
}
