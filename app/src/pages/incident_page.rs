//! One incident's summary page: its facts, its investigations, and Evidence and Response —
//! every piece of evidence with where its remediation stands, filterable to the ones pending
//! approval; selecting one opens a flyout pane with its details and Approve / Reject.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};

use crate::api::get_incident;
use crate::components::decide::DecideButtons;
use crate::components::error_view::ErrorView;
use crate::components::portal::use_portal;
use crate::model::{display_time, Action, ActionStatus, IncidentDetail, Verdict};

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
                    Err(e) => view! { <h1>"Incident"</h1><ErrorView error=e/> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// The summary page's tabs: `?tab=<key>`.
const TABS: [(&str, &str); 3] = [
    ("summary", "Summary"),
    ("investigations", "Investigations"),
    ("evidence", "Evidence and Response"),
];

/// One row of Evidence and Response.
#[derive(Clone, Debug, PartialEq)]
struct Evidence {
    kind: &'static str,
    entity: String,
    verdict: Verdict,
    investigation: String,
    investigation_id: String,
    /// The action answering this evidence, if any.
    action: Option<Action>,
}

impl Evidence {
    fn remediation(&self) -> String {
        match &self.action {
            Some(a) if a.status == ActionStatus::Pending => "Pending approval".into(),
            Some(a) => a.status.label().into(),
            None => "No action needed".into(),
        }
    }

    fn pending(&self) -> bool {
        self.action
            .as_ref()
            .is_some_and(|a| a.status == ActionStatus::Pending)
    }
}

fn evidence_of(detail: &IncidentDetail) -> Vec<Evidence> {
    let mut rows = Vec::new();
    for investigation in &detail.investigations {
        for cluster in &investigation.clusters {
            rows.push(Evidence {
                kind: "Email cluster",
                entity: format!("{}: {}", cluster.cluster_by.label(), cluster.cluster_value),
                verdict: cluster.verdict,
                investigation: investigation.title.clone(),
                investigation_id: investigation.id.clone(),
                action: investigation
                    .actions
                    .iter()
                    .filter(|a| a.target.cluster_id.as_deref() == Some(cluster.id.as_str()))
                    .find(|a| a.changed_from.is_none())
                    .cloned(),
            });
        }
        for forwarding in &investigation.forwarding {
            rows.push(Evidence {
                kind: "Mailbox",
                entity: format!(
                    "{} forwards to {}",
                    forwarding.mailbox, forwarding.forward_to
                ),
                verdict: forwarding.verdict,
                investigation: investigation.title.clone(),
                investigation_id: investigation.id.clone(),
                action: investigation
                    .actions
                    .iter()
                    .find(|a| {
                        a.target.mailbox.as_deref() == Some(forwarding.mailbox.as_str())
                            && a.target.forward_to.as_deref()
                                == Some(forwarding.forward_to.as_str())
                    })
                    .cloned(),
            });
        }
    }
    rows
}

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
    let evidence = evidence_of(&detail);
    let open = RwSignal::new(None::<Evidence>);
    let incident = detail.incident.clone();
    let investigations = detail.investigations.clone();
    let summary = view! {
        <dl class="facts">
            <dt>"Severity"</dt><dd>{incident.severity.label()}</dd>
            <dt>"Automated investigation state"</dt><dd>{incident.investigation_state.label()}</dd>
            <dt>"Alerts"</dt><dd>{incident.alert_count}</dd>
            <dt>"Investigations"</dt><dd>{incident.investigation_count}</dd>
            <dt>"Pending actions"</dt><dd>{incident.pending_action_count}</dd>
            <dt>"First activity"</dt><dd>{display_time(&incident.first_activity_at)}</dd>
            <dt>"Last activity"</dt><dd>{display_time(&incident.last_activity_at)}</dd>
        </dl>
    }
    .into_any();
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
            <div hidden=move || tab() != "summary">{summary}</div>
            <div hidden=move || tab() != "investigations">
                <table class="queue">
                    <caption class="visually-hidden">"Investigations"</caption>
                    <thead><tr><th scope="col">"Investigation"</th><th scope="col">"Status"</th><th scope="col">"Creation time"</th></tr></thead>
                    <tbody>
                        {investigations.into_iter().map(|i| view! {
                            <tr>
                                <td><a href=format!("/investigations/{}", i.id)>{i.title}</a></td>
                                <td>{i.status.label()}</td>
                                <td>{display_time(&i.created_at)}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
            <div hidden=move || tab() != "evidence">
                <div class="filters">
                    <label for="remediation-filter">"Remediation status"</label>
                    <select id="remediation-filter" on:change=on_filter>
                        <option value="" selected=move || !only_pending()>"Any"</option>
                        <option value="pending" selected=only_pending>"Pending approval"</option>
                    </select>
                </div>
                <table class="queue">
                    <caption class="visually-hidden">"Evidence and Response"</caption>
                    <thead><tr>
                        <th scope="col">"Entity"</th>
                        <th scope="col">"Kind"</th>
                        <th scope="col">"Verdict"</th>
                        <th scope="col">"Remediation status"</th>
                        <th scope="col">"Pending actions"</th>
                    </tr></thead>
                    <tbody>
                        {evidence.into_iter().map(|row| {
                            let pending = row.pending();
                            let shown = row.clone();
                            view! {
                                <tr hidden=move || only_pending() && !pending>
                                    <td><button type="button" class="link-like" on:click=move |_| open.set(Some(shown.clone()))>{row.entity.clone()}</button></td>
                                    <td>{row.kind}</td>
                                    <td>{row.verdict.label()}</td>
                                    <td>{row.remediation()}</td>
                                    <td>{usize::from(pending)}</td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        </div>
        {move || open.get().map(|row| view! { <EvidenceFlyout row=row on_close=move || open.set(None)/> })}
    }
}

/// The flyout pane of one piece of evidence: what it is, the action answering it, and
/// Approve / Reject while that action is pending.
#[component]
fn EvidenceFlyout(
    row: Evidence,
    on_close: impl Fn() + Clone + Send + Sync + 'static,
) -> impl IntoView {
    let remediation = row.remediation();
    let pending = row.pending();
    let action = row.action.clone();
    view! {
        <aside role="dialog" aria-modal="false" aria-labelledby="flyout-title" class="panel">
            <h2 id="flyout-title">{row.entity.clone()}</h2>
            <button type="button" class="close" on:click=move |_| on_close()>"Close"</button>
            <dl class="facts">
                <dt>"Kind"</dt><dd>{row.kind}</dd>
                <dt>"Verdict"</dt><dd>{row.verdict.label()}</dd>
                <dt>"Investigation"</dt><dd><a href=format!("/investigations/{}", row.investigation_id)>{row.investigation.clone()}</a></dd>
                <dt>"Remediation status"</dt><dd>{remediation}</dd>
                {action.as_ref().map(|a| view! {
                    <dt>"Action"</dt><dd>{a.action_type.label()}</dd>
                    <dt>"Decided by"</dt><dd>{a.decided_by.clone().unwrap_or_default()}</dd>
                    <dt>"Details"</dt><dd>{a.details.clone().unwrap_or_default()}</dd>
                })}
            </dl>
            {action.filter(|_| pending).map(|a| {
                let what = format!("{}: {}", a.action_type.label(), a.target.describe());
                view! {
                    <div role="group" aria-label="Pending action" class="buttons">
                        <DecideButtons id=a.id.clone() what=what/>
                    </div>
                }
            })}
        </aside>
    }
}
