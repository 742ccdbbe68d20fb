//! Threat intelligence: indicators stored in the form the index holds (so a lookup is an
//! equality), and which ones a set of indexed messages matches.

use crate::audit::{self, Event};
use crate::db::{self, query, Db};
use crate::index::Selection;
use crate::new_id;
use mail::parse::normalise_url;
use model::{Actor, AppError, Indicator, IndicatorKind, Verdict};

/// A stored indicator: its id, normalised value and verdict, and whether storing it changed
/// anything (a new indicator, or a new verdict or expiry for a known one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub id: String,
    pub value: String,
    pub verdict: Verdict,
    pub changed: bool,
}

/// The value in the form the index holds, or why it is not one.
pub fn normalise(indicator: &Indicator) -> Result<(String, Verdict), AppError> {
    if !indicator.verdict.calls_for_action() {
        return Err(AppError::Invalid(
            "verdict must be malicious or suspicious".into(),
        ));
    }
    let value = indicator.value.trim();
    if value.is_empty() || value.chars().count() > 2048 {
        return Err(AppError::Invalid(
            "value must be 1 to 2048 characters".into(),
        ));
    }
    let normalised = match indicator.kind {
        IndicatorKind::Url => normalise_url(value),
        IndicatorKind::Domain
            if value.contains('.')
                && !value.contains(['/', '@'])
                && !value.contains(char::is_whitespace) =>
        {
            Some(value.to_ascii_lowercase())
        }
        IndicatorKind::Sender if value.contains('@') && !value.contains(char::is_whitespace) => {
            Some(value.to_ascii_lowercase())
        }
        IndicatorKind::AttachmentHash
            if value.len() == 64 && value.chars().all(|c| c.is_ascii_hexdigit()) =>
        {
            Some(value.to_ascii_lowercase())
        }
        _ => None,
    };
    let what = match indicator.kind {
        IndicatorKind::Url => "an http(s) URL",
        other => other.as_str(),
    };
    let value = normalised.ok_or_else(|| AppError::Invalid(format!("value is not {what}")))?;
    Ok((value, indicator.verdict))
}

/// Stores (or updates) an indicator; for the API and the indicators file read at start.
/// Adding it, or changing its verdict or expiry, is audited with the whole indicator before
/// and after; storing it again unchanged changes and records nothing.
#[tracing::instrument(skip(db, indicator), fields(kind = %indicator.kind))]
pub async fn store(db: &Db, indicator: &Indicator, by: &Actor) -> Result<Stored, AppError> {
    let (value, verdict) = normalise(indicator)?;
    let mut tx = db.write().await?;
    let before: Option<Row> = query(
        "SELECT id, kind, value, verdict, expires_at FROM indicators WHERE kind = $1 AND value = $2",
    )
    .bind(indicator.kind)
    .bind(&value)
    .fetch_optional(&mut tx)
    .await?;
    let changed: Option<String> = query(
        "INSERT INTO indicators (id, kind, value, verdict, expires_at, created_at, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (kind, value) DO UPDATE SET verdict = excluded.verdict, expires_at = excluded.expires_at
           WHERE indicators.verdict IS DISTINCT FROM excluded.verdict
              OR indicators.expires_at IS DISTINCT FROM excluded.expires_at
         RETURNING id",
    )
    .bind(new_id())
    .bind(indicator.kind)
    .bind(&value)
    .bind(verdict)
    .bind(indicator.expires_at)
    .bind(db::now())
    .bind(by.name())
    .optional_scalar(&mut tx)
    .await?;
    let id = match (&changed, &before) {
        (Some(id), _) | (None, Some(Row { id, .. })) => id.clone(),
        (None, None) => return Err(AppError::Internal),
    };
    if changed.is_some() {
        let after = serde_json::json!({
            "id": id, "kind": indicator.kind, "value": value, "verdict": verdict,
            "expires_at": indicator.expires_at,
        });
        let event = Event {
            actor: by,
            entity_kind: "indicator",
            entity_id: &id,
            event: if before.is_some() {
                "indicator_changed"
            } else {
                "indicator_added"
            },
            before: before.as_ref().map(Row::describe),
            after: Some(after),
        };
        audit::record(&mut tx, event);
    }
    tx.commit().await?;
    Ok(Stored {
        id,
        value,
        verdict,
        changed: changed.is_some(),
    })
}

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    kind: String,
    value: String,
    verdict: String,
    expires_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl Row {
    /// The whole indicator, as the audit trail keeps it.
    fn describe(&self) -> serde_json::Value {
        serde_json::json!({
            "id": self.id, "kind": self.kind, "value": self.value, "verdict": self.verdict,
            "expires_at": self.expires_at,
        })
    }
}

/// Every indicator, newest first (at most 10,000).
#[tracing::instrument(skip(db))]
pub async fn list(db: &Db) -> Result<Vec<Indicator>, AppError> {
    let rows: Vec<Row> = query(
        "SELECT id, kind, value, verdict, expires_at FROM indicators
         ORDER BY created_at DESC, id LIMIT 10000",
    )
    .fetch_all(db)
    .await?;
    rows.into_iter()
        .map(|r| {
            let bad = || {
                tracing::error!(
                    kind = r.kind,
                    verdict = r.verdict,
                    "unknown word in indicators"
                );
                AppError::Internal
            };
            Ok(Indicator {
                kind: IndicatorKind::parse(&r.kind).ok_or_else(bad)?,
                verdict: Verdict::parse(&r.verdict).ok_or_else(bad)?,
                id: r.id,
                value: r.value,
                expires_at: r.expires_at,
            })
        })
        .collect()
}

/// Removes an indicator (investigations it started stay); NotFound if there is none. The
/// whole indicator, and who removed it, stay in the audit trail.
#[tracing::instrument(skip(db))]
pub async fn delete(db: &Db, id: &str, by: &Actor) -> Result<(), AppError> {
    let mut tx = db.write().await?;
    let row: Option<Row> =
        query("SELECT id, kind, value, verdict, expires_at FROM indicators WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut tx)
            .await?;
    let row = row.ok_or_else(|| AppError::NotFound(format!("indicator {id:?}")))?;
    query("DELETE FROM indicators WHERE id = $1")
        .bind(id)
        .execute(&mut tx)
        .await?;
    let event = Event {
        actor: by,
        entity_kind: "indicator",
        entity_id: id,
        event: "indicator_deleted",
        before: Some(row.describe()),
        after: None,
    };
    audit::record(&mut tx, event);
    tx.commit().await?;
    Ok(())
}

/// The unexpired indicators a cluster's copies match: (kind, value, verdict). A `domain`
/// indicator matches a URL host (every host the index kept, also of links past its URL cap) or
/// a sender domain.
#[tracing::instrument(level = "debug", skip(db))]
pub async fn matching(
    db: &Db,
    selection: &Selection,
) -> Result<Vec<(String, String, Verdict)>, AppError> {
    // Each IN is over a subquery that does not depend on the indicator: computed once.
    let mut q = query(
        "SELECT i.kind, i.value, i.verdict FROM indicators i
         WHERE (i.expires_at IS NULL OR i.expires_at > ",
    );
    q.push_bind(db::now());
    q.push(") AND ((i.kind = 'url' AND i.value IN (SELECT u.url FROM message_urls u WHERE u.message IN (");
    selection.push_select(&mut q, "m.id");
    q.push("))) OR (i.kind = 'domain' AND (i.value IN (SELECT h.host FROM message_hosts h WHERE h.message IN (");
    selection.push_select(&mut q, "m.id");
    q.push(")) OR i.value IN (");
    selection.push_select(&mut q, "m.sender_domain");
    q.push("))) OR (i.kind = 'sender' AND i.value IN (");
    selection.push_select(&mut q, "m.sender");
    q.push(")) OR (i.kind = 'attachment_hash' AND i.value IN (SELECT a.sha256 FROM message_attachments a WHERE a.message IN (");
    selection.push_select(&mut q, "m.id");
    q.push("))))");
    let matched: Vec<(String, String, String)> = q.fetch_all(db).await?;
    Ok(matched
        .into_iter()
        .map(|(kind, value, verdict)| {
            let verdict = Verdict::parse(&verdict).unwrap_or(Verdict::Suspicious);
            (kind, value, verdict)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn indicator(kind: IndicatorKind, value: &str, verdict: Verdict) -> Indicator {
        Indicator {
            id: String::new(),
            kind,
            value: value.into(),
            verdict,
            expires_at: None,
        }
    }

    #[test]
    fn values_are_kept_as_the_index_holds_them() {
        let url = indicator(
            IndicatorKind::Url,
            " HTTP://Evil.TEST:80/Pay#x ",
            Verdict::Malicious,
        );
        assert_eq!(normalise(&url).unwrap().0, "http://evil.test/Pay");
        let sender = indicator(
            IndicatorKind::Sender,
            "Billing@Evil.test",
            Verdict::Suspicious,
        );
        assert_eq!(normalise(&sender).unwrap().0, "billing@evil.test");
    }

    #[test]
    fn malformed_values_and_clean_verdicts_are_refused() {
        for bad in [
            indicator(IndicatorKind::AttachmentHash, "xyz", Verdict::Malicious),
            indicator(IndicatorKind::Domain, "evil", Verdict::Malicious),
            indicator(
                IndicatorKind::Url,
                "javascript:alert(1)",
                Verdict::Malicious,
            ),
            indicator(IndicatorKind::Sender, "evil.test", Verdict::Malicious),
            indicator(IndicatorKind::Domain, "evil.test", Verdict::Clean),
        ] {
            assert!(
                matches!(normalise(&bad), Err(AppError::Invalid(_))),
                "{bad:?}"
            );
        }
    }
}
