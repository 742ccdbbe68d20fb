//! Office action center (`/threatincidents`): the remediations — approved email actions, with
//! their message counts and status. Selecting one opens a side panel whose Mail submissions entry
//! loads the messages it acted on; the Action button stays disabled until they have loaded, then
//! offers the types the remediation can be changed to.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::{get_action, list_actions, ActionQuery};
use crate::components::change::{changes_for, ChangeOptions, ResultsTable};
use crate::components::portal::use_portal;
use crate::components::{error_view::ErrorView, pager::Pager};
use crate::model::{display_time, Action};
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
                    Err(e) => view! { <ErrorView error=e/> }.into_any(),
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
                                    let messages = a.target.email_count.unwrap_or(1);
                                    view! {
                                        <tr>
                                            <td><button type="button" class="link-like" on:click=move |_| open.set(Some(row.clone()))>{describe(&a)}</button></td>
                                            <td>{a.status.label()}</td>
                                            <td>{messages}</td>
                                            <td>{a.decided_by.clone().unwrap_or_default()}</td>
                                            <td>{a.decided_at.as_ref().map(display_time).unwrap_or_default()}</td>
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
    let id = action.id.clone();
    // Mail submissions load when asked for.
    let asked = RwSignal::new(false);
    let submissions = Resource::new(
        move || asked.get().then(|| id.clone()),
        |id| async move {
            match id {
                Some(id) => get_action(id).await.map(Some),
                None => Ok(None),
            }
        },
    );
    let loaded = move || matches!(submissions.get(), Some(Ok(Some(_))));
    let choosing = RwSignal::new(false);
    let can_change = !changes_for(&action).is_empty();
    let title = describe(&action);
    let close = on_close.clone();
    let changeable = action.clone();
    view! {
        <aside role="dialog" aria-modal="false" aria-labelledby="remediation-title" class="panel">
            <h2 id="remediation-title">{title}</h2>
            <button type="button" class="close" on:click=move |_| close()>"Close"</button>
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
                        Ok(Some(found)) if found.results.is_empty() => Some(view! { <p>"No messages have been handled yet."</p> }.into_any()),
                        Ok(Some(found)) => Some(view! { <ResultsTable results=found.results/> }.into_any()),
                        Ok(None) => None,
                        Err(e) => Some(view! { <ErrorView error=e/> }.into_any()),
                    }
                })}
            </Transition>
        </aside>
    }
}
