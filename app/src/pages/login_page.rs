//! Sign in.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::Login;

#[component]
pub fn LoginPage() -> impl IntoView {
    let login = ServerAction::<Login>::new();
    let next = move || use_query_map().read().get("next").unwrap_or_default();
    let error = move || {
        login
            .value()
            .get()
            .and_then(|r| r.err())
            .map(|e| e.to_string())
    };
    view! {
        <Title text="Sign in"/>
        <main id="content" class="login">
            <h1>"airdesk"</h1>
            <p class="tagline">"Action center for automated investigation and response on email"</p>
            <ActionForm action=login attr:class="card">
                <h2>"Sign in"</h2>
                <input type="hidden" name="next" prop:value=next/>
                <label for="username">"Username"</label>
                <input id="username" name="username" type="text" autocomplete="username" required/>
                <label for="password">"Password"</label>
                <input id="password" name="password" type="password" autocomplete="current-password" required/>
                <button type="submit" disabled=move || login.pending().get()>"Sign in"</button>
                {move || error().map(|e| view! { <p role="alert" class="error">{e}</p> })}
            </ActionForm>
        </main>
    }
}
