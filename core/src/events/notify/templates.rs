//! The messages reporters get, per outcome, with the placeholders filled in safely.

use serde::Deserialize;

/// One template: a subject and a plain-text body with `{subject}`, `{sender}`,
/// `{mailboxes}`, `{reporter}` and `{link}` filled in.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Template {
    pub subject: String,
    pub body: String,
}

/// The templates per outcome (`[notifications.malicious]` … in the configuration file).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct Templates {
    pub malicious: Template,
    pub clean: Template,
    pub no_threats: Template,
}

impl Default for Templates {
    fn default() -> Self {
        Templates {
            malicious: Template {
                subject: "Your report: \"{subject}\" was malicious and has been removed".into(),
                body: "Thank you for reporting \"{subject}\" (from {sender}).\n\nIt was malicious: we removed it from {mailboxes} mailbox(es), including yours. Reporting it helped protect your colleagues.\n\n{link}\n".into(),
            },
            clean: Template {
                subject: "Your report: \"{subject}\" is safe".into(),
                body: "Thank you for reporting \"{subject}\" (from {sender}).\n\nThe security team reviewed it and found it safe: it was released and stays where it is.\n\n{link}\n".into(),
            },
            no_threats: Template {
                subject: "Your report: no threats found in \"{subject}\"".into(),
                body: "Thank you for reporting \"{subject}\" (from {sender}).\n\nOur investigation found no threats in it. If it still looks wrong to you, report it again or contact the security team.\n\n{link}\n".into(),
            },
        }
    }
}

impl Template {
    /// Fills in the placeholders. Values are mail text written by an attacker: control
    /// characters are dropped and each is cut short, so none can add a header or a page.
    pub(super) fn render(&self, values: &[(&str, &str)]) -> (String, String) {
        let fill = |text: &str| {
            let mut out = text.to_string();
            for (name, value) in values {
                let clean: String = value
                    .chars()
                    .filter(|c| !c.is_control())
                    .take(200)
                    .collect();
                out = out.replace(&format!("{{{name}}}"), &clean);
            }
            out
        };
        let subject: String = fill(&self.subject)
            .chars()
            .filter(|c| !c.is_control())
            .collect();
        (subject, fill(&self.body))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_values_cannot_add_a_header_or_run_long() {
        let template = Template {
            subject: "Report: {subject}".into(),
            body: "From {sender}".into(),
        };
        let long = "x".repeat(5000);
        let (subject, body) = template.render(&[
            ("subject", "Invoice\r\nBcc: everyone@example.test"),
            ("sender", &long),
        ]);
        assert_eq!(subject, "Report: InvoiceBcc: everyone@example.test");
        assert!(!subject.contains('\n'));
        assert_eq!(body.len(), "From ".len() + 200);
    }
}
