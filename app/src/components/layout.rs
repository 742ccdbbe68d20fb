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
    // The signed-in user is read in ONE Suspense: reading one resource in two boundaries can
    // leave a server-rendered page stalled mid-body (leptos-rs/leptos#4851; seen here about
    // once in a thousand Action center pages). Until it resolves, the navigation without the
    // admin links stands in.
    view! {
        <a class="skip" href="#content">"Skip to content"</a>
        <header class="top">
            <span class="brand">"airdesk"</span>
            <Suspense fallback=|| view! { <MainNav admin=false/> }>
                {move || Suspend::new(async move {
                    let user = user.await.ok().flatten();
                    let admin = user.as_ref().is_some_and(|u| u.role == Role::Admin);
                    view! {
                        <MainNav admin/>
                        {user.map(|u| view! {
                            <div class="who">
                                <A href="/account" attr:title="My account">{u.username}" · "{u.role.label()}</A>
                                <ActionForm action=logout>
                                    <button type="submit" class="link">"Sign out"</button>
                                </ActionForm>
                            </div>
                        })}
                    }
                })}
            </Suspense>
        </header>
        <main id="content">
            <Outlet/>
        </main>
    }
}

/// The main navigation; administrators also get the pages only they may open.
#[component]
fn MainNav(admin: bool) -> impl IntoView {
    view! {
        <nav aria-label="Main">
            <A href="/" exact=true>"Dashboard"</A>
            <A href="/incidents">"Incidents"</A>
            <A href="/action-center">"Action center"</A>
            <A href="/investigations">"Investigations"</A>
            <A href="/threatincidents">"Office action center"</A>
            <A href="/policy">"Policy"</A>
            {admin.then(|| view! {
                <A href="/deliveries">"Deliveries"</A>
                <A href="/users">"Users"</A>
                <A href="/tokens">"API tokens"</A>
                <A href="/sessions">"Sessions"</A>
                <A href="/settings">"Settings"</A>
            })}
        </nav>
    }
}
