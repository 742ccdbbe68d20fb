//! The Settings page's view of the configuration in force: what the operator started airdesk
//! with, section by section. Secrets never appear: a secret is "set" or "not set", a URL shows
//! no credentials, and a webhook shows only its host (chat webhook URLs are secrets).

use model::Setting;

use crate::config::Settings;

fn duration(d: std::time::Duration) -> String {
    humantime::format_duration(d).to_string()
}

fn set(present: bool) -> String {
    if present { "set (hidden)" } else { "not set" }.to_string()
}

/// A URL without its user, password, path or query: `https://hooks.example.test/…`.
fn host_only(url: &url::Url) -> String {
    let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
    format!(
        "{}://{}{port}/…",
        url.scheme(),
        url.host_str().unwrap_or("?")
    )
}

/// A database URL without its password.
fn database(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("hidden"));
            parsed.to_string()
        }
        _ => url.to_string(),
    }
}

pub fn describe(settings: &Settings) -> Vec<Setting> {
    let mut lines = Vec::new();
    let mut add = |section: &str, name: &str, value: String| {
        lines.push(Setting {
            section: section.into(),
            name: name.into(),
            value,
        });
    };
    let rules = &settings.rules;
    add("Rules", "Duplicate window", duration(rules.dedup_window));
    add(
        "Rules",
        "Pending actions expire after",
        duration(rules.pending_expiry),
    );
    add(
        "Rules",
        "Internal domains",
        rules.internal_domains.domains().join(", "),
    );
    add("Storage", "Database", database(&settings.database_url));
    add("Storage", "Connections", settings.database_pool.to_string());
    add(
        "Storage",
        "Audit signing key",
        set(settings.audit_key_file.is_some()),
    );
    add("Mail", "Store", settings.mail.describe());
    let folders = &settings.folders;
    add(
        "Mail",
        "Folders",
        format!(
            "Inbox {:?}, Junk {:?}, Deleted Items {:?}, Recoverable Items {:?}",
            folders.inbox, folders.junk, folders.deleted_items, folders.recoverable_items
        ),
    );
    add(
        "Mail",
        "Index every",
        settings
            .index_interval
            .map_or("never (on demand)".into(), duration),
    );
    if let Some(intake) = &settings.intake {
        add("Mail", "Report mailbox", intake.mailbox.clone());
    }
    let execution = &settings.execution;
    add("Execution", "Workers", execution.workers.to_string());
    add(
        "Execution",
        "Parallel mailboxes",
        execution.parallel_mailboxes.to_string(),
    );
    add(
        "Execution",
        "Attempts per job",
        execution.attempts.to_string(),
    );
    add("Execution", "Job lease", duration(execution.lease));
    let sign_in = &settings.sign_in;
    add(
        "Sign-in",
        "Local passwords",
        if sign_in.local_passwords { "on" } else { "off" }.into(),
    );
    match &sign_in.oidc {
        None => add("Sign-in", "Identity provider", "none".into()),
        Some(provider) => {
            let oidc = provider.config();
            add("Sign-in", "Identity provider", oidc.issuer.clone());
            add("Sign-in", "Client id", oidc.client_id.clone());
            add(
                "Sign-in",
                "Client secret",
                set(oidc.client_secret.is_some()),
            );
            add("Sign-in", "Role claim", oidc.role_claim.clone());
            add("Sign-in", "Role map", oidc.role_map.describe());
        }
    }
    let webhooks = &settings.webhooks;
    add("Events", "Public URL", webhooks.public_url.clone());
    for endpoint in &webhooks.endpoints {
        add(
            "Events",
            &format!("Webhook {}", endpoint.name),
            format!(
                "{} · {} · signing secret {}",
                host_only(&endpoint.url),
                if endpoint.events.is_empty() {
                    "every event".to_string()
                } else {
                    endpoint.events.join(", ")
                },
                set(endpoint.secret.is_some()),
            ),
        );
    }
    match &settings.notify {
        None => add("Events", "Reporter notifications", "off".into()),
        Some(notify) => add(
            "Events",
            "Reporter notifications",
            format!(
                "through {}:{} · sign-in {}",
                notify.relay.host,
                notify.relay.port,
                set(notify.relay.credentials.is_some())
            ),
        ),
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_credential_survives_the_description() {
        assert_eq!(
            database("postgres://airdesk:s3cret@db.internal:5432/airdesk"),
            "postgres://airdesk:hidden@db.internal:5432/airdesk"
        );
        assert_eq!(database("sqlite://airdesk.db"), "sqlite://airdesk.db");
        let hook = url::Url::parse("https://user:pw@hooks.slack.test/services/T0/B0/XyZsecret?k=v")
            .unwrap();
        assert_eq!(host_only(&hook), "https://hooks.slack.test/…");
    }
}
