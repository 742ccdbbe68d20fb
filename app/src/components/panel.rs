//! A side panel (flyout pane): a non-modal dialog with a heading, a Close button and Escape to
//! close; focus goes to it when it opens and back to what opened it when it closes.

use leptos::ev::KeyboardEvent;
use leptos::html::Aside;
use leptos::prelude::*;

use super::focus::{focus_inside, return_focus_on_close};

#[component]
pub fn Panel(
    /// The panel's heading and accessible name.
    title: String,
    on_close: impl Fn() + Clone + Send + Sync + 'static,
    children: Children,
) -> impl IntoView {
    let node = NodeRef::<Aside>::new();
    return_focus_on_close();
    focus_inside(move || node.get().map(Into::into));
    let close = on_close.clone();
    let on_key = move |e: KeyboardEvent| {
        if e.key() == "Escape" {
            close();
        }
    };
    view! {
        <aside node_ref=node role="dialog" aria-modal="false" aria-labelledby="panel-title" class="panel" on:keydown=on_key>
            <h2 id="panel-title" tabindex="-1" data-focus="">{title}</h2>
            <button type="button" class="close" on:click=move |_| on_close()>"Close"</button>
            {children()}
        </aside>
    }
}
