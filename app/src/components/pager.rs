//! "Next page" for keyset-paginated lists: the cursor lives in the URL, so a page can be shared.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::model::urlencode;

/// A link to the same view with `cursor=<next>`, keeping the other query parameters.
#[component]
pub fn Pager(base: String, next: Option<String>) -> impl IntoView {
    next.map(|cursor| {
        let sep = if base.contains('?') { '&' } else { '?' };
        let href = format!("{base}{sep}cursor={}", urlencode(&cursor));
        view! {
            <nav class="pager" aria-label="Pages">
                <A href=href>"Next page"</A>
            </nav>
        }
    })
}
