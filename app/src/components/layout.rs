//! The frame around every signed-in page: the product name, the navigation and the user.

use leptos::prelude::*;
use leptos_router::components::{Outlet, A};

use super::portal::Portal;
use crate::api::Logout;
use crate::model::Role;

#[component]
pub fn Layout() -> impl IntoView {
    let user = Portal::provide().user;
    let logout = ServerAction::<Logout>::new();
    view! {
        <a class="skip" href="#content">"Skip to content"</a>
        <header class="top">
            <span class="brand">"airdesk"</span>
            <nav aria-label="Main">
                <A href="/" exact=true>"Dashboard"</A>
                <A href="/incidents">"Incidents"</A>
                <A href="/action-center">"Action center"</A>
                <A href="/investigations">"Investigations"</A>
                <A href="/threatincidents">"Office action center"</A>
                <A href="/policy">"Policy"</A>
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        user.await.ok().flatten().filter(|u| u.role == Role::Admin).map(|_| view! {
                            <A href="/deliveries">"Deliveries"</A>
                            <A href="/users">"Users"</A>
                            <A href="/tokens">"API tokens"</A>
                            <A href="/sessions">"Sessions"</A>
                            <A href="/settings">"Settings"</A>
                        })
                    })}
                </Suspense>
            </nav>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    user.await.ok().flatten().map(|u| view! {
                        <div class="who">
                            <A href="/account" attr:title="My account">{u.username}" · "{u.role.label()}</A>
                            <ActionForm action=logout>
                                <button type="submit" class="link">"Sign out"</button>
                            </ActionForm>
                        </div>
                    })
                })}
            </Suspense>
        </header>
        <main id="content">
            <Outlet/>
        </main>
    }
}
