//! Incidents: the queue, filterable by Automated investigation state and sortable by its
//! columns. Filter, sort and page all live in the URL, so a view can be shared.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_query_map};

use crate::api::{list_incidents, IncidentQuery};
use crate::components::time::Time;
use crate::components::{error_view::ErrorView, pager::Pager};
use crate::model::{urlencode, IncidentSort, InvestigationStatus};

/// The queue's view as it appears in the URL.
#[derive(Clone, Copy, Default, PartialEq)]
struct View {
    state: Option<InvestigationStatus>,
    sort: IncidentSort,
    ascending: bool,
}

impl View {
    /// `/incidents?state=…&sort=…&order=asc`, leaving out what is the default.
    fn url(self) -> String {
        let mut parts = Vec::new();
        if let Some(state) = self.state {
            parts.push(format!("state={}", urlencode(state.as_str())));
        }
        if self.sort != IncidentSort::default() {
            parts.push(format!("sort={}", self.sort.as_str()));
        }
        if self.ascending {
            parts.push("order=asc".into());
        }
        if parts.is_empty() {
            "/incidents".into()
        } else {
            format!("/incidents?{}", parts.join("&"))
        }
    }

    /// Sorting by `sort`: largest first, or the other way round if it already is.
    fn sorted_by(self, sort: IncidentSort) -> View {
        View {
            sort,
            ascending: self.sort == sort && !self.ascending,
            ..self
        }
    }
}

#[component]
pub fn IncidentsPage() -> impl IntoView {
    let query = use_query_map();
    let view_of = move || {
        let query = query.read();
        View {
            state: query
                .get("state")
                .and_then(|s| InvestigationStatus::parse(&s)),
            sort: query
                .get("sort")
                .and_then(|s| IncidentSort::parse(&s))
                .unwrap_or_default(),
            ascending: query.get("order").as_deref() == Some("asc"),
        }
    };
    let cursor = move || query.read().get("cursor");
    let incidents = Resource::new(
        move || {
            let view = view_of();
            IncidentQuery {
                investigation_state: view.state,
                sort: view.sort,
                ascending: view.ascending,
                limit: None,
                cursor: cursor(),
            }
        },
        list_incidents,
    );
    let navigate = use_navigate();
    let on_filter = move |ev: leptos::ev::Event| {
        let state = InvestigationStatus::parse(&event_target_value(&ev));
        navigate(&View { state, ..view_of() }.url(), Default::default());
    };
    // A sortable column's header: a link that sorts by it, and aria-sort saying how it is now.
    let header = move |label: &'static str, sort: IncidentSort| {
        let aria_sort = move || {
            let view = view_of();
            match (view.sort == sort, view.ascending) {
                (false, _) => "none",
                (true, true) => "ascending",
                (true, false) => "descending",
            }
        };
        view! {
            <th scope="col" aria-sort=aria_sort>
                <a href=move || view_of().sorted_by(sort).url()>{label}</a>
            </th>
        }
    };
    view! {
        <Title text="Incidents"/>
        <h1>"Incidents"</h1>
        <div class="filters">
            <label for="state-filter">"Automated investigation state"</label>
            <select id="state-filter" on:change=on_filter>
                <option value="" selected=move || view_of().state.is_none()>"Any"</option>
                {InvestigationStatus::ALL.iter().map(|s| {
                    let s = *s;
                    view! { <option value=s.as_str() selected=move || view_of().state == Some(s)>{s.label()}</option> }
                }).collect_view()}
            </select>
        </div>
        <Transition fallback=|| view! { <p role="status">"Loading incidents…"</p> }>
            {move || Suspend::new(async move {
                match incidents.await {
                    Err(e) => view! { <ErrorView error=e retry=move |_| incidents.refetch()/> }.into_any(),
                    Ok(page) if page.items.is_empty() => view! { <p>"No incidents match."</p> }.into_any(),
                    Ok(page) => {
                        let base = view_of().url();
                        view! {
                            <table class="queue">
                                <caption class="visually-hidden">"Incidents"</caption>
                                <thead><tr>
                                    <th scope="col">"Incident name"</th>
                                    {header("Severity", IncidentSort::Severity)}
                                    <th scope="col">"Automated investigation state"</th>
                                    <th scope="col">"Alerts"</th>
                                    <th scope="col">"Investigations"</th>
                                    {header("Pending actions", IncidentSort::PendingActions)}
                                    {header("First activity", IncidentSort::FirstActivity)}
                                    {header("Last activity", IncidentSort::LastActivity)}
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
                                            <td><Time at=i.first_activity_at/></td>
                                            <td><Time at=i.last_activity_at/></td>
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
