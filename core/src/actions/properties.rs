//! Property tests of the decision rules on a real SQLite file: no sequence of approvals,
//! rejections, expiries, completions and changes reaches an illegal state, decides an action
//! twice, or executes one cluster twice within the window.

use std::collections::HashMap;

use proptest::prelude::*;
use serde_json::json;

use super::state::{self, Transition};
use super::{change, decide, decide_many, derive_status, expire, Decision, CHANGE_TARGETS};
use crate::db::{query, Db};
use crate::{audit, investigations, users, AppState, RulesConfig};
use model::{
    ActionStatus, ActionType, Actor, AppError, CurrentUser, InvestigationStatus, Role, SystemTask,
    Username,
};

#[derive(Debug, Clone)]
enum Op {
    Approve(usize),
    Reject(usize),
    /// The expiry task runs with a limit of zero: everything still pending expires.
    Expire,
    /// The execution worker finishes an approved action.
    Complete(usize),
    Change(usize, ActionType),
    /// One bulk decision on several actions (the same one may come twice): the decisions
    /// reach the writer together and are decided in one batch.
    Bulk(Vec<usize>, bool),
}

fn op() -> impl Strategy<Value = Op> {
    let change_to = prop::sample::select(CHANGE_TARGETS.to_vec());
    prop_oneof![
        4 => (0..4usize).prop_map(Op::Approve),
        2 => (0..4usize).prop_map(Op::Reject),
        1 => Just(Op::Expire),
        2 => (0..6usize).prop_map(Op::Complete),
        1 => ((0..6usize), change_to).prop_map(|(a, t)| Op::Change(a, t)),
        2 => (prop::collection::vec(0..4usize, 1..6), any::<bool>()).prop_map(|(a, approve)| Op::Bulk(a, approve)),
    ]
}

const DECISIONS: [&str; 4] = [
    "action_approved",
    "action_rejected",
    "action_deduplicated",
    "action_expired",
];

/// Which transitions of an action's status are legal.
fn legal(from: ActionStatus, to: ActionStatus) -> bool {
    use ActionStatus::*;
    from == to
        || matches!(
            (from, to),
            (Pending, Approved | Rejected | Duplicate | Expired)
                | (
                    Approved,
                    InProgress | Completed | PartiallyCompleted | Failed
                )
                | (InProgress, Completed | PartiallyCompleted | Failed)
        )
}

async fn setup() -> (tempfile::TempDir, AppState, CurrentUser) {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::connect(&format!("sqlite://{}/p.db", dir.path().display()))
        .await
        .unwrap();
    db.migrate().await.unwrap();
    let connector = mail::Connector::Maildir {
        root: dir.path().join("mail"),
        sieve_global: None,
    };
    let mail = mail::Backend::open(&connector, Default::default(), Default::default()).unwrap();
    let state = AppState::new(db, RulesConfig::default(), mail);
    let user = users::create(
        &state.db,
        &Actor::User("test".into()),
        &Username::parse("analyst").unwrap(),
        "a long passphrase",
        Role::SearchAndPurge,
    )
    .await
    .unwrap();
    // Two investigations of one campaign (same cluster) and a forwarding mailbox: four actions.
    for forwarding in [true, false] {
        let body = serde_json::from_value(json!({
            "title": "t", "investigation_type": "user_reported",
            "alert": {"title": "a", "severity": "high"},
            "clusters": [{"cluster_by": "url", "cluster_value": "http://evil.test/", "verdict": "malicious",
                          "messages": [{"mailbox": "a@example.test", "internet_message_id": "<m@evil.test>",
                                        "sender": "s@evil.test", "subject": "s", "received_at": "2026-11-20T09:00:00Z"}]}],
            "forwarding": if forwarding { json!([{"mailbox": "b@example.test", "forward_to": "b@elsewhere.test", "verdict": "suspicious"}]) } else { json!([]) }
        }))
        .unwrap();
        // Proposed by the playbook, so the person deciding below may approve them (separation
        // of duties keeps whoever ingested an action over the API from approving it).
        investigations::ingest(&state, &Actor::System(SystemTask::Playbook), &body)
            .await
            .unwrap();
    }
    (dir, state, user)
}

async fn action_ids(state: &AppState) -> Vec<String> {
    query("SELECT id FROM actions ORDER BY created_at, id")
        .scalars(&state.db)
        .await
        .unwrap()
}

async fn statuses(state: &AppState) -> HashMap<String, (ActionStatus, Option<String>)> {
    let rows: Vec<(String, String, Option<String>)> =
        query("SELECT id, status, decided_at FROM actions")
            .fetch_all(&state.db)
            .await
            .unwrap();
    rows.into_iter()
        .map(|(id, s, at)| (id, (ActionStatus::parse(&s).unwrap(), at)))
        .collect()
}

/// Pending actions this user already gave the first of two approvals (a change to Hard delete
/// counts its chooser's): the same person's second approval is refused, a rejection is not.
async fn approved_by(state: &AppState, user: &CurrentUser) -> Vec<String> {
    query("SELECT action_id FROM action_approvals WHERE username = $1")
        .bind(&user.username)
        .scalars(&state.db)
        .await
        .unwrap()
}

async fn apply(state: &AppState, user: &CurrentUser, op: &Op) {
    let ids = action_ids(state).await;
    let pick = |n: usize| ids[n % ids.len()].clone();
    let before = statuses(state).await;
    let approved = approved_by(state, user).await;
    // Whether this decision of this user may decide the action now.
    let open = |id: &String, approve: bool| {
        before[id].0 == ActionStatus::Pending && !(approve && approved.contains(id))
    };
    match op {
        Op::Approve(n) | Op::Reject(n) => {
            let id = pick(*n);
            let decision = if matches!(op, Op::Approve(_)) {
                Decision::Approve
            } else {
                Decision::Reject
            };
            let result = decide(state, user, &id, decision, None).await;
            let was_pending = open(&id, matches!(op, Op::Approve(_)));
            match result {
                Ok(action) => assert!(was_pending, "decided a non-pending action: {action:?}"),
                Err(AppError::Conflict(_)) => assert!(!was_pending, "refused a pending action"),
                Err(other) => panic!("unexpected error {other:?}"),
            }
        }
        Op::Expire => {
            let instant = AppState {
                rules: RulesConfig {
                    pending_expiry: std::time::Duration::ZERO,
                    ..state.rules.clone()
                },
                ..state.clone()
            };
            expire::expire_due(&instant).await.unwrap();
        }
        Op::Complete(n) => {
            let id = pick(*n);
            let mut tx = state.db.write().await.unwrap();
            let actor = Actor::System(SystemTask::Execution);
            for (from, to, event) in [
                (
                    ActionStatus::Approved,
                    ActionStatus::InProgress,
                    "action_started",
                ),
                (
                    ActionStatus::InProgress,
                    ActionStatus::Completed,
                    "action_completed",
                ),
            ] {
                let step = Transition {
                    action_id: &id,
                    from,
                    to,
                    actor: &actor,
                    event,
                    decision: None,
                    outcome: Some("done"),
                };
                state::transition(&mut tx, step).await.unwrap();
            }
            tx.commit().await.unwrap();
        }
        Op::Bulk(picks, approve) => {
            let ids: Vec<String> = picks.iter().map(|n| pick(*n)).collect();
            let decision = if *approve {
                Decision::Approve
            } else {
                Decision::Reject
            };
            let results = decide_many(state, user, &ids, decision, None).await;
            assert_eq!(results.len(), ids.len());
            for (i, (id, result)) in ids.iter().zip(&results).enumerate() {
                // Pending before, and the first to name it in the request: it decides it.
                let decides = open(id, *approve) && !ids[..i].contains(id);
                match result {
                    Ok(action) => assert!(decides, "decided {id} out of turn: {action:?}"),
                    Err(AppError::Conflict(_)) => assert!(!decides, "refused to decide {id}"),
                    Err(other) => panic!("unexpected error {other:?}"),
                }
            }
        }
        Op::Change(n, to) => {
            let id = pick(*n);
            let result = change(state, user, &id, *to).await;
            let completed = matches!(
                before[&id].0,
                ActionStatus::Completed | ActionStatus::PartiallyCompleted
            );
            if result.is_ok() {
                assert!(completed, "changed an action that had not completed");
            }
        }
    }
}

async fn check_invariants(
    state: &AppState,
    before: &HashMap<String, (ActionStatus, Option<String>)>,
) {
    let after = statuses(state).await;
    for (id, (status, decided_at)) in &after {
        if let Some((old, old_at)) = before.get(id) {
            assert!(legal(*old, *status), "{id}: {old:?} -> {status:?}");
            if old_at.is_some() {
                assert_eq!(old_at, decided_at, "{id}: decided twice");
            }
        }
    }
    // No action is decided twice in the audit trail.
    let counts: Vec<(String, i64)> = query(format!(
        "SELECT entity_id, COUNT(*) FROM audit_events WHERE event IN ({}) GROUP BY entity_id",
        DECISIONS
            .iter()
            .map(|d| format!("'{d}'"))
            .collect::<Vec<_>>()
            .join(", ")
    ))
    .fetch_all(&state.db)
    .await
    .unwrap();
    assert!(counts.iter().all(|(_, n)| *n == 1), "{counts:?}");
    // Within the window, one cluster's copies are executed once: one non-duplicate approval
    // at most still holds them. An approval since changed (its copies moved elsewhere, say
    // back to the Inbox) holds them no more, and a later approval rightly runs again.
    let executed: i64 = query(
        "SELECT COUNT(*) FROM actions a WHERE a.action_type = 'soft_delete_cluster' AND a.duplicate_of IS NULL
         AND a.status IN ('approved', 'in_progress', 'completed', 'partially_completed')
         AND NOT EXISTS (SELECT 1 FROM actions x WHERE x.changed_from = a.id
                AND x.status IN ('approved', 'in_progress', 'completed', 'partially_completed'))",
    )
    .scalar(&state.db)
    .await
    .unwrap();
    assert!(executed <= 1, "cluster executed {executed} times");
    // Every duplicate points at an approval of the same cluster and type.
    let orphans: i64 = query(
        "SELECT COUNT(*) FROM actions a LEFT JOIN actions d ON d.id = a.duplicate_of
         WHERE a.status = 'duplicate' AND (d.id IS NULL OR d.cluster_key <> a.cluster_key OR d.action_type <> a.action_type)",
    )
    .scalar(&state.db)
    .await
    .unwrap();
    assert_eq!(orphans, 0);
    // Each investigation's status is the one its actions imply.
    let investigations: Vec<(String, String)> = query("SELECT id, status FROM investigations")
        .fetch_all(&state.db)
        .await
        .unwrap();
    for (id, status) in investigations {
        let status = InvestigationStatus::parse(&status).unwrap();
        let actions: Vec<String> = query("SELECT status FROM actions WHERE investigation_id = $1")
            .bind(&id)
            .scalars(&state.db)
            .await
            .unwrap();
        let actions: Vec<ActionStatus> = actions
            .iter()
            .map(|s| ActionStatus::parse(s).unwrap())
            .collect();
        assert_eq!(
            derive_status(status, &actions),
            status,
            "investigation {id} out of step with {actions:?}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn no_sequence_of_operations_breaks_the_rules(ops in prop::collection::vec(op(), 1..24)) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let (_dir, state, user) = setup().await;
            for op in &ops {
                let before = statuses(&state).await;
                apply(&state, &user, op).await;
                check_invariants(&state, &before).await;
            }
            assert_eq!(audit::verify(&state.db).await.unwrap(), None, "audit chain intact");
        });
    }
}
