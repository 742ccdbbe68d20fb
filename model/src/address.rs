//! Mail addresses, and the one answer to "is this inside the organisation?".

use serde::{Deserialize, Serialize};

/// A mailbox address: `local@domain`, domain lower-cased, no spaces or control characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EmailAddress(String);

/// The characters `char::is_whitespace` takes (Unicode White_Space), written out for a regex
/// class: the API's document cannot say `\s`, which in ECMA-262 has U+FEFF and lacks U+0085.
macro_rules! white_space {
    () => {
        r"\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
    };
}
pub(crate) use white_space;

/// [`white_space!`] as a constant, for patterns built at run time.
pub const WHITE_SPACE: &str = white_space!();

/// A character of an address: not space, control or `<>()[],;:"\`.
macro_rules! address_char {
    () => {
        concat!(
            r#"[^"#,
            white_space!(),
            r#"\x00-\x1f\x7f-\x9f<>()\[\],;:"\\"#
        )
    };
}

/// What [`EmailAddress::parse`] takes, as a JSON Schema (ECMA-262) pattern for the API's
/// document: `local@domain` of characters that are not space, control or `<>()[],;:"\`, the
/// domain neither starting nor ending with a dot, space around it allowed (it is trimmed).
pub const EMAIL_PATTERN: &str = concat!(
    "^[",
    white_space!(),
    "]*",
    address_char!(),
    "]+@",
    address_char!(),
    "@.](?:",
    address_char!(),
    "@]*",
    address_char!(),
    "@.])?",
    "[",
    white_space!(),
    "]*$"
);

/// Longest address, in characters.
pub const EMAIL_MAX: usize = 254;

impl EmailAddress {
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let (local, domain) = text
            .rsplit_once('@')
            .ok_or_else(|| format!("{text:?} is not an email address"))?;
        let bad = |c: char| c.is_whitespace() || c.is_control() || "<>()[],;:\"\\".contains(c);
        if local.is_empty()
            || domain.is_empty()
            || text.chars().count() > EMAIL_MAX
            || text.chars().any(bad)
            || domain.starts_with('.')
            || domain.ends_with('.')
        {
            return Err(format!("{text:?} is not an email address"));
        }
        Ok(EmailAddress(format!(
            "{local}@{}",
            domain.to_ascii_lowercase()
        )))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map(|(_, d)| d).unwrap_or_default()
    }

    /// Whether the address is on one of these domains or a subdomain of one.
    pub fn is_within(&self, domains: &InternalDomains) -> bool {
        domains.contains(self.domain())
    }
}

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for EmailAddress {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        crate::openapi::string_schema(
            "A mailbox address, `local@domain`.",
            EMAIL_PATTERN,
            EMAIL_MAX,
        )
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for EmailAddress {}

impl TryFrom<String> for EmailAddress {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<EmailAddress> for String {
    fn from(value: EmailAddress) -> Self {
        value.0
    }
}

/// Where a mailbox's rules send its mail: an address, or — when a rule hides it behind a
/// variable, an encoded character or anything else that is not plainly an address — the
/// rule's own text. Only an address on an internal domain is internal; everything else
/// counts as outside.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ForwardTarget(String);

impl ForwardTarget {
    /// 1 to 998 characters; control characters are replaced by spaces (they could spoof
    /// what the portal shows), never trusted.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text: String = text
            .trim()
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        if text.is_empty() || text.chars().count() > 998 {
            return Err("a forwarding target is 1 to 998 characters".into());
        }
        Ok(ForwardTarget(text))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether forwarding here stays inside the organisation: only a readable address on an
    /// internal domain does.
    pub fn is_internal(&self, domains: &InternalDomains) -> bool {
        EmailAddress::parse(&self.0).is_ok_and(|a| a.is_within(domains))
    }
}

impl TryFrom<String> for ForwardTarget {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<ForwardTarget> for String {
    fn from(value: ForwardTarget) -> Self {
        value.0
    }
}

/// The organisation's own mail domains (`--internal-domains`): forwarding anywhere else is
/// external. A subdomain of an internal domain is internal. Kept lower-cased.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InternalDomains(Vec<String>);

impl InternalDomains {
    /// Trims and lower-cases each domain; blanks are dropped.
    pub fn new<S: AsRef<str>>(domains: impl IntoIterator<Item = S>) -> Self {
        InternalDomains(
            domains
                .into_iter()
                .map(|d| d.as_ref().trim().to_ascii_lowercase())
                .filter(|d| !d.is_empty())
                .collect(),
        )
    }

    /// The domains, as configured.
    pub fn domains(&self) -> &[String] {
        &self.0
    }

    /// Whether `domain` is one of them or a subdomain of one (`mail.example.test`), but not a
    /// name that merely ends the same way (`notexample.test`).
    pub fn contains(&self, domain: &str) -> bool {
        let domain = domain.trim().trim_end_matches('.').to_ascii_lowercase();
        !domain.is_empty()
            && self.0.iter().any(|internal| {
                domain == *internal
                    || domain
                        .strip_suffix(internal.as_str())
                        .is_some_and(|head| head.ends_with('.'))
            })
    }

    /// Whether mail sent to `address` stays inside. An address that cannot be read (no `@`,
    /// a Sieve variable, nothing after the `@`) does not: when in doubt, it is external.
    pub fn is_internal_address(&self, address: &str) -> bool {
        let address = address.trim();
        if address.contains("${") {
            return false;
        }
        match address.rsplit_once('@') {
            Some((_, domain)) => self.contains(domain.trim_end_matches('>')),
            None => false,
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn internal() -> InternalDomains {
        InternalDomains::new([" Example.TEST "])
    }

    #[test]
    fn addresses_keep_the_local_part_and_lower_case_the_domain() {
        assert_eq!(
            EmailAddress::parse("Alice@Example.TEST").unwrap().as_str(),
            "Alice@example.test"
        );
    }

    #[test]
    fn addresses_without_at_or_with_spaces_are_rejected() {
        assert!(EmailAddress::parse("alice").is_err());
        assert!(EmailAddress::parse("al ice@example.test").is_err());
        assert!(EmailAddress::parse("@example.test").is_err());
        assert!(EmailAddress::parse("<a@b.test>").is_err());
    }

    #[test]
    fn subdomains_of_internal_domains_are_internal() {
        let domains = internal();
        assert!(EmailAddress::parse("a@mail.example.test")
            .unwrap()
            .is_within(&domains));
        assert!(!EmailAddress::parse("a@notexample.test")
            .unwrap()
            .is_within(&domains));
        assert!(!EmailAddress::parse("a@elsewhere.test")
            .unwrap()
            .is_within(&domains));
    }

    #[test]
    fn unreadable_addresses_count_as_external() {
        let domains = internal();
        assert!(domains.is_internal_address("bob@EXAMPLE.test"));
        assert!(domains.is_internal_address("<bob@mail.example.test>"));
        assert!(!domains.is_internal_address("bob@notexample.test"));
        assert!(!domains.is_internal_address("${forward}"));
        assert!(!domains.is_internal_address("nobody"));
        assert!(!domains.is_internal_address("nobody@"));
    }

    #[test]
    fn hidden_forwarding_targets_count_as_outside() {
        let domains = internal();
        let inside = ForwardTarget::parse("team@example.test").unwrap();
        assert!(inside.is_internal(&domains));
        for hidden in [
            "${t}",
            "${hex:74 65 61 6d}@example.test",
            "mailto:x@evil.test",
            "team",
        ] {
            assert!(
                !ForwardTarget::parse(hidden).unwrap().is_internal(&domains),
                "{hidden}"
            );
        }
        assert!(ForwardTarget::parse("  ").is_err());
        assert_eq!(ForwardTarget::parse("a\nb").unwrap().as_str(), "a b");
    }

    #[test]
    fn blank_domains_are_dropped() {
        assert!(InternalDomains::new(["", "  "]).is_empty());
        assert!(!InternalDomains::default().contains("example.test"));
    }
}

#[cfg(test)]
mod pattern_tests {
    use super::*;

    /// The document's pattern and the parser agree on addresses near every rule's edge.
    #[test]
    fn the_documented_pattern_is_what_parse_takes() {
        let pattern = regex::Regex::new(EMAIL_PATTERN).unwrap();
        for text in [
            "alice@example.test",
            "  alice@Example.TEST ",
            "a@b",
            "a@b@c",
            "\u{2003}a@b.c\u{2003}",
            "",
            "@b",
            "a@",
            "a@.b",
            "a@b.",
            "a b@c",
            "a@b\u{7}c",
            "a\u{85}@b",
            "\u{85}a@b",
            "a@b\u{feff}",
            "\u{feff}a@b",
            "<a@b>",
            "a@[b]",
            "a;b@c",
            "a\\b@c",
            "a\"b@c",
            "ä@ö.test",
        ] {
            assert_eq!(
                pattern.is_match(text),
                EmailAddress::parse(text).is_ok(),
                "{text:?}"
            );
        }
        let long = format!("{}@b.test", "a".repeat(EMAIL_MAX));
        assert!(EmailAddress::parse(&long).is_err());
        let wide = format!("{}@b.test", "ä".repeat(240));
        assert!(
            EmailAddress::parse(&wide).is_ok(),
            "counted in characters, not bytes"
        );
    }
}
