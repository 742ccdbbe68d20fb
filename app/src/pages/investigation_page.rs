//! One investigation: what it found (email clusters and their messages, mail forwarding), the
//! actions it proposed, and its log. Subjects and senders are attacker-controlled text: they
//! are only ever rendered as text nodes.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api::get_investigation;
use crate::components::error_view::ErrorView;
use crate::model::{display_time, Investigation};

#[component]
pub fn InvestigationPage() -> impl IntoView {
    let params = use_params_map();
    let investigation = Resource::new(
        move || params.read().get("id").unwrap_or_default(),
        get_investigation,
    );
    view! {
        <Transition fallback=|| view! { <p>"Loading investigation…"</p> }>
            {move || Suspend::new(async move {
                match investigation.await {
                    Ok(found) => view! { <InvestigationView investigation=found/> }.into_any(),
                    Err(e) => view! { <h1>"Investigation"</h1><ErrorView error=e/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn InvestigationView(investigation: Investigation) -> impl IntoView {
    let Investigation {
        title,
        investigation_type,
        status,
        created_at,
        updated_at,
        clusters,
        forwarding,
        actions,
        log,
        ..
    } = investigation;
    view! {
        <Title text=title.clone()/>
        <h1>{title}</h1>
        <dl class="facts">
            <dt>"Status"</dt><dd>{status.label()}</dd>
            <dt>"Investigation type"</dt><dd>{investigation_type.label()}</dd>
            <dt>"Creation time"</dt><dd>{display_time(&created_at)}</dd>
            <dt>"Last changed time"</dt><dd>{display_time(&updated_at)}</dd>
        </dl>

        <h2>"Email clusters"</h2>
        {clusters.into_iter().map(|c| {
            let name = format!("{}: {}", c.cluster_by.label(), c.cluster_value);
            let label = name.clone();
            view! {
                <section class="cluster" aria-label=label>
                    <h3>{name}</h3>
                    <p>"Verdict: "{c.verdict.label()}" · "{c.email_count}" emails"</p>
                    <table class="queue">
                        <caption class="visually-hidden">"Messages"</caption>
                        <thead><tr>
                            <th scope="col">"Subject"</th>
                            <th scope="col">"Sender"</th>
                            <th scope="col">"Mailbox"</th>
                            <th scope="col">"Received"</th>
                            <th scope="col">"Location"</th>
                        </tr></thead>
                        <tbody>
                            {c.messages.into_iter().map(|m| view! {
                                <tr>
                                    <td>{m.subject}</td>
                                    <td>{m.sender}</td>
                                    <td>{m.mailbox}</td>
                                    <td>{display_time(&m.received_at)}</td>
                                    <td>{m.location.label()}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                </section>
            }
        }).collect_view()}

        <h2>"Mail forwarding"</h2>
        <table class="queue">
            <caption class="visually-hidden">"Mail forwarding"</caption>
            <thead><tr><th scope="col">"Mailbox"</th><th scope="col">"Forwards to"</th><th scope="col">"Verdict"</th></tr></thead>
            <tbody>
                {forwarding.into_iter().map(|f| view! {
                    <tr><td>{f.mailbox}</td><td>{f.forward_to}</td><td>{f.verdict.label()}</td></tr>
                }).collect_view()}
            </tbody>
        </table>

        <h2>"Actions"</h2>
        <table class="queue">
            <caption class="visually-hidden">"Actions"</caption>
            <thead><tr><th scope="col">"Action type"</th><th scope="col">"Entity"</th><th scope="col">"Status"</th><th scope="col">"Created"</th></tr></thead>
            <tbody>
                {actions.into_iter().map(|a| view! {
                    <tr>
                        <td>{a.action_type.label()}</td>
                        <td>{a.target.describe()}</td>
                        <td>{a.status.label()}</td>
                        <td>{display_time(&a.created_at)}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>

        <h2>"Log"</h2>
        <ol class="log">
            {log.into_iter().map(|entry| view! {
                <li><span class="mono">{display_time(&entry.at)}</span>" "<strong>{entry.step}</strong>" "{entry.detail}</li>
            }).collect_view()}
        </ol>
    }
}
