//! The browser entry point: hydrate the server-rendered portal.
// The portal's views are deeply nested types; the release WASM build needs the room.
#![recursion_limit = "256"]

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
}
