//! Action center: Pending (approve, reject, bulk) and History (every decided action, filterable,
//! with a side panel to change or undo), as tabs in the URL.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_query_map};

use crate::api::{list_actions, ActionQuery, BulkDecideRequest, DecideActions};
use crate::components::change::{ChangeOptions, ResultsTable};
use crate::components::decide::DecideButtons;
use crate::components::panel::Panel;
use crate::components::portal::use_portal;
use crate::components::time::{Time, Waiting};
use crate::components::{error_view::ErrorView, pager::Pager};
use crate::model::{urlencode, Action, ActionStatus, ActionType};

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

#[component]
fn PendingTab() -> impl IntoView {
    let portal = use_portal();
    let query = use_query_map();
    let actions = Resource::new(
        move || {
            (
                ActionQuery {
                    status: Some(ActionStatus::Pending),
                    cursor: query.read().get("cursor"),
                    ..ActionQuery::default()
                },
                portal.changes.get(),
            )
        },
        |(query, _)| list_actions(query),
    );
    // Selected rows: id and type (a bulk decision takes one action type at a time).
    let selected = RwSignal::new(Vec::<(String, ActionType)>::new());
    let bulk = ServerAction::<DecideActions>::new();
    Effect::new(move |_| {
        if let Some(Ok(_)) = bulk.value().get() {
            selected.set(Vec::new());
            portal.changed();
        }
    });
    let one_type = move || {
        let chosen = selected.read();
        chosen
            .first()
            .is_some_and(|(_, t)| chosen.iter().all(|(_, other)| other == t))
    };
    let decide_selected = move |approve: bool| {
        bulk.dispatch(DecideActions {
            request: BulkDecideRequest {
                ids: selected
                    .get_untracked()
                    .into_iter()
                    .map(|(id, _)| id)
                    .collect(),
                approve,
                comment: None,
            },
        });
    };
    let bulk_disabled = move || !portal.can_decide() || !one_type() || bulk.pending().get();
    view! {
        <div class="bulk" role="group" aria-label="Selected actions">
            <span>{move || format!("{} selected", selected.read().len())}</span>
            <button type="button" class="approve" disabled=bulk_disabled on:click=move |_| decide_selected(true)>"Approve selected"</button>
            <button type="button" class="reject" disabled=bulk_disabled on:click=move |_| decide_selected(false)>"Reject selected"</button>
            {move || (selected.read().len() > 1 && !one_type()).then(|| view! {
                <span class="error">"Select actions of one type to decide them together."</span>
            })}
        </div>
        {move || bulk.value().get().map(|outcome| match outcome {
            Err(e) => view! { <p role="alert" class="error">{e.to_string()}</p> }.into_any(),
            Ok(results) => view! {
                <div role="status" class="results">
                    <p>{format!("Decided {} of {} selected actions.", results.iter().filter(|r| r.error.is_none()).count(), results.len())}</p>
                    <ul>
                        {results.into_iter().map(|r| view! {
                            <li>{r.id}": "{match (r.status, r.error) {
                                (Some(status), _) => status.label().to_string(),
                                (None, Some(error)) => error,
                                (None, None) => String::new(),
                            }}</li>
                        }).collect_view()}
                    </ul>
                </div>
            }.into_any(),
        })}
        <Transition fallback=|| view! { <p>"Loading actions…"</p> }>
            {move || Suspend::new(async move {
                match actions.await {
                    Err(e) => view! { <ErrorView error=e retry=move |_| actions.refetch()/> }.into_any(),
                    Ok(page) if page.items.is_empty() => view! { <p>"No actions are waiting for approval."</p> }.into_any(),
                    Ok(page) => view! {
                        <table class="queue">
                            <caption class="visually-hidden">"Pending actions"</caption>
                            <thead><tr>
                                <th scope="col"><span class="visually-hidden">"Select"</span></th>
                                <th scope="col">"Action type"</th>
                                <th scope="col">"Entity"</th>
                                <th scope="col">"Investigation"</th>
                                <th scope="col">"Incident"</th>
                                <th scope="col">"Source"</th>
                                <th scope="col">"Created"</th>
                                <th scope="col">"Waiting time"</th>
                                <th scope="col">"Decision"</th>
                                <th scope="col"><span class="visually-hidden">"Investigation page"</span></th>
                            </tr></thead>
                            <tbody>
                                {page.items.into_iter().map(|a| {
                                    let what = describe(&a);
                                    let (id, kind) = (a.id.clone(), a.action_type);
                                    let checked = {
                                        let id = id.clone();
                                        move || selected.read().iter().any(|(s, _)| *s == id)
                                    };
                                    let toggle = {
                                        let id = id.clone();
                                        move |_| selected.update(|chosen| {
                                            if let Some(i) = chosen.iter().position(|(s, _)| *s == id) {
                                                chosen.remove(i);
                                            } else {
                                                chosen.push((id.clone(), kind));
                                            }
                                        })
                                    };
                                    view! {
                                        <tr>
                                            <td><input type="checkbox" aria-label=format!("Select {what}")
                                                prop:checked=checked on:change=toggle/></td>
                                            <td>{a.action_type.label()}</td>
                                            <td>{a.target.describe()}</td>
                                            <td>{a.investigation_title.clone()}</td>
                                            <td><a href=format!("/incidents/{}", a.incident_id)>{a.incident_title.clone()}</a></td>
                                            <td>{a.source.label()}</td>
                                            <td><Time at=a.created_at/></td>
                                            <td><Waiting since=a.created_at/></td>
                                            <td><DecideButtons id=id what=what/></td>
                                            <td><a href=format!("/investigations/{}", a.investigation_id)>"Open investigation page"</a></td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                        <Pager base="/action-center".to_string() next=page.next/>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}

/// The History filters, as they appear in the URL.
const TIME_RANGES: [(&str, &str, u32); 4] = [
    ("day", "Last day", 1),
    ("week", "Last week", 7),
    ("30d", "Last 30 days", 30),
    ("6m", "Last 6 months", 183),
];

#[component]
fn HistoryTab() -> impl IntoView {
    let portal = use_portal();
    let query = use_query_map();
    let navigate = use_navigate();
    let param = move |name: &str| query.read().get(name).filter(|v| !v.is_empty());
    let actions = Resource::new(
        move || {
            (
                ActionQuery {
                    status: param("status").as_deref().and_then(ActionStatus::parse),
                    decided: true,
                    action_type: param("type").as_deref().and_then(ActionType::parse),
                    decided_by: param("decided_by"),
                    within_days: param("time").and_then(|t| {
                        TIME_RANGES
                            .iter()
                            .find(|(k, _, _)| *k == t)
                            .map(|(_, _, d)| *d)
                    }),
                    cursor: param("cursor"),
                    ..ActionQuery::default()
                },
                portal.changes.get(),
            )
        },
        |(query, _)| list_actions(query),
    );
    // Changing a filter rewrites the URL (and starts from the first page).
    let set_filter = move |name: &'static str, value: String| {
        let mut pairs: Vec<(String, String)> = vec![("tab".into(), "history".into())];
        for key in ["time", "type", "status", "decided_by"] {
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
    let base = move || {
        let mut url = "/action-center?tab=history".to_string();
        for key in ["time", "type", "status", "decided_by"] {
            if let Some(v) = param(key) {
                url.push_str(&format!("&{key}={}", urlencode(&v)));
            }
        }
        url
    };
    // The same filters, as a CSV download from the REST API (the session signs it in).
    let export = move || {
        let mut url = "/api/v1/actions/export.csv?".to_string();
        for (key, name) in [
            ("status", "status"),
            ("type", "type"),
            ("decided_by", "decided_by"),
        ] {
            if let Some(v) = param(key) {
                url.push_str(&format!("{name}={}&", urlencode(&v)));
            }
        }
        if let Some(days) = param("time").and_then(|t| {
            TIME_RANGES
                .iter()
                .find(|(k, _, _)| *k == t)
                .map(|(_, _, d)| *d)
        }) {
            url.push_str(&format!("within_days={days}&"));
        }
        url.trim_end_matches(['&', '?']).to_string()
    };
    let open = RwSignal::new(None::<Action>);
    let (f1, f2, f3, f4) = (
        set_filter.clone(),
        set_filter.clone(),
        set_filter.clone(),
        set_filter,
    );
    // Erased: the filters and the table together make a type too deep for the compiler.
    let filters = view! {
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
    .into_any();
    view! {
        {filters}
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
                                {page.items.into_iter().map(|a| {
                                    let what = describe(&a);
                                    let row = a.clone();
                                    view! {
                                        <tr>
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
                                }).collect_view()}
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
