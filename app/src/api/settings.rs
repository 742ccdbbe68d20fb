//! The configuration in force, for the admin's Settings page (read-only, secrets masked).

use leptos::prelude::*;

use crate::model::{AppError, Setting};

/// The effective configuration, and the approval policy in force now (Admin only).
#[server(name = GetSettings, prefix = "/rpc", endpoint = "get_settings", input = leptos::server_fn::codec::Json)]
pub async fn get_settings() -> Result<Vec<Setting>, AppError> {
    super::context::with_status(
        async move {
            let (state, user) = super::context::user().await?;
            user.require_administer()?;
            let mut lines = (*state.settings_view).clone();
            let policy = state.policy.current().describe();
            for (name, value) in [("In force", policy.origin), ("SHA-256", policy.hash)] {
                lines.push(Setting {
                    section: "Approval policy".into(),
                    name: name.into(),
                    value,
                });
            }
            Ok(lines)
        }
        .await,
    )
}
