//! `airdesk user add | list | role | disable | enable | unlock`: the same core functions the
//! portal's admin pages call.

use std::io::BufRead;

use airdesk_core::users;
use model::{Actor, Role, UserAccount, Username};

use super::UserCommand;
use crate::config::Settings;
use crate::startup::{open_db, Failure};

pub async fn run(settings: &Settings, command: &UserCommand) -> Result<(), Failure> {
    let actor = &Actor::CommandLine;
    match command {
        UserCommand::Add { name, role, .. } => {
            let username = Username::parse(name)?;
            let password = read_password()?;
            let db = open_db(settings).await?;
            let user = users::create(&db, actor, &username, &password, (*role).into()).await?;
            println!(
                "user {} added with role {}",
                user.username,
                user.role.label()
            );
        }
        UserCommand::Unlock { name } => {
            let db = open_db(settings).await?;
            if airdesk_core::signin::unlock(&db, actor, name).await? {
                println!("sign-in backoff on {} lifted", name.trim());
            } else {
                println!("{} had no failed sign-ins to forget", name.trim());
            }
        }
        UserCommand::List => {
            let db = open_db(settings).await?;
            print!("{}", table(&users::list(&db).await?));
        }
        UserCommand::Role { name, role } => {
            let db = open_db(settings).await?;
            let role: Role = (*role).into();
            let user = users::set_role(&db, actor, name, role).await?;
            println!("{} now has the role {}", user.username, role.label());
        }
        UserCommand::Disable { name } => {
            let db = open_db(settings).await?;
            let user = users::set_disabled(&db, actor, name, true).await?;
            println!(
                "{} disabled: their sessions and tokens are refused from now on",
                user.username
            );
        }
        UserCommand::Enable { name } => {
            let db = open_db(settings).await?;
            let user = users::set_disabled(&db, actor, name, false).await?;
            println!("{} enabled", user.username);
        }
    }
    Ok(())
}

/// Tab-separated, a header first, for people and scripts alike.
fn table(users: &[UserAccount]) -> String {
    let mut out = String::from("name\trole\tstate\tcreated\tsigns_in_with\n");
    for user in users {
        let state = if user.disabled { "disabled" } else { "enabled" };
        out.push_str(&format!(
            "{}\t{}\t{state}\t{}\t{}\n",
            user.username,
            user.role.label(),
            user.created_at.format("%Y-%m-%dT%H:%M:%SZ"),
            user.identity_provider.as_deref().unwrap_or("password"),
        ));
    }
    out
}

/// The first line of standard input, without its line ending.
fn read_password() -> Result<String, Failure> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).map_err(|e| {
        Failure::Other(format!("cannot read the password from standard input: {e}"))
    })?;
    let password = line.trim_end_matches(['\r', '\n']).to_string();
    if password.is_empty() {
        return Err(Failure::Other("no password on standard input".into()));
    }
    Ok(password)
}
