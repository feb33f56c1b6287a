//! Data sync in the API: sync definitions and their runs, the records they keep
//! (`Integration.records`), `verifySync`, and the live `syncProgress` subscription.

use async_graphql::dataloader::DataLoader;
use async_graphql::{Context, ID, Json, Object, SimpleObject, Subscription};
use chrono::{DateTime, Utc};
use futures_util::{FutureExt, Stream};

use super::connection::{ConnectionNode, IdConnection, PageArgs, connection};
use super::errors::{ApiError, ApiResult};
use super::integrations::Integration;
use super::loaders::IntegrationLoader;
use super::{app, caller};
use crate::domain::integrations as integration_domain;
use crate::domain::sync::verify::{RecordDifference, RecordDifferenceKind};
use crate::domain::sync::{
    self as domain, CreateSyncInput, RecordFilter, SyncRunSelection, SyncRunStatus, SyncTrigger,
    UpdateSyncInput,
};
use crate::domain::templates::definition::PaginationDef;
use crate::events::BusEvent;
use crate::ids::IdKind;

/// A sync definition: which template operation an integration pages through, how often,
/// and how its records are identified and kept.
pub struct SyncObject(pub domain::SyncDefinition);

async fn integration_of(ctx: &Context<'_>, id: &str) -> ApiResult<Option<Integration>> {
    let loader = ctx.data_unchecked::<DataLoader<IntegrationLoader>>();
    Ok(loader.load_one(id.to_owned()).await?.map(Integration))
}

#[Object(name = "Sync")]
impl SyncObject {
    pub async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    /// The integration it reads from.
    async fn integration(&self, ctx: &Context<'_>) -> ApiResult<Option<Integration>> {
        integration_of(ctx, &self.0.integration_id).await
    }
    /// Unique within the integration.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// The template operation each page calls.
    async fn operation(&self) -> &str {
        &self.0.operation
    }
    /// The operation's parameters (a JSON object).
    async fn params(&self) -> Json<&serde_json::Map<String, serde_json::Value>> {
        Json(&self.0.params)
    }
    /// Seconds between scheduled runs.
    async fn interval_seconds(&self) -> i32 {
        self.0.interval_seconds
    }
    /// How pages follow each other (null: the operation answers with one page).
    async fn pagination(&self) -> Option<&PaginationDef> {
        self.0.pagination.as_ref()
    }
    /// JSON pointer to the records array in a page.
    async fn records_pointer(&self) -> &str {
        &self.0.records_pointer
    }
    /// JSON pointer to a record's id within a record.
    async fn record_id_pointer(&self) -> &str {
        &self.0.record_id_pointer
    }
    /// Output field → JSON pointer (null: records are kept whole).
    async fn field_mapping(&self) -> Option<Json<&std::collections::BTreeMap<String, String>>> {
        self.0.field_mapping.as_ref().map(Json)
    }
    /// Records per page asked for (null: the upstream's default).
    async fn page_size(&self) -> Option<i32> {
        self.0.page_size
    }
    /// Scheduled runs happen (startSync / stopSync).
    async fn enabled(&self) -> bool {
        self.0.enabled
    }
    /// When the next scheduled run is due (null while stopped).
    async fn next_run_at(&self) -> Option<DateTime<Utc>> {
        self.0.next_run_at
    }
    /// Name of the token that created it.
    async fn created_by(&self) -> &str {
        &self.0.created_by
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// The newest run (null: never run).
    async fn last_run(&self, ctx: &Context<'_>) -> ApiResult<Option<SyncRun>> {
        let runs = domain::runs(&app(ctx).store, &self.0, Some(1)).await?;
        Ok(runs.into_iter().next().map(SyncRun))
    }
    /// The newest runs, newest first (default 20, at most 500).
    async fn runs(&self, ctx: &Context<'_>, first: Option<i32>) -> ApiResult<Vec<SyncRun>> {
        let runs = domain::runs(&app(ctx).store, &self.0, first).await?;
        Ok(runs.into_iter().map(SyncRun).collect())
    }
}

/// One run of a sync and its progress (updated after every page).
pub struct SyncRun(pub domain::SyncRun);

#[Object]
impl SyncRun {
    pub async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    /// The sync; null once it is deleted.
    async fn sync(&self, ctx: &Context<'_>) -> ApiResult<Option<SyncObject>> {
        match domain::get(&app(ctx).store, caller(ctx)?, &self.0.sync_id).await {
            Ok(sync) => Ok(Some(SyncObject(sync))),
            Err(crate::error::AppError::NotFound { .. }) => Ok(None),
            Err(err) => Err(err.into()),
        }
    }
    async fn sync_id(&self) -> ID {
        ID(self.0.sync_id.clone())
    }
    async fn integration(&self, ctx: &Context<'_>) -> ApiResult<Option<Integration>> {
        integration_of(ctx, &self.0.integration_id).await
    }
    async fn project_id(&self) -> ID {
        ID(self.0.project_id.clone())
    }
    async fn status(&self) -> SyncRunStatus {
        self.0.status
    }
    /// What started it: the schedule, runSync or syncAll.
    async fn trigger(&self) -> SyncTrigger {
        self.0.trigger
    }
    async fn started_at(&self) -> DateTime<Utc> {
        self.0.started_at
    }
    async fn finished_at(&self) -> Option<DateTime<Utc>> {
        self.0.finished_at
    }
    /// Pages read and stored so far.
    async fn pages(&self) -> i32 {
        self.0.pages
    }
    /// Records read so far (every page's records, repeats included).
    async fn fetched(&self) -> i64 {
        self.0.fetched
    }
    /// Records seen for the first time (or again after a deletion).
    async fn created(&self) -> i64 {
        self.0.created
    }
    /// Records whose content (hash) changed.
    async fn updated(&self) -> i64 {
        self.0.updated
    }
    /// Records a complete run did not see, marked deleted at its end.
    async fn deleted(&self) -> i64 {
        self.0.deleted
    }
    /// Failed page attempts and records without an id.
    async fn errors(&self) -> i32 {
        self.0.errors
    }
    /// Where the next page starts (a run resumes from here after a crash).
    async fn cursor(&self) -> Option<Json<&serde_json::Value>> {
        self.0.cursor.as_ref().map(Json)
    }
    /// Why the run failed.
    async fn last_error(&self) -> Option<&str> {
        self.0.last_error.as_deref()
    }
    /// stopSync asked the run to stop; it ends CANCELLED before its next page.
    async fn cancel_requested(&self) -> bool {
        self.0.cancel_requested
    }
    /// When the run last changed (its progress).
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

/// A record a sync keeps.
pub struct SyncRecord(pub domain::SyncRecord);

impl ConnectionNode for SyncRecord {
    const IMMEDIATE_FIELDS: &'static [&'static str] = &[
        "id",
        "recordId",
        "syncId",
        "data",
        "hash",
        "firstSeen",
        "lastSeen",
        "changedAt",
        "deletedAt",
    ];
}

#[Object]
impl SyncRecord {
    /// The record's ID in patchbay (the cursor of `records` listings).
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    /// The record's id upstream (from the sync's recordIdPointer).
    async fn record_id(&self) -> &str {
        &self.0.record_id
    }
    async fn sync_id(&self) -> ID {
        ID(self.0.sync_id.clone())
    }
    /// What is kept of it: the record, or its mapped fields.
    async fn data(&self) -> Json<&serde_json::Value> {
        Json(&self.0.data)
    }
    /// SHA-256 of the data's canonical JSON.
    async fn hash(&self) -> &str {
        &self.0.hash
    }
    async fn first_seen(&self) -> DateTime<Utc> {
        self.0.first_seen
    }
    async fn last_seen(&self) -> DateTime<Utc> {
        self.0.last_seen
    }
    /// When it was created, last changed or deleted.
    async fn changed_at(&self) -> DateTime<Utc> {
        self.0.changed_at
    }
    /// When a complete run no longer saw it (null: present).
    async fn deleted_at(&self) -> Option<DateTime<Utc>> {
        self.0.deleted_at
    }
}

/// The result of `createSync`, `updateSync`, `deleteSync`, `startSync` and `stopSync`.
#[derive(SimpleObject)]
pub struct SyncPayload {
    pub sync: SyncObject,
}

/// One stored record that differs from a fresh read.
pub struct SyncRecordDifference(RecordDifference);

#[Object]
impl SyncRecordDifference {
    async fn record_id(&self) -> &str {
        &self.0.record_id
    }
    async fn kind(&self) -> RecordDifferenceKind {
        self.0.kind
    }
    /// Top-level fields whose values differ (CHANGED).
    async fn fields(&self) -> &[String] {
        &self.0.fields
    }
}

/// How one sync's stored records compare with a fresh read of its first page.
pub struct SyncCheck(domain::SyncCheck);

#[Object]
impl SyncCheck {
    async fn sync(&self) -> SyncObject {
        SyncObject(self.0.sync.clone())
    }
    /// Matching over sampled records, 0-1.
    async fn score(&self) -> f64 {
        self.0.comparison.score
    }
    /// Fresh records compared.
    async fn sampled(&self) -> i32 {
        self.0.comparison.sampled as i32
    }
    /// Sampled records stored with the same content.
    async fn matching(&self) -> i32 {
        self.0.comparison.matching as i32
    }
    async fn differences(&self) -> Vec<SyncRecordDifference> {
        self.0
            .comparison
            .differences
            .iter()
            .cloned()
            .map(SyncRecordDifference)
            .collect()
    }
}

/// The result of `verifySync`: stored records against a fresh sample, with a score.
pub struct SyncVerification(domain::SyncVerification);

#[Object]
impl SyncVerification {
    async fn integration_id(&self) -> ID {
        ID(self.0.integration_id.clone())
    }
    /// Matching records over sampled records across every sync checked, 0-1 (1 when
    /// nothing was sampled).
    async fn score(&self) -> f64 {
        self.0.score
    }
    async fn sampled(&self) -> i32 {
        self.0.sampled as i32
    }
    async fn matching(&self) -> i32 {
        self.0.matching as i32
    }
    /// One comparison per sync.
    async fn syncs(&self) -> Vec<SyncCheck> {
        self.0.syncs.iter().cloned().map(SyncCheck).collect()
    }
    async fn checked_at(&self) -> DateTime<Utc> {
        self.0.checked_at
    }
}

/// `Integration.syncs`.
pub(crate) async fn syncs_of(
    ctx: &Context<'_>,
    integration: &integration_domain::Integration,
) -> ApiResult<Vec<SyncObject>> {
    let syncs = domain::of_integration(&app(ctx).store, caller(ctx)?, integration).await?;
    Ok(syncs.into_iter().map(SyncObject).collect())
}

/// `Integration.records`.
pub(crate) async fn records_of(
    ctx: &Context<'_>,
    integration: &integration_domain::Integration,
    filter: RecordFilter,
    args: PageArgs,
) -> ApiResult<IdConnection<SyncRecord>> {
    let request = args.request(ctx, IdKind::SyncRecord)?;
    let page =
        domain::records(&app(ctx).store, caller(ctx)?, integration, filter, &request).await?;
    Ok(connection(page, &request, |r| r.id.clone(), SyncRecord))
}

#[derive(Default)]
pub struct SyncQuery;

#[Object]
impl SyncQuery {
    /// A sync definition by ID.
    async fn sync(&self, ctx: &Context<'_>, id: ID) -> ApiResult<SyncObject> {
        Ok(SyncObject(
            domain::get(&app(ctx).store, caller(ctx)?, &id).await?,
        ))
    }
    /// A sync run by ID.
    async fn sync_run(&self, ctx: &Context<'_>, id: ID) -> ApiResult<SyncRun> {
        Ok(SyncRun(
            domain::get_run(&app(ctx).store, caller(ctx)?, &id).await?,
        ))
    }
}

#[derive(Default)]
pub struct SyncMutation;

#[Object]
impl SyncMutation {
    /// Defines a sync of an integration made from a template (EDITOR). The operation,
    /// its parameters and the pagination are checked; every problem has its path.
    async fn create_sync(
        &self,
        ctx: &Context<'_>,
        input: CreateSyncInput,
    ) -> ApiResult<SyncPayload> {
        let sync = domain::create(app(ctx), caller(ctx)?, input)
            .boxed()
            .await?;
        Ok(SyncPayload {
            sync: SyncObject(sync),
        })
    }
    /// Changes a sync (EDITOR); omitted fields keep their value.
    async fn update_sync(
        &self,
        ctx: &Context<'_>,
        input: UpdateSyncInput,
    ) -> ApiResult<SyncPayload> {
        let sync = domain::update(app(ctx), caller(ctx)?, input)
            .boxed()
            .await?;
        Ok(SyncPayload {
            sync: SyncObject(sync),
        })
    }
    /// Deletes a sync with its runs and records (EDITOR); returns it as it was.
    async fn delete_sync(&self, ctx: &Context<'_>, id: ID) -> ApiResult<SyncPayload> {
        let sync = domain::delete(app(ctx), caller(ctx)?, &id).await?;
        Ok(SyncPayload {
            sync: SyncObject(sync),
        })
    }
    /// Enables the schedule (EDITOR): a run now, then one every interval.
    async fn start_sync(&self, ctx: &Context<'_>, id: ID) -> ApiResult<SyncPayload> {
        let sync = domain::start(app(ctx), caller(ctx)?, &id).await?;
        Ok(SyncPayload {
            sync: SyncObject(sync),
        })
    }
    /// Disables the schedule (EDITOR); a running run ends CANCELLED before its next page.
    async fn stop_sync(&self, ctx: &Context<'_>, id: ID) -> ApiResult<SyncPayload> {
        let sync = domain::stop(app(ctx), caller(ctx)?, &id).await?;
        Ok(SyncPayload {
            sync: SyncObject(sync),
        })
    }
    /// Runs a sync now (EDITOR), enabled or not; returns the run (RUNNING; follow it with
    /// `syncProgress` or `syncRun`). A sync already running returns its current run.
    async fn run_sync(&self, ctx: &Context<'_>, id: ID) -> ApiResult<SyncRun> {
        Ok(SyncRun(domain::run_now(app(ctx), caller(ctx)?, &id).await?))
    }
    /// Runs every enabled sync of a project now (EDITOR); returns their runs.
    async fn sync_all(&self, ctx: &Context<'_>, project_id: ID) -> ApiResult<Vec<SyncRun>> {
        let runs = domain::run_all(app(ctx), caller(ctx)?, &project_id).await?;
        Ok(runs.into_iter().map(SyncRun).collect())
    }
    /// Compares stored records with a fresh read of a sample (EDITOR: it calls the
    /// upstream): each sync's first page, up to `sample` records (default 20, 1-500).
    async fn verify_sync(
        &self,
        ctx: &Context<'_>,
        integration_id: ID,
        sample: Option<i32>,
        sync_id: Option<ID>,
    ) -> ApiResult<SyncVerification> {
        let report = domain::verify_sync(
            app(ctx),
            caller(ctx)?,
            &integration_id,
            sync_id.as_ref().map(|id| id.as_str()),
            sample,
        )
        .boxed()
        .await?;
        Ok(SyncVerification(report))
    }
}

#[derive(Default)]
pub struct SyncSubscription;

#[Subscription]
impl SyncSubscription {
    /// Sync runs as they start, store each page and end, of a project, a sync, or
    /// everything the caller can see. A subscriber that falls behind gets a LAGGED error.
    async fn sync_progress(
        &self,
        ctx: &Context<'_>,
        project_id: Option<ID>,
        sync_id: Option<ID>,
    ) -> Result<impl Stream<Item = async_graphql::Result<SyncRun>> + use<>, ApiError> {
        let app = app(ctx).clone();
        let selection = SyncRunSelection::visible(
            &app.store,
            caller(ctx)?,
            project_id.as_ref().map(|id| id.as_str()),
            sync_id.as_ref().map(|id| id.as_str()),
        )
        .await?;
        let receiver = app.events.subscribe();
        Ok(super::live(receiver, move |event| match event {
            BusEvent::SyncRun(row) => selection.live(row).map(SyncRun),
            _ => None,
        }))
    }
}
