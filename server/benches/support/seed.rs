//! The actions bench's store: pending actions across investigations, written straight into
//! the database with SQL (not through the rules), on SQLite or PostgreSQL.

/// Actions (one per cluster) per investigation.
pub const PER_INVESTIGATION: i64 = 10;
/// Investigations of one campaign share a cluster key, so approvals meet duplicates.
const INVESTIGATIONS_PER_CAMPAIGN: i64 = 4;

/// Writes the rows with SQL (recursive CTEs): a million rows in seconds, through the real
/// schema and indexes, with timestamps in the stored format.
pub async fn seed(pool: &sqlx::SqlitePool, actions: i64) {
    let investigations = (actions / PER_INVESTIGATION).max(1);
    let mut tx = pool.begin().await.unwrap();
    let base =
        "strftime('%Y-%m-%dT%H:%M:%S', '2026-11-01', '+' || (i * 20) || ' seconds') || '.000000Z'";
    let statements = [
        format!(
            "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {investigations} - 1)
             INSERT INTO incidents (id, title, severity, status, investigation_state, alert_count, investigation_count,
                                    pending_action_count, first_activity_at, last_activity_at)
             SELECT printf('inc-%07d', i), 'Bench incident ' || i,
                    CASE i % 4 WHEN 0 THEN 'high' WHEN 1 THEN 'medium' WHEN 2 THEN 'low' ELSE 'informational' END,
                    'active', 'pending_action', 1, 1,
                    {PER_INVESTIGATION}, {base}, {base} FROM n"
        ),
        format!(
            "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {investigations} - 1)
             INSERT INTO alerts (id, incident_id, title, severity, created_at)
             SELECT printf('alert-%07d', i), printf('inc-%07d', i), 'Bench alert', 'high', {base} FROM n"
        ),
        format!(
            "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {investigations} - 1)
             INSERT INTO investigations (id, incident_id, alert_id, title, investigation_type, status, created_at, updated_at)
             SELECT printf('inv-%07d', i), printf('inc-%07d', i), printf('alert-%07d', i), 'Bench investigation ' || i,
                    'user_reported', 'pending_action', {base}, {base} FROM n"
        ),
        format!(
            "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {actions} - 1)
             INSERT INTO email_clusters (id, investigation_id, cluster_key, cluster_by, cluster_value, verdict, email_count)
             SELECT printf('cl-%08d', i), printf('inv-%07d', i / {PER_INVESTIGATION}),
                    printf('key-%07d-%02d', i / {PER_INVESTIGATION} / {INVESTIGATIONS_PER_CAMPAIGN}, i % {PER_INVESTIGATION}),
                    'url', printf('http://evil%d.test/%d', i / {PER_INVESTIGATION} / {INVESTIGATIONS_PER_CAMPAIGN}, i % {PER_INVESTIGATION}),
                    'malicious', 3 FROM n"
        ),
        // Three copies per cluster; the investigations of one campaign cluster the same copies,
        // so approvals meet duplicates (the rule is per copy).
        format!(
            "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {actions} * 3 - 1)
             INSERT INTO cluster_messages (cluster_id, mailbox, folder, file, content_sha256, size,
                                           internet_message_id, sender, subject, received_at, location)
             SELECT printf('cl-%08d', i / 3), printf('user%d@example.test', i % 3), 'INBOX',
                    printf('bench-%07d-%02d', i / 3 / {PER_INVESTIGATION} / {INVESTIGATIONS_PER_CAMPAIGN}, (i / 3) % {PER_INVESTIGATION}),
                    NULL, 100, printf('<m%d@evil.test>', i), 'billing@evil.test', 'Invoice overdue',
                    '2026-11-01T00:00:00.000000Z', 'inbox' FROM n"
        ),
        format!(
            "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {actions} - 1)
             INSERT INTO actions (id, investigation_id, incident_id, action_type, status, target_kind, cluster_id,
                                  cluster_key, source, created_at, updated_at)
             SELECT printf('act-%08d', i), printf('inv-%07d', i / {PER_INVESTIGATION}), printf('inc-%07d', i / {PER_INVESTIGATION}),
                    'soft_delete_cluster', 'pending', 'cluster', printf('cl-%08d', i),
                    printf('key-%07d-%02d', i / {PER_INVESTIGATION} / {INVESTIGATIONS_PER_CAMPAIGN}, i % {PER_INVESTIGATION}),
                    'automated',
                    strftime('%Y-%m-%dT%H:%M:%S', '2026-11-01', '+' || (i * 2) || ' seconds') || '.000000Z',
                    strftime('%Y-%m-%dT%H:%M:%S', '2026-11-01', '+' || (i * 2) || ' seconds') || '.000000Z' FROM n"
        ),
    ];
    for statement in statements {
        sqlx::query(&statement).execute(&mut *tx).await.unwrap();
    }
    tx.commit().await.unwrap();
    sqlx::query("ANALYZE").execute(pool).await.unwrap();
    // The seed's write-ahead log (gigabytes at 10M actions) is copied into the database now,
    // not during the floor's measurement: a floor taken under that checkpoint read 993
    // commits/s where it reads ~6,000 without it.
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(pool)
        .await
        .unwrap();
}

/// The same rows in PostgreSQL, with `generate_series`.
pub async fn seed_postgres(pool: &sqlx::PgPool, actions: i64) {
    let investigations = (actions / PER_INVESTIGATION).max(1);
    let (per, campaign) = (PER_INVESTIGATION, INVESTIGATIONS_PER_CAMPAIGN);
    let base = "timestamptz '2026-11-01 00:00:00+00' + i * interval '20 seconds'";
    let created = "timestamptz '2026-11-01 00:00:00+00' + i * interval '2 seconds'";
    let id = |prefix: &str, of: &str, width: u8| {
        format!("'{prefix}-' || lpad(({of})::text, {width}, '0')")
    };
    let (inc, alert, inv) = (id("inc", "i", 7), id("alert", "i", 7), id("inv", "i", 7));
    let key = format!(
        "'key-' || lpad((i / {per} / {campaign})::text, 7, '0') || '-' || lpad((i % {per})::text, 2, '0')"
    );
    let statements = [
        format!(
            "INSERT INTO incidents (id, title, severity, status, investigation_state, alert_count, investigation_count,
                                    pending_action_count, first_activity_at, last_activity_at)
             SELECT {inc}, 'Bench incident ' || i,
                    CASE i % 4 WHEN 0 THEN 'high' WHEN 1 THEN 'medium' WHEN 2 THEN 'low' ELSE 'informational' END,
                    'active', 'pending_action', 1, 1, {per}, {base}, {base}
             FROM generate_series(0, {investigations} - 1) AS i"
        ),
        format!(
            "INSERT INTO alerts (id, incident_id, title, severity, created_at)
             SELECT {alert}, {inc}, 'Bench alert', 'high', {base}
             FROM generate_series(0, {investigations} - 1) AS i"
        ),
        format!(
            "INSERT INTO investigations (id, incident_id, alert_id, title, investigation_type, status, created_at, updated_at)
             SELECT {inv}, {inc}, {alert}, 'Bench investigation ' || i, 'user_reported', 'pending_action', {base}, {base}
             FROM generate_series(0, {investigations} - 1) AS i"
        ),
        format!(
            "INSERT INTO email_clusters (id, investigation_id, cluster_key, cluster_by, cluster_value, verdict, email_count)
             SELECT {}, {}, {key}, 'url', 'http://evil' || (i / {per} / {campaign}) || '.test/' || (i % {per}), 'malicious', 3
             FROM generate_series(0, {actions} - 1) AS i",
            id("cl", "i", 8),
            id("inv", &format!("i / {per}"), 7)
        ),
        format!(
            "INSERT INTO cluster_messages (cluster_id, mailbox, folder, file, content_sha256, size,
                                           internet_message_id, sender, subject, received_at, location)
             SELECT {}, 'user' || (i % 3) || '@example.test', 'INBOX',
                    'bench-' || lpad((i / 3 / {per} / {campaign})::text, 7, '0') || '-' || lpad(((i / 3) % {per})::text, 2, '0'),
                    NULL, 100, '<m' || i || '@evil.test>', 'billing@evil.test', 'Invoice overdue',
                    timestamptz '2026-11-01 00:00:00+00', 'inbox'
             FROM generate_series(0, {actions} * 3 - 1) AS i",
            id("cl", "i / 3", 8)
        ),
        format!(
            "INSERT INTO actions (id, investigation_id, incident_id, action_type, status, target_kind, cluster_id,
                                  cluster_key, source, created_at, updated_at)
             SELECT {}, {}, {}, 'soft_delete_cluster', 'pending', 'cluster', {}, {key}, 'automated', {created}, {created}
             FROM generate_series(0, {actions} - 1) AS i",
            id("act", "i", 8),
            id("inv", &format!("i / {per}"), 7),
            id("inc", &format!("i / {per}"), 7),
            id("cl", "i", 8)
        ),
    ];
    let mut tx = pool.begin().await.unwrap();
    for statement in statements {
        sqlx::query(&statement).execute(&mut *tx).await.unwrap();
    }
    tx.commit().await.unwrap();
    sqlx::query("ANALYZE").execute(pool).await.unwrap();
}
