//! Sign in: with the identity provider (when one is configured), with a password (unless
//! turned off), and why a sign-in through the provider was refused.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::{sign_in_options, Login};

/// The message for a refusal code of `/login?refused=…`. Only these fixed texts are shown:
/// the query comes from a link anyone can craft.
fn refusal(code: &str) -> Option<&'static str> {
    Some(match code {
        "expired" => "That sign-in took too long or was started in another browser. Sign in again.",
        "provider" => "The identity provider did not sign you in (cancelled or refused). Sign in again.",
        "token" => "The identity provider's answer failed airdesk's checks. Sign in again; if it keeps failing, tell an administrator.",
        "no_role" => "Your account at the identity provider is in no group that has a role in airdesk, so you cannot sign in. Ask an administrator for access.",
        "disabled" => "Your airdesk account is disabled. Ask an administrator.",
        "name" => "Your user name at the identity provider belongs to another airdesk account. Ask an administrator.",
        "unavailable" => "The identity provider cannot be reached just now. Try again in a moment.",
        _ => return None,
    })
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let login = ServerAction::<Login>::new();
    let options = Resource::new(|| (), |_| sign_in_options());
    let query = use_query_map();
    let next = move || query.read().get("next").unwrap_or_default();
    let refused = move || query.read().get("refused").and_then(|code| refusal(&code));
    let error = move || {
        login
            .value()
            .get()
            .and_then(|r| r.err())
            .map(|e| e.to_string())
    };
    let provider_link = move |name: String| {
        let href = format!("/auth/oidc/start?next={}", crate::model::urlencode(&next()));
        view! {
            <a class="button sso" rel="external" href=href>"Sign in with " {name}</a>
        }
    };
    view! {
        <Title text="Sign in"/>
        <main id="content" class="login">
            <h1>"airdesk"</h1>
            <p class="tagline">"Action center for automated investigation and response on email"</p>
            {move || refused().map(|text| view! { <p role="alert" class="error card">{text}</p> })}
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    let options = options.await.ok();
                    let passwords = options.as_ref().is_none_or(|o| o.passwords);
                    let provider = options.and_then(|o| o.provider);
                    view! {
                        {provider.map(|name| view! {
                            <section class="card" aria-labelledby="sso-heading">
                                <h2 id="sso-heading">"Single sign-on"</h2>
                                {provider_link(name)}
                            </section>
                        })}
                        {passwords.then(|| view! {
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
                        })}
                    }
                })}
            </Suspense>
        </main>
    }
}
