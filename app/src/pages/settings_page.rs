//! Settings (Admin): the configuration this instance runs with, read-only, secrets masked.
//! Changing it is the operator's, with flags or the configuration file, and a restart.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::get_settings;
use crate::components::error_view::ErrorView;

#[component]
pub fn SettingsPage() -> impl IntoView {
    let settings = Resource::new(|| (), |_| get_settings());
    view! {
        <Title text="Settings"/>
        <h1>"Settings"</h1>
        <p class="hint">"The configuration in force on this instance. Secrets are never shown. It changes with the command line or the configuration file, and a restart."</p>
        <Transition fallback=|| view! { <p>"Loading settings…"</p> }>
            {move || Suspend::new(async move {
                match settings.await {
                    Err(e) => view! { <ErrorView error=e retry=move |_| settings.refetch()/> }.into_any(),
                    Ok(lines) => {
                        let mut sections: Vec<(String, Vec<(String, String)>)> = Vec::new();
                        for line in lines {
                            match sections.last_mut() {
                                Some((name, items)) if *name == line.section => items.push((line.name, line.value)),
                                _ => sections.push((line.section, vec![(line.name, line.value)])),
                            }
                        }
                        sections.into_iter().map(|(section, items)| view! {
                            <section class="card settings" aria-label=section.clone()>
                                <h2>{section.clone()}</h2>
                                <dl class="facts">
                                    {items.into_iter().map(|(name, value)| view! {
                                        <dt>{name}</dt><dd class="entity">{value}</dd>
                                    }).collect_view()}
                                </dl>
                            </section>
                        }).collect_view().into_any()
                    }
                }
            })}
        </Transition>
    }
}
