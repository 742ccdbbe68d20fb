//! The Dashboard, the home page: what waits for approval now and since when, how long
//! decisions take (median and p90 over 7 and 30 days), decisions per day by outcome, the time
//! to remediate per day, and the largest campaigns. Charts are plain SVG written here: no
//! chart library for Leptos 0.8 renders on the server and hydrates without a mismatch, and
//! these are a few rectangles and a line. Each chart is an image with a text summary, its
//! series are told apart by pattern as well as colour, and its figures are in a table beside it.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use crate::api::get_dashboard;
use crate::components::error_view::ErrorView;
use crate::components::time::{Time, Waiting};
use crate::model::{display_duration, Dashboard, Day, TopCluster, WaitStats};

#[component]
pub fn DashboardPage() -> impl IntoView {
    let figures = Resource::new(|| (), |_| get_dashboard());
    view! {
        <Title text="Dashboard"/>
        <h1>"Dashboard"</h1>
        <Transition fallback=|| view! { <p>"Loading the dashboard…"</p> }>
            {move || Suspend::new(async move {
                match figures.await {
                    Ok(d) => view! { <DashboardView dashboard=d/> }.into_any(),
                    Err(e) => view! { <ErrorView error=e retry=move |_| figures.refetch()/> }.into_any(),
                }
            })}
        </Transition>
    }
}

fn duration(secs: Option<i64>) -> String {
    secs.map_or("—".to_string(), |s| {
        display_duration(chrono::TimeDelta::seconds(s))
    })
}

#[component]
fn DashboardView(dashboard: Dashboard) -> impl IntoView {
    let Dashboard {
        pending_now,
        oldest_pending_at,
        wait_7d,
        wait_30d,
        days,
        top_clusters,
    } = dashboard;
    view! {
        <section class="tiles" aria-label="Waiting for approval">
            <div class="tile">
                <h2>"Pending now"</h2>
                <p class="figure"><A href="/action-center">{pending_now}" pending action"{if pending_now == 1 { "" } else { "s" }}</A></p>
            </div>
            <div class="tile">
                <h2>"Oldest pending"</h2>
                {match oldest_pending_at {
                    Some(at) => view! { <p class="figure">"since " <Time at/></p><p class="hint">"waiting " <Waiting since=at/></p> }.into_any(),
                    None => view! { <p class="figure">"none"</p> }.into_any(),
                }}
            </div>
            <WaitTile title="Time to decision, 7 days" stats=wait_7d/>
            <WaitTile title="Time to decision, 30 days" stats=wait_30d/>
        </section>
        <OutcomeChart days=days.clone()/>
        <MttrChart days/>
        <TopClusters clusters=top_clusters/>
    }
}

#[component]
fn WaitTile(title: &'static str, stats: WaitStats) -> impl IntoView {
    view! {
        <div class="tile">
            <h2>{title}</h2>
            <p class="figure">"median " {duration(stats.median_secs)}</p>
            <p class="hint">"p90 " {duration(stats.p90_secs)} " · " {stats.decided} " decided"</p>
        </div>
    }
}

/// The outcomes, in stacking order: (label, CSS class, pattern id).
const OUTCOMES: [(&str, &str); 4] = [
    ("Approved", "approved"),
    ("Rejected", "rejected"),
    ("Duplicate", "duplicate"),
    ("Expired", "expired"),
];

fn counts(day: &Day) -> [i64; 4] {
    [day.approved, day.rejected, day.duplicate, day.expired]
}

const WIDTH: f64 = 700.0;
const HEIGHT: f64 = 180.0;
const LEFT: f64 = 40.0;
const BOTTOM: f64 = 24.0;

fn short_day(day: &str) -> String {
    day.get(5..).unwrap_or(day).to_string()
}

#[component]
fn OutcomeChart(days: Vec<Day>) -> impl IntoView {
    let max = days
        .iter()
        .map(|d| counts(d).iter().sum::<i64>())
        .max()
        .unwrap_or(0)
        .max(1);
    let total: i64 = days.iter().map(|d| counts(d).iter().sum::<i64>()).sum();
    let slot = (WIDTH - LEFT) / days.len().max(1) as f64;
    let scale = (HEIGHT - BOTTOM - 10.0) / max as f64;
    let bars = days
        .iter()
        .enumerate()
        .map(|(i, day)| {
            let x = LEFT + i as f64 * slot + slot * 0.15;
            let mut y = HEIGHT - BOTTOM;
            let parts = counts(day)
                .into_iter()
                .zip(OUTCOMES)
                .filter(|(n, _)| *n > 0)
                .map(|(n, (label, class))| {
                    let h = n as f64 * scale;
                    y -= h;
                    view! {
                        <rect class=format!("bar {class}") x=format!("{x:.1}") y=format!("{y:.1}")
                            width=format!("{:.1}", slot * 0.7) height=format!("{h:.1}")
                            fill=format!("url(#hatch-{class})")>
                            <title>{format!("{}: {n} {}", day.day, label.to_lowercase())}</title>
                        </rect>
                    }
                })
                .collect_view();
            let label_x = x + slot * 0.35;
            view! {
                <g>
                    {parts}
                    <text class="axis" x=format!("{label_x:.1}") y=format!("{:.1}", HEIGHT - 6.0) text-anchor="middle">{short_day(&day.day)}</text>
                </g>
            }
        })
        .collect_view();
    let summary = format!(
        "{total} decisions in the last {} days, most in one day {max}",
        days.len()
    );
    view! {
        <section class="chart" aria-labelledby="outcomes-title">
            <h2 id="outcomes-title">"Actions per day by outcome"</h2>
            <svg viewBox=format!("0 0 {WIDTH} {HEIGHT}") role="img" aria-label=summary class="chart-svg">
                <defs>
                    <pattern id="hatch-approved" width="6" height="6" patternUnits="userSpaceOnUse"><rect width="6" height="6" class="fill approved"/></pattern>
                    <pattern id="hatch-rejected" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" class="fill rejected"/><line x1="0" y1="0" x2="0" y2="6" class="stripe"/></pattern>
                    <pattern id="hatch-duplicate" width="6" height="6" patternUnits="userSpaceOnUse"><rect width="6" height="6" class="fill duplicate"/><circle cx="3" cy="3" r="1.2" class="dot"/></pattern>
                    <pattern id="hatch-expired" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(-45)"><rect width="6" height="6" class="fill expired"/><line x1="0" y1="0" x2="0" y2="6" class="stripe"/><line x1="3" y1="0" x2="3" y2="6" class="stripe"/></pattern>
                </defs>
                <line class="axis-line" x1=LEFT y1=HEIGHT - BOTTOM x2=WIDTH y2=HEIGHT - BOTTOM/>
                <text class="axis" x="4" y="14">{max}</text>
                <text class="axis" x="4" y=HEIGHT - BOTTOM>"0"</text>
                {bars}
            </svg>
            <ul class="legend">
                {OUTCOMES.iter().map(|(label, class)| view! {
                    <li><svg width="14" height="14" aria-hidden="true"><rect width="14" height="14" fill=format!("url(#hatch-{class})") class="swatch"/></svg>{*label}</li>
                }).collect_view()}
            </ul>
            <details>
                <summary>"Figures"</summary>
                <table class="figures">
                    <caption class="visually-hidden">"Actions per day by outcome"</caption>
                    <thead><tr><th scope="col">"Day"</th>{OUTCOMES.iter().map(|(l, _)| view! { <th scope="col">{*l}</th> }).collect_view()}</tr></thead>
                    <tbody>
                        {days.iter().map(|d| view! {
                            <tr><th scope="row">{d.day.clone()}</th>{counts(d).into_iter().map(|n| view! { <td>{n}</td> }).collect_view()}</tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </details>
        </section>
    }
}

#[component]
fn MttrChart(days: Vec<Day>) -> impl IntoView {
    let max = days
        .iter()
        .filter_map(|d| d.mttr_median_secs)
        .max()
        .unwrap_or(0)
        .max(1);
    let slot = (WIDTH - LEFT) / days.len().max(1) as f64;
    let scale = (HEIGHT - BOTTOM - 10.0) / max as f64;
    let points: Vec<(f64, f64, &Day)> = days
        .iter()
        .enumerate()
        .filter_map(|(i, d)| {
            d.mttr_median_secs.map(|s| {
                (
                    LEFT + i as f64 * slot + slot / 2.0,
                    HEIGHT - BOTTOM - s as f64 * scale,
                    d,
                )
            })
        })
        .collect();
    let line = points
        .iter()
        .map(|(x, y, _)| format!("{x:.1},{y:.1}"))
        .collect::<Vec<_>>()
        .join(" ");
    let summary = match points.len() {
        0 => "No action finished executing in these days".to_string(),
        n => format!(
            "Median time to remediate on {n} days, longest {}",
            duration(Some(max))
        ),
    };
    view! {
        <section class="chart" aria-labelledby="mttr-title">
            <h2 id="mttr-title">"Time to remediate (median per day)"</h2>
            <svg viewBox=format!("0 0 {WIDTH} {HEIGHT}") role="img" aria-label=summary class="chart-svg">
                <line class="axis-line" x1=LEFT y1=HEIGHT - BOTTOM x2=WIDTH y2=HEIGHT - BOTTOM/>
                <text class="axis" x="4" y="14">{duration(Some(max))}</text>
                <polyline class="trend" points=line fill="none"/>
                {points.iter().map(|(x, y, d)| view! {
                    <circle class="point" cx=format!("{x:.1}") cy=format!("{y:.1}") r="3.5">
                        <title>{format!("{}: {} ({} actions)", d.day, duration(d.mttr_median_secs), d.remediated)}</title>
                    </circle>
                }).collect_view()}
                {days.iter().enumerate().map(|(i, d)| view! {
                    <text class="axis" x=format!("{:.1}", LEFT + i as f64 * slot + slot / 2.0) y=format!("{:.1}", HEIGHT - 6.0) text-anchor="middle">{short_day(&d.day)}</text>
                }).collect_view()}
            </svg>
            <details>
                <summary>"Figures"</summary>
                <table class="figures">
                    <caption class="visually-hidden">"Time to remediate per day"</caption>
                    <thead><tr><th scope="col">"Day"</th><th scope="col">"Actions remediated"</th><th scope="col">"Median time"</th></tr></thead>
                    <tbody>
                        {days.iter().map(|d| view! {
                            <tr><th scope="row">{d.day.clone()}</th><td>{d.remediated}</td><td>{duration(d.mttr_median_secs)}</td></tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </details>
        </section>
    }
}

#[component]
fn TopClusters(clusters: Vec<TopCluster>) -> impl IntoView {
    let max = clusters.iter().map(|c| c.copies).max().unwrap_or(0).max(1);
    view! {
        <section class="chart" aria-labelledby="clusters-title">
            <h2 id="clusters-title">"Top clusters by copies"</h2>
            {if clusters.is_empty() {
                view! { <p>"No malicious or suspicious clusters yet."</p> }.into_any()
            } else {
                view! {
                    <table class="figures top-clusters">
                        <caption class="visually-hidden">"Malicious and suspicious clusters with the most copies"</caption>
                        <thead><tr><th scope="col">"Cluster"</th><th scope="col">"Verdict"</th><th scope="col">"Copies"</th></tr></thead>
                        <tbody>
                            {clusters.into_iter().map(|c| {
                                let share = c.copies as f64 * 100.0 / max as f64;
                                let title = c.cluster_value.clone();
                                view! {
                                    <tr>
                                        <th scope="row" class="entity" title=title>{c.cluster_by}": "{c.cluster_value}</th>
                                        <td>{c.verdict}</td>
                                        <td class="bar-cell">
                                            <svg width="120" height="12" aria-hidden="true" class="bar-svg">
                                                <rect width=format!("{:.1}", share * 1.2) height="12" class="bar-fill"/>
                                            </svg>
                                            " "{c.copies}
                                        </td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
        </section>
    }
}
