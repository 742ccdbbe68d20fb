//! Where events come from and go: the phish-report mailbox, webhook endpoints from the command line (`--webhook URL`, repeatable) and
//! from the configuration file's `[[webhook]]` tables, and how deliveries are retried.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;
use serde::Deserialize;

use airdesk_core::events::notify::{NotifyConfig, Relay, Templates};
use airdesk_core::events::webhooks::{Endpoint, Format, Secret, WebhookConfig};
use airdesk_core::investigations::intake::IntakeConfig;

#[derive(Debug, Args)]
pub struct EventArgs {
    /// Send every event to this URL (repeatable, or comma-separated in the environment), as
    /// signed CloudEvents; endpoints with their own secret or filter go in --config.
    #[arg(long = "webhook", env = "AIRDESK_WEBHOOKS", value_delimiter = ',')]
    pub webhooks: Vec<String>,
    /// The signing secret of the --webhook endpoints (`whsec_…` as Standard Webhooks
    /// libraries write it, or 24+ bytes of text).
    #[arg(long, env = "AIRDESK_WEBHOOK_SECRET_FILE")]
    pub webhook_secret_file: Option<PathBuf>,
    /// A TOML configuration file: `[[webhook]]` tables (name, url, secret_file, events,
    /// format = "cloudevents" | "slack").
    #[arg(long, env = "AIRDESK_CONFIG")]
    pub config: Option<PathBuf>,
    /// The portal's address as people reach it, for the links events and messages carry.
    #[arg(long, env = "AIRDESK_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// The first retry of a delivery waits this long; each next one twice as long (up to 1h).
    #[arg(long, env = "AIRDESK_WEBHOOK_BACKOFF", default_value = "5s", value_parser = humantime::parse_duration)]
    pub webhook_backoff: Duration,
    /// A delivery is retried until its event is this old, then Failed.
    #[arg(long, env = "AIRDESK_WEBHOOK_RETRY_FOR", default_value = "24h", value_parser = humantime::parse_duration)]
    pub webhook_retry_for: Duration,
    /// The mailbox employees send suspicious mail to (a mailbox of the configured store):
    /// each message there becomes a user report of the original it attaches or forwards,
    /// then is filed into `Processed` (or `Unprocessable`, with the reason in the log).
    #[arg(long, env = "AIRDESK_REPORT_MAILBOX")]
    pub report_mailbox: Option<String>,
    /// How often the report mailbox is read.
    #[arg(long, env = "AIRDESK_REPORT_MAILBOX_INTERVAL", default_value = "15s", value_parser = humantime::parse_duration)]
    pub report_mailbox_interval: Duration,
    /// The SMTP relay reporters are told through (`smtp://host:port`, STARTTLS required
    /// unless the relay is on loopback or `?starttls=off|opportunistic` says otherwise;
    /// `smtps://` for TLS from the start). Off unless given.
    #[arg(long, env = "AIRDESK_SMTP_URL")]
    pub smtp_url: Option<String>,
    /// The relay's user name (AUTH), with --smtp-password-file.
    #[arg(long, env = "AIRDESK_SMTP_USER", requires = "smtp_password_file")]
    pub smtp_user: Option<String>,
    #[arg(long, env = "AIRDESK_SMTP_PASSWORD_FILE", requires = "smtp_user")]
    pub smtp_password_file: Option<PathBuf>,
    /// The From of notifications (default: airdesk@ the first internal domain).
    #[arg(long, env = "AIRDESK_SMTP_FROM")]
    pub smtp_from: Option<String>,
    /// One delivery attempt's time limit.
    #[arg(long, env = "AIRDESK_WEBHOOK_TIMEOUT", default_value = "10s", value_parser = humantime::parse_duration)]
    pub webhook_timeout: Duration,
}

/// The configuration file (only what it may hold; anything else is refused, so a typo is not
/// silently ignored).
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    #[serde(default)]
    webhook: Vec<WebhookTable>,
    /// The reporters' notification templates, per outcome.
    #[serde(default)]
    notifications: Option<Templates>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WebhookTable {
    name: String,
    url: String,
    secret_file: Option<PathBuf>,
    #[serde(default)]
    events: Vec<String>,
    #[serde(default)]
    format: Format,
}

fn read_secret(file: &Path) -> Result<Secret, String> {
    let text = std::fs::read_to_string(file).map_err(|e| {
        format!(
            "cannot read the webhook secret file {}: {e}",
            file.display()
        )
    })?;
    Secret::parse(&text).map_err(|e| format!("webhook secret file {}: {e}", file.display()))
}

impl EventArgs {
    fn config_file(&self) -> Result<ConfigFile, String> {
        let Some(path) = &self.config else {
            return Ok(ConfigFile::default());
        };
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the configuration {}: {e}", path.display()))?;
        toml::from_str(&text).map_err(|e| format!("configuration {}: {e}", path.display()))
    }

    /// How reporters are told, if an SMTP relay is named.
    pub fn notify(
        &self,
        webhooks: &WebhookConfig,
        internal_domains: &[String],
    ) -> Result<Option<NotifyConfig>, String> {
        let Some(url) = &self.smtp_url else {
            return Ok(None);
        };
        let credentials = match (&self.smtp_user, &self.smtp_password_file) {
            (Some(user), Some(file)) => {
                let password = std::fs::read_to_string(file).map_err(|e| {
                    format!("cannot read the SMTP password file {}: {e}", file.display())
                })?;
                Some((
                    user.clone(),
                    password.lines().next().unwrap_or_default().to_string(),
                ))
            }
            _ => None,
        };
        let relay = Relay::parse(url, credentials)?;
        let from = match &self.smtp_from {
            Some(from) => from.clone(),
            None => format!(
                "airdesk <airdesk@{}>",
                internal_domains
                    .first()
                    .ok_or("--smtp-url needs --smtp-from (or --internal-domains)")?
            ),
        };
        let from = from
            .parse()
            .map_err(|e| format!("--smtp-from {from:?}: {e}"))?;
        Ok(Some(NotifyConfig {
            relay,
            from,
            templates: self.config_file()?.notifications.unwrap_or_default(),
            public_url: webhooks.public_url.clone(),
            backoff: self.webhook_backoff,
            retry_for: self.webhook_retry_for,
            timeout: self.webhook_timeout,
        }))
    }

    /// The report mailbox, if one is named.
    pub fn intake(&self) -> Result<Option<IntakeConfig>, String> {
        let Some(mailbox) = &self.report_mailbox else {
            return Ok(None);
        };
        if !mailbox.contains('@') || mailbox.chars().any(|c| c.is_control() || c == '/') {
            return Err(format!(
                "--report-mailbox {mailbox:?} is not a mailbox address"
            ));
        }
        let mut config = IntakeConfig::new(mailbox);
        config.every = self.report_mailbox_interval.max(Duration::from_millis(100));
        Ok(Some(config))
    }

    pub fn config(&self, listen: std::net::SocketAddr) -> Result<WebhookConfig, String> {
        let mut endpoints = Vec::new();
        if !self.webhooks.is_empty() {
            let file = self
                .webhook_secret_file
                .as_ref()
                .ok_or("--webhook needs --webhook-secret-file (the signing secret)")?;
            let secret = read_secret(file)?;
            for url in &self.webhooks {
                endpoints.push(Endpoint::new(
                    Endpoint::name_for(url),
                    url,
                    Some(secret.clone()),
                    Vec::new(),
                    Format::Cloudevents,
                )?);
            }
        }
        {
            for table in self.config_file()?.webhook {
                let secret = table.secret_file.as_deref().map(read_secret).transpose()?;
                endpoints.push(Endpoint::new(
                    table.name,
                    &table.url,
                    secret,
                    table.events,
                    table.format,
                )?);
            }
        }
        let mut names: Vec<&str> = endpoints.iter().map(|e| e.name.as_str()).collect();
        names.sort_unstable();
        if let Some(twice) = names.windows(2).find(|w| w[0] == w[1]) {
            return Err(format!("two webhooks are named {}", twice[0]));
        }
        let public_url = self
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{listen}"))
            .trim_end_matches('/')
            .to_string();
        Ok(WebhookConfig {
            endpoints,
            backoff: self.webhook_backoff,
            retry_for: self.webhook_retry_for,
            timeout: self.webhook_timeout,
            source: public_url.clone(),
            public_url,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_configuration_file_holds_webhooks_and_templates_and_nothing_unknown() {
        let file: ConfigFile = toml::from_str(
            r#"
            [[webhook]]
            name = "siem"
            url = "https://siem.example.test/hook"
            events = ["action.*"]

            [[webhook]]
            name = "chat"
            url = "https://chat.example.test/hook"
            format = "slack"

            [notifications.malicious]
            subject = "Gone: {subject}"
            body = "Removed from {mailboxes} mailboxes."
            "#,
        )
        .unwrap();
        assert_eq!(file.webhook.len(), 2);
        assert_eq!(file.webhook[1].format, Format::Slack);
        let templates = file.notifications.unwrap();
        assert_eq!(templates.malicious.subject, "Gone: {subject}");
        assert_eq!(
            templates.clean,
            Templates::default().clean,
            "unset ones keep the default"
        );

        let typo = toml::from_str::<ConfigFile>(
            "[[webhook]]\nname = \"x\"\nurl = \"https://x.test\"\nevent = [\"action.*\"]\n",
        );
        assert!(typo.is_err(), "an unknown key is refused, not ignored");
    }
}
