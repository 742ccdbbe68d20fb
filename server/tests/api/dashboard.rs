//! The Dashboard's figures from a real database: what waits, the wait before decisions, the
//! day's outcomes and remediation time, the largest campaigns.

use model::Role;

use crate::helpers::spawn_app;

#[tokio::test]
async fn the_dashboard_counts_what_waits_what_was_decided_and_the_largest_clusters() {
    let app = spawn_app().await;
    let token = app.token("analyst", Role::SearchAndPurge).await;
    let empty = airdesk_core::dashboard::dashboard(&app.db).await.unwrap();
    assert_eq!(empty.pending_now, 0);
    assert_eq!(empty.oldest_pending_at, None);
    assert_eq!(empty.days.len(), model::Dashboard::DAYS);
    assert!(empty.top_clusters.is_empty());

    app.deliver("alice@example.test", "<c1-1@evil.test>", "INBOX");
    let ids = app.same_cluster_actions(&token, 3).await;
    app.decide(&token, &ids[0], "approve", None).await;
    app.settled(&token, &ids[0]).await;
    app.decide(&token, &ids[1], "reject", None).await;

    let figures = airdesk_core::dashboard::dashboard(&app.db).await.unwrap();
    assert_eq!(figures.pending_now, 1);
    assert!(figures.oldest_pending_at.is_some());
    assert_eq!(figures.wait_7d.decided, 2);
    assert_eq!(figures.wait_30d.decided, 2);
    assert!(figures.wait_7d.median_secs.is_some_and(|s| s >= 0));
    let today = figures.days.last().unwrap();
    assert_eq!(today.day, chrono::Utc::now().date_naive().to_string());
    assert_eq!((today.approved, today.rejected), (1, 1), "{today:?}");
    assert_eq!(today.remediated, 1);
    assert!(today.mttr_median_secs.is_some());
    assert_eq!(
        figures.top_clusters.len(),
        1,
        "one campaign, however many investigations"
    );
    assert_eq!(
        figures.top_clusters[0].cluster_value,
        "http://invoice.evil.test/pay"
    );
}
