//! The structure holds: one module writes an action's or an investigation's status, and
//! nothing outside the storage module names SQLite or runs SQL around the `Db` seam. Read from
//! the sources of every crate, so a shortcut anywhere fails here.

use std::path::{Path, PathBuf};

/// Every `.rs` file of the product (tests and benches may poke at the database directly).
fn sources() -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    for krate in ["core", "app", "server", "mail", "model", "frontend"] {
        walk(&root.join(krate).join("src"), &mut files);
    }
    assert!(files.len() > 50, "the walk found the sources");
    files
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).unwrap();
            let name = path
                .strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            (name, text)
        })
        .collect()
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            walk(&path, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
}

/// The text with runs of white space as one space, lower-cased: SQL split over lines reads
/// as one line.
fn flat(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Whether the SQL in `text` writes the `status` column of `table`.
fn writes_status(text: &str, table: &str) -> bool {
    let text = flat(text);
    let update = format!("update {table} set ");
    let insert = format!("insert into {table} (");
    let statement_end = |rest: &str, stops: &[&str]| {
        stops
            .iter()
            .filter_map(|s| rest.find(s))
            .min()
            .unwrap_or(rest.len())
    };
    for (at, _) in text.match_indices(&update) {
        let rest = &text[at + update.len()..];
        let set = &rest[..statement_end(rest, &[" where ", "\""])];
        if set
            .split(',')
            .any(|assignment| assignment.trim().starts_with("status"))
        {
            return true;
        }
    }
    for (at, _) in text.match_indices(&insert) {
        let rest = &text[at + insert.len()..];
        let columns = &rest[..statement_end(rest, &[")"])];
        if columns.split(',').any(|column| column.trim() == "status") {
            return true;
        }
    }
    false
}

#[test]
fn only_the_state_module_writes_an_action_or_investigation_status() {
    // The module `actions::state`: core/src/actions/state.rs, where every status changes, and
    // its submodule files in core/src/actions/state/ (new.rs inserts new actions, Pending or
    // Awaiting; investigation.rs holds the investigation rule and writes nothing).
    let is_state = |name: &str| {
        let path = Path::new(name);
        path == Path::new("core/src/actions/state.rs")
            || path.starts_with("core/src/actions/state/")
    };
    let mut found = Vec::new();
    for (name, text) in sources() {
        for table in ["actions", "investigations"] {
            if !writes_status(&text, table) {
                continue;
            }
            assert!(
                is_state(&name),
                "{name} writes {table}.status: only the state module (core/src/actions/state*) may"
            );
            found.push(table);
        }
    }
    for table in ["actions", "investigations"] {
        assert!(
            found.contains(&table),
            "the state module's writes of {table}.status are recognised"
        );
    }
}

/// Names that belong to SQLite (or to running SQL around the seam).
const STORAGE_ONLY: [&str; 16] = [
    "SqlitePool",
    "SqliteConnection",
    "SqliteRow",
    "SqliteStore",
    "sqlx::Sqlite",
    "sqlite_pool",
    "sqlite_master",
    "QueryBuilder",
    "sqlx::query",
    "BEGIN IMMEDIATE",
    "PRAGMA",
    "INSERT OR IGNORE",
    "INSERT OR REPLACE",
    "WITHOUT ROWID",
    "rowid",
    "last_insert_rowid",
];

#[test]
fn sqlite_is_named_only_inside_the_storage_module() {
    for (name, text) in sources() {
        if name.starts_with("core/src/db/") || name == "core/src/db.rs" {
            continue;
        }
        for word in STORAGE_ONLY {
            let hit = if word.chars().any(|c| c.is_ascii_lowercase()) && !word.contains("::") {
                text.contains(word)
            } else {
                text.to_lowercase().contains(&word.to_lowercase())
            };
            assert!(!hit, "{name} names {word:?}: that belongs in core/src/db/");
        }
    }
}

#[test]
fn the_checks_recognise_what_they_look_for() {
    assert!(writes_status(
        "sqlx::query(\"UPDATE actions\n SET updated_at = $2,\n status = $1 WHERE id = $3\")",
        "actions"
    ));
    assert!(writes_status(
        "\"INSERT INTO investigations (id, title, status) VALUES ($1, $2, $3)\"",
        "investigations"
    ));
    assert!(!writes_status(
        "\"UPDATE actions SET outcome = $2 WHERE id = $1 AND status = 'approved'\"",
        "actions"
    ));
    assert!(!writes_status(
        "\"UPDATE jobs SET status = 'queued' WHERE id = $1\"",
        "actions"
    ));
    assert!(!writes_status(
        "\"INSERT INTO action_results (action_id, result) VALUES ($1, $2)\"",
        "actions"
    ));
}
