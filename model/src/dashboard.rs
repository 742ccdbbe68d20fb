//! The Dashboard's figures: what waits for approval now, how long decisions take, what was
//! decided day by day and how long remediation took, and the largest campaigns.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dashboard {
    pub pending_now: i64,
    pub oldest_pending_at: Option<DateTime<Utc>>,
    pub wait_7d: WaitStats,
    pub wait_30d: WaitStats,
    /// The last [`Dashboard::DAYS`] days, oldest first (UTC days).
    pub days: Vec<Day>,
    pub top_clusters: Vec<TopCluster>,
}

impl Dashboard {
    pub const DAYS: usize = 14;
}

/// Time from proposal to decision over a period.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitStats {
    pub decided: i64,
    pub median_secs: Option<i64>,
    pub p90_secs: Option<i64>,
}

/// One day's decisions by outcome, and its remediation time.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Day {
    /// `2026-12-01`.
    pub day: String,
    pub approved: i64,
    pub rejected: i64,
    pub duplicate: i64,
    pub expired: i64,
    /// Actions whose execution ended that day, and the median time from proposal to then.
    pub remediated: i64,
    pub mttr_median_secs: Option<i64>,
}

/// A campaign by the copies its largest cluster held.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopCluster {
    pub cluster_by: String,
    pub cluster_value: String,
    pub verdict: String,
    pub copies: i64,
}
