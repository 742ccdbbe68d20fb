//! How times look. The server renders UTC and so does the first client render (no hydration
//! mismatch); once the page has hydrated, times switch to the browser's time zone.

use chrono::{DateTime, TimeDelta, Utc};

/// The most days a "within the last N days" filter reaches back (a hundred years).
pub const MAX_WITHIN_DAYS: u32 = 36_500;

/// The instant `days` days before `now`, for "within the last N days"; a number of days past
/// [`MAX_WITHIN_DAYS`] is refused (it would overflow the calendar, not just mean "all").
pub fn days_before(now: DateTime<Utc>, days: u32) -> Result<DateTime<Utc>, crate::AppError> {
    TimeDelta::try_days(i64::from(days))
        .filter(|_| days <= MAX_WITHIN_DAYS)
        .and_then(|back| now.checked_sub_signed(back))
        .ok_or_else(|| {
            crate::AppError::Invalid(format!("within_days must be 0 to {MAX_WITHIN_DAYS}"))
        })
}

/// `2026-11-20 09:00 UTC`: minutes are what an analyst compares; seconds are in the API.
pub fn display_time(at: &DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

#[cfg(any(test, feature = "hydrate"))]
/// `at` in a zone `offset_minutes` east of UTC: `2026-11-20 14:30 UTC+05:30`.
pub fn display_time_at_offset(at: &DateTime<Utc>, offset_minutes: i32) -> String {
    let Some(zone) =
        chrono::FixedOffset::east_opt(offset_minutes * 60).filter(|_| offset_minutes != 0)
    else {
        return display_time(at);
    };
    let sign = if offset_minutes < 0 { '-' } else { '+' };
    let minutes = offset_minutes.unsigned_abs();
    format!(
        "{} UTC{sign}{:02}:{:02}",
        at.with_timezone(&zone).format("%Y-%m-%d %H:%M"),
        minutes / 60,
        minutes % 60
    )
}

/// `at` in the browser's time zone (daylight saving included); UTC outside a browser.
pub fn local_time(at: &DateTime<Utc>) -> String {
    #[cfg(feature = "hydrate")]
    {
        let date = js_sys::Date::new(&js_sys::wasm_bindgen::JsValue::from_f64(
            at.timestamp_millis() as f64,
        ));
        // getTimezoneOffset is minutes *west* of UTC, for that very instant.
        display_time_at_offset(at, -(date.get_timezone_offset() as i32))
    }
    #[cfg(not(feature = "hydrate"))]
    {
        display_time(at)
    }
}

/// The current time: the browser's clock in the browser (chrono's clock is not wired to it).
pub fn now() -> DateTime<Utc> {
    #[cfg(feature = "hydrate")]
    {
        DateTime::from_timestamp_millis(js_sys::Date::now() as i64).unwrap_or_default()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        Utc::now()
    }
}

/// How long something has waited, to the minute: `< 1 min`, `42 min`, `3 h 5 min`, `2 d 4 h`.
pub fn display_duration(waited: TimeDelta) -> String {
    let minutes = waited.num_minutes().max(0);
    match minutes {
        0 => "< 1 min".into(),
        1..=59 => format!("{minutes} min"),
        60..=1439 => format!("{} h {} min", minutes / 60, minutes % 60),
        _ => format!("{} d {} h", minutes / 1440, minutes % 1440 / 60),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_day_count_past_the_calendar_is_refused_not_a_panic() {
        let now = Utc::now();
        assert_eq!(days_before(now, 0).unwrap(), now);
        assert_eq!(days_before(now, 7).unwrap(), now - TimeDelta::days(7));
        assert!(days_before(now, MAX_WITHIN_DAYS + 1).is_err());
        assert!(days_before(now, u32::MAX).is_err());
    }

    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn offsets_shift_the_wall_clock_and_say_so() {
        let t = at("2026-11-20T09:00:00Z");
        assert_eq!(display_time_at_offset(&t, 0), "2026-11-20 09:00 UTC");
        assert_eq!(
            display_time_at_offset(&t, 330),
            "2026-11-20 14:30 UTC+05:30"
        );
        assert_eq!(
            display_time_at_offset(&t, -600),
            "2026-11-19 23:00 UTC-10:00"
        );
    }

    #[test]
    fn durations_round_down_to_the_unit_that_matters() {
        assert_eq!(display_duration(TimeDelta::seconds(-5)), "< 1 min");
        assert_eq!(display_duration(TimeDelta::seconds(59)), "< 1 min");
        assert_eq!(display_duration(TimeDelta::minutes(42)), "42 min");
        assert_eq!(display_duration(TimeDelta::minutes(185)), "3 h 5 min");
        assert_eq!(display_duration(TimeDelta::minutes(3120)), "2 d 4 h");
    }
}
