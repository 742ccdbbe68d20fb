//! One investigation: what it found (email clusters and their messages, mail forwarding), the
//! actions it proposed, and its log. Subjects and senders are attacker-controlled text: they
//! are only ever rendered as text nodes.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::{get_investigation, InvestigateMessage, ReportMessage};
use crate::components::decide::DecideButtons;
use crate::components::error_view::ErrorView;
use crate::components::evidence::{evidence_of, AlertsTable, EvidenceTable};
use crate::components::portal::use_portal;
use crate::components::time::{Time, Waiting};
use crate::model::{
    display_duration, Action, ActionStatus, ClusterView, ForwardingView, Investigation, LogEntry,
    MessageLocation, Milestone, ReportView,
};
use chrono::{DateTime, Utc};

#[component]
pub fn InvestigationPage() -> impl IntoView {
    let params = use_params_map();
    let portal = use_portal();
    let investigation = Resource::new(
        move || {
            (
                params.read().get("id").unwrap_or_default(),
                portal.changes.get(),
            )
        },
        |(id, _)| get_investigation(id),
    );
    view! {
        <Transition fallback=|| view! { <p>"Loading investigation…"</p> }>
            {move || Suspend::new(async move {
                match investigation.await {
                    Ok(found) => view! { <InvestigationView investigation=found/> }.into_any(),
                    Err(e) => view! { <h1>"Investigation"</h1><ErrorView error=e retry=move |_| investigation.refetch()/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn InvestigationView(investigation: Investigation) -> impl IntoView {
    let timeline = investigation.timeline();
    let wait = investigation.approval_wait();
    let evidence = evidence_of(&investigation);
    let titles = vec![(investigation.id.clone(), investigation.title.clone())];
    let Investigation {
        title,
        investigation_type,
        status,
        created_at,
        updated_at,
        alert,
        clusters,
        forwarding,
        reports,
        reporter_count,
        actions,
        log,
        ..
    } = investigation;
    let reported_by = reporters_text(&reports, reporter_count);
    let alerts = vec![alert];
    let query = use_query_map();
    let tab = move || {
        let wanted = query.read().get("tab").unwrap_or_default();
        TABS.iter()
            .map(|(k, _)| *k)
            .find(|k| *k == wanted)
            .unwrap_or("clusters")
    };
    let pending = actions
        .iter()
        .filter(|a| a.status == ActionStatus::Pending)
        .count();
    view! {
        <Title text=title.clone()/>
        <h1>{title}</h1>
        <dl class="facts">
            <dt>"Status"</dt><dd>{status.label()}</dd>
            <dt>"Investigation type"</dt><dd>{investigation_type.label()}</dd>
            <dt>"Creation time"</dt><dd><Time at=created_at/></dd>
            <dt>"Last changed time"</dt><dd><Time at=updated_at/></dd>
            <dt>"Pending actions"</dt><dd>{pending}</dd>
            {reported_by.map(|who| view! { <dt>"Reported by"</dt><dd>{who}</dd> })}
        </dl>
        <StatusTimeline timeline=timeline wait=wait/>

        <div role="tablist" aria-label="Investigation" class="tabs">
            {TABS.iter().map(|(key, label)| {
                let key = *key;
                view! {
                    <a role="tab" href=format!("?tab={key}") aria-selected=move || (tab() == key).to_string()>{*label}</a>
                }
            }).collect_view()}
        </div>
        <div role="tabpanel" aria-label=move || TABS.iter().find(|(k, _)| *k == tab()).map_or("", |(_, l)| *l)>
            <div hidden=move || tab() != "alerts"><AlertsTable alerts=alerts titles=titles/></div>
            <div hidden=move || tab() != "evidence"><EvidenceTable rows=evidence only_pending=false/></div>
            {move || match tab() {
                "alerts" | "evidence" => ().into_any(),
                "pending" => pending_view(&actions).into_any(),
                "actions" => actions_view(&actions).into_any(),
                "mailboxes" => mailboxes_view(&clusters, &forwarding).into_any(),
                "log" => log_view(&log).into_any(),
                _ => clusters_view(&clusters).into_any(),
            }}
        </div>
    }
}

/// Who reported the copies the investigation covers, as text (a reporter's name is theirs to
/// choose): "alice@example.test, bob@example.test" or "… and 40 more"; `None` when no one did.
fn reporters_text(reports: &[ReportView], count: i64) -> Option<String> {
    let mut names: Vec<&str> = Vec::new();
    for report in reports {
        if !names.contains(&report.reported_by.as_str()) {
            names.push(&report.reported_by);
        }
    }
    if names.is_empty() {
        return None;
    }
    let more = count - names.len() as i64;
    let mut text = names.join(", ");
    if more > 0 {
        text.push_str(&format!(" and {more} more"));
    }
    Some(text)
}

/// The investigation page's tabs: `?tab=<key>`; without one, Email clusters.
const TABS: [(&str, &str); 7] = [
    ("alerts", "Alerts"),
    ("mailboxes", "Mailboxes"),
    ("evidence", "Evidence"),
    ("clusters", "Email clusters"),
    ("actions", "Actions"),
    ("log", "Log"),
    ("pending", "Pending actions"),
];

/// The graph of the investigation's life: started, proposed, decided, ended, and how long it
/// waited for approval (still counting while an action is pending).
#[component]
fn StatusTimeline(
    timeline: Vec<Milestone>,
    wait: Option<(DateTime<Utc>, Option<DateTime<Utc>>)>,
) -> impl IntoView {
    let waited = wait.map(|(start, end)| match end {
        Some(end) => view! {
            <p>"Time waiting for approval: "<strong>{display_duration(end - start)}</strong></p>
        }
        .into_any(),
        None => view! {
            <p>"Waiting for approval since "<Time at=start/>" "<strong><Waiting since=start/></strong></p>
        }
        .into_any(),
    });
    view! {
        <section class="timeline" aria-labelledby="timeline-title">
            <h2 id="timeline-title">"Status timeline"</h2>
            <ol>
                {timeline.into_iter().map(|m| view! {
                    <li><Time at=m.at/>" "{m.what}</li>
                }).collect_view()}
            </ol>
            {waited}
        </section>
    }
}

fn clusters_view(clusters: &[ClusterView]) -> impl IntoView {
    if clusters.is_empty() {
        return view! { <p>"No email clusters."</p> }.into_any();
    }
    clusters.iter().map(|c| {
        let name = format!("{}: {}", c.cluster_by.label(), c.cluster_value);
        let label = name.clone();
        let delivered = c.messages.iter().filter(|m| m.location == MessageLocation::Inbox).count();
        let junked = c.messages.iter().filter(|m| m.location == MessageLocation::Junk).count();
        let deleted = c.messages.len() - delivered - junked;
        view! {
            <section class="cluster" aria-label=label>
                <h2>{name}</h2>
                <p>{format!("Verdict: {} · {} emails · {delivered} delivered, {junked} junked, {deleted} deleted or removed", c.verdict.label(), c.email_count)}</p>
                <table class="queue">
                    <caption class="visually-hidden">"Messages"</caption>
                    <thead><tr>
                        <th scope="col">"Subject"</th>
                        <th scope="col">"Sender"</th>
                        <th scope="col">"Mailbox"</th>
                        <th scope="col">"Received"</th>
                        <th scope="col">"Location"</th>
                        <th scope="col"><span class="visually-hidden">"Report"</span></th>
                    </tr></thead>
                    <tbody>
                        {c.messages.iter().map(|m| view! {
                            <tr>
                                <td>{m.subject.clone()}</td>
                                <td>{m.sender.clone()}</td>
                                <td>{m.mailbox.clone()}</td>
                                <td><Time at=m.received_at/></td>
                                <td>{m.location.label()}</td>
                                <td><ReportPhish mailbox=m.mailbox.clone() message_id=m.internet_message_id.clone() subject=m.subject.clone()/></td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </section>
        }
    }).collect_view().into_any()
}

fn mailboxes_view(clusters: &[ClusterView], forwarding: &[ForwardingView]) -> impl IntoView {
    let mut mailboxes: Vec<String> = clusters
        .iter()
        .flat_map(|c| c.messages.iter().map(|m| m.mailbox.clone()))
        .chain(forwarding.iter().map(|f| f.mailbox.clone()))
        .collect();
    mailboxes.sort();
    mailboxes.dedup();
    view! {
        <table class="queue">
            <caption class="visually-hidden">"Mailboxes"</caption>
            <thead><tr><th scope="col">"Mailbox"</th><th scope="col">"Messages in clusters"</th><th scope="col">"Forwards to"</th><th scope="col">"Verdict"</th></tr></thead>
            <tbody>
                {mailboxes.into_iter().map(|mailbox| {
                    let messages = clusters.iter().flat_map(|c| c.messages.iter()).filter(|m| m.mailbox == mailbox).count();
                    let forwards: Vec<&ForwardingView> = forwarding.iter().filter(|f| f.mailbox == mailbox).collect();
                    // Every way the mailbox forwards, with how it was found (the rule's own
                    // text: rendered as text, never as markup).
                    let targets = forwards
                        .iter()
                        .map(|f| match &f.detail {
                            Some(detail) => format!("{} ({detail})", f.forward_to),
                            None => f.forward_to.clone(),
                        })
                        .collect::<Vec<_>>()
                        .join("; ");
                    // Verdicts order most severe first.
                    let verdict = forwards.iter().map(|f| f.verdict).min().map(|v| v.label()).unwrap_or_default();
                    view! {
                        <tr>
                            <td>{mailbox.clone()}</td>
                            <td>{messages}</td>
                            <td>{targets}</td>
                            <td>{verdict}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}

fn actions_view(actions: &[Action]) -> impl IntoView {
    view! {
        <table class="queue">
            <caption class="visually-hidden">"Actions"</caption>
            <thead><tr><th scope="col">"Action type"</th><th scope="col">"Entity"</th><th scope="col">"Status"</th><th scope="col">"Created"</th><th scope="col">"Details"</th></tr></thead>
            <tbody>
                {actions.iter().map(|a| view! {
                    <tr>
                        <td>{a.action_type.label()}</td>
                        <td>{a.target.describe()}</td>
                        <td>{a.status.label()}</td>
                        <td><Time at=a.created_at/></td>
                        <td>{a.details.clone().unwrap_or_default()}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}

fn pending_view(actions: &[Action]) -> impl IntoView {
    let pending: Vec<&Action> = actions
        .iter()
        .filter(|a| a.status == ActionStatus::Pending)
        .collect();
    if pending.is_empty() {
        return view! { <p>"No actions are waiting for approval."</p> }.into_any();
    }
    view! {
        <table class="queue">
            <caption class="visually-hidden">"Pending actions"</caption>
            <thead><tr><th scope="col">"Action type"</th><th scope="col">"Entity"</th><th scope="col">"Created"</th><th scope="col">"Decision"</th></tr></thead>
            <tbody>
                {pending.into_iter().map(|a| {
                    let what = format!("{}: {}", a.action_type.label(), a.target.describe());
                    view! {
                        <tr>
                            <td>{a.action_type.label()}</td>
                            <td>{a.target.describe()}</td>
                            <td><Time at=a.created_at/></td>
                            <td><DecideButtons id=a.id.clone() what=what/></td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }.into_any()
}

fn log_view(log: &[LogEntry]) -> impl IntoView {
    view! {
        <ol class="log" aria-label="Log">
            {log.iter().map(|entry| view! {
                <li><span class="mono"><Time at=entry.at/></span>" "<strong>{entry.step.clone()}</strong>" "{entry.detail.clone()}</li>
            }).collect_view()}
        </ol>
    }
}

/// "Report phish" on one message (anyone), and "Investigate" (a manual investigation, for
/// those who may hunt — Search and purge, Admin: the button is there for everyone, enabled for
/// them, like the decision buttons).
/// Either opens the new investigation's page.
#[component]
fn ReportPhish(mailbox: String, message_id: String, subject: String) -> impl IntoView {
    let portal = use_portal();
    let report = ServerAction::<ReportMessage>::new();
    let manual = ServerAction::<InvestigateMessage>::new();
    let navigate = leptos_router::hooks::use_navigate();
    Effect::new(move |_| {
        let done = report
            .value()
            .get()
            .and_then(Result::ok)
            .or_else(|| manual.value().get().and_then(Result::ok));
        if let Some(id) = done {
            portal.changed();
            navigate(&format!("/investigations/{id}"), Default::default());
        }
    });
    let may_hunt = move || matches!(portal.user.get(), Some(Ok(Some(u))) if u.can_hunt());
    let busy = move || report.pending().get() || manual.pending().get();
    let (to_report, to_investigate) = (
        (mailbox.clone(), message_id.clone()),
        (mailbox.clone(), message_id.clone()),
    );
    view! {
        <span class="decide">
            <button type="button" class="link-like" aria-label=format!("Report phish: {subject} in {mailbox}")
                disabled=busy
                on:click=move |_| { report.dispatch(ReportMessage { mailbox: to_report.0.clone(), internet_message_id: to_report.1.clone() }); }>
                "Report phish"
            </button>
            <button type="button" class="link-like" aria-label=format!("Investigate: {subject} in {mailbox}")
                disabled=move || busy() || !may_hunt()
                title=move || if may_hunt() { "" } else { "Needs the Search and purge role" }
                on:click=move |_| { manual.dispatch(InvestigateMessage { mailbox: to_investigate.0.clone(), internet_message_id: to_investigate.1.clone() }); }>
                "Investigate"
            </button>
        </span>
        {move || report.value().get().and_then(|r| r.err())
            .or_else(|| manual.value().get().and_then(|r| r.err()))
            .map(|e| view! { <span role="alert" class="error">{e.to_string()}</span> })}
    }
}
