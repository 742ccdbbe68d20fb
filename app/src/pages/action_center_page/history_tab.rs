//! History: every decided action, filterable by time, type, status and decider (in the URL),
//! exported as CSV, each row opening a side panel to change or undo it.

use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::params::ParamsMap;

use super::describe;
use crate::api::{list_actions, ActionQuery};
use crate::components::change::{ChangeOptions, ResultsTable};
use crate::components::panel::Panel;
use crate::components::portal::use_portal;
use crate::components::time::Time;
use crate::components::{error_view::ErrorView, pager::Pager};
use crate::model::{urlencode, Action, ActionStatus, ActionType};

/// The History filters, as they appear in the URL.
const TIME_RANGES: [(&str, &str, u32); 4] = [
    ("day", "Last day", 1),
    ("week", "Last week", 7),
    ("30d", "Last 30 days", 30),
    ("6m", "Last 6 months", 183),
];

/// The filters kept in the URL, in the order they are written there.
const FILTERS: [&str; 4] = ["time", "type", "status", "decided_by"];

/// A query parameter, if present and not empty.
fn param(query: Memo<ParamsMap>, name: &str) -> Option<String> {
    query.read().get(name).filter(|v| !v.is_empty())
}

/// The days a `time` filter covers.
fn within_days(time: Option<String>) -> Option<u32> {
    let time = time?;
    TIME_RANGES
        .iter()
        .find(|(k, _, _)| *k == time)
        .map(|(_, _, d)| *d)
}

#[component]
pub fn HistoryTab() -> impl IntoView {
    let portal = use_portal();
    let query = use_query_map();
    let param = move |name: &str| param(query, name);
    let actions = Resource::new(
        move || {
            (
                ActionQuery {
                    status: param("status").as_deref().and_then(ActionStatus::parse),
                    decided: true,
                    action_type: param("type").as_deref().and_then(ActionType::parse),
                    decided_by: param("decided_by"),
                    within_days: within_days(param("time")),
                    cursor: param("cursor"),
                    ..ActionQuery::default()
                },
                portal.changes.get(),
            )
        },
        |(query, _)| list_actions(query),
    );
    let base = move || {
        let mut url = "/action-center?tab=history".to_string();
        for key in FILTERS {
            if let Some(v) = param(key) {
                url.push_str(&format!("&{key}={}", urlencode(&v)));
            }
        }
        url
    };
    let open = RwSignal::new(None::<Action>);
    view! {
        <HistoryFilters/>
        <Transition fallback=|| view! { <p>"Loading history…"</p> }>
            {move || Suspend::new(async move {
                match actions.await {
                    Err(e) => view! { <ErrorView error=e retry=move |_| actions.refetch()/> }.into_any(),
                    Ok(page) if page.items.is_empty() => view! { <p>"No decided actions match."</p> }.into_any(),
                    Ok(page) => view! {
                        <table class="queue">
                            <caption class="visually-hidden">"Action history"</caption>
                            <thead><tr>
                                <th scope="col">"Action"</th>
                                <th scope="col">"Investigation"</th>
                                <th scope="col">"Status"</th>
                                <th scope="col">"Decided by"</th>
                                <th scope="col">"Decided"</th>
                                <th scope="col">"Comment"</th>
                                <th scope="col">"Details"</th>
                            </tr></thead>
                            <tbody>
                                {page.items.into_iter().map(|a| view! { <HistoryRow action=a open=open/> }).collect_view()}
                            </tbody>
                        </table>
                        <Pager base=base() next=page.next/>
                    }.into_any(),
                }
            })}
        </Transition>
        {move || open.get().map(|action| view! { <ActionPanel action=action on_close=move || open.set(None)/> })}
    }
}

/// The filters: changing one rewrites the URL (and starts from the first page); the same
/// filters export as CSV from the REST API (the session signs the download in).
#[component]
fn HistoryFilters() -> impl IntoView {
    let query = use_query_map();
    let param = move |name: &str| param(query, name);
    let navigate = use_navigate();
    let set_filter = move |name: &'static str, value: String| {
        let mut pairs = vec![("tab".to_string(), "history".to_string())];
        for key in FILTERS {
            let current = if key == name {
                Some(value.clone())
            } else {
                param(key)
            };
            if let Some(v) = current.filter(|v| !v.is_empty()) {
                pairs.push((key.into(), v));
            }
        }
        let search: Vec<String> = pairs
            .iter()
            .map(|(k, v)| format!("{k}={}", urlencode(v)))
            .collect();
        navigate(
            &format!("/action-center?{}", search.join("&")),
            Default::default(),
        );
    };
    let export = move || {
        let mut url = "/api/v1/actions/export.csv?".to_string();
        for key in ["status", "type", "decided_by"] {
            if let Some(v) = param(key) {
                url.push_str(&format!("{key}={}&", urlencode(&v)));
            }
        }
        if let Some(days) = within_days(param("time")) {
            url.push_str(&format!("within_days={days}&"));
        }
        url.trim_end_matches(['&', '?']).to_string()
    };
    let (f1, f2, f3, f4) = (
        set_filter.clone(),
        set_filter.clone(),
        set_filter.clone(),
        set_filter,
    );
    view! {
        <div class="filters">
            <label for="history-time">"Time"</label>
            <select id="history-time" on:change=move |e| f1("time", event_target_value(&e))
                prop:value=move || param("time").unwrap_or_default()>
                <option value="">"Any time"</option>
                {TIME_RANGES.iter().map(|(key, label, _)| view! { <option value=*key>{*label}</option> }).collect_view()}
            </select>
            <label for="history-type">"Action type"</label>
            <select id="history-type" on:change=move |e| f2("type", event_target_value(&e))
                prop:value=move || param("type").unwrap_or_default()>
                <option value="">"Any type"</option>
                {ActionType::ALL.iter().map(|t| view! { <option value=t.as_str()>{t.label()}</option> }).collect_view()}
            </select>
            <label for="history-status">"Status"</label>
            <select id="history-status" on:change=move |e| f3("status", event_target_value(&e))
                prop:value=move || param("status").unwrap_or_default()>
                <option value="">"Any status"</option>
                {ActionStatus::ALL.iter().filter(|s| **s != ActionStatus::Pending)
                    .map(|s| view! { <option value=s.as_str()>{s.label()}</option> }).collect_view()}
            </select>
            <label for="history-decided-by">"Decided by"</label>
            <input id="history-decided-by" type="search" prop:value=move || param("decided_by").unwrap_or_default()
                on:change=move |e| f4("decided_by", event_target_value(&e))/>
            <a href=export download="airdesk-history.csv">"Export CSV"</a>
        </div>
    }
}

/// One decided action; its name opens the side panel.
#[component]
fn HistoryRow(action: Action, open: RwSignal<Option<Action>>) -> impl IntoView {
    let a = action;
    let what = describe(&a);
    let row = a.clone();
    let whole = a.clone();
    view! {
        <tr class="selectable" on:click=move |ev| {
            if crate::components::row_click::on_row_itself(&ev) {
                open.set(Some(whole.clone()));
            }
        }>
            <td><button type="button" class="link-like"
                on:click=move |_| open.set(Some(row.clone()))>{what}</button></td>
            <td>{a.investigation_title.clone()}</td>
            <td>{a.status.label()}</td>
            <td>{a.decided_by.clone().unwrap_or_default()}</td>
            <td>{a.decided_at.map(|at| view! { <Time at=at/> })}</td>
            <td>{a.comment.clone().unwrap_or_default()}</td>
            <td>{a.details.clone().unwrap_or_default()}</td>
        </tr>
    }
}

/// The side panel of one decided action: its details and results, and the change options.
#[component]
fn ActionPanel(
    action: Action,
    on_close: impl Fn() + Clone + Send + Sync + 'static,
) -> impl IntoView {
    view! {
        <Panel title=describe(&action) on_close=on_close>
            <dl class="facts">
                <dt>"Status"</dt><dd>{action.status.label()}</dd>
                <dt>"Investigation"</dt><dd><a href=format!("/investigations/{}", action.investigation_id)>{action.investigation_title.clone()}</a></dd>
                <dt>"Decided by"</dt><dd>{action.decided_by.clone().unwrap_or_default()}</dd>
                <dt>"Comment"</dt><dd>{action.comment.clone().unwrap_or_default()}</dd>
                <dt>"Details"</dt><dd>{action.details.clone().unwrap_or_default()}</dd>
            </dl>
            {(!action.results.is_empty()).then(|| view! { <ResultsTable results=action.results.clone()/> })}
            <ChangeOptions action=action.clone()/>
        </Panel>
    }
}
