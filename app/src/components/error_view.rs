//! How a failed load looks: what went wrong, and a way out (Retry, or Sign in again).

use leptos::prelude::*;

use crate::model::AppError;

/// `retry` reloads what failed; a not-found or forbidden answer offers none (it would only
/// fail again).
#[component]
pub fn ErrorView(
    error: AppError,
    #[prop(optional, into)] retry: Option<Callback<()>>,
) -> impl IntoView {
    let way_out = match error {
        AppError::Unauthenticated => {
            Some(view! { <a href="/login">"Sign in again"</a> }.into_any())
        }
        AppError::NotFound(_)
        | AppError::Forbidden(_)
        | AppError::Refused(_)
        | AppError::Invalid(_) => None,
        _ => retry.map(|retry| {
            view! { <button type="button" on:click=move |_| retry.run(())>"Retry"</button> }
                .into_any()
        }),
    };
    view! {
        <div class="error-state">
            <p role="alert" class="error">{error.to_string()}</p>
            {way_out}
        </div>
    }
}
