//! Deliveries (Admin): what became of each event sent to each webhook endpoint — delivered,
//! waiting for its next attempt (with the last error), or failed after the retry period.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;

use crate::api::{list_deliveries, DeliveryQuery};
use crate::components::time::Time;
use crate::components::{error_view::ErrorView, pager::Pager};
use crate::model::Delivery;

/// The statuses one can filter on, with their labels.
const STATUSES: &[(&str, &str)] = &[
    ("failed", "Failed"),
    ("pending", "Pending"),
    ("delivered", "Delivered"),
];

fn status_of(query: Memo<leptos_router::params::ParamsMap>) -> Option<String> {
    query
        .read()
        .get("status")
        .filter(|s| STATUSES.iter().any(|(w, _)| w == s))
}

#[component]
pub fn DeliveriesPage() -> impl IntoView {
    let query = use_query_map();
    let deliveries = Resource::new(
        move || DeliveryQuery {
            status: status_of(query),
            cursor: query.read().get("cursor"),
        },
        list_deliveries,
    );
    view! {
        <Title text="Deliveries"/>
        <h1>"Deliveries"</h1>
        <p class="hint">"Each event sent to each webhook endpoint. Pending ones are retried with backoff; after the retry period they are Failed."</p>
        <nav class="filters" aria-label="Delivery status">
            <A href="/deliveries">"All"</A>
            {STATUSES.iter().map(|(word, label)| view! {
                <A href=format!("/deliveries?status={word}")>{*label}</A>
            }).collect_view()}
        </nav>
        <Transition fallback=|| view! { <p>"Loading deliveries…"</p> }>
            {move || Suspend::new(async move {
                match deliveries.await {
                    Err(e) => view! { <ErrorView error=e retry=move |_| deliveries.refetch()/> }.into_any(),
                    Ok(page) if page.items.is_empty() => view! { <p>"No deliveries."</p> }.into_any(),
                    Ok(page) => {
                        let base = match status_of(query) {
                            Some(s) => format!("/deliveries?status={s}"),
                            None => "/deliveries".to_string(),
                        };
                        view! {
                            <table class="queue deliveries">
                                <caption class="visually-hidden">"Webhook deliveries"</caption>
                                <thead><tr>
                                    <th scope="col">"Event"</th>
                                    <th scope="col">"Subject"</th>
                                    <th scope="col">"Endpoint"</th>
                                    <th scope="col">"Status"</th>
                                    <th scope="col">"Attempts"</th>
                                    <th scope="col">"Last answer"</th>
                                    <th scope="col">"Event time"</th>
                                    <th scope="col">"Next attempt"</th>
                                </tr></thead>
                                <tbody>
                                    {page.items.into_iter().map(|d| view! { <DeliveryRow delivery=d/> }).collect_view()}
                                </tbody>
                            </table>
                            <Pager base next=page.next/>
                        }.into_any()
                    }
                }
            })}
        </Transition>
    }
}

#[component]
fn DeliveryRow(delivery: Delivery) -> impl IntoView {
    let answer = match (delivery.last_status, delivery.last_error) {
        (_, Some(error)) => error,
        (Some(code), None) => format!("HTTP {code}"),
        (None, None) => "—".to_string(),
    };
    let label = STATUSES
        .iter()
        .find(|(w, _)| *w == delivery.status)
        .map_or(delivery.status.clone(), |(_, l)| l.to_string());
    let subject = delivery.subject.clone();
    let answer_title = answer.clone();
    view! {
        <tr>
            <td>{delivery.event_type}</td>
            <td class="entity" title=subject>{delivery.subject}</td>
            <td>{delivery.endpoint}</td>
            <td><span class=format!("status status-{}", delivery.status)>{label}</span></td>
            <td>{delivery.attempts}</td>
            <td class="entity" title=answer_title>{answer}</td>
            <td><Time at=delivery.event_at/></td>
            <td>{delivery.next_attempt_at.map(|at| view! { <Time at/> })}</td>
        </tr>
    }
}
