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
