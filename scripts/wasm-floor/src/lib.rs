//! The smallest portal-shaped Leptos 0.8 app: router, meta, a server function read through a
//! resource under Suspense, a list, a form that calls a server function. Measures the
//! framework's own share of a hydrate WASM. Only its browser half is ever built: the server
//! functions' bodies are placeholders that never run.
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, Title};
use leptos_router::components::{Route, Router, Routes, A};
use leptos_router::path;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Row {
    pub id: String,
    pub title: String,
    pub status: String,
    pub count: i64,
    pub decided_by: Option<String>,
}

#[server]
pub async fn rows() -> Result<Vec<Row>, ServerFnError> {
    Ok(Vec::new())
}

#[server]
pub async fn approve(id: String) -> Result<Row, ServerFnError> {
    Err(ServerFnError::new(id))
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Title text="min"/>
        <Router>
            <nav><A href="/">"Home"</A><A href="/list">"List"</A></nav>
            <Routes fallback=|| "Not found">
                <Route path=path!("/") view=Home/>
                <Route path=path!("/list") view=List/>
            </Routes>
        </Router>
    }
}

#[component]
fn Home() -> impl IntoView {
    let (count, set_count) = signal(0);
    view! { <button on:click=move |_| set_count.update(|c| *c += 1)>{count}</button> }
}

#[component]
fn List() -> impl IntoView {
    let rows = Resource::new(|| (), |_| rows());
    let approve = ServerAction::<Approve>::new();
    view! {
        <Suspense fallback=|| "Loading">
            {move || rows.get().map(|rows| match rows {
                Ok(rows) => view! {
                    <ul>
                        <For each=move || rows.clone() key=|r| r.id.clone() let:row>
                            <li>{row.title.clone()} " " {row.status.clone()} " " {row.count}
                                <ActionForm action=approve>
                                    <input type="hidden" name="id" value=row.id.clone()/>
                                    <button type="submit">"Approve"</button>
                                </ActionForm>
                            </li>
                        </For>
                    </ul>
                }.into_any(),
                Err(e) => view! { <p>{e.to_string()}</p> }.into_any(),
            })}
        </Suspense>
    }
}

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(App);
}
