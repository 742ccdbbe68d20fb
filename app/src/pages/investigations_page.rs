//! Investigations: the queue, filterable by Status.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::params::ParamsMap;

use crate::api::StartInvestigation;
use crate::api::{list_investigations, InvestigationQuery};
use crate::components::portal::use_portal;
use crate::components::time::Time;
use crate::components::{error_view::ErrorView, pager::Pager};
use crate::model::{
    display_duration, ClusterBy, InvestigationStatus, InvestigationSummary, InvestigationType,
};

/// The filters in the URL.
fn filters(query: Memo<ParamsMap>) -> (Option<InvestigationStatus>, Option<InvestigationType>) {
    let query = query.read();
    (
        query
            .get("status")
            .and_then(|s| InvestigationStatus::parse(&s)),
        query.get("type").and_then(|s| InvestigationType::parse(&s)),
    )
}

/// `/investigations?status=…&type=…`, leaving out what is not filtered.
fn url_for(status: Option<InvestigationStatus>, kind: Option<InvestigationType>) -> String {
    let parts: Vec<String> = [
        status.map(|s| format!("status={}", s.as_str())),
        kind.map(|k| format!("type={}", k.as_str())),
    ]
    .into_iter()
    .flatten()
    .collect();
    if parts.is_empty() {
        "/investigations".to_string()
    } else {
        format!("/investigations?{}", parts.join("&"))
    }
}

#[component]
pub fn InvestigationsPage() -> impl IntoView {
    let query = use_query_map();
    let investigations = Resource::new(
        move || {
            let (status, investigation_type) = filters(query);
            InvestigationQuery {
                status,
                investigation_type,
                cursor: query.read().get("cursor"),
            }
        },
        list_investigations,
    );
    view! {
        <Title text="Investigations"/>
        <h1>"Investigations"</h1>
        <ManualInvestigation/>
        <InvestigationFilters/>
        <Transition fallback=|| view! { <p>"Loading investigations…"</p> }>
            {move || Suspend::new(async move {
                match investigations.await {
                    Err(e) => view! { <ErrorView error=e retry=move |_| investigations.refetch()/> }.into_any(),
                    Ok(page) if page.items.is_empty() => view! { <p>"No investigations match."</p> }.into_any(),
                    Ok(page) => {
                        let (status, kind) = filters(query);
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
                                    <th scope="col">"Duration"</th>
                                </tr></thead>
                                <tbody>
                                    {page.items.into_iter().map(|i| view! { <InvestigationRow investigation=i/> }).collect_view()}
                                </tbody>
                            </table>
                            <Pager base=url_for(status, kind) next=page.next/>
                        }.into_any()
                    }
                }
            })}
        </Transition>
    }
}

/// Status and Investigation type: choosing one rewrites the URL.
#[component]
fn InvestigationFilters() -> impl IntoView {
    let query = use_query_map();
    let status = move || filters(query).0;
    let kind = move || filters(query).1;
    let navigate = use_navigate();
    let on_status = {
        let navigate = navigate.clone();
        move |ev: leptos::ev::Event| {
            let chosen = InvestigationStatus::parse(&event_target_value(&ev));
            navigate(&url_for(chosen, kind()), Default::default());
        }
    };
    let on_type = move |ev: leptos::ev::Event| {
        let chosen = InvestigationType::parse(&event_target_value(&ev));
        navigate(&url_for(status(), chosen), Default::default());
    };
    view! {
        <div class="filters">
            <label for="status-filter">"Status"</label>
            <select id="status-filter" on:change=on_status>
                <option value="" selected=move || status().is_none()>"Any"</option>
                {InvestigationStatus::ALL.iter().map(|s| {
                    let s = *s;
                    view! { <option value=s.as_str() selected=move || status() == Some(s)>{s.label()}</option> }
                }).collect_view()}
            </select>
            <label for="type-filter">"Investigation type"</label>
            <select id="type-filter" on:change=on_type>
                <option value="" selected=move || kind().is_none()>"Any"</option>
                {InvestigationType::ALL.iter().map(|k| {
                    let k = *k;
                    view! { <option value=k.as_str() selected=move || kind() == Some(k)>{k.label()}</option> }
                }).collect_view()}
            </select>
        </div>
    }
}

/// One row of the queue.
#[component]
fn InvestigationRow(investigation: InvestigationSummary) -> impl IntoView {
    let i = investigation;
    view! {
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
            <td>{display_duration(i.updated_at - i.created_at)}</td>
        </tr>
    }
}

/// The last block of a UUID is enough to tell investigations apart on screen.
fn short_id(id: &str) -> String {
    id.rsplit('-').next().unwrap_or(id).to_string()
}

/// People who may hunt (Search and purge, Admin) start a manual investigation of a sender, a URL, an attachment hash or a subject;
/// the new investigation opens when it is recorded.
#[component]
fn ManualInvestigation() -> impl IntoView {
    let portal = use_portal();
    let start = ServerAction::<StartInvestigation>::new();
    let by = RwSignal::new(ClusterBy::Sender);
    let value = RwSignal::new(String::new());
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(id)) = start.value().get() {
            portal.changed();
            navigate(&format!("/investigations/{id}"), Default::default());
        }
    });
    // The user is a resource: read it under Suspense, so the server and the hydrating client
    // render the same thing.
    let form = move |may_hunt: bool| {
        may_hunt.then(|| view! {
            <form class="manual" aria-label="Start a manual investigation" on:submit=move |e| {
                e.prevent_default();
                start.dispatch(StartInvestigation { by: by.get_untracked(), value: value.get_untracked() });
            }>
                <label for="manual-by">"Investigate"</label>
                <select id="manual-by" on:change=move |e| {
                    if let Some(chosen) = ClusterBy::parse(&event_target_value(&e)) { by.set(chosen) }
                }>
                    {ClusterBy::ALL.iter().map(|k| view! { <option value=k.as_str()>{k.label()}</option> }).collect_view()}
                </select>
                <label for="manual-value">"Value"</label>
                <input id="manual-value" type="text" required maxlength="2048"
                    prop:value=move || value.get() on:input=move |e| value.set(event_target_value(&e))/>
                <button type="submit" disabled=move || start.pending().get()>"Start investigation"</button>
                {move || start.value().get().and_then(|r| r.err()).map(|e| view! { <p role="alert" class="error">{e.to_string()}</p> })}
            </form>
        })
    };
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let may_hunt = matches!(portal.user.await, Ok(Some(u)) if u.can_hunt());
                form(may_hunt)
            })}
        </Suspense>
    }
}
