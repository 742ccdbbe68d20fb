//! The plot bench's drawing: charts of lines against a logarithmic x axis, floors and p99s
//! dashed in the colour of the line they belong to, written as SVG.

use std::error::Error;
use std::path::Path;

use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::coord::Shift;
use plotters::prelude::*;

/// One line of a chart.
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
    /// Drawn dashed in the colour of the line before it: that line's floor, or its p99.
    pub dashed: bool,
}

/// One chart: its title, axes and lines.
pub struct Chart {
    pub file: &'static str,
    title: &'static str,
    x: &'static str,
    y: &'static str,
    log_y: bool,
    series: Vec<Series>,
}

pub fn line(name: impl Into<String>, points: Vec<(f64, f64)>) -> Series {
    Series {
        name: name.into(),
        points,
        dashed: false,
    }
}

/// A floor, or a p99 under its p50.
pub fn dashed(name: impl Into<String>, points: Vec<(f64, f64)>) -> Series {
    Series {
        name: name.into(),
        points,
        dashed: true,
    }
}

pub fn chart(
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

pub fn draw(path: &Path, chart: &Chart) -> Result<(), Box<dyn Error>> {
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
