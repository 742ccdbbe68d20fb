//! Mailbox groups: a name, an automation level, and who is in it — exact addresses, whole
//! domains, or glob patterns over the address (`*-finance@example.test`). Addresses compare
//! without regard to case, as mail systems treat them.

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

use super::file::GroupFile;
use super::{GroupView, Level};

pub(crate) struct Group {
    pub name: String,
    pub level: Level,
    addresses: Vec<String>,
    domains: Vec<String>,
    globs: Vec<String>,
    glob_set: GlobSet,
}

impl Group {
    pub(super) fn new(file: GroupFile, level: Level) -> Result<Group, String> {
        let name = file.name.into_inner();
        if file.addresses.is_empty() && file.domains.is_empty() && file.globs.is_empty() {
            return Err(format!(
                "group {name:?} has no members: give addresses, domains or globs"
            ));
        }
        let addresses: Vec<String> = file.addresses.iter().map(|a| a.to_lowercase()).collect();
        if let Some(bad) = addresses.iter().find(|a| !looks_like_address(a)) {
            return Err(format!("group {name:?}: {bad:?} is not an address"));
        }
        let domains: Vec<String> = file
            .domains
            .iter()
            .map(|d| d.trim_start_matches('@').to_lowercase())
            .collect();
        if let Some(bad) = domains
            .iter()
            .find(|d| d.is_empty() || d.contains(['@', '*', ' ']))
        {
            return Err(format!("group {name:?}: {bad:?} is not a domain"));
        }
        let mut builder = GlobSetBuilder::new();
        for pattern in &file.globs {
            let glob = GlobBuilder::new(pattern)
                .case_insensitive(true)
                .literal_separator(false)
                .build()
                .map_err(|error| format!("group {name:?}: glob {pattern:?}: {error}"))?;
            builder.add(glob);
        }
        let glob_set = builder
            .build()
            .map_err(|error| format!("group {name:?}: {error}"))?;
        Ok(Group {
            name,
            level,
            addresses,
            domains,
            globs: file.globs,
            glob_set,
        })
    }

    /// Whether a mailbox's address is in the group.
    pub fn contains(&self, mailbox: &str) -> bool {
        let mailbox = mailbox.to_lowercase();
        if self.addresses.contains(&mailbox) {
            return true;
        }
        if let Some((_, domain)) = mailbox.rsplit_once('@') {
            if self.domains.iter().any(|d| d == domain) {
                return true;
            }
        }
        self.glob_set.is_match(&mailbox)
    }

    pub fn describe(&self) -> GroupView {
        GroupView {
            name: self.name.clone(),
            level: self.level,
            addresses: self.addresses.clone(),
            domains: self.domains.clone(),
            globs: self.globs.clone(),
        }
    }
}

fn looks_like_address(address: &str) -> bool {
    matches!(address.split_once('@'), Some((local, domain)) if !local.is_empty() && !domain.is_empty() && !domain.contains('@'))
}
