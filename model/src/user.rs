//! Who is signed in, what a username may look like, and a user as administrators see them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{AppError, Role, Scope, Scopes};

/// A user as the Users page and `airdesk user list` show them. Never a password hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserAccount {
    pub id: String,
    pub username: String,
    pub role: Role,
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
    /// The identity provider's issuer for a user who signs in there (their role is set from
    /// its claim at each sign-in); `None` for a local user.
    pub identity_provider: Option<String>,
}

/// How the portal lets people sign in: the identity provider's name for its button, and
/// whether the password form is there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInOptions {
    pub provider: Option<String>,
    pub passwords: bool,
}

/// My account: who I am, my role and where it comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MyAccount {
    pub username: String,
    pub role: Role,
    /// The identity provider's issuer when the role comes from its claim; `None` for a
    /// local user (role set in airdesk, password here).
    pub identity_provider: Option<String>,
    /// The claim the role is read from (identity provider users).
    pub role_claim: Option<String>,
}

/// One line of the Settings page: the configuration in force, never a secret's value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Setting {
    pub section: String,
    pub name: String,
    pub value: String,
}

/// An open browser session, as the Sessions page lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    pub id: String,
    pub username: String,
    /// `password` or `oidc`.
    pub method: String,
    pub address: String,
    pub user_agent: String,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    /// The session of the browser asking.
    pub current: bool,
}

/// The signed-in user as the portal and the rules see them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrentUser {
    pub id: String,
    pub username: String,
    pub role: Role,
    /// What the caller's credential allows within the role: every scope for a session.
    pub scopes: Scopes,
}

impl CurrentUser {
    /// Approve, reject, change and undo: the Search and purge role and the `decide` scope.
    pub fn require_decide(&self) -> Result<(), AppError> {
        self.require(self.role.can_decide(), "Search and purge", Scope::Decide)
    }

    /// Submit investigations and indicators: the Search and purge role (as before scopes
    /// existed) and the `ingest` scope.
    pub fn require_ingest(&self) -> Result<(), AppError> {
        self.require(self.role.can_decide(), "Search and purge", Scope::Ingest)
    }

    /// Start a hunt through every mailbox — an indicator, a manual investigation of a sender,
    /// URL, attachment, subject or message: one rule for all of them, the Search and purge
    /// role (searching mailboxes is what it is for) and the `ingest` scope. A report of one's
    /// own message is not a hunt ([`CurrentUser::require_report`]).
    pub fn require_hunt(&self) -> Result<(), AppError> {
        self.require_ingest()
    }

    pub fn can_hunt(&self) -> bool {
        self.require_hunt().is_ok()
    }

    /// Report a message as phish: any role, with the `ingest` scope.
    pub fn require_report(&self) -> Result<(), AppError> {
        self.require(true, "", Scope::Ingest)
    }

    /// Read anything: any role, with the `read` scope.
    pub fn require_read(&self) -> Result<(), AppError> {
        self.require(true, "", Scope::Read)
    }

    /// Manage users, playbooks and settings: the Admin role and the `admin` scope.
    pub fn require_administer(&self) -> Result<(), AppError> {
        self.require(self.role.can_administer(), "Admin", Scope::Admin)
    }

    pub fn can_decide(&self) -> bool {
        self.require_decide().is_ok()
    }

    pub fn can_administer(&self) -> bool {
        self.require_administer().is_ok()
    }

    fn require(&self, role_allows: bool, permission: &str, scope: Scope) -> Result<(), AppError> {
        if !role_allows {
            return Err(AppError::Forbidden(permission.into()));
        }
        if !self.scopes.allows(scope) {
            return Err(AppError::Refused(format!(
                "this token lacks the {scope} scope (it has {})",
                self.scopes.to_words()
            )));
        }
        Ok(())
    }
}

/// A username: 1–64 characters of letters, digits, `.`, `_`, `-` or `@`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    pub fn parse(text: &str) -> Result<Self, AppError> {
        let text = text.trim();
        let allowed = |c: char| c.is_ascii_alphanumeric() || "._-@".contains(c);
        if text.is_empty() || text.len() > 64 || !text.chars().all(allowed) {
            return Err(AppError::Invalid(
                "a username is 1 to 64 letters, digits, '.', '_', '-' or '@'".into(),
            ));
        }
        Ok(Username(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Where to go after signing in: a path on this site, or `/`. The value is read as a browser
/// would read it — resolved as a URL against this site's own origin, after the browser's own
/// clean-up (tabs and newlines dropped, `\` taken for `/`) — and kept only if it stays on
/// that origin; so `//evil.test`, `/\t/evil.test`, `https://…` and `javascript:…` all end
/// at `/`. What comes back is percent-encoded ASCII: it is always a valid header value.
pub fn safe_next(next: Option<&str>) -> String {
    const HOME: &str = "/";
    let Some(next) = next.filter(|n| n.starts_with('/')) else {
        return HOME.to_string();
    };
    let Ok(origin) = url::Url::parse("https://airdesk.invalid/") else {
        return HOME.to_string();
    };
    let Ok(target) = origin.join(next) else {
        return HOME.to_string();
    };
    if target.origin() != origin.origin() || target.username() != "" || target.password().is_some()
    {
        return HOME.to_string();
    }
    let path = target.path();
    // A path that decodes (once, twice…) to `//…` or `/\…` could be read as another host by
    // whatever decodes it next (a proxy, a later redirect): never offered.
    let mut decoded = path.to_string();
    for _ in 0..3 {
        if decoded.starts_with("//") || decoded.starts_with("/\\") {
            return HOME.to_string();
        }
        decoded = percent_encoding::percent_decode_str(&decoded)
            .decode_utf8_lossy()
            .into_owned();
    }
    if decoded.starts_with("//") || decoded.starts_with("/\\") {
        return HOME.to_string();
    }
    match target.query() {
        Some(query) => format!("{path}?{query}"),
        None => path.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirects_stay_on_this_site() {
        assert_eq!(safe_next(Some("/action-center")), "/action-center");
        assert_eq!(
            safe_next(Some("/incidents?sort=severity&page=2")),
            "/incidents?sort=severity&page=2"
        );
        for hostile in [
            "//evil.test/x",
            "https://evil.test",
            "/\\evil.test",
            "/\t/evil.test",
            "/\t\t//evil.test",
            "/%2F/evil.test",
            "/%2f%2fevil.test",
            "/%5C/evil.test",
            "\\/evil.test",
            " //evil.test",
            "javascript:alert(1)",
            "/\n/evil.test",
            "/\r\n/evil.test",
            "http:/evil.test",
            "/@evil.test",
        ] {
            let target = safe_next(Some(hostile));
            assert!(
                target.starts_with('/')
                    && !target.starts_with("//")
                    && !target.contains("evil.test/"),
                "{hostile:?} -> {target:?}"
            );
            assert!(
                target.bytes().all(|b| b.is_ascii_graphic()),
                "{hostile:?} -> {target:?} is not a clean header value"
            );
        }
        assert_eq!(safe_next(Some("/%2F/evil.test")), "/");
        assert_eq!(safe_next(Some("/\t/evil.test")), "/");
        assert_eq!(
            safe_next(Some("/a\r\nSet-Cookie: x=1")),
            "/aSet-Cookie:%20x=1"
        );
        assert_eq!(safe_next(None), "/");
    }

    #[test]
    fn ordinary_names_are_accepted() {
        assert_eq!(Username::parse(" analyst ").unwrap().as_str(), "analyst");
    }

    #[test]
    fn names_with_spaces_or_markup_are_rejected() {
        assert!(Username::parse("a b").is_err());
        assert!(Username::parse("<script>").is_err());
        assert!(Username::parse("").is_err());
        assert!(Username::parse(&"x".repeat(65)).is_err());
    }
}
