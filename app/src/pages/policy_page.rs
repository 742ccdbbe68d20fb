//! The approval policy in force, read-only: its origin and hash (as audit events name it), the
//! defaults, the mailbox groups with their automation levels, the rules in the order they are
//! evaluated, and the variables a rule can read. It is changed by editing the file, which is
//! reviewed like code; the portal only shows it.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::get_policy;
use crate::components::error_view::ErrorView;
use crate::model::{Defaults, GroupView, PolicyView, RuleView, Variable};

#[component]
pub fn PolicyPage() -> impl IntoView {
    let policy = Resource::new(|| (), |_| get_policy());
    view! {
        <Title text="Approval policy"/>
        <h1>"Approval policy"</h1>
        <Transition fallback=|| view! { <p>"Loading the policy…"</p> }>
            {move || Suspend::new(async move {
                match policy.await {
                    Ok(found) => view! { <PolicyView policy=found/> }.into_any(),
                    Err(e) => view! { <ErrorView error=e retry=move |_| policy.refetch()/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn PolicyView(policy: PolicyView) -> impl IntoView {
    let PolicyView {
        hash,
        origin,
        groups,
        rules,
        defaults,
        variables,
    } = policy;
    view! {
        <p class="policy-origin">
            "In force: " <strong>{origin}</strong> " · sha256 " <code class="hash">{hash}</code>
        </p>
        <p class="hint">"Read-only. The policy is a file on the server (--policy), reloaded when it changes; rules are evaluated in order and the first that matches decides."</p>
        <DefaultsTable defaults/>
        <GroupsTable groups/>
        <RulesTable rules/>
        <VariablesTable variables/>
    }
}

#[component]
fn DefaultsTable(defaults: Defaults) -> impl IntoView {
    let sod = if defaults.separation_of_duties.is_empty() {
        "none".to_owned()
    } else {
        defaults
            .separation_of_duties
            .iter()
            .map(|s| s.label())
            .collect::<Vec<_>>()
            .join(", ")
    };
    view! {
        <h2>"Defaults"</h2>
        <table class="defaults">
            <caption class="visually-hidden">"Settings that hold where no rule says otherwise"</caption>
            <tbody>
                <tr><th scope="row">"Mailboxes in no group"</th><td>{defaults.level.label()}</td></tr>
                <tr><th scope="row">"Hard delete needs"</th><td>{approvals(defaults.hard_delete_approvals)}</td></tr>
                <tr><th scope="row">{format!("More than {} copies needs", defaults.large_action_copies)}</th>
                    <td>{approvals(defaults.large_action_approvals)}</td></tr>
                <tr><th scope="row">"Proposer may not approve (separation of duties)"</th><td>{sod}</td></tr>
            </tbody>
        </table>
    }
}

fn approvals(n: u8) -> String {
    match n {
        1 => "1 approval".to_owned(),
        n => format!("{n} approvals from different people"),
    }
}

#[component]
fn GroupsTable(groups: Vec<GroupView>) -> impl IntoView {
    let members = |g: &GroupView| {
        let mut parts: Vec<String> = Vec::new();
        parts.extend(g.addresses.iter().cloned());
        parts.extend(g.domains.iter().map(|d| format!("@{d}")));
        parts.extend(g.globs.iter().cloned());
        parts.join(", ")
    };
    let empty = groups.is_empty();
    view! {
        <h2>"Mailbox groups"</h2>
        <Show when=move || !empty fallback=|| view! { <p>"No groups: every mailbox has the default level."</p> }>
            <table class="groups">
                <thead><tr><th scope="col">"Group"</th><th scope="col">"Automation level"</th><th scope="col">"Members"</th></tr></thead>
                <tbody>
                    {groups.iter().map(|g| view! {
                        <tr>
                            <td>{g.name.clone()}</td>
                            <td>{g.level.label()}</td>
                            <td class="members">{members(g)}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </Show>
    }
}

#[component]
fn RulesTable(rules: Vec<RuleView>) -> impl IntoView {
    let empty = rules.is_empty();
    view! {
        <h2>"Rules"</h2>
        <Show when=move || !empty fallback=|| view! { <p>"No rules: every action waits for one approval, within the defaults above."</p> }>
            <table class="rules">
                <thead><tr>
                    <th scope="col">"#"</th><th scope="col">"Rule"</th><th scope="col">"When"</th>
                    <th scope="col">"Then"</th><th scope="col">"Reason"</th><th scope="col">"Proposer may approve"</th>
                </tr></thead>
                <tbody>
                    {rules.iter().enumerate().map(|(i, r)| view! {
                        <tr>
                            <td>{i + 1}</td>
                            <td>{r.name.clone()}</td>
                            <td><code>{r.when.clone()}</code></td>
                            <td>{r.then.label()}</td>
                            <td>{r.reason.clone().unwrap_or_default()}</td>
                            <td>{match r.separation_of_duties {
                                Some(true) => "No",
                                Some(false) => "Yes",
                                None => "As the default",
                            }}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </Show>
    }
}

#[component]
fn VariablesTable(variables: Vec<Variable>) -> impl IntoView {
    view! {
        <details class="variables">
            <summary>"What a rule can read"</summary>
            <table>
                <thead><tr><th scope="col">"Variable"</th><th scope="col">"Meaning"</th></tr></thead>
                <tbody>
                    {variables.into_iter().map(|v| view! {
                        <tr><td><code>{v.name}</code></td><td>{v.meaning}</td></tr>
                    }).collect_view()}
                </tbody>
            </table>
        </details>
    }
}
