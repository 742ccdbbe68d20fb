//! `airdesk token create | list | revoke`.

use airdesk_core::db::Db;
use airdesk_core::tokens::{self, Grant, TokenInfo};
use model::{Actor, AppError, Scope, Scopes};

use super::TokenCommand;
use crate::startup::Failure;

pub async fn run(db: &Db, command: &TokenCommand) -> Result<(), Failure> {
    match command {
        TokenCommand::Create {
            name,
            label,
            scopes,
            expires,
        } => {
            let mut scopes: Vec<Scope> = scopes.iter().map(|s| Scope::from(*s)).collect();
            if scopes.is_empty() {
                eprintln!(
                    "warning: no --scope given: the token may do everything {name}'s role allows; \
                     name its scopes (read, ingest, decide, admin) to narrow it"
                );
                scopes.push(Scope::Admin);
            }
            let expires_at = expires
                .map(|after| {
                    chrono::Duration::from_std(after)
                        .ok()
                        .and_then(|after| chrono::Utc::now().checked_add_signed(after))
                        .ok_or_else(|| AppError::Invalid("--expires is too far away".into()))
                })
                .transpose()?;
            let grant = Grant {
                label: label.clone(),
                scopes: Scopes::of(&scopes),
                expires_at,
            };
            let created = tokens::create(db, &Actor::CommandLine, name, &grant).await?;
            // The secret alone on stdout, for scripts; what it is, on stderr.
            println!("{}", created.secret);
            eprintln!(
                "token {} for {name}: scopes {}, expires {}",
                created.id,
                grant.scopes.to_words(),
                expires_at.map_or("never".to_string(), |at| at.to_rfc3339())
            );
            Ok(())
        }
        TokenCommand::List => {
            let tokens = tokens::list(db).await?;
            print!("{}", table(&tokens));
            Ok(())
        }
        TokenCommand::Revoke { id } => {
            tokens::revoke(db, &Actor::CommandLine, id.trim()).await?;
            println!("token {id} revoked");
            Ok(())
        }
    }
}

/// One line per token, tab-separated, with a header: readable, and `cut`-able.
fn table(tokens: &[TokenInfo]) -> String {
    let time = |at: Option<chrono::DateTime<chrono::Utc>>| {
        at.map_or("-".to_string(), |at| {
            at.format("%Y-%m-%dT%H:%M:%SZ").to_string()
        })
    };
    let mut out = String::from("id\tuser\tlabel\tscopes\tcreated\texpires\tlast_used\tstate\n");
    let now = chrono::Utc::now();
    for token in tokens {
        let state = if token.revoked_at.is_some() {
            "revoked"
        } else if token.expires_at.is_some_and(|at| at <= now) {
            "expired"
        } else {
            "active"
        };
        out.push_str(&format!(
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{state}\n",
            token.id,
            token.username,
            // A label is free text: no tab or newline may break the columns.
            token.label.replace(['\t', '\n', '\r'], " "),
            token
                .scopes
                .as_deref()
                .unwrap_or("all (made before scopes)"),
            time(Some(token.created_at)),
            time(token.expires_at),
            time(token.last_used_at),
        ));
    }
    out
}
