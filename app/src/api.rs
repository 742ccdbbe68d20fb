//! Server functions: thin adapters from the portal to `server::…`. Each reads the session,
//! parses its input into domain types, calls the rules and maps the error.

mod actions;
mod context;
mod dashboard;
mod decisions;
mod incidents;
mod investigations;
mod policy;
mod session;
mod users;
mod webhooks;

pub use actions::{get_action, list_actions, ActionQuery};
pub use dashboard::get_dashboard;
pub use decisions::{
    change_action, decide_action, decide_actions, BulkDecideRequest, BulkOutcome, ChangeAction,
    ChangeRequest, DecideAction, DecideActions, DecideRequest,
};
pub use incidents::{get_incident, list_incidents, IncidentQuery};
pub use investigations::{
    get_investigation, list_investigations, InvestigateMessage, InvestigationQuery, ReportMessage,
    StartInvestigation,
};
pub use policy::{get_impact, get_policy};
pub use session::{current_user, login, logout, Login, Logout};
pub use users::{change_user, list_users, ChangeUser, UserChange};
pub use webhooks::{list_deliveries, DeliveryQuery};
