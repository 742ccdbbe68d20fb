//! One value per key, shared by everyone who asks for the same key at the same time and
//! dropped when nobody holds it: per-mailbox scan gates, per-message report locks.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

/// Values by key, held weakly: the map keeps no key nobody uses.
#[derive(Debug)]
pub struct Keyed<T> {
    values: Mutex<HashMap<String, Weak<T>>>,
}

impl<T> Default for Keyed<T> {
    fn default() -> Self {
        Keyed {
            values: Mutex::new(HashMap::new()),
        }
    }
}

impl<T: Default> Keyed<T> {
    /// The value for `key`: the one someone else holds now, or a new one.
    pub fn get(&self, key: &str) -> Arc<T> {
        let mut values = self.values.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(value) = values.get(key).and_then(Weak::upgrade) {
            return value;
        }
        if values.len() >= 1024 {
            values.retain(|_, value| value.strong_count() > 0);
        }
        let value = Arc::new(T::default());
        values.insert(key.to_string(), Arc::downgrade(&value));
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_key_shares_one_value_while_held_and_a_fresh_one_after() {
        let keyed: Keyed<Mutex<u32>> = Keyed::default();
        let first = keyed.get("a");
        *first.lock().unwrap() = 7;
        assert_eq!(*keyed.get("a").lock().unwrap(), 7);
        assert_eq!(*keyed.get("b").lock().unwrap(), 0);
        drop(first);
        assert_eq!(*keyed.get("a").lock().unwrap(), 0);
    }
}
