//! Why a sign-in through the provider was refused, and the log line that says it.

/// Why a sign-in through the provider was refused: each has its own fixed message on the
/// sign-in page (`/login?refused=<code>`), so no text from the provider or from a crafted link
/// is ever shown to the user. The details go to the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No sign-in of this browser is waiting, or it waited too long, or `state` differs.
    Expired,
    /// The provider said no (the user cancelled, or the provider refused the client).
    Provider,
    /// The token exchange or the ID token failed a check.
    Token,
    /// The role claim maps to no airdesk role.
    NoRole,
    /// The account is disabled in airdesk.
    Disabled,
    /// The provider's user name is taken by another account, or is no valid name.
    Name,
    /// The provider could not be reached.
    Unavailable,
}

impl Refusal {
    pub fn code(self) -> &'static str {
        match self {
            Refusal::Expired => "expired",
            Refusal::Provider => "provider",
            Refusal::Token => "token",
            Refusal::NoRole => "no_role",
            Refusal::Disabled => "disabled",
            Refusal::Name => "name",
            Refusal::Unavailable => "unavailable",
        }
    }
}

pub(super) fn refused(refusal: Refusal, what: &str, error: &dyn std::fmt::Display) -> Refusal {
    tracing::warn!(reason = refusal.code(), %error, "sign-in through the identity provider refused: {what}");
    refusal
}

/// An error with its causes: the crate's errors name only their outermost layer.
pub(super) fn describe(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(inner) = cause {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        cause = inner.source();
    }
    text
}
