//! What a bearer token may do. A token acts within its user's role *and* its scopes: the
//! narrower of the two wins, so an `ingest` token of an admin still cannot approve anything.

use serde::{Deserialize, Serialize};

use super::enums::word_enum;

word_enum!(
    /// One power a token can be given (`airdesk token create … --scope`).
    Scope {
        Read = "read" / "Read",
        Ingest = "ingest" / "Ingest",
        Decide = "decide" / "Decide",
        Admin = "admin" / "Admin",
    }
);

/// The set of scopes a caller holds. A signed-in session and a token made before scopes
/// existed hold all of them (their role still limits them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scopes(u8);

impl Scopes {
    pub const ALL: Scopes = Scopes(0b1111);

    /// Exactly the given scopes. `admin` grants every other scope; `decide` grants `read`,
    /// since approving returns the action it decided.
    pub fn of(scopes: &[Scope]) -> Scopes {
        let mut bits = 0u8;
        for scope in scopes {
            bits |= match scope {
                Scope::Read => 0b0001,
                Scope::Ingest => 0b0010,
                Scope::Decide => 0b0101,
                Scope::Admin => 0b1111,
            };
        }
        Scopes(bits)
    }

    pub fn allows(self, scope: Scope) -> bool {
        let bit = 1u8 << Scope::ALL.iter().position(|s| *s == scope).unwrap_or(0);
        self.0 & bit != 0
    }

    /// The scopes as stored and shown: `read,ingest`.
    pub fn to_words(self) -> String {
        let words: Vec<&str> = Scope::ALL
            .iter()
            .filter(|s| self.allows(**s))
            .map(|s| s.as_str())
            .collect();
        words.join(",")
    }

    /// Reads `read,ingest`; an unknown word is refused rather than skipped.
    pub fn parse(words: &str) -> Option<Scopes> {
        let scopes: Option<Vec<Scope>> = words
            .split(',')
            .map(str::trim)
            .filter(|w| !w.is_empty())
            .map(Scope::parse)
            .collect();
        scopes.filter(|s| !s.is_empty()).map(|s| Scopes::of(&s))
    }
}

/// An API token as the API tokens page shows it. Never the secret, which is not kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiToken {
    pub id: String,
    pub username: String,
    pub label: String,
    /// `read,ingest`; every scope for a token made before scopes existed.
    pub scopes: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub expires_at: Option<chrono::DateTime<chrono::Utc>>,
    pub last_used_at: Option<chrono::DateTime<chrono::Utc>>,
    pub revoked_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Past its expiry when listed (told by the server: the browser's clock is not asked).
    pub expired: bool,
}

/// A token just made: its secret, shown this once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewToken {
    pub id: String,
    pub secret: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_scope_grants_only_what_it_names() {
        let ingest = Scopes::of(&[Scope::Ingest]);
        assert!(ingest.allows(Scope::Ingest));
        assert!(!ingest.allows(Scope::Read));
        assert!(!ingest.allows(Scope::Decide));
        assert!(!ingest.allows(Scope::Admin));
        let decide = Scopes::of(&[Scope::Decide]);
        assert!(decide.allows(Scope::Read) && decide.allows(Scope::Decide));
        assert!(!decide.allows(Scope::Ingest) && !decide.allows(Scope::Admin));
        assert_eq!(Scopes::of(&[Scope::Admin]), Scopes::ALL);
    }

    #[test]
    fn words_round_trip_and_unknown_words_are_refused() {
        let scopes = Scopes::parse("ingest, read").unwrap();
        assert_eq!(scopes.to_words(), "read,ingest");
        assert_eq!(Scopes::parse(&scopes.to_words()), Some(scopes));
        assert_eq!(Scopes::parse("read,root"), None);
        assert_eq!(Scopes::parse(""), None);
    }
}
