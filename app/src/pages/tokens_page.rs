//! API tokens (Admin): every token with its scopes, expiry and last use; an admin makes one
//! (its secret shown once, here, and never again) or revokes one, as `airdesk token create |
//! revoke` does.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::{create_token, list_tokens, revoke_token};
use crate::components::error_view::ErrorView;
use crate::components::time::Time;
use crate::model::{ApiToken, AppError, NewToken, Scope};

#[derive(Clone)]
struct Form {
    username: String,
    label: String,
    scopes: Vec<Scope>,
    expires_days: Option<u32>,
}

#[component]
pub fn TokensPage() -> impl IntoView {
    let tokens = Resource::new(|| (), |_| list_tokens());
    let create = Action::new(|form: &Form| {
        let form = form.clone();
        let scopes: Vec<&str> = form.scopes.iter().map(|s| s.as_str()).collect();
        create_token(
            form.username,
            form.label,
            scopes.join(","),
            form.expires_days,
        )
    });
    let revoke = Action::new(|id: &String| revoke_token(id.clone()));
    Effect::new(move |_| {
        if matches!(create.value().get(), Some(Ok(_)))
            || matches!(revoke.value().get(), Some(Ok(())))
        {
            tokens.refetch();
        }
    });
    let username = RwSignal::new(String::new());
    let label = RwSignal::new(String::new());
    let scopes = RwSignal::new(vec![Scope::Read]);
    let days = RwSignal::new("90".to_string());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        create.dispatch(Form {
            username: username.get(),
            label: label.get(),
            scopes: scopes.get(),
            expires_days: days.get().trim().parse().ok(),
        });
    };
    view! {
        <Title text="API tokens"/>
        <h1>"API tokens"</h1>
        <p class="hint">"A token acts as its user, narrowed to its scopes, until it expires or is revoked. Its secret is shown once, when it is made."</p>
        <form class="card token-form" on:submit=submit aria-labelledby="new-token">
            <h2 id="new-token">"New token"</h2>
            <label for="token-user">"For user"</label>
            <input id="token-user" type="text" required bind:value=username/>
            <label for="token-label">"Label"</label>
            <input id="token-label" type="text" required maxlength="100" bind:value=label/>
            <fieldset>
                <legend>"Scopes"</legend>
                {Scope::ALL.iter().map(|scope| {
                    let scope = *scope;
                    let id = format!("scope-{}", scope.as_str());
                    view! {
                        <input type="checkbox" id=id.clone()
                            prop:checked=move || scopes.read().contains(&scope)
                            on:change=move |ev| {
                                let on = event_target_checked(&ev);
                                scopes.update(|s| { s.retain(|x| *x != scope); if on { s.push(scope); } });
                            }/>
                        <label for=id class="inline">{scope.label()}</label>
                    }
                }).collect_view()}
            </fieldset>
            <label for="token-days">"Expires after (days; 0 = never)"</label>
            <input id="token-days" type="number" min="0" max="3650" bind:value=days/>
            <button type="submit" disabled=move || create.pending().get()>"Create token"</button>
            {move || create.value().get().map(|r| match r {
                Ok(NewToken { secret, .. }) => view! {
                    <div role="status" class="secret">
                        <p>"Copy this token now: it will not be shown again."</p>
                        <code class="token-secret">{secret}</code>
                    </div>
                }.into_any(),
                Err(e) => view! { <p role="alert" class="error">{e.to_string()}</p> }.into_any(),
            })}
        </form>
        {move || revoke.value().get().and_then(|r| r.err()).map(|e| view! {
            <p role="alert" class="error">{e.to_string()}</p>
        })}
        <Transition fallback=|| view! { <p>"Loading tokens…"</p> }>
            {move || Suspend::new(async move {
                match tokens.await {
                    Err(e) => view! { <ErrorView error=e retry=move |_| tokens.refetch()/> }.into_any(),
                    Ok(list) => view! {
                        <table class="queue tokens">
                            <caption class="visually-hidden">"API tokens"</caption>
                            <thead><tr>
                                <th scope="col">"Label"</th>
                                <th scope="col">"User"</th>
                                <th scope="col">"Scopes"</th>
                                <th scope="col">"Created"</th>
                                <th scope="col">"Expires"</th>
                                <th scope="col">"Last used"</th>
                                <th scope="col">"State"</th>
                                <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                            </tr></thead>
                            <tbody>
                                {list.into_iter().map(|token| view! { <TokenRow token revoke/> }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn TokenRow(token: ApiToken, revoke: Action<String, Result<(), AppError>>) -> impl IntoView {
    let state = if token.revoked_at.is_some() {
        "Revoked"
    } else if token.expired {
        "Expired"
    } else {
        "Active"
    };
    let id = token.id.clone();
    let label = format!("Revoke {}", token.label);
    let active = state == "Active";
    view! {
        <tr>
            <td class="entity">{token.label.clone()}</td>
            <td class="entity">{token.username.clone()}</td>
            <td>{token.scopes.replace(',', ", ")}</td>
            <td><Time at=token.created_at/></td>
            <td>{match token.expires_at { Some(at) => view! { <Time at/> }.into_any(), None => "Never".into_any() }}</td>
            <td>{match token.last_used_at { Some(at) => view! { <Time at/> }.into_any(), None => "Never".into_any() }}</td>
            <td><span class=format!("status status-{}", state.to_lowercase())>{state}</span></td>
            <td>
                {active.then(|| view! {
                    <button type="button" aria-label=label disabled=move || revoke.pending().get()
                        on:click=move |_| { revoke.dispatch(id.clone()); }>"Revoke"</button>
                })}
            </td>
        </tr>
    }
}
