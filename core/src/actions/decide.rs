//! Approve and reject (DESIGN.md rules 1, 2, 3 and 5): the one implementation behind the
//! portal's server functions and the REST API. Each decision is atomic — its own savepoint in
//! a write transaction — and checks the role and the current status, applies the duplicate
//! rule, and makes the transition through `actions::state`; decisions that arrive together
//! commit together ([`queue`]).

mod queue;

use std::time::Duration;

use tokio::sync::oneshot;

use super::read;
use super::state::{self, DecisionFields, Transition};
use crate::db::{self, query, Tx};
use crate::AppState;
use model::{Action, ActionStatus, Actor, AppError, CurrentUser};

pub(crate) use queue::Queue;
use queue::Request;

/// What a person decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Approve,
    Reject,
}

/// Longest comment kept with a decision.
pub const MAX_COMMENT: usize = 2_000;

/// Approves or rejects one pending action. A decision on anything but Pending is a conflict
/// that names who decided it and when.
#[tracing::instrument(skip(state, user, comment), fields(user = %user.username))]
pub async fn decide(
    state: &AppState,
    user: &CurrentUser,
    action_id: &str,
    decision: Decision,
    comment: Option<&str>,
) -> Result<Action, AppError> {
    decide_many(state, user, &[action_id.to_string()], decision, comment)
        .await
        .pop()
        .unwrap_or(Err(AppError::Internal))
}

/// Approves or rejects several actions (a bulk decision): one result per id, in order. Each
/// decision stands alone — one that fails leaves the others decided.
#[tracing::instrument(skip_all, fields(user = %user.username, actions = action_ids.len(), ?decision))]
pub async fn decide_many(
    state: &AppState,
    user: &CurrentUser,
    action_ids: &[String],
    decision: Decision,
    comment: Option<&str>,
) -> Vec<Result<Action, AppError>> {
    let every = |error: AppError| action_ids.iter().map(|_| Err(error.clone())).collect();
    if !user.role.can_decide() {
        return every(AppError::Forbidden("Search and purge".into()));
    }
    let comment = comment.map(str::trim).filter(|c| !c.is_empty());
    if comment.is_some_and(|c| c.chars().count() > MAX_COMMENT) {
        return every(AppError::Invalid(format!(
            "a comment is at most {MAX_COMMENT} characters"
        )));
    }
    let mut replies = Vec::with_capacity(action_ids.len());
    for action_id in action_ids {
        let (reply, answer) = oneshot::channel();
        let request = Request {
            actor: Actor::from(user),
            action_id: action_id.clone(),
            decision,
            comment: comment.map(str::to_string),
            reply,
        };
        let sent = state.decisions.submit(state, request).await;
        replies.push(sent.ok().map(|()| answer));
    }
    let mut results = Vec::with_capacity(replies.len());
    for answer in replies {
        results.push(match answer {
            Some(answer) => answer.await.unwrap_or(Err(AppError::Internal)),
            None => Err(AppError::Internal),
        });
    }
    results
}

#[derive(sqlx::FromRow)]
struct Current {
    status: String,
    action_type: String,
    cluster_id: Option<String>,
    decided_by: Option<String>,
    decided_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// One decision inside the batch's transaction: checks the current status, applies the
/// duplicate rule, and makes the transition.
async fn decide_in(
    tx: &mut Tx<'_>,
    dedup_window: Duration,
    request: &Request,
) -> Result<Action, AppError> {
    let Request {
        actor,
        action_id,
        decision,
        comment,
        ..
    } = request;
    let current: Current = query(
        "SELECT status, action_type, cluster_id, decided_by, decided_at FROM actions WHERE id = $1",
    )
    .bind(action_id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| AppError::NotFound(format!("action {action_id:?}")))?;
    if current.status != ActionStatus::Pending.as_str() {
        return Err(already_decided(&current));
    }
    let coverage = match (decision, &current.cluster_id) {
        (Decision::Approve, Some(cluster)) => {
            claim_copies(tx, action_id, cluster, &current.action_type, dedup_window).await?
        }
        _ => Coverage::default(),
    };
    let to = match decision {
        Decision::Reject => ActionStatus::Rejected,
        Decision::Approve if coverage.ours == 0 && !coverage.theirs.is_empty() => {
            ActionStatus::Duplicate
        }
        Decision::Approve => ActionStatus::Approved,
    };
    let duplicate_of = coverage.theirs.first().map(|(first, _)| first.clone());
    let event = match to {
        ActionStatus::Approved => "action_approved",
        ActionStatus::Duplicate => "action_deduplicated",
        _ => "action_rejected",
    };
    let moved = state::transition(
        tx,
        Transition {
            action_id,
            from: ActionStatus::Pending,
            to,
            actor,
            event,
            decision: Some(DecisionFields {
                comment: comment.as_deref(),
                duplicate_of: duplicate_of.as_deref(),
            }),
            outcome: None,
        },
    )
    .await?;
    if !moved {
        // Unreachable while the write lock is held; kept so a change there cannot decide twice.
        return Err(AppError::Conflict(
            "the action was decided meanwhile".into(),
        ));
    }
    if let Some(cluster) = &current.cluster_id {
        if *decision == Decision::Approve {
            coverage.record(tx, action_id, cluster, to).await?;
        }
    }
    read::load(&mut *tx, std::slice::from_ref(action_id))
        .await?
        .pop()
        .ok_or(AppError::Internal)
}

/// The 409 for a decision on an action someone already decided. It names that decision — who,
/// when, approve or reject — not the status now, which moves on as execution runs: every
/// loser of a race is told the same thing, on whichever instance it asked.
fn already_decided(current: &Current) -> AppError {
    let status = ActionStatus::parse(&current.status);
    match (&current.decided_by, &current.decided_at) {
        (Some(who), Some(when)) => {
            let decision = match status {
                Some(ActionStatus::Rejected) => "rejected",
                _ => "approved",
            };
            AppError::Conflict(format!(
                "the action is not pending: {decision} by {who} at {}",
                when.format("%Y-%m-%dT%H:%M:%S%.6fZ")
            ))
        }
        _ => AppError::Conflict(format!(
            "the action is not pending: {}",
            status.map(|s| s.label()).unwrap_or("decided")
        )),
    }
}

/// After execution matched copies named from outside to the index, claims again by handle:
/// an approval that named a copy before the index held it claimed it by Message-ID, and
/// another may have claimed the same copy by its handle meanwhile. Whichever holds the
/// handle carries the copy out; here the other records it as that one's duplicate, so each
/// copy is acted on once however the approvals named it, on any instance.
pub(crate) async fn reclaim(
    db: &crate::db::Db,
    action_id: &str,
    cluster_id: &str,
    action_type: model::ActionType,
    window: Duration,
) -> Result<(), AppError> {
    let mut tx = db.write().await?;
    let coverage =
        claim_copies(&mut tx, action_id, cluster_id, action_type.as_str(), window).await?;
    coverage
        .record(&mut tx, action_id, cluster_id, ActionStatus::Approved)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// How an approval's copies split: those it claims, and those earlier approvals still hold.
#[derive(Debug, Default)]
struct Coverage {
    ours: i64,
    /// (action, copies), the earliest approval first.
    theirs: Vec<(String, i64)>,
}

/// The copy key of a member: the store's handle on it, or its Message-ID while the index has
/// not matched it. A Maildir file's base name (never a `:`) names the copy in every folder, so
/// a copy an earlier action moved is still that copy; an IMAP `UIDVALIDITY:UID` names it in
/// its folder only. Never the content: a second wave may repeat the first one's bytes exactly,
/// and its copies are new ones all the same.
const COPY: &str = "CASE WHEN m.file IS NULL THEN 'message-id:' || m.internet_message_id
                         WHEN m.file LIKE '%:%' THEN m.folder || '/' || m.file
                         ELSE m.file END";

/// Claims, for this approval, every copy of the cluster that no earlier approval of the same
/// type holds — within the window, still effective (not changed or undone since), and not
/// failed or lost for that copy (DESIGN.md rule 3, by copies). The upsert takes each copy's row lock (the write lock, in
/// SQLite), so approvals of overlapping copies queue behind each other, across processes too.
async fn claim_copies(
    tx: &mut Tx<'_>,
    action_id: &str,
    cluster_id: &str,
    action_type: &str,
    window: Duration,
) -> Result<Coverage, AppError> {
    let at = db::now();
    let since = chrono::Duration::from_std(window)
        .ok()
        .and_then(|window| at.checked_sub_signed(window))
        .unwrap_or(chrono::DateTime::<chrono::Utc>::MIN_UTC);
    query(format!(
        "INSERT INTO approved_copies (action_type, mailbox, copy, action_id, approved_at)
         SELECT DISTINCT $1, m.mailbox, {COPY}, $2, $3 FROM cluster_messages m WHERE m.cluster_id = $4
         ON CONFLICT (action_type, mailbox, copy) DO UPDATE
            SET action_id = excluded.action_id, approved_at = excluded.approved_at
          WHERE approved_copies.approved_at < $5
             OR NOT EXISTS (SELECT 1 FROM actions a WHERE a.id = approved_copies.action_id
                  AND a.status IN ('approved', 'in_progress', 'completed', 'partially_completed'))
             OR EXISTS (SELECT 1 FROM actions x WHERE x.changed_from = approved_copies.action_id
                  AND x.status IN ('approved', 'in_progress', 'completed', 'partially_completed'))
             OR EXISTS (SELECT 1 FROM action_results r JOIN cluster_messages m ON m.id = r.member
                  WHERE r.action_id = approved_copies.action_id AND r.result IN ('failed', 'not_found')
                    AND m.mailbox = approved_copies.mailbox AND {COPY} = approved_copies.copy)"
    ))
    .bind(action_type)
    .bind(action_id)
    .bind(at)
    .bind(cluster_id)
    .bind(since)
    .execute(&mut *tx)
    .await?;
    let holders: Vec<(String, i64, chrono::DateTime<chrono::Utc>)> = query(format!(
        "SELECT c.action_id, COUNT(*), MIN(c.approved_at) FROM cluster_messages m
         JOIN approved_copies c ON c.action_type = $1 AND c.mailbox = m.mailbox AND c.copy = {COPY}
         WHERE m.cluster_id = $2 GROUP BY c.action_id ORDER BY MIN(c.approved_at), c.action_id"
    ))
    .bind(action_type)
    .bind(cluster_id)
    .fetch_all(&mut *tx)
    .await?;
    let mut coverage = Coverage::default();
    for (holder, copies, _) in holders {
        if holder == action_id {
            coverage.ours = copies;
        } else {
            coverage.theirs.push((holder, copies));
        }
    }
    Ok(coverage)
}

impl Coverage {
    /// Keeps the split on the action, and — when it executes at all — marks the copies an
    /// earlier approval holds, so execution leaves them to it.
    async fn record(
        &self,
        tx: &mut Tx<'_>,
        action_id: &str,
        cluster_id: &str,
        status: ActionStatus,
    ) -> Result<(), AppError> {
        let theirs: i64 = self.theirs.iter().map(|(_, n)| n).sum();
        query("UPDATE actions SET duplicate_copies = $2, new_copies = $3 WHERE id = $1")
            .bind(action_id)
            .bind(theirs)
            .bind(self.ours)
            .execute(&mut *tx)
            .await?;
        if status != ActionStatus::Approved || theirs == 0 {
            return Ok(());
        }
        query(format!(
            "INSERT INTO action_results (action_id, member, mailbox, internet_message_id, result, location, detail, at)
             SELECT $1, m.id, m.mailbox, m.internet_message_id, 'duplicate', m.location,
                    'handled by action ' || c.action_id, $2
             FROM cluster_messages m
             JOIN approved_copies c ON c.action_type = (SELECT action_type FROM actions WHERE id = $1)
                  AND c.mailbox = m.mailbox AND c.copy = {COPY}
             WHERE m.cluster_id = $3 AND c.action_id <> $1
             ON CONFLICT DO NOTHING"
        ))
        .bind(action_id)
        .bind(db::now())
        .bind(cluster_id)
        .execute(&mut *tx)
        .await?;
        Ok(())
    }
}
