//! Pigeonhole's own `sieve-test` (Debian's dovecot-sieve), to ask the real Sieve interpreter
//! what a mailbox's active script does with a message — rather than trusting airdesk's reading
//! of it, which is what is being tested.

use std::path::Path;
use std::process::Command;

use crate::dovecot::chown_tree;

/// What Dovecot would do with a plain message under the mailbox's active Sieve script (its
/// `.dovecot.sieve`, the scripts beside it under `sieve/`, and the global ones in `global`):
/// the "Performed actions" it prints, or why the script does not compile.
pub fn sieve_actions(mailbox_dir: &Path, global: Option<&Path>) -> Result<String, String> {
    let work = tempfile::Builder::new()
        .prefix("pg")
        .tempdir_in("/tmp")
        .unwrap();
    let w = work.path();
    for dir in ["personal", "global", "mail"] {
        std::fs::create_dir_all(w.join(dir)).unwrap();
    }
    copy_scripts(&mailbox_dir.join("sieve"), &w.join("personal"));
    if let Some(global) = global {
        copy_scripts(global, &w.join("global"));
    }
    let active = std::fs::read_link(mailbox_dir.join(".dovecot.sieve"))
        .expect("the mailbox has an active script");
    let active = w.join("personal").join(active.file_name().unwrap());
    std::fs::write(
        w.join("message.eml"),
        "From: someone@outside.test\r\nTo: user@example.test\r\nSubject: hello\r\n\r\nhi\r\n",
    )
    .unwrap();
    std::fs::write(
        w.join("dovecot.conf"),
        format!(
            "mail_uid = dovecot\nmail_gid = dovecot\nfirst_valid_uid = 1\n\
             mail_location = maildir:{w}/mail\n\
             plugin {{\n  sieve = file:{w}/personal;active={w}/active.sieve\n  \
             sieve_global = {w}/global\n}}\n",
            w = w.display()
        ),
    )
    .unwrap();
    chown_tree(w);
    let out = Command::new("sieve-test")
        .arg("-c")
        .arg(w.join("dovecot.conf"))
        .arg(&active)
        .arg(w.join("message.eml"))
        .output()
        .expect("sieve-test (dovecot-sieve) is installed");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if out.status.success() {
        Ok(text)
    } else {
        Err(text)
    }
}

/// Whether Pigeonhole says the script sends the message anywhere: a redirect or a notification.
pub fn sends_mail_out(actions: &str) -> bool {
    actions.lines().any(|line| {
        let line = line.trim_start_matches([' ', '*']).to_ascii_lowercase();
        line.starts_with("redirect") || line.starts_with("send notification")
    })
}

fn copy_scripts(from: &Path, to: &Path) {
    let Ok(entries) = std::fs::read_dir(from) else {
        return;
    };
    for entry in entries {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_file() {
            std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
}
