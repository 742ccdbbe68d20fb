//! Not a benchmark: draws the curves `scripts/bench` collected. Reads the CSV files the other
//! benches append to (AIRDESK_BENCH_CSV, or docs/benchmarks) and writes one SVG beside each:
//! how a cost grows with the size of what it works on, each beside its floor where one exists.
//!
//! Run: `cargo bench -p server --bench plot` (after `scripts/bench`, which runs it).

use std::collections::BTreeMap;
use std::error::Error;
use std::path::{Path, PathBuf};

#[path = "support/draw.rs"]
mod draw;

use draw::{chart, dashed, line, Chart};

type Row = BTreeMap<String, String>;

fn main() -> Result<(), Box<dyn Error>> {
    let dir = std::env::var("AIRDESK_BENCH_CSV").map_or_else(
        |_| Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/benchmarks"),
        PathBuf::from,
    );
    let charts = [
        pages(&read(&dir, "pages")?),
        approvals(&read(&dir, "approvals")?),
        execution(&read(&dir, "cluster_execution")?),
        memory(&read(&dir, "cluster_execution")?),
        parallel(&read(&dir, "parallel")?),
        index_scan(&read(&dir, "index_scan")?),
    ];
    for chart in charts.into_iter().flatten() {
        let path = dir.join(chart.file);
        draw::draw(&path, &chart)?;
        println!("drew {}", path.display());
    }
    Ok(())
}

/// The rows of `dir/<curve>.csv`, none when it was not collected.
fn read(dir: &Path, curve: &str) -> Result<Vec<Row>, Box<dyn Error>> {
    let path = dir.join(format!("{curve}.csv"));
    if !path.exists() {
        println!("no {} (not collected)", path.display());
        return Ok(Vec::new());
    }
    let mut reader = csv::Reader::from_path(&path)?;
    let mut rows = Vec::new();
    for row in reader.deserialize() {
        rows.push(row?);
    }
    Ok(rows)
}

fn number(row: &Row, column: &str) -> f64 {
    row.get(column)
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{column} is not a number in {row:?}"))
}

/// Points of (x, y) for the rows that `keep` keeps, in x order; the last row wins where a
/// size was measured twice (a later run of the same size replaces the earlier).
fn points(
    rows: &[Row],
    keep: impl Fn(&Row) -> bool,
    xy: impl Fn(&Row) -> (f64, f64),
) -> Vec<(f64, f64)> {
    let mut by_x: BTreeMap<u64, (f64, f64)> = BTreeMap::new();
    for row in rows.iter().filter(|r| keep(r)) {
        let (x, y) = xy(row);
        if y.is_finite() {
            by_x.insert(x.to_bits(), (x, y));
        }
    }
    let mut points: Vec<(f64, f64)> = by_x.into_values().collect();
    points.sort_by(|a, b| a.0.total_cmp(&b.0));
    points
}

fn distinct(rows: &[Row], column: &str) -> Vec<String> {
    let mut values: Vec<String> = rows.iter().filter_map(|r| r.get(column).cloned()).collect();
    values.sort();
    values.dedup();
    values
}

/// Page p50 (and p99, dashed) against the number of actions, for the pages timed at more
/// than one size.
fn pages(rows: &[Row]) -> Option<Chart> {
    let mut series = Vec::new();
    for database in distinct(rows, "database") {
        for page in distinct(rows, "page") {
            let mine = |r: &Row| r["database"] == database && r["page"] == page;
            let p50 = points(rows, mine, |r| (number(r, "actions"), number(r, "p50_ms")));
            if p50.len() < 2 {
                continue;
            }
            let p99 = points(rows, mine, |r| (number(r, "actions"), number(r, "p99_ms")));
            series.push(line(format!("{page} p50 ({database})"), p50));
            series.push(dashed(format!("{page} p99 ({database})"), p99));
        }
    }
    chart(
        "pages.svg",
        "Page time against stored actions",
        "actions stored",
        "ms",
        false,
        series,
    )
}

/// Approvals per second against clients, with the raw commit rate as the floor.
fn approvals(rows: &[Row]) -> Option<Chart> {
    let most = rows
        .iter()
        .map(|r| number(r, "actions"))
        .fold(0.0, f64::max);
    let mut series = Vec::new();
    for database in distinct(rows, "database") {
        let mine = |r: &Row| r["database"] == database && number(r, "actions") == most;
        for workers in distinct(rows, "workers") {
            let points = points(
                rows,
                |r| mine(r) && r["workers"] == workers && r["instances"] == "1",
                |r| (number(r, "clients"), number(r, "approvals_per_s")),
            );
            series.push(line(
                format!("approvals/s, workers {workers} ({database})"),
                points,
            ));
        }
        let commits = points(rows, mine, |r| {
            (number(r, "clients"), number(r, "floor_commits_per_s"))
        });
        series.push(dashed(
            format!("floor: raw commits/s ({database})"),
            commits,
        ));
    }
    chart(
        "approvals.svg",
        "Approvals per second against concurrent clients",
        "concurrent clients",
        "approvals/s",
        false,
        series,
    )
}

/// Execution time of one soft delete against the cluster's size, beside each floor.
fn execution(rows: &[Row]) -> Option<Chart> {
    let mut series = Vec::new();
    for (bench, connector) in pairs(rows) {
        let mine = |r: &Row| r["bench"] == bench && r["connector"] == connector;
        let label = format!("{connector} ({bench} bench)");
        series.push(line(
            label,
            points(rows, mine, |r| (number(r, "copies"), number(r, "seconds"))),
        ));
        // Both connectors of the execution bench share one doveadm floor: drawn once.
        let name = rows.iter().find(|r| mine(r)).map(|r| r["floor"].clone());
        let name = format!("floor: {}", name.unwrap_or_default());
        if series.iter().all(|s| s.name != name) {
            let floor = points(rows, mine, |r| {
                (number(r, "copies"), number(r, "floor_seconds"))
            });
            series.push(dashed(name, floor));
        }
    }
    chart(
        "cluster_execution.svg",
        "Soft delete of one cluster: approval to Completed",
        "copies in the cluster",
        "seconds",
        true,
        series,
    )
}

/// Peak memory during execution against the cluster's size.
fn memory(rows: &[Row]) -> Option<Chart> {
    let series = pairs(rows)
        .into_iter()
        .map(|(bench, connector)| {
            let mine = |r: &Row| r["bench"] == bench && r["connector"] == connector;
            line(
                format!("{connector} ({bench} bench)"),
                points(rows, mine, |r| (number(r, "copies"), number(r, "peak_mib"))),
            )
        })
        .collect();
    chart(
        "cluster_memory.svg",
        "Peak memory (VmHWM) while remediating one cluster",
        "copies in the cluster",
        "MiB",
        false,
        series,
    )
}

fn pairs(rows: &[Row]) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = rows
        .iter()
        .map(|r| (r["bench"].clone(), r["connector"].clone()))
        .collect();
    pairs.sort();
    pairs.dedup();
    pairs
}

/// Execution time as a multiple of doveadm's against the mailboxes worked on at once, at the
/// cluster size the whole curve was run for (other sizes ran the default only).
fn parallel(rows: &[Row]) -> Option<Chart> {
    let default = airdesk_core::actions::ExecutionConfig::default()
        .parallel_mailboxes
        .to_string();
    let size = rows
        .iter()
        .find(|r| r["parallel"] != default)
        .map(|r| r["copies"].clone());
    let series = distinct(rows, "connector")
        .into_iter()
        .map(|connector| {
            let points = points(
                rows,
                |r| r["connector"] == connector && size.as_ref().is_none_or(|s| r["copies"] == *s),
                |r| {
                    (
                        number(r, "parallel"),
                        number(r, "seconds") / number(r, "floor_seconds"),
                    )
                },
            );
            line(format!("{connector}, × doveadm move"), points)
        })
        .collect();
    chart(
        "parallel.svg",
        "Execution against mailboxes worked on at once",
        "mailboxes at once",
        "× doveadm move",
        false,
        series,
    )
}

/// Index scan rate against the store's size, beside a walk of the same files.
fn index_scan(rows: &[Row]) -> Option<Chart> {
    let rate = |column: &'static str| {
        move |r: &Row| {
            (
                number(r, "messages"),
                number(r, "messages") / number(r, column),
            )
        }
    };
    let series = vec![
        line(
            "airdesk scan, messages/s",
            points(rows, |_| true, rate("seconds")),
        ),
        dashed(
            "floor: find | wc -l, files/s",
            points(rows, |_| true, rate("floor_seconds")),
        ),
    ];
    chart(
        "index_scan.svg",
        "Index scan against the store's size (Maildir)",
        "messages in the store",
        "messages/s",
        true,
        series,
    )
}
