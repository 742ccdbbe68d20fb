//! The duplicate rule by copies (DESIGN.md rule 3): an approval claims every copy of its
//! cluster that no earlier approval of the same type still holds, and executes only those.
//! A batch of approvals claims in two statements whatever its size; within it, each copy goes
//! to the first approval that names it, as if they had come one after another.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::actions::state::Copies;
use crate::db::{self, query, Query, Tx};
use model::AppError;

/// One approval of a cluster.
#[derive(Debug, Clone, Copy)]
pub(super) struct Claim<'a> {
    pub action_id: &'a str,
    pub cluster_id: &'a str,
    pub action_type: &'a str,
}

/// How an approval's copies split: those it claims, and those earlier approvals still hold.
#[derive(Debug, Default)]
pub(super) struct Coverage {
    pub ours: i64,
    /// (action, copies), the earliest approval first.
    pub theirs: Vec<(String, i64)>,
}

impl Coverage {
    pub fn copies(&self) -> Copies {
        Copies {
            duplicate: self.theirs.iter().map(|(_, n)| n).sum(),
            new: self.ours,
        }
    }

    /// The approval this one duplicates (the earliest holder), if any.
    pub fn first_holder(&self) -> Option<&str> {
        self.theirs.first().map(|(holder, _)| holder.as_str())
    }
}

/// The copy key of a member: the store's handle on it, or its Message-ID while the index has
/// not matched it. A Maildir file's base name (never a `:`) names the copy in every folder, so
/// a copy an earlier action moved is still that copy; an IMAP `UIDVALIDITY:UID` names it in
/// its folder only. Never the content: a second wave may repeat the first one's bytes exactly,
/// and its copies are new ones all the same.
const COPY: &str = "CASE WHEN m.file IS NULL THEN 'message-id:' || m.internet_message_id
                         WHEN m.file LIKE '%:%' THEN m.folder || '/' || m.file
                         ELSE m.file END";

/// `WITH batch (pos, action_id, cluster_id, action_type) AS (VALUES …)`: the approvals as a
/// table, numbered in the order they came (padding rows name no cluster, so match nothing),
/// and `mine (pos, action_type, mailbox, copy)`: every copy of their clusters.
fn with_batch(claims: &[Claim<'_>]) -> Query {
    let mut sql = query("WITH batch (pos, action_id, cluster_id, action_type) AS (VALUES ");
    sql.push_rows(claims, |sql, claim| {
        let pos = claim.and_then(|(pos, _)| i64::try_from(pos).ok());
        sql.push_bind(pos.unwrap_or(-1)).push(", ");
        sql.push_bind(claim.map_or("", |(_, c)| c.action_id))
            .push(", ");
        sql.push_bind(claim.map_or("", |(_, c)| c.cluster_id))
            .push(", ");
        sql.push_bind(claim.map_or("", |(_, c)| c.action_type));
    });
    sql.push(&format!(
        "), mine AS (
            SELECT b.pos AS pos, b.action_id AS action_id, b.action_type AS action_type, m.id AS member,
                   m.mailbox AS mailbox, {COPY} AS copy
            FROM batch b JOIN cluster_messages m ON m.cluster_id = b.cluster_id)"
    ));
    sql
}

/// A column of the claim on a copy of `mine` (`action_id`: who holds it; `approved_at`:
/// since when): a lookup by the claims' key, written as a scalar subquery so that every engine
/// does it as one (a join lets a planner with stale statistics scan every claim ever made).
fn claim_on_copy(column: &str) -> String {
    format!(
        "(SELECT c.{column} FROM approved_copies c
          WHERE c.action_type = mine.action_type AND c.mailbox = mine.mailbox AND c.copy = mine.copy)"
    )
}

/// Claims, for each approval, every copy of its cluster that no earlier approval of the same
/// type holds — within the window, still effective (not changed or undone since), and not
/// failed or lost for that copy — and answers how each approval's copies split, in order. The
/// upsert takes each copy's row lock (the write lock, in SQLite), so approvals of overlapping
/// copies queue behind each other, across processes too.
pub(super) async fn claim_all(
    tx: &mut Tx<'_>,
    claims: &[Claim<'_>],
    window: Duration,
) -> Result<Vec<Coverage>, AppError> {
    if claims.is_empty() {
        return Ok(Vec::new());
    }
    let at = db::now();
    let since = chrono::Duration::from_std(window)
        .ok()
        .and_then(|window| at.checked_sub_signed(window))
        .unwrap_or(DateTime::<Utc>::MIN_UTC);
    // Each copy once, for the first approval in the batch that names it: one INSERT may not
    // touch a row twice, and the first would have won had they come one by one.
    let mut insert = with_batch(claims);
    insert.push(
        ", wanted AS (
            SELECT action_type, mailbox, copy, MIN(pos) AS pos FROM mine GROUP BY action_type, mailbox, copy)
         INSERT INTO approved_copies (action_type, mailbox, copy, action_id, approved_at)
         SELECT w.action_type, w.mailbox, w.copy, b.action_id, ",
    );
    insert.push_bind(at);
    insert.push(
        " FROM wanted w JOIN batch b ON b.pos = w.pos WHERE 1 = 1
         ON CONFLICT (action_type, mailbox, copy) DO UPDATE
            SET action_id = excluded.action_id, approved_at = excluded.approved_at
          WHERE approved_copies.approved_at < ",
    );
    insert.push_bind(since);
    insert.push(&format!(
        "
             OR NOT EXISTS (SELECT 1 FROM actions a WHERE a.id = approved_copies.action_id
                  AND a.status IN ('approved', 'in_progress', 'completed', 'partially_completed'))
             OR EXISTS (SELECT 1 FROM actions x WHERE x.changed_from = approved_copies.action_id
                  AND x.status IN ('approved', 'in_progress', 'completed', 'partially_completed'))
             OR EXISTS (SELECT 1 FROM action_results r JOIN cluster_messages m ON m.id = r.member
                  WHERE r.action_id = approved_copies.action_id AND r.result IN ('failed', 'not_found')
                    AND m.mailbox = approved_copies.mailbox AND {COPY} = approved_copies.copy)"
    ));
    insert.execute(&mut *tx).await?;

    let mut holders = with_batch(claims);
    holders.push(&format!(
        ", held AS (SELECT mine.pos AS pos, {} AS holder, {} AS since FROM mine)
         SELECT pos, holder, COUNT(*), MIN(since) FROM held WHERE holder IS NOT NULL
         GROUP BY pos, holder",
        claim_on_copy("action_id"),
        claim_on_copy("approved_at"),
    ));
    let rows: Vec<(i64, String, i64, DateTime<Utc>)> = holders.fetch_all(&mut *tx).await?;
    let mut coverages: Vec<Coverage> = claims.iter().map(|_| Coverage::default()).collect();
    let mut holders: Vec<Vec<Holder>> = claims.iter().map(|_| Vec::new()).collect();
    for (pos, action_id, copies, since) in rows {
        let pos = usize::try_from(pos).map_err(|_| AppError::Internal)?;
        let (Some(coverage), Some(others)) = (coverages.get_mut(pos), holders.get_mut(pos)) else {
            return Err(AppError::Internal);
        };
        if action_id == claims[pos].action_id {
            coverage.ours = copies;
        } else {
            others.push(Holder {
                since,
                in_batch: claims.iter().position(|c| c.action_id == action_id),
                action_id,
                copies,
            });
        }
    }
    for (coverage, mut others) in coverages.iter_mut().zip(holders) {
        others.sort();
        coverage.theirs = others
            .into_iter()
            .map(|h| (h.action_id, h.copies))
            .collect();
    }
    Ok(coverages)
}

/// An earlier approval that holds some of a claim's copies. Holders sort the earliest first,
/// and those approved in the same batch in the order they came (their time is the same).
#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct Holder {
    since: DateTime<Utc>,
    /// `None` (an approval before this batch) sorts first.
    in_batch: Option<usize>,
    action_id: String,
    copies: i64,
}

/// Marks, for approvals that execute, the copies an earlier approval holds, so execution
/// leaves them to it.
pub(super) async fn mark_duplicates(tx: &mut Tx<'_>, claims: &[Claim<'_>]) -> Result<(), AppError> {
    if claims.is_empty() {
        return Ok(());
    }
    let mut insert = with_batch(claims);
    insert.push(&format!(
        ", held AS (SELECT mine.action_id AS action_id, mine.member AS member, {} AS holder FROM mine)
         INSERT INTO action_results (action_id, member, mailbox, internet_message_id, result, location, detail, at)
         SELECT held.action_id, m.id, m.mailbox, m.internet_message_id, 'duplicate', m.location,
                'handled by action ' || held.holder, ",
        claim_on_copy("action_id"),
    ));
    insert.push_bind(db::now());
    insert.push(
        " FROM held JOIN cluster_messages m ON m.id = held.member
          WHERE held.holder <> held.action_id
          ON CONFLICT DO NOTHING",
    );
    insert.execute(&mut *tx).await?;
    Ok(())
}

/// Keeps the split on an action that is already approved (a claim made again by execution).
pub(super) async fn record_counts(
    tx: &mut Tx<'_>,
    action_id: &str,
    copies: Copies,
) -> Result<(), AppError> {
    query("UPDATE actions SET duplicate_copies = $2, new_copies = $3 WHERE id = $1")
        .bind(action_id)
        .bind(copies.duplicate)
        .bind(copies.new)
        .execute(&mut *tx)
        .await?;
    Ok(())
}
