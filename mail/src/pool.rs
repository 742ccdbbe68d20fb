//! A bounded pool of connections, each logged in as one mailbox: work on a mailbox reuses an
//! idle connection of that mailbox, opens a new one while the pool has room, and otherwise
//! closes an idle connection of another mailbox or waits (up to a timeout). The IMAP
//! connector keeps one for execution and one for the index, ManageSieve one for execution and
//! one for investigations, so reading can never take the connections execution needs. Idle
//! connections are closed once they have waited their pool's idle limit, by a reaper of the
//! pool's own: a session left open is not harmless everywhere (Cyrus' ManageSieve holds the
//! mailbox's Sieve folder locked for as long as a session lasts, and JMAP waits on it).

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::StoreError;

/// How long an idle pooled connection is kept by default.
const MAX_IDLE: Duration = Duration::from_secs(60);

/// The pool. Clones share it.
pub(crate) struct Pool<C> {
    /// What the connections are to, for errors: "IMAP", "ManageSieve".
    what: &'static str,
    permits: Arc<Semaphore>,
    idle: Arc<Mutex<Vec<Lease<C>>>>,
    timeout: Duration,
    /// An idle connection is closed once it has waited this long.
    max_idle: Duration,
    /// Whether the reaper that closes idle connections runs.
    reaping: Arc<std::sync::atomic::AtomicBool>,
}

impl<C> Clone for Pool<C> {
    fn clone(&self) -> Self {
        Pool {
            what: self.what,
            permits: self.permits.clone(),
            idle: self.idle.clone(),
            timeout: self.timeout,
            max_idle: self.max_idle,
            reaping: self.reaping.clone(),
        }
    }
}

/// A connection taken from the pool, holding its place in it until dropped or given back.
pub(crate) struct Lease<C> {
    mailbox: String,
    pub(crate) conn: C,
    since: Instant,
    /// Whether the connection was idle in the pool (the server may have closed it since).
    reused: bool,
    _permit: OwnedSemaphorePermit,
}

impl<C> Lease<C> {
    /// Whether the connection had been used before and waited in the pool.
    pub(crate) fn reused(&self) -> bool {
        self.reused
    }
}

impl<C: Send + 'static> Pool<C> {
    /// A pool of at most `size` connections (at least one); `timeout` bounds the wait for room.
    pub(crate) fn new(what: &'static str, size: usize, timeout: Duration) -> Self {
        Pool {
            what,
            permits: Arc::new(Semaphore::new(size.max(1))),
            idle: Arc::new(Mutex::new(Vec::new())),
            timeout,
            max_idle: MAX_IDLE,
            reaping: Default::default(),
        }
    }

    /// The same pool, closing connections that have been idle for `max_idle`.
    pub(crate) fn with_max_idle(mut self, max_idle: Duration) -> Self {
        self.max_idle = max_idle.max(Duration::from_millis(1));
        self
    }

    /// A connection of `mailbox`: an idle one, or one `connect` opens once there is room.
    pub(crate) async fn checkout<F>(
        &self,
        mailbox: &str,
        connect: impl FnOnce() -> F,
    ) -> Result<Lease<C>, StoreError>
    where
        F: Future<Output = Result<C, StoreError>>,
    {
        let reusable = {
            let mut idle = self.idle.lock().expect("pool lock");
            idle.retain(|lease| lease.since.elapsed() < self.max_idle);
            idle.iter()
                .position(|lease| lease.mailbox == mailbox)
                .map(|i| idle.swap_remove(i))
        };
        if let Some(mut lease) = reusable {
            lease.reused = true;
            return Ok(lease);
        }
        let permit = match self.permits.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                // Full: close an idle connection (of another mailbox) to make room, else wait.
                let evicted = self.idle.lock().expect("pool lock").pop();
                drop(evicted);
                let what = self.what;
                tokio::time::timeout(self.timeout, self.permits.clone().acquire_owned())
                    .await
                    .map_err(|_| {
                        StoreError::Unavailable(format!("every {what} connection is busy"))
                    })?
                    .map_err(|_| StoreError::Unavailable(format!("the {what} pool is closed")))?
            }
        };
        Ok(Lease {
            mailbox: mailbox.to_string(),
            conn: connect().await?,
            since: Instant::now(),
            reused: false,
            _permit: permit,
        })
    }

    /// Gives a connection back for reuse.
    pub(crate) fn checkin(&self, mut lease: Lease<C>) {
        lease.since = Instant::now();
        self.idle.lock().expect("pool lock").push(lease);
        self.start_reaper();
    }

    /// Starts (once per pool) the task that closes connections idle for the pool's limit,
    /// looking twice per limit; it ends with the pool.
    fn start_reaper(&self) {
        use std::sync::atomic::Ordering;
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return; // no runtime: checkout still closes what waited too long
        };
        if self.reaping.swap(true, Ordering::SeqCst) {
            return;
        }
        let idle = Arc::downgrade(&self.idle);
        let max_idle = self.max_idle;
        runtime.spawn(async move {
            loop {
                tokio::time::sleep(max_idle / 2).await;
                let Some(idle) = idle.upgrade() else {
                    return;
                };
                let stale: Vec<Lease<C>> = {
                    let mut idle = idle.lock().expect("pool lock");
                    let (stale, keep) = std::mem::take(&mut *idle)
                        .into_iter()
                        .partition(|lease| lease.since.elapsed() >= max_idle);
                    *idle = keep;
                    stale
                };
                // Closed outside the lock.
                drop(stale);
            }
        });
    }

    /// Connections open now, idle or in use (for tests).
    #[cfg(test)]
    fn open(&self, size: usize) -> usize {
        size - self.permits.available_permits()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(size: usize) -> Pool<u32> {
        Pool::new("test", size, Duration::from_millis(200))
    }

    #[tokio::test]
    async fn reuses_an_idle_connection_of_the_same_mailbox() {
        let pool = pool(2);
        let lease = pool.checkout("a", async || Ok(1)).await.unwrap();
        pool.checkin(lease);
        let again = pool.checkout("a", async || Ok(2)).await.unwrap();
        assert_eq!(again.conn, 1, "the idle connection, not a new one");
        assert!(again.reused());
        assert_eq!(pool.open(2), 1);
    }

    #[tokio::test]
    async fn closes_an_idle_connection_of_another_mailbox_to_make_room() {
        let pool = pool(1);
        let lease = pool.checkout("a", async || Ok(1)).await.unwrap();
        pool.checkin(lease);
        let other = pool.checkout("b", async || Ok(2)).await.unwrap();
        assert_eq!(other.conn, 2);
        assert_eq!(pool.open(1), 1, "a's idle connection was closed");
    }

    #[tokio::test]
    async fn an_idle_connection_is_closed_after_the_idle_limit_without_a_next_checkout() {
        let pool = pool(2).with_max_idle(Duration::from_millis(100));
        let lease = pool.checkout("a", async || Ok(1)).await.unwrap();
        pool.checkin(lease);
        let busy = pool.checkout("b", async || Ok(2)).await.unwrap();
        assert_eq!(pool.open(2), 2);
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert_eq!(
            pool.open(2),
            1,
            "a's idle connection was closed, b's in use kept"
        );
        pool.checkin(busy);
        let fresh = pool.checkout("a", async || Ok(3)).await.unwrap();
        assert_eq!(fresh.conn, 3);
    }

    #[tokio::test]
    async fn a_full_pool_answers_unavailable_after_its_timeout() {
        let pool = pool(1);
        let _busy = pool.checkout("a", async || Ok(1)).await.unwrap();
        let refused = pool.checkout("b", async || Ok(2)).await.err().unwrap();
        assert!(matches!(refused, StoreError::Unavailable(ref why) if why.contains("busy")));
    }

    #[tokio::test]
    async fn a_failed_connect_gives_its_room_back() {
        let pool = pool(1);
        let failed = pool
            .checkout("a", async || Err(StoreError::Unavailable("down".into())))
            .await;
        assert!(failed.is_err());
        assert_eq!(pool.open(1), 0);
        assert!(pool.checkout("a", async || Ok(1)).await.is_ok());
    }
}
