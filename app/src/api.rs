//! Server functions: thin adapters from the portal to `server::…`. Each reads the session,
//! parses its input into domain types, calls the rules and maps the error.

mod account;
mod actions;
mod context;
mod dashboard;
mod decisions;
mod incidents;
mod investigations;
mod policy;
mod session;
mod settings;
mod tokens;
mod users;
mod webhooks;

pub use account::{
    change_password, list_sessions, my_account, revoke_session, sign_out_everywhere,
    ChangePassword, SignOutEverywhere,
};
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
pub use session::{current_user, login, logout, sign_in_options, Login, Logout};
pub use settings::get_settings;
pub use tokens::{create_token, list_tokens, revoke_token, CreateToken};
pub use users::{add_user, change_user, list_users, ChangeUser, UserChange};
pub use webhooks::{list_deliveries, DeliveryQuery};
