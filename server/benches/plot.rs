//! Not a benchmark: draws the curves `scripts/bench` collected. Reads the CSV files the other
//! benches append to (AIRDESK_BENCH_CSV, or docs/benchmarks) and writes one SVG beside each:
//! how a cost grows with the size of what it works on, each beside its floor where one exists.
//!
//! Run: `cargo bench -p server --bench plot` (after `scripts/bench`, which runs it).

use std::collections::BTreeMap;
use std::error::Error;
use std::path::{Path, PathBuf};

use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::coord::Shift;
use plotters::prelude::*;

type Row = BTreeMap<String, String>;

/// One line of a chart.
struct Series {
    name: String,
    points: Vec<(f64, f64)>,
    /// Drawn dashed in the colour of the line before it: that line's floor, or its p99.
    dashed: bool,
}

/// One chart: its title, axes and lines.
struct Chart {
    file: &'static str,
    title: &'static str,
    x: &'static str,
    y: &'static str,
    log_y: bool,
    series: Vec<Series>,
}

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
        draw(&path, &chart)?;
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

fn line(name: impl Into<String>, points: Vec<(f64, f64)>) -> Series {
    Series {
        name: name.into(),
        points,
        dashed: false,
    }
}

/// A floor, or a p99 under its p50.
fn dashed(name: impl Into<String>, points: Vec<(f64, f64)>) -> Series {
    Series {
        name: name.into(),
        points,
        dashed: true,
    }
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

fn chart(
    file: &'static str,
    title: &'static str,
    x: &'static str,
    y: &'static str,
    log_y: bool,
    series: Vec<Series>,
) -> Option<Chart> {
    let series: Vec<Series> = series
        .into_iter()
        .filter(|s| !s.points.is_empty())
        .collect();
    (!series.is_empty()).then_some(Chart {
        file,
        title,
        x,
        y,
        log_y,
        series,
    })
}

/// Strong colours that stay apart on white.
const COLOURS: [(u8, u8, u8); 8] = [
    (31, 119, 180),
    (214, 39, 40),
    (44, 160, 44),
    (148, 103, 189),
    (255, 127, 14),
    (140, 86, 75),
    (227, 119, 194),
    (23, 190, 207),
];

/// An axis figure as people write it: 1k, 10M, 0.25.
fn human(v: f64) -> String {
    let trim = |s: String| {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        }
    };
    match v.abs() {
        a if a >= 1e6 => format!("{}M", trim(format!("{:.1}", v / 1e6))),
        a if a >= 1e4 => format!("{}k", trim(format!("{:.1}", v / 1e3))),
        a if a >= 10.0 => format!("{v:.0}"),
        a if a >= 1.0 => trim(format!("{v:.1}")),
        _ => trim(format!("{v:.3}")),
    }
}

fn draw(path: &Path, chart: &Chart) -> Result<(), Box<dyn Error>> {
    let root = SVGBackend::new(path, (900, 560)).into_drawing_area();
    root.fill(&WHITE)?;
    let all = chart.series.iter().flat_map(|s| s.points.iter());
    let (mut x_lo, mut x_hi, mut y_lo, mut y_hi) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for (x, y) in all {
        (x_lo, x_hi, y_lo, y_hi) = (x_lo.min(*x), x_hi.max(*x), y_lo.min(*y), y_hi.max(*y));
    }
    // Room around the lines; a single size still gets an axis.
    let (x_lo, x_hi) = (x_lo / 1.5, x_hi * 1.5);
    if chart.log_y {
        lines(
            &root,
            chart,
            x_lo..x_hi,
            (y_lo / 2.0..y_hi * 2.0).log_scale(),
        )?;
    } else {
        // Headroom for the legend, top left.
        lines(&root, chart, x_lo..x_hi, 0.0..y_hi * 1.6)?;
    }
    root.present()?;
    Ok(())
}

fn lines<Y>(
    root: &DrawingArea<SVGBackend, Shift>,
    chart: &Chart,
    x: std::ops::Range<f64>,
    y: Y,
) -> Result<(), Box<dyn Error>>
where
    Y: AsRangedCoord<Value = f64>,
    Y::CoordDescType: ValueFormatter<f64>,
{
    let mut context = ChartBuilder::on(root)
        .caption(chart.title, ("sans-serif", 22))
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(70)
        .build_cartesian_2d(x.log_scale(), y)?;
    context
        .configure_mesh()
        .x_desc(chart.x)
        .y_desc(chart.y)
        .x_label_formatter(&|v| human(*v))
        .y_label_formatter(&|v| human(*v))
        .draw()?;
    // A floor takes the colour of the line before it (the cost it is the floor of).
    let mut colour = 0;
    for (n, series) in chart.series.iter().enumerate() {
        if n > 0 && !series.dashed {
            colour += 1;
        }
        let (r, g, b) = COLOURS[colour % COLOURS.len()];
        let color = RGBColor(r, g, b).to_rgba();
        let style = ShapeStyle {
            color,
            filled: false,
            stroke_width: 2,
        };
        let drawn = if series.dashed {
            context.draw_series(DashedLineSeries::new(series.points.clone(), 8, 5, style))?
        } else {
            context.draw_series(LineSeries::new(series.points.clone(), style))?
        };
        drawn
            .label(series.name.as_str())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], style));
        context.draw_series(
            series
                .points
                .iter()
                .map(|p| Circle::new(*p, 3, color.filled())),
        )?;
    }
    context
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()?;
    Ok(())
}
