//! `compareData`: a deep diff of two JSON documents with a consistency score (the rules
//! are in `crate::domain::compare`).

use async_graphql::{Context, Json, Object, SimpleObject};
use serde_json::Value;

use super::caller;
use super::errors::ApiResult;
use crate::domain::compare::{self as domain, CompareOptions, DifferenceKind};
use crate::error::AppError;

/// One difference between `local` and `remote`.
#[derive(SimpleObject)]
pub struct Difference {
    /// JSON pointer of the value (`""` is the whole document); in arrays matched by key
    /// the segment is the element's key, else its index.
    pub path: String,
    /// ADDED: only in `remote`; REMOVED: only in `local`; CHANGED: in both, different.
    pub kind: DifferenceKind,
    /// The value in `local` (null when absent).
    pub local: Option<Json<Value>>,
    /// The value in `remote` (null when absent).
    pub remote: Option<Json<Value>>,
}

/// How consistent two documents are.
#[derive(SimpleObject)]
pub struct ConsistencyReport {
    /// `matched / compared` leaves, 0-1 (1 when nothing was compared). A leaf is a scalar
    /// or an empty object or array; an added or removed subtree counts all its leaves, a
    /// type change the larger side's; ignored paths count nowhere.
    pub score: f64,
    /// Leaves compared (the score's denominator).
    pub compared: i64,
    /// Leaves equal on both sides (the score's numerator).
    pub matched: i64,
    /// How the score was computed, in words (arrays matched by key, tolerance, ignored paths).
    pub method: String,
    /// The differences in document order (at most 1000 listed).
    pub differences: Vec<Difference>,
    /// Every difference counted, also those beyond the listed 1000.
    pub difference_count: i64,
    /// Whether `differences` was cut at 1000.
    pub truncated: bool,
}

impl From<domain::ConsistencyReport> for ConsistencyReport {
    fn from(report: domain::ConsistencyReport) -> Self {
        let listed = report.differences.len() as u64;
        ConsistencyReport {
            score: report.score,
            compared: i64::try_from(report.compared).unwrap_or(i64::MAX),
            matched: i64::try_from(report.matched).unwrap_or(i64::MAX),
            method: report.method,
            truncated: report.difference_count > listed,
            difference_count: i64::try_from(report.difference_count).unwrap_or(i64::MAX),
            differences: report
                .differences
                .into_iter()
                .map(|d| Difference {
                    path: d.path,
                    kind: d.kind,
                    local: d.local.map(Json),
                    remote: d.remote.map(Json),
                })
                .collect(),
        }
    }
}

#[derive(Default)]
pub struct CompareQuery;

#[Object]
impl CompareQuery {
    /// Compares what patchbay holds (`local`) with what a provider answered (`remote`):
    /// every added, removed and changed path with both values, and a consistency score
    /// (any authenticated caller; nothing is stored). Inputs are limited to 64 levels and
    /// 100,000 values each (BAD_USER_INPUT beyond).
    async fn compare_data(
        &self,
        ctx: &Context<'_>,
        local: Json<Value>,
        remote: Json<Value>,
        options: Option<CompareOptions>,
    ) -> ApiResult<ConsistencyReport> {
        caller(ctx)?;
        let report = domain::compare(&local.0, &remote.0, &options.unwrap_or_default())
            .map_err(AppError::from)?;
        Ok(report.into())
    }
}
