//! Approve / Reject for one pending action: each asks for an optional comment in a dialog, then
//! calls the same rules as the REST API. A decision someone else made first shows who and when.

use leptos::ev::KeyboardEvent;
use leptos::html::Div;
use leptos::prelude::*;

use super::focus::{focus_inside, return_focus_on_close, trap_tab};
use super::portal::use_portal;
use crate::api::{get_impact, DecideAction, DecideRequest};

/// The two buttons for one action; `what` names the action in the dialog's title.
#[component]
pub fn DecideButtons(id: String, what: String) -> impl IntoView {
    let portal = use_portal();
    let open = RwSignal::new(None::<bool>);
    let disabled = move || !portal.can_decide();
    let title = move || {
        if disabled() {
            "Needs the Search and purge permission"
        } else {
            ""
        }
    };
    view! {
        <span class="decide">
            <button type="button" class="approve" disabled=disabled title=title
                on:click=move |_| open.set(Some(true))>"Approve"</button>
            <button type="button" class="reject" disabled=disabled title=title
                on:click=move |_| open.set(Some(false))>"Reject"</button>
        </span>
        {move || open.get().map(|approve| view! {
            <DecisionDialog id=id.clone() what=what.clone() approve=approve on_close=move || open.set(None)/>
        })}
    }
}

#[component]
fn DecisionDialog(
    id: String,
    what: String,
    approve: bool,
    on_close: impl Fn() + Clone + Send + Sync + 'static,
) -> impl IntoView {
    let portal = use_portal();
    let decide = ServerAction::<DecideAction>::new();
    let comment = RwSignal::new(String::new());
    let verb = if approve { "Approve" } else { "Reject" };
    let heading_id = format!("decide-{id}");
    let labelled_by = heading_id.clone();
    let field = format!("comment-{id}");
    let field_label = field.clone();
    let close = on_close.clone();
    // Counted again when the dialog opens, not when the list was loaded: mail may have arrived
    // or been removed since, and the policy may have been reloaded.
    let impact = Resource::new(
        {
            let id = id.clone();
            move || id.clone()
        },
        get_impact,
    );
    Effect::new(move |_| {
        if let Some(Ok(_)) = decide.value().get() {
            portal.changed();
            close();
        }
    });
    let submit = {
        let id = id.clone();
        move || {
            let text = comment.get_untracked();
            decide.dispatch(DecideAction {
                request: DecideRequest {
                    id: id.clone(),
                    approve,
                    comment: (!text.trim().is_empty()).then_some(text),
                },
            });
        }
    };
    // Modal: focus starts in the comment, Tab stays inside, and returns to the button after.
    let node = NodeRef::<Div>::new();
    return_focus_on_close();
    focus_inside(move || node.get().map(Into::into));
    let cancel = on_close.clone();
    let on_key = move |e: KeyboardEvent| {
        if e.key() == "Escape" {
            cancel();
        } else if let Some(dialog) = node.get_untracked() {
            trap_tab(&e, &dialog);
        }
    };
    let submit_click = submit.clone();
    view! {
        <div class="backdrop">
            <div node_ref=node role="dialog" aria-modal="true" aria-labelledby=labelled_by class="dialog" on:keydown=on_key>
                <h2 id=heading_id>{format!("{verb}: {what}")}</h2>
                <Transition fallback=|| view! { <p class="impact">"Counting what it would touch…"</p> }>
                    {move || Suspend::new(async move {
                        match impact.await {
                            Ok(action) => {
                                let awaiting = action.awaiting();
                                let reason = action.impact.as_ref().and_then(|i| i.reason.clone());
                                view! {
                                    <p class="impact" data-testid="impact">
                                        {action.impact.as_ref().map(|i| i.describe())}
                                    </p>
                                    {reason.map(|r| view! { <p class="impact-reason">{r}</p> })}
                                    {awaiting.map(|a| view! { <p class="awaiting">{a}</p> })}
                                }.into_any()
                            }
                            Err(e) => view! {
                                <p class="impact error">{format!("Could not count what it would touch: {e}")}</p>
                            }.into_any(),
                        }
                    })}
                </Transition>
                <label for=field_label>"Comment (optional)"</label>
                <textarea id=field rows="3" maxlength="2000" autofocus
                    prop:value=move || comment.get()
                    on:input=move |e| comment.set(event_target_value(&e))></textarea>
                {move || decide.value().get().and_then(|r| r.err()).map(|e| view! {
                    <p role="alert" class="error">{e.to_string()}</p>
                })}
                <div class="buttons">
                    <button type="button" class=if approve { "approve" } else { "reject" }
                        disabled=move || decide.pending().get()
                        on:click=move |_| submit_click()>{verb}</button>
                    <button type="button" on:click=move |_| on_close()>"Cancel"</button>
                </div>
            </div>
        </div>
    }
}
