//! Incidents: the queue, filterable by Automated investigation state (the filter lives in
//! the URL, so a filtered view can be shared).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_query_map};

use crate::api::{list_incidents, IncidentQuery};
use crate::components::{error_view::ErrorView, pager::Pager};
use crate::model::{display_time, InvestigationStatus};

#[component]
pub fn IncidentsPage() -> impl IntoView {
    let query = use_query_map();
    let state = move || {
        query
            .read()
            .get("state")
            .and_then(|s| InvestigationStatus::parse(&s))
    };
    let cursor = move || query.read().get("cursor");
    let incidents = Resource::new(
        move || IncidentQuery {
            investigation_state: state(),
            cursor: cursor(),
        },
        list_incidents,
    );
    let navigate = use_navigate();
    let on_filter = move |ev: leptos::ev::Event| {
        let value = event_target_value(&ev);
        let url = if value.is_empty() {
            "/incidents".to_string()
        } else {
            format!("/incidents?state={value}")
        };
        navigate(&url, Default::default());
    };
    view! {
        <Title text="Incidents"/>
        <h1>"Incidents"</h1>
        <div class="filters">
            <label for="state-filter">"Automated investigation state"</label>
            <select id="state-filter" on:change=on_filter>
                <option value="" selected=move || state().is_none()>"Any"</option>
                {InvestigationStatus::ALL.iter().map(|s| {
                    let s = *s;
                    view! { <option value=s.as_str() selected=move || state() == Some(s)>{s.label()}</option> }
                }).collect_view()}
            </select>
        </div>
        <Transition fallback=|| view! { <p>"Loading incidents…"</p> }>
            {move || Suspend::new(async move {
                match incidents.await {
                    Err(e) => view! { <ErrorView error=e/> }.into_any(),
                    Ok(page) if page.items.is_empty() => view! { <p>"No incidents match."</p> }.into_any(),
                    Ok(page) => {
                        let base = match state() { Some(s) => format!("/incidents?state={}", s.as_str()), None => "/incidents".into() };
                        view! {
                            <table class="queue">
                                <caption class="visually-hidden">"Incidents"</caption>
                                <thead><tr>
                                    <th scope="col">"Incident name"</th>
                                    <th scope="col">"Severity"</th>
                                    <th scope="col">"Automated investigation state"</th>
                                    <th scope="col">"Alerts"</th>
                                    <th scope="col">"Investigations"</th>
                                    <th scope="col">"Pending actions"</th>
                                    <th scope="col">"First activity"</th>
                                    <th scope="col">"Last activity"</th>
                                </tr></thead>
                                <tbody>
                                    {page.items.into_iter().map(|i| view! {
                                        <tr>
                                            <td><a href=format!("/incidents/{}", i.id)>{i.title}</a></td>
                                            <td>{i.severity.label()}</td>
                                            <td>{i.investigation_state.label()}</td>
                                            <td>{i.alert_count}</td>
                                            <td>{i.investigation_count}</td>
                                            <td>{i.pending_action_count}</td>
                                            <td>{display_time(&i.first_activity_at)}</td>
                                            <td>{display_time(&i.last_activity_at)}</td>
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
