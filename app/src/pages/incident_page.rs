//! One incident's summary page: its facts, its investigations, and Evidence and Response —
//! every piece of evidence with where its remediation stands, filterable to the ones pending
//! approval; selecting one opens a flyout pane with its details and Approve / Reject.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};

use crate::api::get_incident;
use crate::components::error_view::ErrorView;
use crate::components::evidence::{AlertsTable, Evidence, EvidenceTable};
use crate::components::portal::use_portal;
use crate::components::time::Time;
use crate::model::{IncidentDetail, IncidentSummary, InvestigationBrief};

#[component]
pub fn IncidentPage() -> impl IntoView {
    let params = use_params_map();
    let portal = use_portal();
    let incident = Resource::new(
        move || {
            (
                params.read().get("id").unwrap_or_default(),
                portal.changes.get(),
            )
        },
        |(id, _)| get_incident(id),
    );
    view! {
        <Transition fallback=|| view! { <p>"Loading incident…"</p> }>
            {move || Suspend::new(async move {
                match incident.await {
                    Ok(found) => view! { <IncidentView detail=found/> }.into_any(),
                    Err(e) => view! { <h1>"Incident"</h1><ErrorView error=e retry=move |_| incident.refetch()/> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// The summary page's tabs: `?tab=<key>`.
const TABS: [(&str, &str); 4] = [
    ("summary", "Summary"),
    ("alerts", "Alerts"),
    ("investigations", "Investigations"),
    ("evidence", "Evidence and Response"),
];

#[component]
fn IncidentView(detail: IncidentDetail) -> impl IntoView {
    let query = use_query_map();
    let navigate = use_navigate();
    let tab = move || {
        let wanted = query.read().get("tab").unwrap_or_default();
        TABS.iter()
            .map(|(k, _)| *k)
            .find(|k| *k == wanted)
            .unwrap_or("summary")
    };
    let only_pending = move || query.read().get("remediation").as_deref() == Some("pending");
    let on_filter = move |ev: leptos::ev::Event| {
        let url = if event_target_value(&ev) == "pending" {
            "?tab=evidence&remediation=pending"
        } else {
            "?tab=evidence"
        };
        navigate(url, Default::default());
    };
    let alerts: Vec<_> = detail
        .investigations
        .iter()
        .map(|i| i.alert.clone())
        .collect();
    let titles: Vec<_> = detail
        .investigations
        .iter()
        .map(|i| (i.id.clone(), i.title.clone()))
        .collect();
    let evidence = Evidence::titled(detail.evidence, &titles);
    let incident = detail.incident.clone();
    let investigations = detail.investigations.clone();
    view! {
        <Title text=incident.title.clone()/>
        <h1>{incident.title.clone()}</h1>
        <div role="tablist" aria-label="Incident" class="tabs">
            {TABS.iter().map(|(key, label)| {
                let key = *key;
                view! { <a role="tab" href=format!("?tab={key}") aria-selected=move || (tab() == key).to_string()>{*label}</a> }
            }).collect_view()}
        </div>
        <div role="tabpanel" aria-label=move || TABS.iter().find(|(k, _)| *k == tab()).map_or("", |(_, l)| *l)>
            <div hidden=move || tab() != "summary"><IncidentFacts incident=detail.incident/></div>
            <div hidden=move || tab() != "alerts"><AlertsTable alerts=alerts titles=titles/></div>
            <div hidden=move || tab() != "investigations">
                <InvestigationsTable investigations=investigations/>
            </div>
            <div hidden=move || tab() != "evidence">
                <div class="filters">
                    <label for="remediation-filter">"Remediation status"</label>
                    <select id="remediation-filter" on:change=on_filter>
                        <option value="" selected=move || !only_pending()>"Any"</option>
                        <option value="pending" selected=only_pending>"Pending approval"</option>
                    </select>
                </div>
                <EvidenceTable rows=evidence only_pending=Signal::derive(only_pending)/>
            </div>
        </div>
    }
}

/// The Summary tab: the incident's facts.
#[component]
fn IncidentFacts(incident: IncidentSummary) -> impl IntoView {
    view! {
        <dl class="facts">
            <dt>"Severity"</dt><dd>{incident.severity.label()}</dd>
            <dt>"Automated investigation state"</dt><dd>{incident.investigation_state.label()}</dd>
            <dt>"Alerts"</dt><dd>{incident.alert_count}</dd>
            <dt>"Investigations"</dt><dd>{incident.investigation_count}</dd>
            <dt>"Pending actions"</dt><dd>{incident.pending_action_count}</dd>
            <dt>"First activity"</dt><dd><Time at=incident.first_activity_at/></dd>
            <dt>"Last activity"</dt><dd><Time at=incident.last_activity_at/></dd>
        </dl>
    }
}

/// The Investigations tab.
#[component]
fn InvestigationsTable(investigations: Vec<InvestigationBrief>) -> impl IntoView {
    view! {
        <table class="queue">
            <caption class="visually-hidden">"Investigations"</caption>
            <thead><tr><th scope="col">"Investigation"</th><th scope="col">"Status"</th><th scope="col">"Creation time"</th></tr></thead>
            <tbody>
                {investigations.into_iter().map(|i| view! {
                    <tr>
                        <td><a href=format!("/investigations/{}", i.id)>{i.title}</a></td>
                        <td>{i.status.label()}</td>
                        <td><Time at=i.created_at/></td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}
