//! A mailbox's active script and every script it includes, read once: what forwards outside,
//! and the disabled copies that turn it all off. An include that cannot be followed — a
//! missing or unreadable script, a global one this backend cannot read, a cycle, nesting
//! deeper than [`MAX_DEPTH`] — is itself a finding: what cannot be read cannot be trusted.

use std::collections::HashMap;

use model::InternalDomains;

use super::script::{self, comment, Include, Reading};
use super::{SieveScript, SieveScripts, SCRIPT};
use crate::forwarding::ForwardFinding;
use crate::StoreError;

/// How deep includes are followed.
pub const MAX_DEPTH: usize = 5;

/// A script by where it is looked up: the mailbox's own (`:personal`) or the administrator's.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    global: bool,
    name: String,
}

impl Key {
    fn describe(&self) -> String {
        match self.global {
            false => format!("the Sieve script \"{}\"", self.name),
            true => format!("the global Sieve script \"{}\"", self.name),
        }
    }

    /// The name of this script's copy with forwarding turned off (a mailbox's own script).
    fn copy_name(&self, active: bool) -> String {
        let name = match (active, self.global) {
            (true, _) => SCRIPT.to_string(),
            (false, false) => format!("{SCRIPT}-{}", self.name),
            (false, true) => format!("{SCRIPT}-global-{}", self.name),
        };
        name.chars().take(128).collect()
    }
}

/// One script, as read.
#[derive(Debug, Clone)]
enum Loaded {
    Read {
        text: String,
        reading: Reading,
    },
    /// Cannot be followed: why.
    Broken(String),
}

/// The scripts of one mailbox that its active one reaches.
#[derive(Debug, Clone)]
pub struct Tree {
    active: Key,
    scripts: HashMap<Key, Loaded>,
}

impl Tree {
    /// Reads the active script and everything it includes; `None` when none is active.
    pub async fn load<S: SieveScripts>(
        store: &S,
        mailbox: &str,
    ) -> Result<Option<Tree>, StoreError> {
        let Some(active) = store.active_script(mailbox).await? else {
            return Ok(None);
        };
        let key = Key {
            global: false,
            name: active.name.clone(),
        };
        let mut scripts = HashMap::new();
        scripts.insert(key.clone(), loaded(Some(active.text)));
        let mut frontier = vec![(key.clone(), 0usize)];
        while let Some((at, depth)) = frontier.pop() {
            let Some(Loaded::Read { reading, .. }) = scripts.get(&at) else {
                continue;
            };
            if depth >= MAX_DEPTH {
                continue;
            }
            let includes: Vec<Key> = reading.includes.iter().map(key_of).collect();
            for include in includes {
                if scripts.contains_key(&include) {
                    continue;
                }
                let text = match include.global {
                    false => match store.read_script(mailbox, &include.name).await {
                        Err(StoreError::Refused(why)) => {
                            scripts.insert(include.clone(), Loaded::Broken(why));
                            continue;
                        }
                        other => other?,
                    },
                    true => store.read_global(&include.name).await?,
                };
                scripts.insert(include.clone(), loaded(text));
                frontier.push((include, depth + 1));
            }
        }
        Ok(Some(Tree {
            active: key,
            scripts,
        }))
    }

    /// The active script's name.
    pub fn active(&self) -> &str {
        &self.active.name
    }

    /// Every way mail leaves, and everything that cannot be followed.
    pub fn findings(&self, internal: &InternalDomains) -> Vec<ForwardFinding> {
        let mut out = Vec::new();
        self.visit(&self.active, &mut Vec::new(), internal, &mut out);
        out
    }

    fn visit(
        &self,
        key: &Key,
        stack: &mut Vec<Key>,
        internal: &InternalDomains,
        out: &mut Vec<ForwardFinding>,
    ) {
        let text = match self.scripts.get(key) {
            Some(Loaded::Read { reading, .. }) => reading,
            Some(Loaded::Broken(why)) => {
                out.push(broken(key, why));
                return;
            }
            None => return,
        };
        for forward in text.forwards.iter().filter(|f| !f.is_internal(internal)) {
            out.push(ForwardFinding {
                target: forward.target.clone(),
                how: forward.how.to_string(),
                detail: format!("in {}", key.describe()),
            });
        }
        stack.push(key.clone());
        for include in &text.includes {
            let next = key_of(include);
            match self.follow(&next, stack) {
                Err(why) => out.push(broken(&next, &why)),
                Ok(()) => self.visit(&next, stack, internal, out),
            }
        }
        stack.pop();
    }

    /// Whether an include can be followed from here: not a cycle, not too deep.
    fn follow(&self, next: &Key, stack: &[Key]) -> Result<(), String> {
        if stack.contains(next) {
            return Err("it includes itself (a cycle)".into());
        }
        if stack.len() > MAX_DEPTH {
            return Err(format!("includes are nested deeper than {MAX_DEPTH}"));
        }
        Ok(())
    }

    /// The copies to write, the active one's first: each script that forwards outside (or
    /// includes one that does), with those commands turned into comments and its includes
    /// pointed at disabled copies (or turned off, when they cannot be followed).
    pub fn disabled_copies(&self, internal: &InternalDomains) -> Vec<SieveScript> {
        let mut copies = Vec::new();
        let mut done = HashMap::new();
        let main = self.rewrite(
            &self.active,
            &mut Vec::new(),
            internal,
            &mut done,
            &mut copies,
        );
        if main.is_none() {
            // Nothing of its own changed, but something it reaches did: still activate a copy.
            if let Some(Loaded::Read { text, .. }) = self.scripts.get(&self.active) {
                copies.insert(0, self.copy(&self.active, true, text.clone()));
            }
        }
        copies
    }

    /// The disabled copy's name if this script needs one.
    fn rewrite(
        &self,
        key: &Key,
        stack: &mut Vec<Key>,
        internal: &InternalDomains,
        done: &mut HashMap<Key, Option<String>>,
        copies: &mut Vec<SieveScript>,
    ) -> Option<String> {
        if let Some(known) = done.get(key) {
            return known.clone();
        }
        let active = *key == self.active;
        let (text, reading) = match self.scripts.get(key) {
            Some(Loaded::Read { text, reading }) => (text, reading),
            // The active script itself cannot be read: switch it off whole.
            Some(Loaded::Broken(why)) if active => {
                let off = format!(
                    "# {}\nkeep;\n",
                    comment(&format!("{} ({why})", key.describe()))
                );
                copies.insert(0, self.copy(key, true, off));
                return Some(SCRIPT.to_string());
            }
            _ => return None,
        };
        let mut changes: Vec<(std::ops::Range<usize>, String)> = reading
            .forwards
            .iter()
            .filter(|f| !f.is_internal(internal))
            .map(|f| {
                (
                    f.span.clone(),
                    comment(&format!("{} to {}", f.how, f.target)),
                )
            })
            .collect();
        stack.push(key.clone());
        for include in &reading.includes {
            let next = key_of(include);
            let broken = !matches!(self.scripts.get(&next), Some(Loaded::Read { .. }));
            if broken || self.follow(&next, stack).is_err() {
                changes.push((
                    include.span.clone(),
                    comment(&format!("include of {}", next.describe())),
                ));
            } else if let Some(copy) = self.rewrite(&next, stack, internal, done, copies) {
                changes.push((
                    include.span.clone(),
                    format!("include :personal \"{copy}\";"),
                ));
            }
        }
        stack.pop();
        let needed = !changes.is_empty();
        let name = needed.then(|| key.copy_name(active));
        if needed {
            let copy = self.copy(key, active, script::replace(text, &mut changes));
            if active {
                copies.insert(0, copy);
            } else {
                copies.push(copy);
            }
        }
        done.insert(key.clone(), name.clone());
        name
    }

    fn copy(&self, key: &Key, active: bool, text: String) -> SieveScript {
        let header = format!(
            "# airdesk: a copy of {} with forwarding outside turned off.\n\
             # The original is kept beside it; undo makes it active again.\n",
            key.describe().replace(['\r', '\n'], " ")
        );
        SieveScript {
            name: key.copy_name(active),
            text: format!("{header}{text}"),
        }
    }
}

fn key_of(include: &Include) -> Key {
    Key {
        global: include.global,
        name: include.name.clone(),
    }
}

fn loaded(text: Option<String>) -> Loaded {
    match text {
        None => Loaded::Broken("it cannot be read here (missing, or not reachable)".into()),
        Some(text) => match script::read(&text) {
            Ok(reading) => Loaded::Read { text, reading },
            Err(error) => Loaded::Broken(error.to_string()),
        },
    }
}

fn broken(key: &Key, why: &str) -> ForwardFinding {
    ForwardFinding {
        target: key.describe(),
        how: "unreadable".into(),
        detail: format!("cannot be trusted not to forward: {why}"),
    }
}
