//! The domain's types, shared by the browser and the server: what an action, an investigation,
//! an incident or a user is, the closed vocabularies, the parsed newtypes (addresses,
//! Message-IDs) and the errors a caller can see. Compiled for both targets, so the portal can
//! pre-check what the server checks again for real.

mod action;
mod actor;
mod address;
mod dashboard;
mod enums;
mod error;
mod evidence;
mod incident;
mod indicator;
mod ingest;
mod investigation;
pub mod message_id;
#[cfg(feature = "openapi")]
mod openapi;
mod page;
mod policy;
mod scope;
mod time;
mod user;
mod webhook;

pub use action::{Action, ActionResult, ActionTarget, Approval, Impact};
pub use actor::{Actor, SystemTask};
pub use address::{EmailAddress, ForwardTarget, InternalDomains, EMAIL_PATTERN, WHITE_SPACE};
pub use dashboard::{Dashboard, Day, TopCluster, WaitStats};
pub use enums::{
    ActionSource, ActionStatus, ActionType, ClusterBy, IncidentSort, IncidentStatus,
    InvestigationStatus, InvestigationType, MessageLocation, MessageResult, Role, Severity,
    Verdict,
};
pub use error::AppError;
pub use evidence::{EvidenceAction, EvidenceKind, EvidenceRow, InvestigationBrief};
pub use incident::{IncidentDetail, IncidentFilter, IncidentSummary};
pub use indicator::{Indicator, IndicatorKind};
pub use ingest::{
    IngestAlert, IngestCluster, IngestForwarding, IngestInvestigation, IngestMessage,
};
pub use investigation::{
    AlertView, ClusterMessage, ClusterView, ForwardingView, Investigation, InvestigationCreated,
    InvestigationSummary, LogEntry, Milestone, ReportView,
};
pub use message_id::InternetMessageId;
pub use page::{urlencode, Cursor, Page, PageRequest};
pub use policy::{Defaults, GroupView, Level, PolicyView, RuleView, Then, Variable};
pub use scope::{ApiToken, NewToken, Scope, Scopes};
pub use time::{days_before, display_duration, display_time, local_time, now, MAX_WITHIN_DAYS};
pub use user::{
    safe_next, CurrentUser, MyAccount, SessionInfo, Setting, SignInOptions, UserAccount, Username,
};
pub use webhook::Delivery;
