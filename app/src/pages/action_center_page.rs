//! Action center: Pending (approve, reject, bulk) and History (every decided action, filterable,
//! with a side panel to change or undo), as tabs in the URL.

mod history_tab;
mod pending_tab;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::model::Action;
use history_tab::HistoryTab;
use pending_tab::PendingTab;

#[component]
pub fn ActionCenterPage() -> impl IntoView {
    let query = use_query_map();
    let history = move || query.read().get("tab").as_deref() == Some("history");
    view! {
        <Title text="Action center"/>
        <h1>"Action center"</h1>
        <div role="tablist" aria-label="Action center" class="tabs">
            <a role="tab" href="/action-center" aria-selected=move || (!history()).to_string()>"Pending"</a>
            <a role="tab" href="/action-center?tab=history" aria-selected=move || history().to_string()>"History"</a>
        </div>
        <div role="tabpanel" aria-label=move || if history() { "History" } else { "Pending" }>
            {move || if history() { view! { <HistoryTab/> }.into_any() } else { view! { <PendingTab/> }.into_any() }}
        </div>
    }
}

/// What a row is about, in words: "Soft delete email cluster: URL: http://…".
pub fn describe(action: &Action) -> String {
    format!(
        "{}: {}",
        action.action_type.label(),
        action.target.describe()
    )
}
