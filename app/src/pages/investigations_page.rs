//! Investigations: the queue, filterable by Status.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_query_map};

use crate::api::{list_investigations, InvestigationQuery};
use crate::components::time::Time;
use crate::components::{error_view::ErrorView, pager::Pager};
use crate::model::InvestigationStatus;

#[component]
pub fn InvestigationsPage() -> impl IntoView {
    let query = use_query_map();
    let status = move || {
        query
            .read()
            .get("status")
            .and_then(|s| InvestigationStatus::parse(&s))
    };
    let cursor = move || query.read().get("cursor");
    let investigations = Resource::new(
        move || InvestigationQuery {
            status: status(),
            cursor: cursor(),
        },
        list_investigations,
    );
    let navigate = use_navigate();
    let on_filter = move |ev: leptos::ev::Event| {
        let value = event_target_value(&ev);
        let url = if value.is_empty() {
            "/investigations".to_string()
        } else {
            format!("/investigations?status={value}")
        };
        navigate(&url, Default::default());
    };
    view! {
        <Title text="Investigations"/>
        <h1>"Investigations"</h1>
        <div class="filters">
            <label for="status-filter">"Status"</label>
            <select id="status-filter" on:change=on_filter>
                <option value="" selected=move || status().is_none()>"Any"</option>
                {InvestigationStatus::ALL.iter().map(|s| {
                    let s = *s;
                    view! { <option value=s.as_str() selected=move || status() == Some(s)>{s.label()}</option> }
                }).collect_view()}
            </select>
        </div>
        <Transition fallback=|| view! { <p>"Loading investigations…"</p> }>
            {move || Suspend::new(async move {
                match investigations.await {
                    Err(e) => view! { <ErrorView error=e retry=move |_| investigations.refetch()/> }.into_any(),
                    Ok(page) if page.items.is_empty() => view! { <p>"No investigations match."</p> }.into_any(),
                    Ok(page) => {
                        let base = match status() { Some(s) => format!("/investigations?status={}", s.as_str()), None => "/investigations".into() };
                        view! {
                            <table class="queue">
                                <caption class="visually-hidden">"Investigations"</caption>
                                <thead><tr>
                                    <th scope="col">"ID"</th>
                                    <th scope="col"><span class="visually-hidden">"Open in new window"</span></th>
                                    <th scope="col">"Status"</th>
                                    <th scope="col">"Investigation"</th>
                                    <th scope="col">"Investigation type"</th>
                                    <th scope="col">"Users"</th>
                                    <th scope="col">"Threat count"</th>
                                    <th scope="col">"Action count"</th>
                                    <th scope="col">"Creation time"</th>
                                    <th scope="col">"Last changed time"</th>
                                </tr></thead>
                                <tbody>
                                    {page.items.into_iter().map(|i| view! {
                                        <tr>
                                            <td class="mono">{short_id(&i.id)}</td>
                                            <td>
                                                <a href=format!("/investigations/{}", i.id) target="_blank" rel="noopener" aria-label=format!("Open in new window: {}", i.title) title="Open in new window">"↗"</a>
                                            </td>
                                            <td>{i.status.label()}</td>
                                            <td><a href=format!("/investigations/{}", i.id)>{i.title.clone()}</a></td>
                                            <td>{i.investigation_type.label()}</td>
                                            <td>{i.user_count}</td>
                                            <td>{i.threat_count}</td>
                                            <td>{i.action_count}</td>
                                            <td><Time at=i.created_at/></td>
                                            <td><Time at=i.updated_at/></td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                            <Pager base=base next=page.next/>
                        }.into_any()
                    }
                }
            })}
        </Transition>
    }
}

/// The last block of a UUID is enough to tell investigations apart on screen.
fn short_id(id: &str) -> String {
    id.rsplit('-').next().unwrap_or(id).to_string()
}
