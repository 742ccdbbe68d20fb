//! Tables whose rows stand for an item: a click anywhere on the row selects the item, except
//! on the row's own controls (buttons, links, boxes), which keep doing what they say.

/// Whether a click landed on the row itself rather than on one of its controls.
pub fn on_row_itself(event: &leptos::ev::MouseEvent) -> bool {
    #[cfg(feature = "hydrate")]
    {
        use leptos::wasm_bindgen::JsCast;
        event
            .target()
            .and_then(|t| t.dyn_into::<leptos::web_sys::Element>().ok())
            .is_some_and(|el| {
                el.closest("button, a, input, select, textarea, label, summary")
                    .ok()
                    .flatten()
                    .is_none()
            })
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = event;
        false
    }
}
