//! The data loaders: one batched domain read per list page instead of one per row. They
//! load what hangs off a record the caller was already allowed to see (its project, its
//! integration, its credentials status), so they check no scope of their own.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;

use super::errors::to_graphql;
use crate::app::App;
use crate::domain::credentials::{self as credentials_domain, CredentialsInfo};
use crate::domain::integrations::{self as integration_domain, Integration};
use crate::domain::projects::{self as project_domain, Project};
use crate::domain::templates::{self as template_domain, Template};

/// Projects by ID.
pub struct ProjectLoader(pub Arc<App>);

impl Loader<String> for ProjectLoader {
    type Value = Project;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, Self::Value>, Self::Error> {
        let found = project_domain::get_many_unchecked(&self.0.store, keys)
            .await
            .map_err(to_graphql)?;
        Ok(found.into_iter().map(|p| (p.id.clone(), p)).collect())
    }
}

/// Integrations by ID.
pub struct IntegrationLoader(pub Arc<App>);

impl Loader<String> for IntegrationLoader {
    type Value = Integration;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, Self::Value>, Self::Error> {
        let found = integration_domain::get_many_unchecked(&self.0.store, keys)
            .await
            .map_err(to_graphql)?;
        Ok(found.into_iter().map(|i| (i.id.clone(), i)).collect())
    }
}

/// Template versions by ID (what integrations were made from).
pub struct TemplateLoader(pub Arc<App>);

impl Loader<String> for TemplateLoader {
    type Value = Template;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, Self::Value>, Self::Error> {
        let found = template_domain::get_many_unchecked(&self.0.store, keys)
            .await
            .map_err(to_graphql)?;
        Ok(found.into_iter().map(|t| (t.id.clone(), t)).collect())
    }
}

/// Credentials status (never values) by integration ID.
pub struct CredentialsLoader(pub Arc<App>);

impl Loader<String> for CredentialsLoader {
    type Value = CredentialsInfo;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, Self::Value>, Self::Error> {
        let found = credentials_domain::info_many(&self.0.store, keys)
            .await
            .map_err(to_graphql)?;
        Ok(found.into_iter().collect())
    }
}

/// Health states by integration ID.
pub struct HealthStateLoader(pub Arc<App>);

impl Loader<String> for HealthStateLoader {
    type Value = crate::domain::health::Health;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, Self::Value>, Self::Error> {
        let found = crate::domain::health::states_unchecked(&self.0.store, keys)
            .await
            .map_err(to_graphql)?;
        Ok(found
            .into_iter()
            .map(|h| (h.integration_id.clone(), h))
            .collect())
    }
}

/// Health figures by (integration ID, window): one query per window for a page.
pub struct HealthFiguresLoader(pub Arc<App>);

impl Loader<(String, crate::domain::health::HealthWindow)> for HealthFiguresLoader {
    type Value = crate::domain::health::Figures;
    type Error = async_graphql::Error;

    async fn load(
        &self,
        keys: &[(String, crate::domain::health::HealthWindow)],
    ) -> Result<HashMap<(String, crate::domain::health::HealthWindow), Self::Value>, Self::Error>
    {
        let mut by_window: HashMap<crate::domain::health::HealthWindow, Vec<String>> =
            HashMap::new();
        for (id, window) in keys {
            by_window.entry(*window).or_default().push(id.clone());
        }
        let mut out = HashMap::new();
        for (window, ids) in by_window {
            let figures = crate::domain::health::figures_unchecked(&self.0.store, &ids, window)
                .await
                .map_err(to_graphql)?;
            out.extend(figures.into_iter().map(|(id, f)| ((id, window), f)));
        }
        Ok(out)
    }
}

/// Alert rules by ID.
pub struct AlertRuleLoader(pub Arc<App>);

impl Loader<String> for AlertRuleLoader {
    type Value = crate::domain::alerts::AlertRule;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, Self::Value>, Self::Error> {
        let found = crate::domain::alerts::rules_unchecked(&self.0.store, keys)
            .await
            .map_err(to_graphql)?;
        Ok(found.into_iter().map(|r| (r.id.clone(), r)).collect())
    }
}
