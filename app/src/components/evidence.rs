//! Evidence and the response to it, shared by the incident's summary page and the
//! investigation page: one row per email cluster or forwarding mailbox, with its verdict and
//! where its remediation stands; selecting a row opens a flyout pane with Approve / Reject for
//! its pending action. Also the Alerts table both pages show.

use leptos::prelude::*;

use super::decide::DecideButtons;
use super::time::Time;
use crate::model::{ActionStatus, AlertView, EvidenceRow, Investigation};

/// One row of Evidence and Response: a piece of evidence and the title of the investigation
/// that found it.
#[derive(Clone, Debug, PartialEq)]
pub struct Evidence {
    row: EvidenceRow,
    investigation: String,
}

impl Evidence {
    /// The rows with their investigations' titles (`titles` pairs ids with titles).
    pub fn titled(rows: Vec<EvidenceRow>, titles: &[(String, String)]) -> Vec<Evidence> {
        rows.into_iter()
            .map(|row| {
                let investigation = titles
                    .iter()
                    .find(|(id, _)| *id == row.investigation_id)
                    .map(|(_, title)| title.clone())
                    .unwrap_or_default();
                Evidence { row, investigation }
            })
            .collect()
    }

    fn remediation(&self) -> String {
        match &self.row.action {
            Some(a) if a.status == ActionStatus::Pending => a
                .awaiting
                .clone()
                .unwrap_or_else(|| "Pending approval".into()),
            Some(a) => a.status.label().into(),
            None => "No action needed".into(),
        }
    }

    fn pending(&self) -> bool {
        self.row
            .action
            .as_ref()
            .is_some_and(|a| a.status == ActionStatus::Pending)
    }
}

/// Every piece of evidence an investigation collected, with the action answering it (the
/// proposed one, not a later change).
pub fn evidence_of(investigation: &Investigation) -> Vec<Evidence> {
    let title = [(investigation.id.clone(), investigation.title.clone())];
    Evidence::titled(EvidenceRow::of(investigation), &title)
}

/// The Evidence and Response table; `only_pending` hides rows with nothing to approve.
#[component]
pub fn EvidenceTable(
    rows: Vec<Evidence>,
    #[prop(into)] only_pending: Signal<bool>,
) -> impl IntoView {
    let open = RwSignal::new(None::<Evidence>);
    if rows.is_empty() {
        return view! { <p>"No evidence: the investigation found no threats."</p> }.into_any();
    }
    view! {
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
                {rows.into_iter().map(|row| {
                    let pending = row.pending();
                    let shown = row.clone();
                    let whole = row.clone();
                    view! {
                        <tr class="selectable" hidden=move || only_pending.get() && !pending
                            on:click=move |ev| {
                                if crate::components::row_click::on_row_itself(&ev) {
                                    open.set(Some(whole.clone()));
                                }
                            }>
                            <td><button type="button" class="link-like" aria-haspopup="dialog"
                                on:click=move |_| open.set(Some(shown.clone()))>{row.row.entity.clone()}</button></td>
                            <td>{row.row.kind.label()}</td>
                            <td>{row.row.verdict.label()}</td>
                            <td>{row.remediation()}</td>
                            <td>{usize::from(pending)}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
        {move || open.get().map(|row| view! { <EvidenceFlyout row=row on_close=move || open.set(None)/> })}
    }
    .into_any()
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
    let action = row.row.action.clone();
    view! {
        <super::panel::Panel title=row.row.entity.clone() on_close=on_close>
            <dl class="facts">
                <dt>"Kind"</dt><dd>{row.row.kind.label()}</dd>
                <dt>"Verdict"</dt><dd>{row.row.verdict.label()}</dd>
                <dt>"Investigation"</dt><dd><a href=format!("/investigations/{}", row.row.investigation_id)>{row.investigation.clone()}</a></dd>
                <dt>"Remediation status"</dt><dd>{remediation}</dd>
                {action.as_ref().map(|a| view! {
                    <dt>"Action"</dt><dd>{a.action_type.label()}</dd>
                    <dt>"Decided by"</dt><dd>{a.decided_by.clone().unwrap_or_default()}</dd>
                    <dt>"Details"</dt><dd>{a.details.clone().unwrap_or_default()}</dd>
                })}
            </dl>
            {action.filter(|_| pending).map(|a| {
                let what = format!("{}: {}", a.action_type.label(), a.target);
                view! {
                    <div role="group" aria-label="Pending action" class="buttons">
                        <DecideButtons id=a.id.clone() what=what/>
                    </div>
                }
            })}
        </super::panel::Panel>
    }
}

/// The alerts that started these investigations; `titles` pairs investigation ids with titles.
#[component]
pub fn AlertsTable(alerts: Vec<AlertView>, titles: Vec<(String, String)>) -> impl IntoView {
    view! {
        <table class="queue">
            <caption class="visually-hidden">"Alerts"</caption>
            <thead><tr>
                <th scope="col">"Alert"</th>
                <th scope="col">"Severity"</th>
                <th scope="col">"Time"</th>
                <th scope="col">"Investigation"</th>
            </tr></thead>
            <tbody>
                {alerts.into_iter().map(|alert| {
                    let title = titles.iter().find(|(id, _)| *id == alert.investigation_id)
                        .map(|(_, t)| t.clone()).unwrap_or_default();
                    view! {
                        <tr>
                            <td>{alert.title}</td>
                            <td>{alert.severity.label()}</td>
                            <td><Time at=alert.created_at/></td>
                            <td><a href=format!("/investigations/{}", alert.investigation_id)>{title}</a></td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}
