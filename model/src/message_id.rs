//! Internet Message-IDs: a header the sender writes, so never proof of which copy is which
//! (DESIGN.md rule 9) — but the name people and other tools use for a message. This is the one
//! place that says how airdesk spells one.

use serde::{Deserialize, Serialize};

use crate::address::white_space;

/// Longest Message-ID kept (RFC 5322's line limit).
pub const MAX_LEN: usize = 998;

/// What [`InternetMessageId::parse`] takes, as a JSON Schema (ECMA-262) pattern: angle brackets
/// around characters that are not space, control or angle brackets; space around it allowed.
pub const PATTERN: &str = concat!(
    "^[",
    white_space!(),
    "]*<[^",
    white_space!(),
    r"\x00-\x1f\x7f-\x9f<>]+>[",
    white_space!(),
    "]*$"
);

/// An Internet Message-ID: `<left@right>`, no spaces, at most 998 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct InternetMessageId(String);

impl InternetMessageId {
    /// Strict: the angle brackets are required (the REST API's form).
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let inner = text
            .strip_prefix('<')
            .and_then(|t| t.strip_suffix('>'))
            .ok_or_else(|| format!("{text:?} is not a Message-ID in angle brackets"))?;
        if inner.is_empty()
            || text.chars().count() > MAX_LEN
            || inner
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>')
        {
            return Err(format!("{text:?} is not a Message-ID"));
        }
        Ok(InternetMessageId(text.to_string()))
    }

    /// Lenient: what a person types or a header holds, with or without the angle brackets.
    pub fn normalise(text: &str) -> Result<Self, String> {
        Self::parse(&bracketed(text))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for InternetMessageId {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        crate::openapi::string_schema(
            "An Internet Message-ID in angle brackets, `<left@right>`.",
            PATTERN,
            MAX_LEN,
        )
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for InternetMessageId {}

impl TryFrom<String> for InternetMessageId {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<InternetMessageId> for String {
    fn from(value: InternetMessageId) -> Self {
        value.0
    }
}

/// A Message-ID without its angle brackets or surrounding space, as stores write it either way.
pub fn bare(id: &str) -> &str {
    id.trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .trim()
}

/// `<id>`: the form airdesk keeps, whatever form it was read in.
///
/// Control characters are dropped: a sender writes this header, they have no place in a
/// Message-ID, they can spoof what the portal shows, and PostgreSQL text cannot hold NUL (one
/// message could otherwise stop the index writing). The index keeps a header's id this way and
/// a report's id is looked up this way, so the two still meet.
pub fn bracketed(id: &str) -> String {
    let kept: String = bare(id).chars().filter(|c| !c.is_control()).collect();
    format!("<{kept}>")
}

/// Whether two Message-IDs name the same message, brackets and space aside.
pub fn same(a: &str, b: &str) -> bool {
    bare(a) == bare(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_ids_need_angle_brackets_and_no_spaces() {
        assert!(InternetMessageId::parse("<a@b>").is_ok());
        assert!(InternetMessageId::parse("a@b").is_err());
        assert!(InternetMessageId::parse("<a b@c>").is_err());
        assert!(InternetMessageId::parse("<>").is_err());
    }

    #[test]
    fn a_typed_id_gets_its_brackets() {
        assert_eq!(
            InternetMessageId::normalise(" a@b.test ").unwrap().as_str(),
            "<a@b.test>"
        );
        assert_eq!(
            InternetMessageId::normalise("<a@b.test>").unwrap().as_str(),
            "<a@b.test>"
        );
        assert!(InternetMessageId::normalise("").is_err());
        assert!(InternetMessageId::normalise(&"x".repeat(MAX_LEN)).is_err());
    }

    #[test]
    fn message_ids_compare_with_or_without_brackets() {
        assert!(same("<a@b.test>", "a@b.test"));
        assert!(same(" <a@b.test> ", "<a@b.test>"));
        assert!(!same("<a@b.test>", "<a@c.test>"));
    }
}

#[cfg(test)]
mod pattern_tests {
    use super::*;

    #[test]
    fn the_documented_pattern_is_what_parse_takes() {
        let pattern = regex::Regex::new(PATTERN).unwrap();
        for text in [
            "<a@b>",
            " <a@b> ",
            "<x>",
            "<>",
            "a@b",
            "<a b@c>",
            "<a<b@c>",
            "<a\u{0}b>",
            "<a\u{9f}b>",
            "<ä@ö>",
            "<a@b>>",
            "\u{3000}<a@b>",
            "\u{85}<a@b>",
            "<a@b>\u{feff}",
            "<a\u{2028}b>",
        ] {
            assert_eq!(
                pattern.is_match(text),
                InternetMessageId::parse(text).is_ok(),
                "{text:?}"
            );
        }
    }
}

#[cfg(test)]
mod bracket_tests {
    use super::*;

    #[test]
    fn control_characters_are_dropped_so_the_index_and_a_report_meet() {
        assert_eq!(bracketed(" <a\u{0}b\u{1b}@x> "), "<ab@x>");
        assert_eq!(bracketed("a\u{7f}b@x"), "<ab@x>");
        assert_eq!(bracketed("\u{1}"), "<>");
    }
}
