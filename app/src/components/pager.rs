//! "Next page" for keyset-paginated lists: the cursor lives in the URL, so a page can be shared.

use leptos::prelude::*;
use leptos_router::components::A;

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

/// Percent-encodes everything but unreserved characters (RFC 3986).
pub fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
