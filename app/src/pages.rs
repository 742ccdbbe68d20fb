//! One module per page of the portal.

pub mod account_page;
pub mod action_center_page;
pub mod dashboard_page;
pub mod deliveries_page;
pub mod incident_page;
pub mod incidents_page;
pub mod investigation_page;
pub mod investigations_page;
pub mod login_page;
pub mod not_found_page;
pub mod office_action_center_page;
pub mod policy_page;
pub mod settings_page;
pub mod tokens_page;
pub mod users_page;
