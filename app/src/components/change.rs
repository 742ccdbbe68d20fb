//! Changing or undoing a completed action (DESIGN.md rule 6), shared by the action center's
//! History panel and the Office action center: one button per type the action can become (Hard
//! delete asks first), then the new action's progress until it settles.

use leptos::prelude::*;

use super::error_view::ErrorView;
use super::portal::use_portal;
use crate::api::{change_action, get_action, ChangeRequest};
use crate::model::{Action, ActionResult, ActionStatus, ActionType};

/// What a completed action can become from the side panel.
pub fn changes_for(action: &Action) -> Vec<ActionType> {
    let done = matches!(
        action.status,
        ActionStatus::Completed | ActionStatus::PartiallyCompleted
    );
    match action.action_type {
        _ if !done => Vec::new(),
        ActionType::HardDelete | ActionType::RestoreForwarding => Vec::new(),
        ActionType::TurnOffForwarding => vec![ActionType::RestoreForwarding],
        _ => vec![
            ActionType::MoveToInbox,
            ActionType::MoveToJunk,
            ActionType::MoveToDeletedItems,
            ActionType::SoftDelete,
            ActionType::HardDelete,
        ],
    }
}

/// The new action's progress, read again every second once there is one.
fn progress_of(
    created: RwSignal<Option<String>>,
) -> Resource<Result<Option<Action>, crate::model::AppError>> {
    let tick = RwSignal::new(0u32);
    Effect::new(move |_| {
        if created.get().is_some() {
            let handle = set_interval_with_handle(
                move || tick.update(|t| *t += 1),
                std::time::Duration::from_secs(1),
            );
            on_cleanup(move || {
                if let Ok(handle) = handle {
                    handle.clear();
                }
            });
        }
    });
    Resource::new(
        move || (created.get(), tick.get()),
        |(id, _)| async move {
            match id {
                Some(id) => get_action(id).await.map(Some),
                None => Ok(None),
            }
        },
    )
}

/// The change buttons for a completed action, and what the change came to.
#[component]
pub fn ChangeOptions(action: Action) -> impl IntoView {
    let portal = use_portal();
    let confirm_hard = RwSignal::new(false);
    let change =
        leptos::prelude::Action::new(|request: &ChangeRequest| change_action(request.clone()));
    let created = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        if let Some(Ok(new)) = change.value().get() {
            created.set(Some(new.id));
            portal.changed();
        }
    });
    let progress = progress_of(created);
    let id = action.id.clone();
    let options = changes_for(&action);
    view! {
        {(!options.is_empty()).then(|| {
            let id = id.clone();
            view! {
                <div role="group" aria-label="Change or undo" class="buttons">
                    {options.into_iter().map(|to| {
                        let id = id.clone();
                        let run = move |_| {
                            if to == ActionType::HardDelete && !confirm_hard.get_untracked() {
                                confirm_hard.set(true);
                                return;
                            }
                            change.dispatch(ChangeRequest { id: id.clone(), to });
                        };
                        view! {
                            <button type="button" disabled=move || !portal.can_decide() || change.pending().get() || created.get().is_some()
                                on:click=run>{to.label()}</button>
                        }
                    }).collect_view()}
                </div>
                {move || confirm_hard.get().then(|| {
                    let id = id.clone();
                    view! {
                        <div role="alertdialog" aria-labelledby="hard-title" class="confirm">
                            <p id="hard-title">"Hard delete removes the mail for good. It cannot be undone."</p>
                            <button type="button" class="reject" disabled=move || created.get().is_some()
                                on:click=move |_| { change.dispatch(ChangeRequest { id: id.clone(), to: ActionType::HardDelete }); }>"Confirm hard delete"</button>
                            <button type="button" on:click=move |_| confirm_hard.set(false)>"Cancel"</button>
                        </div>
                    }
                })}
            }
        })}
        {move || change.value().get().and_then(|r| r.err()).map(|e| view! { <p role="alert" class="error">{e.to_string()}</p> })}
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match progress.await {
                    Ok(Some(new)) => Some(view! {
                        <p role="status">{format!("{}: {}", new.action_type.label(), new.status.label())}
                            {new.details.map(|d| format!(" — {d}"))}</p>
                    }.into_any()),
                    Ok(None) => None,
                    Err(e) => Some(view! { <ErrorView error=e retry=move |_| progress.refetch()/> }.into_any()),
                }
            })}
        </Transition>
    }
}

/// Per-message results of an action that ran.
#[component]
pub fn ResultsTable(results: Vec<ActionResult>) -> impl IntoView {
    view! {
        <table class="queue">
            <caption>"Results"</caption>
            <thead><tr><th scope="col">"Mailbox"</th><th scope="col">"Message"</th><th scope="col">"Result"</th><th scope="col">"Location"</th></tr></thead>
            <tbody>
                {results.into_iter().map(|r| view! {
                    <tr>
                        <td>{r.mailbox}</td>
                        <td>{r.internet_message_id.unwrap_or_default()}</td>
                        <td>{r.result.label()}</td>
                        <td>{r.location.map(|l| l.label()).unwrap_or_default()}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}
