//! Times on the page. Server and first client render show UTC, so hydration matches; once the
//! portal has hydrated they show the browser's time zone, and waiting times start counting.

use chrono::{DateTime, Utc};
use leptos::prelude::*;

use super::portal::Portal;
use crate::model::{display_duration, display_time, local_time};

/// A point in time, in the reader's zone once hydrated; the exact instant in `datetime`.
#[component]
pub fn Time(at: DateTime<Utc>) -> impl IntoView {
    let hydrated = use_context::<Portal>().map(|p| p.hydrated);
    let text = move || {
        if hydrated.is_some_and(|h| h.get()) {
            local_time(&at)
        } else {
            display_time(&at)
        }
    };
    view! { <time datetime=at.to_rfc3339()>{text}</time> }
}

/// How long since `since`, ticking with the portal's clock; empty until hydrated (the server
/// cannot know when the page will be read).
#[component]
pub fn Waiting(since: DateTime<Utc>) -> impl IntoView {
    let now = use_context::<Portal>().map(|p| p.now);
    move || {
        now.and_then(|n| n.get())
            .map(|now| display_duration(now - since))
    }
}
