//! How a failed load looks.

use leptos::prelude::*;

use crate::model::AppError;

#[component]
pub fn ErrorView(error: AppError) -> impl IntoView {
    let hint = match error {
        AppError::Unauthenticated => "Your session has ended. Sign in again.",
        _ => "",
    };
    view! {
        <p role="alert" class="error">{error.to_string()}" "{hint}</p>
    }
}
