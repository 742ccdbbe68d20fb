//! The database: migrations, SQLite settings, and the audit trail's guarantees.

use airdesk_core::audit;
use airdesk_core::db::query;
use model::Role;

use crate::helpers::{api_md_example, spawn_app};

#[tokio::test]
async fn migrations_create_every_table_and_sqlite_runs_in_wal_with_foreign_keys() {
    let app = spawn_app().await;
    let tables = if app.db.is_postgres() {
        "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema IN ('public', 'tower_sessions') AND table_name = $1"
    } else {
        "SELECT COUNT(*) FROM sqlite_master WHERE name = $1"
    };
    let sessions = if app.db.is_postgres() {
        "session"
    } else {
        "tower_sessions"
    };
    for table in [
        "users",
        "api_tokens",
        sessions,
        "incidents",
        "alerts",
        "investigations",
        "evidence",
        "email_clusters",
        "cluster_messages",
        "mailbox_forwarding",
        "investigation_log",
        "actions",
        "action_results",
        "audit_events",
        "idempotency_keys",
        "approved_copies",
        "messages",
        "jobs",
    ] {
        let found: i64 = query(tables).bind(table).scalar(&app.db).await.unwrap();
        assert_eq!(found, 1, "table {table}");
    }
    assert!(app.db.is_migrated().await.unwrap());
    let Some(pool) = app.db.sqlite_pool() else {
        return; // the rest is about SQLite's own settings
    };
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(mode, "wal");
    let fk: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(fk, 1);
    assert!(app.dir.path().join("airdesk.db").exists());
}

#[tokio::test]
async fn commits_leave_checkpoints_to_the_background_task() {
    let app = spawn_app().await;
    let Some(pool) = app.db.sqlite_pool() else {
        return; // SQLite's WAL only
    };
    let autocheckpoint: i64 = sqlx::query_scalar("PRAGMA wal_autocheckpoint")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(autocheckpoint, 0, "commits must not checkpoint");
    // Committed pages live in the WAL until a checkpoint copies them into the database file,
    // so the file changing after a write shows the server's own checkpointer at work.
    let file = app.dir.path().join("airdesk.db");
    tokio::time::sleep(airdesk_core::db::CHECKPOINT_INTERVAL * 2).await;
    let before = std::fs::read(&file).unwrap();
    let token = app.token("analyst", Role::SearchAndPurge).await;
    assert_eq!(app.ingest(&token, &api_md_example()).await.status(), 201);
    let deadline = std::time::Instant::now() + airdesk_core::db::CHECKPOINT_INTERVAL * 5;
    while std::fs::read(&file).unwrap() == before {
        assert!(
            std::time::Instant::now() < deadline,
            "the database file never received the committed pages"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn the_audit_trail_refuses_updates_and_deletes() {
    let app = spawn_app().await;
    let token = app.token("analyst", Role::SearchAndPurge).await;
    app.ingest(&token, &api_md_example()).await;
    let update = query("UPDATE audit_events SET actor = 'mallory'")
        .execute(&app.db)
        .await;
    assert!(update.unwrap_err().to_string().contains("append-only"));
    let delete = query("DELETE FROM audit_events").execute(&app.db).await;
    assert!(delete.unwrap_err().to_string().contains("append-only"));
}

#[tokio::test]
async fn the_audit_chain_verifies_and_names_the_first_tampered_event() {
    let app = spawn_app().await;
    let token = app.token("analyst", Role::SearchAndPurge).await;
    app.ingest(&token, &api_md_example()).await;
    assert_eq!(audit::verify(&app.db).await.unwrap(), None);

    // Someone with file access drops the trigger and rewrites history.
    let drop = if app.db.is_postgres() {
        "DROP TRIGGER audit_events_no_update ON audit_events"
    } else {
        "DROP TRIGGER audit_events_no_update"
    };
    query(drop).execute(&app.db).await.unwrap();
    let victim: i64 =
        query("SELECT seq FROM audit_events WHERE event = 'action_proposed' ORDER BY seq LIMIT 1")
            .scalar(&app.db)
            .await
            .unwrap();
    query("UPDATE audit_events SET actor = 'mallory' WHERE seq = $1")
        .bind(victim)
        .execute(&app.db)
        .await
        .unwrap();

    let broken = audit::verify(&app.db)
        .await
        .unwrap()
        .expect("tampering is found");
    assert_eq!(broken.seq, victim);
}

#[tokio::test]
async fn every_event_links_to_the_one_before() {
    let app = spawn_app().await;
    let token = app.token("analyst", Role::SearchAndPurge).await;
    app.ingest(&token, &api_md_example()).await;
    let page: serde_json::Value = app
        .get("/api/v1/audit?limit=500", &token)
        .await
        .json()
        .await
        .unwrap();
    let events = page["items"].as_array().unwrap();
    assert!(
        events.len() >= 5,
        "user, token, investigation and actions are audited"
    );
    assert_eq!(events[0]["prev_hash"], audit::GENESIS);
    for pair in events.windows(2) {
        assert_eq!(pair[1]["prev_hash"], pair[0]["hash"]);
    }
}

/// On PostgreSQL every write transaction holds the one write lock until it ends, and a writer
/// of another instance (another pool on the same database) waits for it: what makes the
/// read-then-write rules hold across instances.
#[tokio::test]
async fn a_write_transaction_holds_the_database_write_lock_until_it_ends() {
    use sqlx::Connection;
    let app = spawn_app().await;
    if !app.db.is_postgres() {
        return; // SQLite's own write lock is taken at BEGIN IMMEDIATE
    }
    let url = crate::helpers::database_url(app.dir.path());
    let mut watcher = sqlx::PgConnection::connect(&url).await.unwrap();
    let first = app.db.write().await.unwrap();
    // Advisory locks are per database; the server's own background writers take this one
    // too, so it is only counted while the test holds it.
    let held: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND granted
           AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
    )
    .fetch_one(&mut watcher)
    .await
    .unwrap();
    assert_eq!(held, 1, "the write lock is held");
    let other_instance = airdesk_core::db::Db::connect(&url).await.unwrap();
    let second = tokio::spawn(async move { other_instance.write().await.map(|_| ()) });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(
        !second.is_finished(),
        "another instance's writer must wait for the first"
    );
    drop(first);
    tokio::time::timeout(std::time::Duration::from_secs(5), second)
        .await
        .expect("the second writer goes on once the first ends")
        .unwrap()
        .unwrap();
}
