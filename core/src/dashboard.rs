//! The Dashboard's figures, read from the actions and clusters. Periods are counted in UTC
//! days so the server's page and the hydrated one agree.

use chrono::{DateTime, Duration, Utc};

use crate::db::{self, query, Db};
use model::{AppError, Dashboard, Day, TopCluster, WaitStats};

/// Most actions read for the figures: the latest this many changed within 30 days.
const MAX_ROWS: i64 = 200_000;

#[derive(sqlx::FromRow)]
struct Row {
    status: String,
    created_at: DateTime<Utc>,
    decided_at: Option<DateTime<Utc>>,
    updated_at: DateTime<Utc>,
}

/// The value at `q` (0..=1) of sorted `values`, nearest rank.
fn quantile(sorted: &[i64], q: f64) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    Some(sorted[rank - 1])
}

fn wait_stats(mut waits: Vec<i64>) -> WaitStats {
    waits.sort_unstable();
    WaitStats {
        decided: waits.len() as i64,
        median_secs: quantile(&waits, 0.5),
        p90_secs: quantile(&waits, 0.9),
    }
}

pub async fn dashboard(db: &Db) -> Result<Dashboard, AppError> {
    let now = db::now();
    let since = now - Duration::days(30);
    let (pending_now, oldest_pending_at): (i64, Option<DateTime<Utc>>) =
        query("SELECT COUNT(*), MIN(created_at) FROM actions WHERE status = 'pending'")
            .fetch_one(db)
            .await?;
    let rows: Vec<Row> = query(
        "SELECT status, created_at, decided_at, updated_at FROM actions
         WHERE updated_at >= $1 ORDER BY updated_at DESC LIMIT $2",
    )
    .bind(since)
    .bind(MAX_ROWS)
    .fetch_all(db)
    .await?;
    let week = now - Duration::days(7);
    let waits = |from: DateTime<Utc>| {
        rows.iter()
            .filter_map(|r| {
                r.decided_at
                    .filter(|d| *d >= from)
                    .map(|d| (d - r.created_at).num_seconds())
            })
            .collect::<Vec<_>>()
    };
    let first_day = (now - Duration::days(Dashboard::DAYS as i64 - 1)).date_naive();
    let mut days: Vec<Day> = (0..Dashboard::DAYS)
        .map(|i| Day {
            day: (first_day + Duration::days(i as i64)).to_string(),
            ..Day::default()
        })
        .collect();
    let mut mttr: Vec<Vec<i64>> = vec![Vec::new(); Dashboard::DAYS];
    let index = |at: DateTime<Utc>| {
        usize::try_from((at.date_naive() - first_day).num_days())
            .ok()
            .filter(|i| *i < Dashboard::DAYS)
    };
    for row in &rows {
        let decided_on = row.decided_at.unwrap_or(row.updated_at);
        if let Some(i) = index(decided_on) {
            let day = &mut days[i];
            match row.status.as_str() {
                "rejected" => day.rejected += 1,
                "duplicate" => day.duplicate += 1,
                "expired" => day.expired += 1,
                "approved" | "in_progress" | "completed" | "partially_completed" | "failed"
                    if row.decided_at.is_some() =>
                {
                    day.approved += 1
                }
                _ => {}
            }
        }
        if matches!(
            row.status.as_str(),
            "completed" | "partially_completed" | "failed"
        ) {
            if let Some(i) = index(row.updated_at) {
                mttr[i].push((row.updated_at - row.created_at).num_seconds());
            }
        }
    }
    for (day, mut times) in days.iter_mut().zip(mttr) {
        times.sort_unstable();
        day.remediated = times.len() as i64;
        day.mttr_median_secs = quantile(&times, 0.5);
    }
    let top_clusters: Vec<(String, String, String, i64)> = query(
        "SELECT cluster_by, cluster_value, MAX(verdict), MAX(email_count) FROM email_clusters
         WHERE verdict IN ('malicious', 'suspicious')
         GROUP BY cluster_key, cluster_by, cluster_value
         ORDER BY MAX(email_count) DESC, cluster_value LIMIT 5",
    )
    .fetch_all(db)
    .await?;
    Ok(Dashboard {
        pending_now,
        oldest_pending_at,
        wait_7d: wait_stats(waits(week)),
        wait_30d: wait_stats(waits(since)),
        days,
        top_clusters: top_clusters
            .into_iter()
            .map(|(cluster_by, cluster_value, verdict, copies)| TopCluster {
                cluster_by,
                cluster_value,
                verdict,
                copies,
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_take_the_nearest_rank() {
        let values: Vec<i64> = (1..=10).collect();
        assert_eq!(quantile(&values, 0.5), Some(5));
        assert_eq!(quantile(&values, 0.9), Some(9));
        assert_eq!(quantile(&[7], 0.9), Some(7));
        assert_eq!(quantile(&[], 0.5), None);
    }
}
