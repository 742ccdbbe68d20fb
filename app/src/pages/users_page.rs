//! Users (Admin): every account with its role and state; an admin changes a role or disables
//! (and enables again) an account here, as `airdesk user role|disable|enable` does. The server
//! checks the role on every call; the last enabled admin cannot be disabled or demoted.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::{add_user, change_user, list_users, UserChange};
use crate::components::error_view::ErrorView;
use crate::components::time::Time;
use crate::model::{Role, UserAccount};

#[component]
pub fn UsersPage() -> impl IntoView {
    let users = Resource::new(|| (), |_| list_users());
    let change = Action::new(|(username, change): &(String, UserChange)| {
        change_user(username.clone(), change.clone())
    });
    let add = Action::new(|(name, password, role): &(String, String, Role)| {
        add_user(name.clone(), password.clone(), *role)
    });
    Effect::new(move |_| {
        if matches!(change.value().get(), Some(Ok(_))) || matches!(add.value().get(), Some(Ok(())))
        {
            users.refetch();
        }
    });
    let new_name = RwSignal::new(String::new());
    let new_password = RwSignal::new(String::new());
    let new_role = RwSignal::new(Role::Reader);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        add.dispatch((new_name.get(), new_password.get(), new_role.get()));
    };
    view! {
        <Title text="Users"/>
        <h1>"Users"</h1>
        <p class="hint">"A new role or a disabled account holds from the user's next request: their open sessions and API tokens included."</p>
        <form class="card user-form" on:submit=submit aria-labelledby="add-user">
            <h2 id="add-user">"Add a local user"</h2>
            <label for="new-user">"Username"</label>
            <input id="new-user" type="text" required maxlength="64" autocomplete="off" bind:value=new_name/>
            <label for="new-user-role">"Role"</label>
            <select id="new-user-role" on:change=move |ev| {
                if let Some(role) = Role::parse(&event_target_value(&ev)) { new_role.set(role); }
            }>
                {Role::ALL.iter().map(|role| view! {
                    <option value=role.as_str() selected=*role == Role::Reader>{role.label()}</option>
                }).collect_view()}
            </select>
            <label for="new-user-password">"First password (12 characters or more)"</label>
            <input id="new-user-password" type="password" required minlength="12" autocomplete="new-password" bind:value=new_password/>
            <button type="submit" disabled=move || add.pending().get()>"Add user"</button>
            {move || add.value().get().map(|r| match r {
                Ok(()) => view! { <p role="status">"User added."</p> }.into_any(),
                Err(e) => view! { <p role="alert" class="error">{e.to_string()}</p> }.into_any(),
            })}
        </form>
        {move || change.value().get().and_then(|r| r.err()).map(|e| view! {
            <p role="alert" class="error">{e.to_string()}</p>
        })}
        <Transition fallback=|| view! { <p>"Loading users…"</p> }>
            {move || Suspend::new(async move {
                match users.await {
                    Err(e) => view! { <ErrorView error=e retry=move |_| users.refetch()/> }.into_any(),
                    Ok(list) => view! {
                        <table class="queue users">
                            <caption class="visually-hidden">"Users"</caption>
                            <thead><tr>
                                <th scope="col">"Name"</th>
                                <th scope="col">"Role"</th>
                                <th scope="col">"State"</th>
                                <th scope="col">"Signs in with"</th>
                                <th scope="col">"Created"</th>
                                <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                            </tr></thead>
                            <tbody>
                                {list.into_iter().map(|user| view! { <UserRow user change/> }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn UserRow(
    user: UserAccount,
    change: Action<(String, UserChange), Result<UserAccount, crate::model::AppError>>,
) -> impl IntoView {
    let name = user.username.clone();
    let for_role = name.clone();
    let for_state = name.clone();
    let for_unlock = name.clone();
    let (state, toggle, toggle_label) = if user.disabled {
        ("Disabled", false, "Enable")
    } else {
        ("Enabled", true, "Disable")
    };
    view! {
        <tr class:disabled=user.disabled>
            <td class="entity">{user.username.clone()}</td>
            <td>
                <select
                    aria-label=format!("Role of {name}")
                    disabled=move || change.pending().get()
                    on:change=move |ev| {
                        if let Some(role) = Role::parse(&event_target_value(&ev)) {
                            change.dispatch((for_role.clone(), UserChange::Role(role)));
                        }
                    }
                >
                    {Role::ALL.iter().map(|role| view! {
                        <option value=role.as_str() selected=*role == user.role>{role.label()}</option>
                    }).collect_view()}
                </select>
            </td>
            <td><span class=format!("status status-{}", state.to_lowercase())>{state}</span></td>
            <td class="entity">{match user.identity_provider.clone() {
                Some(issuer) => format!("Identity provider ({issuer})"),
                None => "Password".to_string(),
            }}</td>
            <td><Time at=user.created_at/></td>
            <td>
                <button
                    type="button"
                    aria-label=format!("{toggle_label} {name}")
                    disabled=move || change.pending().get()
                    on:click=move |_| { change.dispatch((for_state.clone(), UserChange::Disabled(toggle))); }
                >{toggle_label}</button>
                <button
                    type="button"
                    aria-label=format!("Unlock sign-in of {name}")
                    title="Lift a sign-in backoff after failed passwords"
                    disabled=move || change.pending().get()
                    on:click=move |_| { change.dispatch((for_unlock.clone(), UserChange::Unlock)); }
                >"Unlock"</button>
            </td>
        </tr>
    }
}
