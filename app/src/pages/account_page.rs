//! My account: who I am, my role and where it comes from, my password (local users), my open
//! sessions and signing out everywhere. The Sessions page (Admin) lists everyone's with the
//! same table.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::{list_sessions, my_account, revoke_session, ChangePassword, SignOutEverywhere};
use crate::components::error_view::ErrorView;
use crate::components::time::Time;
use crate::model::SessionInfo;

#[component]
pub fn AccountPage() -> impl IntoView {
    let account = Resource::new(|| (), |_| my_account());
    let change = ServerAction::<ChangePassword>::new();
    let everywhere = ServerAction::<SignOutEverywhere>::new();
    view! {
        <Title text="My account"/>
        <h1>"My account"</h1>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match account.await {
                    Err(e) => view! { <ErrorView error=e retry=move |_| account.refetch()/> }.into_any(),
                    Ok(me) => {
                        let local = me.identity_provider.is_none();
                        let source = match (&me.identity_provider, &me.role_claim) {
                            (Some(issuer), Some(claim)) => format!("the identity provider {issuer}, from its “{claim}” claim at each sign-in"),
                            (Some(issuer), None) => format!("the identity provider {issuer}"),
                            _ => "airdesk (a local account, set by an administrator)".to_string(),
                        };
                        view! {
                            <dl class="facts">
                                <dt>"Signed in as"</dt><dd>{me.username}</dd>
                                <dt>"Role"</dt><dd>{me.role.label()}</dd>
                                <dt>"Role comes from"</dt><dd>{source}</dd>
                            </dl>
                            {local.then(|| view! {
                                <ActionForm action=change attr:class="card" attr:aria-labelledby="password-heading">
                                    <h2 id="password-heading">"Change my password"</h2>
                                    <label for="current">"Current password"</label>
                                    <input id="current" name="current" type="password" autocomplete="current-password" required/>
                                    <label for="new">"New password (12 characters or more)"</label>
                                    <input id="new" name="new" type="password" autocomplete="new-password" minlength="12" required/>
                                    <button type="submit" disabled=move || change.pending().get()>"Change password"</button>
                                    {move || change.value().get().map(|r| match r {
                                        Ok(()) => view! { <p role="status">"Password changed; your other sessions have ended."</p> }.into_any(),
                                        Err(e) => view! { <p role="alert" class="error">{e.to_string()}</p> }.into_any(),
                                    })}
                                </ActionForm>
                            })}
                        }.into_any()
                    }
                }
            })}
        </Transition>
        <h2>"My sessions"</h2>
        <Sessions everyone=false/>
        <ActionForm action=everywhere>
            <button type="submit">"Sign out everywhere"</button>
        </ActionForm>
    }
}

/// Everyone's sessions (Admin).
#[component]
pub fn SessionsPage() -> impl IntoView {
    view! {
        <Title text="Sessions"/>
        <h1>"Sessions"</h1>
        <p class="hint">"Every open browser session. A revoked session is refused at its next request."</p>
        <Sessions everyone=true/>
    }
}

#[component]
fn Sessions(everyone: bool) -> impl IntoView {
    let sessions = Resource::new(|| (), move |_| list_sessions(everyone));
    let revoke = Action::new(|id: &String| revoke_session(id.clone()));
    Effect::new(move |_| {
        if let Some(Ok(())) = revoke.value().get() {
            sessions.refetch();
        }
    });
    view! {
        {move || revoke.value().get().and_then(|r| r.err()).map(|e| view! {
            <p role="alert" class="error">{e.to_string()}</p>
        })}
        <Transition fallback=|| view! { <p>"Loading sessions…"</p> }>
            {move || Suspend::new(async move {
                match sessions.await {
                    Err(e) => view! { <ErrorView error=e retry=move |_| sessions.refetch()/> }.into_any(),
                    Ok(list) => view! {
                        <table class="queue sessions">
                            <caption class="visually-hidden">"Sessions"</caption>
                            <thead><tr>
                                <th scope="col">"User"</th>
                                <th scope="col">"Signed in with"</th>
                                <th scope="col">"From"</th>
                                <th scope="col">"Started"</th>
                                <th scope="col">"Last seen"</th>
                                <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                            </tr></thead>
                            <tbody>
                                {list.into_iter().map(|s| view! { <SessionRow session=s revoke/> }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn SessionRow(
    session: SessionInfo,
    revoke: Action<String, Result<(), crate::model::AppError>>,
) -> impl IntoView {
    let method = if session.method == "oidc" {
        "Identity provider"
    } else {
        "Password"
    };
    let id = session.id.clone();
    let label = format!(
        "Revoke the session of {} from {}",
        session.username, session.address
    );
    view! {
        <tr>
            <td class="entity">{session.username.clone()}{session.current.then_some(" (this browser)")}</td>
            <td>{method}</td>
            <td class="entity" title=session.user_agent.clone()>{session.address.clone()}</td>
            <td><Time at=session.created_at/></td>
            <td><Time at=session.last_seen_at/></td>
            <td>
                <button type="button" aria-label=label disabled=move || revoke.pending().get()
                    on:click=move |_| { revoke.dispatch(id.clone()); }>"Revoke"</button>
            </td>
        </tr>
    }
}
