//! The closed vocabularies of the domain, each spelled in snake_case on the wire and in the
//! database, with the words the portal shows.

use serde::{Deserialize, Serialize};

/// Defines an enum whose wire form is a snake_case word, with its label for people.
macro_rules! word_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $wire:literal / $label:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant,)+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The snake_case word used on the wire and in the database.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $wire,)+ }
            }

            /// The words the portal shows.
            pub fn label(self) -> &'static str {
                match self { $($name::$variant => $label,)+ }
            }

            pub fn parse(word: &str) -> Option<Self> {
                match word { $($wire => Some($name::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use word_enum;

word_enum!(
    /// What an action does.
    ActionType {
        SoftDeleteEmail = "soft_delete_email" / "Soft delete email",
        SoftDeleteCluster = "soft_delete_cluster" / "Soft delete email cluster",
        TurnOffForwarding = "turn_off_forwarding" / "Turn off external mail forwarding",
        MoveToInbox = "move_to_inbox" / "Move to inbox",
        MoveToJunk = "move_to_junk" / "Move to junk",
        MoveToDeletedItems = "move_to_deleted_items" / "Move to deleted items",
        SoftDelete = "soft_delete" / "Soft delete",
        HardDelete = "hard_delete" / "Hard delete",
        RestoreForwarding = "restore_forwarding" / "Restore mail forwarding",
    }
);

word_enum!(
    /// Where an action is in its life.
    ActionStatus {
        Pending = "pending" / "Pending",
        Approved = "approved" / "Approved",
        Rejected = "rejected" / "Rejected",
        Expired = "expired" / "Expired",
        Duplicate = "duplicate" / "Duplicate",
        InProgress = "in_progress" / "In progress",
        Completed = "completed" / "Completed",
        PartiallyCompleted = "partially_completed" / "Partially completed",
        Failed = "failed" / "Failed",
    }
);

word_enum!(
    /// Who proposed an action.
    ActionSource {
        Automated = "automated" / "Automated investigation",
        Manual = "manual" / "Manual",
        Api = "api" / "API",
    }
);

word_enum!(
    /// Where an automated investigation stands.
    InvestigationStatus {
        Starting = "starting" / "Starting",
        Running = "running" / "Running",
        PendingAction = "pending_action" / "Pending action",
        Remediated = "remediated" / "Remediated",
        PartiallyRemediated = "partially_remediated" / "Partially remediated",
        NoThreatsFound = "no_threats_found" / "No threats found",
        Failed = "failed" / "Failed",
        TerminatedByUser = "terminated_by_user" / "Terminated by user",
        TerminatedBySystem = "terminated_by_system" / "Terminated by system",
    }
);

word_enum!(
    /// What started an investigation.
    InvestigationType {
        UserReported = "user_reported" / "User-reported message",
        Manual = "manual" / "Manual investigation",
        ZappedUrl = "zapped_url" / "Zapped URL",
        ZappedFile = "zapped_file" / "Zapped file",
        UrlVerdictChange = "url_verdict_change" / "URL verdict change",
        UserCompromised = "user_compromised" / "User compromised",
    }
);

word_enum!(
    /// What an investigation concluded about an entity.
    Verdict {
        Malicious = "malicious" / "Malicious",
        Suspicious = "suspicious" / "Suspicious",
        Clean = "clean" / "Clean",
    }
);

impl MessageResult {
    /// Whether the copy is verifiably where the action wanted it, or gone (DESIGN.md rule 9):
    /// an action is Completed only when every copy's result is.
    pub fn settled(self) -> bool {
        matches!(
            self,
            MessageResult::Success
                | MessageResult::AlreadyInDestination
                | MessageResult::Gone
                | MessageResult::Duplicate
        )
    }
}

impl Verdict {
    /// Malicious and suspicious entities call for remediation; clean ones do not.
    pub fn calls_for_action(self) -> bool {
        matches!(self, Verdict::Malicious | Verdict::Suspicious)
    }
}

word_enum!(
    /// The key that groups the messages of an email cluster.
    ClusterBy {
        Sender = "sender" / "Sender",
        Url = "url" / "URL",
        AttachmentHash = "attachment_hash" / "Attachment hash",
        SubjectFingerprint = "subject_fingerprint" / "Subject fingerprint",
        UrlDomain = "url_domain" / "URL domain",
        UrlPattern = "url_pattern" / "URL pattern",
        SenderDomain = "sender_domain" / "Sender domain",
    }
);

word_enum!(
    /// What happened to one message when an action ran.
    MessageResult {
        Success = "success" / "Success",
        Failed = "failed" / "Failed",
        AlreadyInDestination = "already_in_destination" / "Already in destination",
        NotFound = "not_found" / "Not found",
        Gone = "gone" / "Gone (deleted outside airdesk)",
        Duplicate = "duplicate" / "Handled by an earlier approval",
    }
);

word_enum!(
    /// Where a delivered message is now.
    MessageLocation {
        Inbox = "inbox" / "Inbox",
        Junk = "junk" / "Junk",
        DeletedItems = "deleted_items" / "Deleted Items",
        RecoverableItems = "recoverable_items" / "Recoverable Items",
        Purged = "purged" / "Purged",
        Other = "other" / "Other",
    }
);

word_enum!(
    /// How bad an alert or incident is.
    Severity {
        Informational = "informational" / "Informational",
        Low = "low" / "Low",
        Medium = "medium" / "Medium",
        High = "high" / "High",
    }
);

word_enum!(
    /// What the incidents queue is sorted by.
    IncidentSort {
        LastActivity = "last_activity" / "Last activity",
        FirstActivity = "first_activity" / "First activity",
        Severity = "severity" / "Severity",
        PendingActions = "pending_actions" / "Pending actions",
    }
);

#[allow(clippy::derivable_impls)] // word_enum! has no place for #[default]
impl Default for IncidentSort {
    fn default() -> Self {
        IncidentSort::LastActivity
    }
}

word_enum!(
    /// Whether an incident still needs attention.
    IncidentStatus {
        Active = "active" / "Active",
        Resolved = "resolved" / "Resolved",
    }
);

word_enum!(
    /// What a user may do (DESIGN.md rule 1).
    Role {
        Reader = "reader" / "Reader",
        SearchAndPurge = "search_and_purge" / "Search and purge",
        Admin = "admin" / "Admin",
    }
);

impl Role {
    /// Approve, reject, change and undo actions: the Search and purge permission.
    pub fn can_decide(self) -> bool {
        matches!(self, Role::SearchAndPurge | Role::Admin)
    }

    /// Manage users, tokens and settings.
    pub fn can_administer(self) -> bool {
        self == Role::Admin
    }

    /// Reads the role as the command line spells it (`search-and-purge`) or as the wire does.
    pub fn parse_cli(word: &str) -> Option<Self> {
        Self::parse(&word.replace('-', "_"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_word_reads_back_as_its_variant() {
        for t in ActionType::ALL {
            assert_eq!(ActionType::parse(t.as_str()), Some(*t));
        }
        for s in ActionStatus::ALL {
            assert_eq!(ActionStatus::parse(s.as_str()), Some(*s));
        }
    }

    #[test]
    fn wire_form_is_snake_case() {
        let json = serde_json::to_string(&ActionType::SoftDeleteCluster).unwrap();
        assert_eq!(json, "\"soft_delete_cluster\"");
    }

    #[test]
    fn only_search_and_purge_and_admin_decide() {
        assert!(!Role::Reader.can_decide());
        assert!(Role::SearchAndPurge.can_decide());
        assert!(Role::Admin.can_decide());
        assert!(!Role::SearchAndPurge.can_administer());
    }

    #[test]
    fn command_line_role_spelling_is_accepted() {
        assert_eq!(
            Role::parse_cli("search-and-purge"),
            Some(Role::SearchAndPurge)
        );
        assert_eq!(Role::parse_cli("owner"), None);
    }
}
