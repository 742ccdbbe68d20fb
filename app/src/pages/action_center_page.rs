//! Action center: Pending (awaiting approval) and History (decided), as tabs in the URL.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::{list_actions, ActionQuery};
use crate::components::{error_view::ErrorView, pager::Pager};
use crate::model::{display_time, ActionStatus};

#[component]
pub fn ActionCenterPage() -> impl IntoView {
    let query = use_query_map();
    let history = move || query.read().get("tab").as_deref() == Some("history");
    let cursor = move || query.read().get("cursor");
    let actions = Resource::new(
        move || ActionQuery {
            status: if history() {
                None
            } else {
                Some(ActionStatus::Pending)
            },
            cursor: cursor(),
        },
        list_actions,
    );
    view! {
        <Title text="Action center"/>
        <h1>"Action center"</h1>
        <div role="tablist" aria-label="Action center" class="tabs">
            <a role="tab" href="/action-center" aria-selected=move || (!history()).to_string()>"Pending"</a>
            <a role="tab" href="/action-center?tab=history" aria-selected=move || history().to_string()>"History"</a>
        </div>
        <div role="tabpanel" aria-label=move || if history() { "History" } else { "Pending" }>
        <Transition fallback=|| view! { <p>"Loading actions…"</p> }>
            {move || Suspend::new(async move {
                match actions.await {
                    Err(e) => view! { <ErrorView error=e/> }.into_any(),
                    Ok(page) if page.items.is_empty() => view! { <p>"No actions here."</p> }.into_any(),
                    Ok(page) => {
                        let base = if history() { "/action-center?tab=history" } else { "/action-center" };
                        view! {
                            <table class="queue">
                                <caption class="visually-hidden">"Actions"</caption>
                                <thead><tr>
                                    <th scope="col">"Action type"</th>
                                    <th scope="col">"Entity"</th>
                                    <th scope="col">"Investigation"</th>
                                    <th scope="col">"Status"</th>
                                    <th scope="col">"Source"</th>
                                    <th scope="col">"Created"</th>
                                    <th scope="col">"Decided by"</th>
                                    <th scope="col"><span class="visually-hidden">"Investigation page"</span></th>
                                </tr></thead>
                                <tbody>
                                    {page.items.into_iter().map(|a| view! {
                                        <tr>
                                            <td>{a.action_type.label()}</td>
                                            <td>{a.target.describe()}</td>
                                            <td>{a.investigation_title}</td>
                                            <td>{a.status.label()}</td>
                                            <td>{a.source.label()}</td>
                                            <td>{display_time(&a.created_at)}</td>
                                            <td>{a.decided_by.unwrap_or_default()}</td>
                                            <td><a href=format!("/investigations/{}", a.investigation_id)>"Open investigation page"</a></td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                            <Pager base=base.to_string() next=page.next/>
                        }.into_any()
                    }
                }
            })}
        </Transition>
        </div>
    }
}
