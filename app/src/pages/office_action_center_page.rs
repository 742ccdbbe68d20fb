//! Office action center (`/threatincidents`): the remediations — approved email actions, with
//! their message counts and status. Selecting one opens a side panel whose Mail submissions entry
//! loads the messages it acted on; the Action button stays disabled until they have loaded, then
//! offers the types the remediation can be changed to.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::{get_action, get_investigation, list_actions, ActionQuery};
use crate::components::change::{changes_for, ChangeOptions};
use crate::components::panel::Panel;
use crate::components::portal::use_portal;
use crate::components::time::Time;
use crate::components::{error_view::ErrorView, pager::Pager};
use crate::model::{Action, ActionResult, ClusterMessage, Investigation};
use crate::pages::action_center_page::describe;

#[component]
pub fn OfficeActionCenterPage() -> impl IntoView {
    let portal = use_portal();
    let query = use_query_map();
    let remediations = Resource::new(
        move || {
            (
                ActionQuery {
                    remediations: true,
                    cursor: query.read().get("cursor"),
                    ..ActionQuery::default()
                },
                portal.changes.get(),
            )
        },
        |(query, _)| list_actions(query),
    );
    let open = RwSignal::new(None::<Action>);
    view! {
        <Title text="Office action center"/>
        <h1>"Office action center"</h1>
        <Transition fallback=|| view! { <p role="status">"Loading remediations…"</p> }>
            {move || Suspend::new(async move {
                match remediations.await {
                    Err(e) => view! { <ErrorView error=e retry=move |_| remediations.refetch()/> }.into_any(),
                    Ok(page) if page.items.is_empty() => view! { <p>"No remediations yet: approved email actions appear here."</p> }.into_any(),
                    Ok(page) => view! {
                        <table class="queue">
                            <caption class="visually-hidden">"Remediations"</caption>
                            <thead><tr>
                                <th scope="col">"Remediation"</th>
                                <th scope="col">"Status"</th>
                                <th scope="col">"Messages"</th>
                                <th scope="col">"Approved by"</th>
                                <th scope="col">"Approved"</th>
                            </tr></thead>
                            <tbody>
                                {page.items.into_iter().map(|a| {
                                    let row = a.clone();
                                    let whole = a.clone();
                                    let messages = a.target.email_count.unwrap_or(1);
                                    view! {
                                        <tr class="selectable" on:click=move |ev| {
                                            if crate::components::row_click::on_row_itself(&ev) {
                                                open.set(Some(whole.clone()));
                                            }
                                        }>
                                            <td><button type="button" class="link-like" on:click=move |_| open.set(Some(row.clone()))>{describe(&a)}</button></td>
                                            <td>{a.status.label()}</td>
                                            <td>{messages}</td>
                                            <td>{a.decided_by.clone().unwrap_or_default()}</td>
                                            <td>{a.decided_at.map(|at| view! { <Time at=at/> })}</td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                        <Pager base="/threatincidents".to_string() next=page.next/>
                    }.into_any(),
                }
            })}
        </Transition>
        {move || open.get().map(|action| view! { <RemediationPanel action=action on_close=move || open.set(None)/> })}
    }
}

#[component]
fn RemediationPanel(
    action: Action,
    on_close: impl Fn() + Clone + Send + Sync + 'static,
) -> impl IntoView {
    let portal = use_portal();
    // Mail submissions load when asked for: the messages the remediation covers (from its
    // investigation's evidence), with where each is now and what execution did to it.
    let asked = RwSignal::new(false);
    let (id, investigation_id) = (action.id.clone(), action.investigation_id.clone());
    let submissions = Resource::new(
        move || asked.get().then(|| (id.clone(), investigation_id.clone())),
        |ids| async move {
            let Some((id, investigation_id)) = ids else {
                return Ok(None);
            };
            let action = get_action(id).await?;
            let investigation = get_investigation(investigation_id).await?;
            Ok(Some(submissions_of(&action, &investigation)))
        },
    );
    let loaded = move || matches!(submissions.get(), Some(Ok(Some(_))));
    let choosing = RwSignal::new(false);
    let can_change = !changes_for(&action).is_empty();
    let changeable = action.clone();
    view! {
        <Panel title=describe(&action) on_close=on_close>
            <div class="buttons">
                <button type="button" aria-expanded=move || choosing.get().to_string()
                    disabled=move || !loaded() || !can_change || !portal.can_decide()
                    on:click=move |_| choosing.update(|c| *c = !*c)>"Action"</button>
            </div>
            {move || choosing.get().then(|| view! { <ChangeOptions action=changeable.clone()/> })}
            <dl class="facts">
                <dt>"Status"</dt><dd>{action.status.label()}</dd>
                <dt>"Details"</dt><dd>{action.details.clone().unwrap_or_default()}</dd>
            </dl>
            <button type="button" class="link-like" aria-expanded=move || asked.get().to_string()
                on:click=move |_| asked.set(true)>{format!("Mail submissions ({})", action.target.email_count.unwrap_or(1))}</button>
            <Transition fallback=|| view! { <p role="status">"Loading mail submissions…"</p> }>
                {move || Suspend::new(async move {
                    match submissions.await {
                        Ok(Some(rows)) if rows.is_empty() => Some(view! { <p>"The investigation recorded no messages for this remediation."</p> }.into_any()),
                        Ok(Some(rows)) => Some(view! { <SubmissionsTable rows=rows/> }.into_any()),
                        Ok(None) => None,
                        Err(e) => Some(view! { <ErrorView error=e retry=move |_| submissions.refetch()/> }.into_any()),
                    }
                })}
            </Transition>
        </Panel>
    }
}

/// One message a remediation covers.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
struct Submission {
    message: ClusterMessage,
    /// What execution did to it, once it ran.
    result: Option<ActionResult>,
}

/// The messages of the action's cluster (or its one message), each with its execution result.
fn submissions_of(action: &Action, investigation: &Investigation) -> Vec<Submission> {
    let covered = |m: &ClusterMessage| match (
        &action.target.cluster_id,
        &action.target.internet_message_id,
    ) {
        (Some(cluster), _) => investigation
            .clusters
            .iter()
            .any(|c| c.id == *cluster && c.messages.contains(m)),
        (None, Some(message_id)) => {
            m.internet_message_id == *message_id
                && action
                    .target
                    .mailbox
                    .as_ref()
                    .is_none_or(|mb| *mb == m.mailbox)
        }
        (None, None) => false,
    };
    let mut seen = Vec::new();
    for message in investigation
        .clusters
        .iter()
        .flat_map(|c| c.messages.iter())
    {
        if covered(message) && !seen.contains(message) {
            seen.push(message.clone());
        }
    }
    seen.into_iter()
        .map(|message| Submission {
            result: action
                .results
                .iter()
                .find(|r| {
                    r.mailbox == message.mailbox
                        && r.internet_message_id.as_deref()
                            == Some(message.internet_message_id.as_str())
                })
                .cloned(),
            message,
        })
        .collect()
}

/// Subjects and senders are attacker-controlled: text nodes only.
#[component]
fn SubmissionsTable(rows: Vec<Submission>) -> impl IntoView {
    view! {
        <table class="queue">
            <caption class="visually-hidden">"Mail submissions"</caption>
            <thead><tr>
                <th scope="col">"Subject"</th>
                <th scope="col">"Sender"</th>
                <th scope="col">"Mailbox"</th>
                <th scope="col">"Received"</th>
                <th scope="col">"Result"</th>
                <th scope="col">"Location"</th>
            </tr></thead>
            <tbody>
                {rows.into_iter().map(|row| {
                    // Where execution left it; before execution, where the investigation saw it.
                    let location = match &row.result {
                        Some(r) => r.location.map_or("Unknown", |l| l.label()),
                        None => row.message.location.label(),
                    };
                    let result = row.result.as_ref().map_or_else(
                        || "Not run yet".to_string(),
                        |r| match &r.detail {
                            Some(detail) => format!("{}: {detail}", r.result.label()),
                            None => r.result.label().to_string(),
                        },
                    );
                    view! {
                        <tr>
                            <td>{row.message.subject}</td>
                            <td>{row.message.sender}</td>
                            <td>{row.message.mailbox}</td>
                            <td><Time at=row.message.received_at/></td>
                            <td>{result}</td>
                            <td>{location}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}
