//! One way to show a time, so server-rendered and hydrated pages print the same text.

use chrono::{DateTime, Utc};

/// `2026-11-20 09:00 UTC`: minutes are what an analyst compares; seconds are in the API.
pub fn display_time(at: &DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}
