//! Fuzzes the Sieve reader and the turn-off built on it, with the property the product rests
//! on: whatever a mailbox's scripts say (the input is split into an active script and the
//! scripts it may include), reading them never panics, and after forwarding is turned off,
//! reading the mailbox again finds no way for mail to leave. A turn-off that left a redirect
//! in place would let the portal say Remediated while the phish still forwards.

#![no_main]

use std::collections::HashMap;
use std::sync::Mutex;
use std::task::{Context, Poll, Waker};

use libfuzzer_sys::fuzz_target;
use mail::sieve::{SieveForwarding, SieveScript, SieveScripts};
use mail::{Forwarding, StoreError, TurnOff};
use model::InternalDomains;

/// One mailbox's scripts in memory; names `a`, `b`, `c` may be included, `g` is global.
#[derive(Debug, Default)]
struct Store {
    scripts: Mutex<HashMap<String, String>>,
    active: Mutex<Option<String>>,
    global: HashMap<String, String>,
}

#[async_trait::async_trait]
impl SieveScripts for Store {
    async fn active_script(&self, _: &str) -> Result<Option<SieveScript>, StoreError> {
        let active = self.active.lock().unwrap().clone();
        Ok(active.and_then(|name| {
            let text = self.scripts.lock().unwrap().get(&name)?.clone();
            Some(SieveScript { name, text })
        }))
    }

    async fn read_script(&self, _: &str, name: &str) -> Result<Option<String>, StoreError> {
        Ok(self.scripts.lock().unwrap().get(name).cloned())
    }

    async fn read_global(&self, name: &str) -> Result<Option<String>, StoreError> {
        Ok(self.global.get(name).cloned())
    }

    async fn put_script(&self, _: &str, script: &SieveScript) -> Result<(), StoreError> {
        self.scripts
            .lock()
            .unwrap()
            .insert(script.name.clone(), script.text.clone());
        Ok(())
    }

    async fn activate_script(&self, _: &str, name: &str) -> Result<(), StoreError> {
        if !self.scripts.lock().unwrap().contains_key(name) {
            return Err(StoreError::Refused(format!("no script {name}")));
        }
        *self.active.lock().unwrap() = Some(name.to_string());
        Ok(())
    }
}

/// Runs a future that never waits (the store is in memory) to its end.
fn now<T>(future: impl std::future::Future<Output = T>) -> T {
    let mut future = std::pin::pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(value) => value,
        Poll::Pending => panic!("an in-memory store never waits"),
    }
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = mail::sieve::script::read(&text);
    // Sections separated by NUL: the active script, then `a`, `b`, `c`, then the global `g`.
    let mut parts = text.split('\0').map(str::to_string);
    let mut scripts = HashMap::new();
    scripts.insert("main".to_string(), parts.next().unwrap_or_default());
    for name in ["a", "b", "c"] {
        if let Some(part) = parts.next() {
            scripts.insert(name.to_string(), part);
        }
    }
    let global = parts.next().map(|g| ("g".to_string(), g)).into_iter().collect();
    let store = Store {
        scripts: Mutex::new(scripts),
        active: Mutex::new(Some("main".into())),
        global,
    };
    let internal = InternalDomains::new(["example.test"]);
    let forwarding = SieveForwarding(store);
    let before = now(forwarding.external_forwards("alice@example.test", &internal)).unwrap();
    let outcome = now(forwarding.turn_off("alice@example.test", &internal)).unwrap();
    match outcome {
        TurnOff::NothingToDo => assert!(before.is_empty(), "findings but nothing turned off"),
        TurnOff::Done { .. } => assert!(!before.is_empty()),
    }
    let after = now(forwarding.external_forwards("alice@example.test", &internal)).unwrap();
    assert!(after.is_empty(), "still forwards after turning off: {after:?}");
});
