//! The `events` subscription: the outbox's events as webhooks receive them
//! (`{type, id, timestamp, projectId, data}`), for live clients such as the dashboard.

use async_graphql::{Context, ID, Subscription};
use futures_util::Stream;

use super::errors::ApiError;
use super::webhooks::Event;
use super::{app, caller};
use crate::domain::webhooks::EventSelection;
use crate::events::BusEvent;

#[derive(Default)]
pub struct EventSubscription;

#[Subscription]
impl EventSubscription {
    /// Events of a project as they are dispatched (after their change committed),
    /// optionally only some types: exact names or patterns such as `integration.*`.
    /// A subscriber that falls behind gets a LAGGED error and the stream ends.
    async fn events(
        &self,
        ctx: &Context<'_>,
        project_id: ID,
        types: Option<Vec<String>>,
    ) -> Result<impl Stream<Item = async_graphql::Result<Event>> + use<>, ApiError> {
        let app = app(ctx).clone();
        let selection =
            EventSelection::visible(&app.store, caller(ctx)?, &project_id, types).await?;
        let receiver = app.events.subscribe();
        Ok(super::live(receiver, move |event| match event {
            BusEvent::Event(row) => selection.live(row).map(Event),
            _ => None,
        }))
    }
}
