//! What every signed-in page shares: who is signed in, and a counter that decisions bump so
//! every open view refetches without a reload.

use chrono::{DateTime, Utc};
use leptos::prelude::*;

use crate::api::current_user;
use crate::model::{AppError, CurrentUser};

#[derive(Clone, Copy)]
pub struct Portal {
    pub user: Resource<Result<Option<CurrentUser>, AppError>>,
    /// Bumped after every decision or change; resources that show actions read it.
    pub changes: RwSignal<u64>,
    /// True once the page runs in the browser: times switch to the browser's zone.
    pub hydrated: RwSignal<bool>,
    /// The browser's clock, every 30 s; None on the server and before hydration.
    pub now: RwSignal<Option<DateTime<Utc>>>,
}

impl Portal {
    /// Made once by the layout.
    pub fn provide() -> Portal {
        let portal = Portal {
            user: Resource::new_blocking(|| (), |_| current_user()),
            changes: RwSignal::new(0),
            hydrated: RwSignal::new(false),
            now: RwSignal::new(None),
        };
        provide_context(portal);
        // Effects run only in the browser, after hydration.
        Effect::new(move |_| {
            portal.hydrated.set(true);
            portal.now.set(Some(crate::model::now()));
            if let Ok(handle) = set_interval_with_handle(
                move || portal.now.set(Some(crate::model::now())),
                std::time::Duration::from_secs(30),
            ) {
                on_cleanup(move || handle.clear());
            }
        });
        portal
    }

    /// Whether the signed-in user holds Search and purge (the server checks again).
    pub fn can_decide(&self) -> bool {
        matches!(self.user.get(), Some(Ok(Some(user))) if user.can_decide())
    }

    /// Tells every view that actions changed.
    pub fn changed(&self) {
        self.changes.update(|n| *n += 1);
    }
}

/// The portal context (the layout provides it).
pub fn use_portal() -> Portal {
    expect_context::<Portal>()
}
