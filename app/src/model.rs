//! Types shared by the browser and the server: what an action, an investigation or a user is.

mod action;
mod enums;
mod error;
mod incident;
mod ingest;
mod investigation;
mod page;
mod time;
mod user;

pub use action::{Action, ActionResult, ActionTarget};
pub use enums::{
    ActionSource, ActionStatus, ActionType, ClusterBy, IncidentSort, IncidentStatus,
    InvestigationStatus, InvestigationType, MessageLocation, MessageResult, Role, Severity,
    Verdict,
};
pub use error::AppError;
pub use incident::{IncidentDetail, IncidentFilter, IncidentSummary};
pub use ingest::{
    EmailAddress, IngestAlert, IngestCluster, IngestForwarding, IngestInvestigation, IngestMessage,
    InternetMessageId,
};
pub use investigation::{
    AlertView, ClusterMessage, ClusterView, ForwardingView, Investigation, InvestigationCreated,
    InvestigationSummary, LogEntry, Milestone,
};
pub use page::{urlencode, Cursor, Page, PageRequest};
pub use time::{display_duration, display_time, local_time, now};
pub use user::{safe_next, CurrentUser, Username};
