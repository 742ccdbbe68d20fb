//! The floor a benchmark's write rate is compared with, measured in the same run on the same
//! database: how many minimal transactions of a given number of rows the engine commits per
//! second, with airdesk's own settings (SQLite: WAL, synchronous NORMAL, one writer;
//! PostgreSQL: the server as started, fsync on).

use std::str::FromStr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sqlx::{Connection, Executor};

/// Commits per second of `rows`-row INSERT transactions from `writers` connections for
/// `length`. A scratch table is made and dropped again.
pub async fn commit_rate(url: &str, rows: usize, writers: usize, length: Duration) -> f64 {
    let values = (0..rows)
        .map(|i| format!("({i}, 'floor')"))
        .collect::<Vec<_>>()
        .join(", ");
    let insert = format!("INSERT INTO bench_floor (n, v) VALUES {values}");
    let done = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    if url.starts_with("sqlite:") {
        let options = SqliteConnectOptions::from_str(url)
            .unwrap()
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10));
        let mut conn = sqlx::SqliteConnection::connect_with(&options)
            .await
            .unwrap();
        conn.execute("CREATE TABLE bench_floor (n INTEGER, v TEXT)")
            .await
            .unwrap();
        // SQLite has one writer at a time, and airdesk writes through one connection.
        while started.elapsed() < length {
            conn.execute("BEGIN IMMEDIATE").await.unwrap();
            conn.execute(insert.as_str()).await.unwrap();
            conn.execute("COMMIT").await.unwrap();
            done.fetch_add(1, Ordering::Relaxed);
        }
        conn.execute("DROP TABLE bench_floor").await.unwrap();
    } else {
        let mut admin = sqlx::PgConnection::connect(url).await.unwrap();
        admin
            .execute("CREATE TABLE bench_floor (n bigint, v text)")
            .await
            .unwrap();
        let tasks: Vec<_> = (0..writers)
            .map(|_| {
                let (url, insert, done) = (url.to_string(), insert.clone(), done.clone());
                tokio::spawn(async move {
                    let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
                    while started.elapsed() < length {
                        let mut tx = conn.begin().await.unwrap();
                        tx.execute(insert.as_str()).await.unwrap();
                        tx.commit().await.unwrap();
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        admin.execute("DROP TABLE bench_floor").await.unwrap();
    }
    done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64()
}
