//! Keyset pages: `{"items": [...], "next": "<cursor>" | null}`.

use serde::{Deserialize, Serialize};

/// One page of a list and the cursor of the next, if there is one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
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
    fn garbage_cursors_are_rejected() {
        assert!(Cursor::parse("nonsense").is_err());
        assert!(Cursor::parse("|id").is_err());
    }

    #[test]
    fn limits_outside_one_to_five_hundred_are_rejected() {
        assert!(PageRequest::parse(Some(0), None).is_err());
        assert!(PageRequest::parse(Some(501), None).is_err());
        assert_eq!(PageRequest::parse(None, None).unwrap().limit, 50);
    }
}
