//! Focus for dialogs and side panels (WAI-ARIA dialog pattern): focus moves into the dialog
//! when it opens, Tab stays inside a modal one, and focus returns to what opened it when it
//! closes. All of it happens in the browser only; on the server these do nothing.

#[cfg(feature = "hydrate")]
use leptos::prelude::*;

/// What can take focus inside a dialog, in tab order.
#[cfg(feature = "hydrate")]
const FOCUSABLE: &str = "a[href], button:not([disabled]), input:not([disabled]), \
    select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex='-1'])";

/// Remembers the focused element now and gives focus back to it when the calling component
/// is removed (if it is still on the page).
pub fn return_focus_on_close() {
    #[cfg(feature = "hydrate")]
    {
        let opener = StoredValue::new_local(document().active_element());
        on_cleanup(move || {
            opener.try_with_value(|opener| {
                if let Some(el) = opener.as_ref().filter(|el| el.is_connected()) {
                    focus(el);
                }
            });
        });
    }
}

/// Moves focus into the dialog `container` returns once it is on the page: to its first
/// `[autofocus]` or `[data-focus]` element, else its first focusable one.
pub fn focus_inside(container: impl Fn() -> Option<leptos::web_sys::Element> + 'static) {
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        if let Some(el) = container() {
            let target = el
                .query_selector("[autofocus], [data-focus]")
                .ok()
                .flatten()
                .or_else(|| el.query_selector(FOCUSABLE).ok().flatten());
            if let Some(target) = target {
                focus(&target);
            }
        }
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = container;
}

/// Keeps Tab and Shift+Tab cycling inside `container` (for modal dialogs).
pub fn trap_tab(event: &leptos::ev::KeyboardEvent, container: &leptos::web_sys::Element) {
    #[cfg(feature = "hydrate")]
    {
        use leptos::wasm_bindgen::JsCast;
        if event.key() != "Tab" {
            return;
        }
        let Ok(found) = container.query_selector_all(FOCUSABLE) else {
            return;
        };
        let items: Vec<leptos::web_sys::Element> = (0..found.length())
            .filter_map(|i| found.item(i))
            .filter_map(|n| n.dyn_into().ok())
            .collect();
        let (Some(first), Some(last)) = (items.first(), items.last()) else {
            return;
        };
        let active = document().active_element();
        let at = |el: &leptos::web_sys::Element| active.as_ref() == Some(el);
        if event.shift_key() && (at(first) || !items.iter().any(at)) {
            event.prevent_default();
            focus(last);
        } else if !event.shift_key() && (at(last) || !items.iter().any(at)) {
            event.prevent_default();
            focus(first);
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (event, container);
}

#[cfg(feature = "hydrate")]
fn focus(el: &leptos::web_sys::Element) {
    use leptos::wasm_bindgen::JsCast;
    if let Some(el) = el.dyn_ref::<leptos::web_sys::HtmlElement>() {
        let _ = el.focus();
    }
}
