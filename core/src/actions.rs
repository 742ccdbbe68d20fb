//! Remediation actions, end to end: reading them ([`read`]), deciding ([`decide`]: approve,
//! reject, the duplicate rule, group commit), changing or undoing them ([`change`]), expiring
//! them ([`expire`]) and carrying them out on mail ([`execute`]). Every status change goes
//! through [`state`], the one module that writes one; what the approval policy reads about an
//! action is loaded by [`facts`].

pub mod change;
pub mod decide;
pub mod execute;
pub mod expire;
pub(crate) mod facts;
pub mod read;
pub(crate) mod state;
mod timing;

#[cfg(test)]
mod properties;

pub use change::{change, CHANGE_TARGETS};
pub use decide::{check_comment, decide, decide_many, Decision, MAX_COMMENT};
pub use execute::{ExecutionConfig, Executor};
pub use expire::expire_due;
pub use facts::get_with_impact;
pub use read::{get, list, list_counted, load, ActionFilter, ResultCounts};
pub use state::derive_status;
