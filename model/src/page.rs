//! Keyset pages: `{"items": [...], "next": "<cursor>" | null}`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One page of a list and the cursor of the next, if there is one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
}

/// Where a page starts: after the row with this sort key and id.
/// Opaque to callers: `<sort key>|<id>` in URL-safe text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub key: String,
    pub id: String,
}

impl Cursor {
    /// After the row sorted at this time, with this id.
    pub fn at_time(at: &DateTime<Utc>, id: &str) -> Self {
        Cursor {
            key: at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
            id: id.to_string(),
        }
    }

    /// The key as the time [`Cursor::at_time`] wrote.
    pub fn time(&self) -> Result<DateTime<Utc>, super::AppError> {
        DateTime::parse_from_rfc3339(&self.key)
            .map(|t| t.to_utc())
            .map_err(|_| super::AppError::Invalid("cursor is not one this server gave".into()))
    }

    /// The key as the number it holds.
    pub fn number(&self) -> Result<i64, super::AppError> {
        self.key
            .parse()
            .map_err(|_| super::AppError::Invalid("cursor is not one this server gave".into()))
    }

    pub fn encode(&self) -> String {
        format!("{}|{}", self.key, self.id)
    }

    pub fn parse(text: &str) -> Result<Self, super::AppError> {
        let (key, id) = text
            .split_once('|')
            .filter(|(k, i)| !k.is_empty() && !i.is_empty())
            .ok_or_else(|| super::AppError::Invalid("cursor is not one this server gave".into()))?;
        Ok(Cursor {
            key: key.to_string(),
            id: id.to_string(),
        })
    }
}

/// A validated page request: limit within 1..=500 (default 50) and an optional cursor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: u32,
    pub after: Option<Cursor>,
}

impl PageRequest {
    pub const DEFAULT_LIMIT: u32 = 50;
    pub const MAX_LIMIT: u32 = 500;

    pub fn parse(limit: Option<u32>, cursor: Option<&str>) -> Result<Self, super::AppError> {
        let limit = limit.unwrap_or(Self::DEFAULT_LIMIT);
        if !(1..=Self::MAX_LIMIT).contains(&limit) {
            return Err(super::AppError::Invalid(format!(
                "limit must be between 1 and {}",
                Self::MAX_LIMIT
            )));
        }
        let after = cursor
            .filter(|c| !c.is_empty())
            .map(Cursor::parse)
            .transpose()?;
        Ok(PageRequest { limit, after })
    }

    /// How many rows to ask for: one more than the page holds, to learn whether there is a next.
    pub fn fetch(&self) -> i64 {
        i64::from(self.limit) + 1
    }

    /// Cuts rows fetched with [`PageRequest::fetch`] to the page, and answers the next page's
    /// cursor (`cursor` of the last row kept) when there is a next page.
    pub fn next_cursor<T>(
        &self,
        rows: &mut Vec<T>,
        cursor: impl Fn(&T) -> String,
    ) -> Option<String> {
        if rows.len() <= self.limit as usize {
            return None;
        }
        rows.truncate(self.limit as usize);
        rows.last().map(cursor)
    }
}

/// Percent-encodes everything but unreserved characters (RFC 3986).
pub fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_reads_back_as_itself() {
        let c = Cursor {
            key: "2026-11-20T09:00:00.000000Z".into(),
            id: "abc".into(),
        };
        assert_eq!(Cursor::parse(&c.encode()).unwrap(), c);
    }

    #[test]
    fn cursors_survive_a_query_string() {
        assert_eq!(
            urlencode("2026-11-20T09:00:00.000000Z|a b&c"),
            "2026-11-20T09%3A00%3A00.000000Z%7Ca%20b%26c"
        );
    }

    #[test]
    fn a_time_cursor_reads_back_its_time() {
        let at: DateTime<Utc> = "2026-11-20T09:00:00.25Z".parse().unwrap();
        let c = Cursor::at_time(&at, "x");
        assert_eq!(c.key, "2026-11-20T09:00:00.250000Z");
        assert_eq!(Cursor::parse(&c.encode()).unwrap().time().unwrap(), at);
        assert!(Cursor::parse("yesterday|x").unwrap().time().is_err());
    }

    #[test]
    fn garbage_cursors_are_rejected() {
        assert!(Cursor::parse("nonsense").is_err());
        assert!(Cursor::parse("|id").is_err());
    }

    #[test]
    fn a_full_page_is_cut_and_says_where_the_next_starts() {
        let page = PageRequest::parse(Some(2), None).unwrap();
        let mut rows = vec![1, 2, 3];
        assert_eq!(
            page.next_cursor(&mut rows, |r| r.to_string()),
            Some("2".into())
        );
        assert_eq!(rows, [1, 2]);
        let mut last = vec![1, 2];
        assert_eq!(page.next_cursor(&mut last, |r| r.to_string()), None);
        assert_eq!(page.fetch(), 3);
    }

    #[test]
    fn limits_outside_one_to_five_hundred_are_rejected() {
        assert!(PageRequest::parse(Some(0), None).is_err());
        assert!(PageRequest::parse(Some(501), None).is_err());
        assert_eq!(PageRequest::parse(None, None).unwrap().limit, 50);
    }
}
