//! The HTML document around the portal, and the portal's routes.

use leptos::nonce::use_nonce;
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Title};
use leptos_router::components::{ParentRoute, Route, Router, Routes};
use leptos_router::path;

use crate::components::layout::Layout;
use crate::pages::account_page::{AccountPage, SessionsPage};
use crate::pages::dashboard_page::DashboardPage;
use crate::pages::deliveries_page::DeliveriesPage;
use crate::pages::office_action_center_page::OfficeActionCenterPage;
use crate::pages::policy_page::PolicyPage;
use crate::pages::settings_page::SettingsPage;
use crate::pages::tokens_page::TokensPage;
use crate::pages::users_page::UsersPage;
use crate::pages::{
    action_center_page::ActionCenterPage, incident_page::IncidentPage,
    incidents_page::IncidentsPage, investigation_page::InvestigationPage,
    investigations_page::InvestigationsPage, login_page::LoginPage, not_found_page::NotFoundPage,
};

/// The file names of the built script, WASM and stylesheet under `/pkg/`. The server knows
/// them from its embedded assets (they carry content hashes in release builds).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SiteAssets {
    pub js: String,
    pub wasm: String,
    pub css: String,
}

/// The document the server renders; the browser hydrates `<App/>` inside it. The boot script
/// carries the response's CSP nonce, so no inline script runs without one.
pub fn shell(assets: SiteAssets) -> impl IntoView {
    let boot = format!(
        "import('/pkg/{js}').then(m => m.default({{module_or_path: '/pkg/{wasm}'}}).then(() => m.hydrate()));",
        js = assets.js,
        wasm = assets.wasm
    );
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="icon" type="image/svg+xml" href="/favicon.svg"/>
                <link rel="stylesheet" href=format!("/pkg/{}", assets.css)/>
                <link rel="modulepreload" href=format!("/pkg/{}", assets.js)/>
                <link rel="preload" href=format!("/pkg/{}", assets.wasm) r#as="fetch" r#type="application/wasm" crossorigin=""/>
                <script type="module" nonce=use_nonce()>{boot}</script>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Title formatter=|text| format!("{text} · airdesk")/>
        <Router>
            <Routes fallback=NotFoundPage>
                <Route path=path!("/login") view=LoginPage/>
                <ParentRoute path=path!("") view=Layout>
                    <Route path=path!("") view=DashboardPage/>
                    <Route path=path!("/incidents") view=IncidentsPage/>
                    <Route path=path!("/incidents/:id") view=IncidentPage/>
                    <Route path=path!("/action-center") view=ActionCenterPage/>
                    <Route path=path!("/investigations") view=InvestigationsPage/>
                    <Route path=path!("/investigations/:id") view=InvestigationPage/>
                    <Route path=path!("/threatincidents") view=OfficeActionCenterPage/>
                    <Route path=path!("/policy") view=PolicyPage/>
                    <Route path=path!("/deliveries") view=DeliveriesPage/>
                    <Route path=path!("/users") view=UsersPage/>
                    <Route path=path!("/sessions") view=SessionsPage/>
                    <Route path=path!("/tokens") view=TokensPage/>
                    <Route path=path!("/settings") view=SettingsPage/>
                    <Route path=path!("/account") view=AccountPage/>
                </ParentRoute>
            </Routes>
        </Router>
    }
}
