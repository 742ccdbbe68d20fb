//! Pending: every action waiting for a decision, oldest first, decided one by one or several
//! of one type at once.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::describe;
use crate::api::{list_actions, ActionQuery, BulkDecideRequest, DecideActions};
use crate::components::decide::DecideButtons;
use crate::components::portal::use_portal;
use crate::components::time::{Time, Waiting};
use crate::components::{error_view::ErrorView, pager::Pager};
use crate::model::{Action, ActionStatus, ActionType};

/// Selected rows: id and type (a bulk decision takes one action type at a time).
type Selection = RwSignal<Vec<(String, ActionType)>>;

#[component]
pub fn PendingTab() -> impl IntoView {
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
    let selected: Selection = RwSignal::new(Vec::new());
    view! {
        <BulkDecision selected=selected/>
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
                                {page.items.into_iter().map(|a| view! { <PendingRow action=a selected=selected/> }).collect_view()}
                            </tbody>
                        </table>
                        <Pager base="/action-center".to_string() next=page.next/>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}

/// Approve or reject the selected actions together, and what came of each.
#[component]
fn BulkDecision(selected: Selection) -> impl IntoView {
    let portal = use_portal();
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
        let ids = selected.get_untracked().into_iter().map(|(id, _)| id);
        bulk.dispatch(DecideActions {
            request: BulkDecideRequest {
                ids: ids.collect(),
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
    }
}

/// One pending action, with its checkbox for bulk decisions.
#[component]
fn PendingRow(action: Action, selected: Selection) -> impl IntoView {
    let a = action;
    let what = describe(&a);
    let (id, kind) = (a.id.clone(), a.action_type);
    let checked = {
        let id = id.clone();
        move || selected.read().iter().any(|(s, _)| *s == id)
    };
    let flip = {
        let id = id.clone();
        move || {
            selected.update(|chosen| {
                if let Some(i) = chosen.iter().position(|(s, _)| *s == id) {
                    chosen.remove(i);
                } else {
                    chosen.push((id.clone(), kind));
                }
            })
        }
    };
    let toggle = {
        let flip = flip.clone();
        move |_| flip()
    };
    view! {
        <tr class="selectable" on:click=move |ev| {
            if crate::components::row_click::on_row_itself(&ev) {
                flip();
            }
        }>
            <td><input type="checkbox" aria-label=format!("Select {what}")
                prop:checked=checked on:change=toggle/></td>
            <td>{a.action_type.label()}
                {a.awaiting().map(|text| view! { <span class="awaiting">{text}</span> })}</td>
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
}
