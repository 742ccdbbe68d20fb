//! Server-side page time: the portal's pages as a browser gets them — signed in with a
//! session cookie, rendered on the server (data loaded, HTML streamed), read to the end —
//! timed through HTTP.

use std::time::{Duration, Instant};

use airdesk_core::db::{query, Db};

/// The incident whose page carries many evidence rows ([`gather_incident`]).
pub const BIG_INCIDENT: &str = "inc-0000000";

/// Moves the first `investigations` seeded investigations (their alerts and actions too) into
/// [`BIG_INCIDENT`], so its Evidence and Response tab lists every cluster of each.
pub async fn gather_incident(db: &Db, investigations: i64, per_investigation: i64) {
    let last = investigations - 1;
    let statements = [
        format!("UPDATE investigations SET incident_id = '{BIG_INCIDENT}' WHERE id <= 'inv-{last:07}'"),
        format!("UPDATE alerts SET incident_id = '{BIG_INCIDENT}' WHERE id <= 'alert-{last:07}'"),
        format!("UPDATE actions SET incident_id = '{BIG_INCIDENT}' WHERE investigation_id <= 'inv-{last:07}'"),
        format!(
            "UPDATE incidents SET alert_count = {investigations}, investigation_count = {investigations},
                    pending_action_count = {} WHERE id = '{BIG_INCIDENT}'",
            investigations * per_investigation
        ),
    ];
    for statement in statements {
        query(statement).execute(db).await.unwrap();
    }
}

/// A browser signed in as `name`: its cookie store holds the session.
pub async fn browser(base: &str, name: &str, password: &str) -> reqwest::Client {
    // A page that never finishes fails the bench with its address instead of hanging it: one
    // SSR answer of the Action center in a few hundred stopped mid-body in 3 of ~19 runs at
    // 300,000 actions (the server idle, the connection open, nothing more sent).
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let response = browser
        .post(format!("{base}/rpc/login"))
        .header("Origin", base)
        .form(&[("username", name), ("password", password), ("next", "/")])
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success() || response.status().is_redirection(),
        "sign-in: {}",
        response.status()
    );
    browser
}

/// Fetches `path` `n` times, each read to its last byte; checks every answer is a 200 that
/// contains `expect` at least `times` times (so a page that failed to load its data cannot
/// pass for a fast one). Answers the times and the page's size.
pub async fn time_page(
    browser: &reqwest::Client,
    base: &str,
    path: &str,
    n: usize,
    expect: &str,
    times: usize,
) -> (Vec<Duration>, usize) {
    let mut samples = Vec::with_capacity(n);
    let mut size = 0;
    for i in 0..n {
        let at = Instant::now();
        let response = match browser.get(format!("{base}{path}")).send().await {
            Ok(response) => response,
            Err(error) => stalled(base, path, i, "before its head", error).await,
        };
        assert_eq!(response.status(), 200, "{path}");
        let html = match response.text().await {
            Ok(html) => html,
            Err(error) => stalled(base, path, i, "mid-body", error).await,
        };
        samples.push(at.elapsed());
        let found = html.matches(expect).count();
        assert!(
            found >= times,
            "{path}: {expect:?} {found} times, wanted {times}"
        );
        size = html.len();
    }
    (samples, size)
}

/// Fails the bench on a page that stopped, saying where, and whether the server still
/// answers another request on a fresh connection (a wedged process, or one lost request).
async fn stalled(base: &str, path: &str, i: usize, at: &str, error: reqwest::Error) -> ! {
    let fresh = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let health = match fresh.get(format!("{base}/healthz")).send().await {
        Ok(response) => format!("/healthz then answered {}", response.status()),
        Err(error) => format!("/healthz then failed too: {error}"),
    };
    panic!("{path}: fetch {i} stopped {at}: {error}; {health}")
}

/// Calls the server function behind a page `n` times (what the page loads, without the
/// rendering): a POST of `body` as JSON, read to its last byte.
pub async fn time_data(
    browser: &reqwest::Client,
    base: &str,
    endpoint: &str,
    body: &serde_json::Value,
    n: usize,
) -> (Vec<Duration>, usize) {
    let mut samples = Vec::with_capacity(n);
    let mut size = 0;
    for _ in 0..n {
        let at = Instant::now();
        let response = browser
            .post(format!("{base}{endpoint}"))
            .header("Origin", base)
            .json(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{endpoint}");
        size = response.bytes().await.unwrap().len();
        samples.push(at.elapsed());
    }
    (samples, size)
}
