//! Incidents: the queue, filterable by Automated investigation state and sortable by its
//! columns. Filter, sort and page all live in the URL, so a view can be shared.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::params::ParamsMap;

use crate::api::{list_incidents, IncidentQuery};
use crate::components::time::Time;
use crate::components::{error_view::ErrorView, pager::Pager};
use crate::model::{urlencode, IncidentSort, IncidentSummary, InvestigationStatus};

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

impl View {
    /// The view the URL asks for.
    fn of(query: Memo<ParamsMap>) -> View {
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
    }
}

#[component]
pub fn IncidentsPage() -> impl IntoView {
    let query = use_query_map();
    let incidents = Resource::new(
        move || {
            let view = View::of(query);
            IncidentQuery {
                investigation_state: view.state,
                sort: view.sort,
                ascending: view.ascending,
                limit: None,
                cursor: query.read().get("cursor"),
            }
        },
        list_incidents,
    );
    let navigate = use_navigate();
    let on_filter = move |ev: leptos::ev::Event| {
        let state = InvestigationStatus::parse(&event_target_value(&ev));
        navigate(
            &View {
                state,
                ..View::of(query)
            }
            .url(),
            Default::default(),
        );
    };
    view! {
        <Title text="Incidents"/>
        <h1>"Incidents"</h1>
        <div class="filters">
            <label for="state-filter">"Automated investigation state"</label>
            <select id="state-filter" on:change=on_filter>
                <option value="" selected=move || View::of(query).state.is_none()>"Any"</option>
                {InvestigationStatus::ALL.iter().map(|s| {
                    let s = *s;
                    view! { <option value=s.as_str() selected=move || View::of(query).state == Some(s)>{s.label()}</option> }
                }).collect_view()}
            </select>
        </div>
        <Transition fallback=|| view! { <p role="status">"Loading incidents…"</p> }>
            {move || Suspend::new(async move {
                match incidents.await {
                    Err(e) => view! { <ErrorView error=e retry=move |_| incidents.refetch()/> }.into_any(),
                    Ok(page) if page.items.is_empty() => view! { <p>"No incidents match."</p> }.into_any(),
                    Ok(page) => view! {
                        <table class="queue">
                            <caption class="visually-hidden">"Incidents"</caption>
                            <thead><tr>
                                <th scope="col">"Incident name"</th>
                                <SortHeader label="Severity" sort=IncidentSort::Severity/>
                                <th scope="col">"Automated investigation state"</th>
                                <th scope="col">"Alerts"</th>
                                <th scope="col">"Investigations"</th>
                                <SortHeader label="Pending actions" sort=IncidentSort::PendingActions/>
                                <SortHeader label="First activity" sort=IncidentSort::FirstActivity/>
                                <SortHeader label="Last activity" sort=IncidentSort::LastActivity/>
                            </tr></thead>
                            <tbody>
                                {page.items.into_iter().map(|i| view! { <IncidentRow incident=i/> }).collect_view()}
                            </tbody>
                        </table>
                        <Pager base=View::of(query).url() next=page.next/>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}

/// A sortable column's header: a link that sorts by it, and aria-sort saying how it is now.
#[component]
fn SortHeader(label: &'static str, sort: IncidentSort) -> impl IntoView {
    let query = use_query_map();
    let aria_sort = move || {
        let view = View::of(query);
        match (view.sort == sort, view.ascending) {
            (false, _) => "none",
            (true, true) => "ascending",
            (true, false) => "descending",
        }
    };
    view! {
        <th scope="col" aria-sort=aria_sort>
            <a href=move || View::of(query).sorted_by(sort).url()>{label}</a>
        </th>
    }
}

/// One row of the queue.
#[component]
fn IncidentRow(incident: IncidentSummary) -> impl IntoView {
    let i = incident;
    view! {
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
    }
}
