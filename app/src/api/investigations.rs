//! The investigations queue for the portal.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::model::{
    AppError, ClusterBy, Investigation, InvestigationStatus, InvestigationSummary,
    InvestigationType, Page,
};

/// One page request of the investigations queue.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InvestigationQuery {
    pub status: Option<InvestigationStatus>,
    pub investigation_type: Option<InvestigationType>,
    pub cursor: Option<String>,
}

#[server(name = ListInvestigations, prefix = "/rpc", endpoint = "list_investigations", input = leptos::server_fn::codec::Json)]
pub async fn list_investigations(
    query: InvestigationQuery,
) -> Result<Page<InvestigationSummary>, AppError> {
    super::context::with_status(
        async move {
            use crate::model::PageRequest;
            let (state, _user) = super::context::user().await?;
            let page = PageRequest::parse(None, query.cursor.as_deref())?;
            airdesk_core::investigations::list(
                &state.db,
                query.status,
                query.investigation_type,
                &page,
            )
            .await
        }
        .await,
    )
}

/// One investigation with its evidence, actions and log.
#[server(name = GetInvestigation, prefix = "/rpc", endpoint = "get_investigation", input = leptos::server_fn::codec::Json)]
pub async fn get_investigation(id: String) -> Result<Investigation, AppError> {
    super::context::with_status(
        async move {
            let (state, _user) = super::context::user().await?;
            airdesk_core::investigations::get(&state.db, &id).await
        }
        .await,
    )
}

/// A signed-in user reports a message as phish; the playbook investigates it. Answers the id of
/// the investigation: a new one, or the one a report of the same copy already started.
#[server(name = ReportMessage, prefix = "/rpc", endpoint = "report_message", input = leptos::server_fn::codec::Json)]
pub async fn report_message(
    mailbox: String,
    internet_message_id: String,
) -> Result<String, AppError> {
    super::context::with_status(
        async move {
            use airdesk_core::investigations::playbook;
            let (state, user) = super::context::user().await?;
            let reported =
                playbook::report(&state, &user, &mailbox, &internet_message_id, None).await?;
            Ok(reported.investigation_id)
        }
        .await,
    )
}

/// An admin starts a manual investigation of a sender, a URL, an attachment or a subject.
#[server(name = StartInvestigation, prefix = "/rpc", endpoint = "start_investigation", input = leptos::server_fn::codec::Json)]
pub async fn start_investigation(by: ClusterBy, value: String) -> Result<String, AppError> {
    super::context::with_status(
        async move {
            use airdesk_core::investigations::playbook;
            let (state, user) = super::context::user().await?;
            Ok(playbook::manual(&state, &user, by, &value).await?.id)
        }
        .await,
    )
}

/// An admin starts a manual investigation of one delivered message.
#[server(name = InvestigateMessage, prefix = "/rpc", endpoint = "investigate_message", input = leptos::server_fn::codec::Json)]
pub async fn investigate_message(
    mailbox: String,
    internet_message_id: String,
) -> Result<String, AppError> {
    super::context::with_status(
        async move {
            use airdesk_core::investigations::playbook;
            let (state, user) = super::context::user().await?;
            let created =
                playbook::manual_message(&state, &user, &mailbox, &internet_message_id).await?;
            Ok(created.id)
        }
        .await,
    )
}
