//! API tokens, for the admin's API tokens page: the same core functions `airdesk token …`
//! calls.

use leptos::prelude::*;

use crate::model::{ApiToken, AppError, NewToken};

/// Every token, newest first, with its last use (Admin only).
#[server(name = ListTokens, prefix = "/rpc", endpoint = "list_tokens", input = leptos::server_fn::codec::Json)]
pub async fn list_tokens() -> Result<Vec<ApiToken>, AppError> {
    super::context::with_status(
        async move {
            let (state, user) = super::context::user().await?;
            user.require_administer()?;
            let tokens = airdesk_core::tokens::list(&state.db).await?;
            let now = chrono::Utc::now();
            Ok(tokens
                .into_iter()
                .map(|t| ApiToken {
                    id: t.id,
                    username: t.username,
                    label: t.label,
                    scopes: t
                        .scopes
                        .unwrap_or_else(|| crate::model::Scopes::ALL.to_words()),
                    created_at: t.created_at,
                    expired: t.expires_at.is_some_and(|at| at <= now),
                    expires_at: t.expires_at,
                    last_used_at: t.last_used_at,
                    revoked_at: t.revoked_at,
                })
                .collect())
        }
        .await,
    )
}

/// Makes a token for a user with the scopes named (`read,ingest`), expiring after
/// `expires_days` days or never (Admin only). The secret is in the answer, and nowhere else.
#[server(name = CreateToken, prefix = "/rpc", endpoint = "create_token", input = leptos::server_fn::codec::Json)]
pub async fn create_token(
    username: String,
    label: String,
    scopes: String,
    expires_days: Option<u32>,
) -> Result<NewToken, AppError> {
    super::context::with_status(
        async move {
            use crate::model::Scopes;
            let (state, user) = super::context::user().await?;
            user.require_administer()?;
            let label = label.trim();
            if label.is_empty() || label.chars().count() > 100 {
                return Err(AppError::Invalid(
                    "a token needs a label of 1 to 100 characters".into(),
                ));
            }
            let scopes = Scopes::parse(&scopes).ok_or_else(|| {
                AppError::Invalid("name one or more scopes: read, ingest, decide, admin".into())
            })?;
            let expires_at = match expires_days {
                None | Some(0) => None,
                Some(days) if days > 3650 => {
                    return Err(AppError::Invalid("a token expires within 3650 days".into()))
                }
                Some(days) => Some(chrono::Utc::now() + chrono::Duration::days(i64::from(days))),
            };
            let grant = airdesk_core::tokens::Grant {
                label: label.to_string(),
                scopes,
                expires_at,
            };
            let actor = crate::model::Actor::from(&user);
            let created =
                airdesk_core::tokens::create(&state.db, &actor, username.trim(), &grant).await?;
            Ok(NewToken {
                id: created.id,
                secret: created.secret,
            })
        }
        .await,
    )
}

/// Revokes a token: every later request with it gets 401 (Admin only).
#[server(name = RevokeToken, prefix = "/rpc", endpoint = "revoke_token", input = leptos::server_fn::codec::Json)]
pub async fn revoke_token(id: String) -> Result<(), AppError> {
    super::context::with_status(
        async move {
            let (state, user) = super::context::user().await?;
            user.require_administer()?;
            let actor = crate::model::Actor::from(&user);
            airdesk_core::tokens::revoke(&state.db, &actor, id.trim()).await
        }
        .await,
    )
}
