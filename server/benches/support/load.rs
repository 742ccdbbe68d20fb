//! Load for the actions bench: approvals from many clients at once.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Approves from the queue with `clients` clients spread over these instances for 5 s; says
/// how many and how fast, and answers the rate.
pub async fn concurrently(
    client: &reqwest::Client,
    token: &str,
    bases: &[String],
    queue: &Arc<std::sync::Mutex<Vec<String>>>,
    clients: usize,
) -> (String, f64) {
    let done = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..clients)
        .map(|n| {
            let (queue, done, client) = (queue.clone(), done.clone(), client.clone());
            let (token, base) = (token.to_string(), bases[n % bases.len()].clone());
            tokio::spawn(async move {
                while started.elapsed() < Duration::from_secs(5) {
                    let Some(id) = queue.lock().unwrap().pop() else {
                        break;
                    };
                    approve(&client, &base, &token, &id).await;
                    done.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await.unwrap();
    }
    let elapsed = started.elapsed();
    let count = done.load(Ordering::Relaxed);
    let rate = count as f64 / elapsed.as_secs_f64();
    (
        format!("{count} approvals in {elapsed:.1?} = {rate:.0} approvals/s"),
        rate,
    )
}

/// Approves one action and answers it, read whole as a client reads it: an answer left unread
/// closes its connection, and every approval would pay for a new one.
pub async fn approve(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    id: &str,
) -> serde_json::Value {
    let response = client
        .post(format!("{base}/api/v1/actions/{id}/approve"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}
