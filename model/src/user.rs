//! Who is signed in, and what a username may look like.

use serde::{Deserialize, Serialize};

use super::{AppError, Role, Scope, Scopes};

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

/// Where to go after signing in: only a path on this site, since `//evil.test` or
/// `https://…` would make the login page an open redirect.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(path) if path.starts_with('/') && !path.starts_with("//") && !path.contains('\\') => {
            path.to_string()
        }
        _ => "/incidents".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirects_stay_on_this_site() {
        assert_eq!(safe_next(Some("/action-center")), "/action-center");
        assert_eq!(safe_next(Some("//evil.test/x")), "/incidents");
        assert_eq!(safe_next(Some("https://evil.test")), "/incidents");
        assert_eq!(safe_next(Some("/\\evil.test")), "/incidents");
        assert_eq!(safe_next(None), "/incidents");
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
