//! Anything the router does not know.

use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn NotFoundPage() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http_not_found());
    }
    view! {
        <Title text="Not found"/>
        <main id="content">
            <h1>"Page not found"</h1>
            <p><a href="/incidents">"Go to Incidents"</a></p>
        </main>
    }
}

#[cfg(feature = "ssr")]
fn http_not_found() -> axum::http::StatusCode {
    axum::http::StatusCode::NOT_FOUND
}
