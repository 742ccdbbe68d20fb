//! Where `scripts/bench` collects figures: with AIRDESK_BENCH_CSV=dir, each measurement is
//! appended as one row to `dir/<curve>.csv` (its header written when the file is new), for
//! `cargo bench -p server --bench plot` to draw. Without it, nothing is written.

use std::fs::OpenOptions;
use std::path::PathBuf;

/// Appends one row to the curve's CSV file, if figures are being collected.
pub fn record(curve: &str, header: &[&str], row: &[String]) {
    let Ok(dir) = std::env::var("AIRDESK_BENCH_CSV") else {
        return;
    };
    assert_eq!(header.len(), row.len(), "{curve}: a row of the wrong width");
    let path = PathBuf::from(dir).join(format!("{curve}.csv"));
    let new = !path.exists();
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut writer = csv::Writer::from_writer(file);
    if new {
        writer.write_record(header).unwrap();
    }
    writer.write_record(row).unwrap();
    writer.flush().unwrap();
}

/// The columns of one cluster's soft delete after the bench's own leading ones, as
/// cluster_execution.csv (after `bench`) and parallel.csv (after `parallel`) hold it.
pub const CLUSTER_COLUMNS: [&str; 7] = [
    "connector",
    "copies",
    "mailboxes",
    "seconds",
    "peak_mib",
    "floor",
    "floor_seconds",
];

/// Appends one cluster run to `curve`, after its leading (column, value).
pub fn record_cluster(curve: &str, leading: (&str, String), figures: &[String; 7]) {
    let header = [&[leading.0][..], &CLUSTER_COLUMNS[..]].concat();
    let row = [&[leading.1][..], &figures[..]].concat();
    record(curve, &header, &row);
}

/// A duration in milliseconds, to the microsecond.
pub fn ms(duration: std::time::Duration) -> String {
    format!("{:.3}", duration.as_secs_f64() * 1000.0)
}

/// This process's peak resident memory in MiB since [`reset_peak_memory`] (VmHWM).
pub fn own_peak_memory_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    mib(status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .unwrap_or_default())
}

/// A `/proc` memory figure (`123456 kB`) in MiB; NaN when it is not one.
pub fn mib(figure: &str) -> f64 {
    figure
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse::<f64>()
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// Starts this process's peak memory afresh (Linux: `5` to /proc/self/clear_refs).
pub fn reset_peak_memory() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}
