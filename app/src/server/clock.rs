//! Times as the database keeps them: one fixed RFC 3339 form, so text order is time order.

use chrono::{DateTime, SubsecRound, Utc};

/// Now, truncated to the microseconds the database keeps.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// `2026-11-20T09:00:00.000000Z`
pub fn db_time(at: &DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_order_is_time_order() {
        let a = DateTime::parse_from_rfc3339("2026-11-20T09:00:00Z")
            .unwrap()
            .to_utc();
        let b = DateTime::parse_from_rfc3339("2026-11-20T09:00:00.5Z")
            .unwrap()
            .to_utc();
        let c = DateTime::parse_from_rfc3339("2026-11-20T09:00:01Z")
            .unwrap()
            .to_utc();
        assert!(db_time(&a) < db_time(&b));
        assert!(db_time(&b) < db_time(&c));
    }
}
