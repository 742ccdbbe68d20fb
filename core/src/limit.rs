//! Allowances per key (a client address, a user): a burst, then one more every period. A
//! well-kept limiter (`governor`, GCRA) does the counting; this gives its refusal our 429.

use std::hash::Hash;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use model::AppError;

/// Keys whose allowance is full again are dropped once the map holds this many.
const PRUNE_AT: usize = 10_000;

pub struct Limiter<K: Hash + Eq + Clone> {
    keys: DefaultKeyedRateLimiter<K>,
}

impl<K: Hash + Eq + Clone> Limiter<K> {
    /// `burst` at once, then one every `period`.
    pub fn new(burst: u32, period: Duration) -> Self {
        let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::with_period(period)
            .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
            .allow_burst(burst);
        Limiter {
            keys: RateLimiter::keyed(quota),
        }
    }

    /// Takes one from `key`'s allowance, or refuses with `what` and the seconds to wait.
    pub fn admit(&self, key: &K, what: impl FnOnce() -> String) -> Result<(), AppError> {
        self.keys
            .check_key(key)
            .map_err(|not_until| AppError::TooMany {
                what: what(),
                retry_after: not_until
                    .wait_time_from(DefaultClock::default().now())
                    .as_secs()
                    .max(1),
            })?;
        if self.keys.len() > PRUNE_AT {
            self.keys.retain_recent();
        }
        Ok(())
    }
}

impl<K: Hash + Eq + Clone> std::fmt::Debug for Limiter<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Limiter")
            .field("keys", &self.keys.len())
            .finish()
    }
}
