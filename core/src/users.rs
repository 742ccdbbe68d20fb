//! Users: creation with Argon2id password hashes, sign-in, and loading the current user;
//! their administration (list, role, disable) in `admin`.

mod admin;
mod external;
mod password;

pub use admin::{list, set_disabled, set_role};
pub use external::{sign_in_external, External};
pub use password::{change_password, identity_provider};

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, SaltString};
use argon2::Argon2;

use crate::audit::{self, Event};
use crate::db::{self, query, Db, Tx};
use crate::new_id;
use model::{Actor, AppError, CurrentUser, Role, Scopes, Username};

/// Passwords shorter than this are refused.
pub const MIN_PASSWORD_LEN: usize = 12;

#[derive(sqlx::FromRow)]
struct UserRow {
    id: String,
    username: String,
    role: String,
    password_hash: String,
}

impl UserRow {
    fn into_user(self) -> Result<CurrentUser, AppError> {
        let role = Role::parse(&self.role).ok_or(AppError::Internal)?;
        Ok(CurrentUser {
            id: self.id,
            username: self.username,
            role,
            scopes: Scopes::ALL,
        })
    }
}

/// Creates a user. The password is hashed off the async threads (Argon2 is slow on purpose).
#[tracing::instrument(skip(db, password), fields(username = username.as_str()))]
pub async fn create(
    db: &Db,
    actor: &Actor,
    username: &Username,
    password: &str,
    role: Role,
) -> Result<CurrentUser, AppError> {
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(AppError::Invalid(format!(
            "a password needs at least {MIN_PASSWORD_LEN} characters"
        )));
    }
    let hash = hash_password(password.to_string()).await?;
    let id = new_id();
    let mut tx = db.write().await?;
    query(
        "INSERT INTO users (id, username, password_hash, role, created_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&id)
    .bind(username.as_str())
    .bind(&hash)
    .bind(role)
    .bind(db::now())
    .execute(&mut tx)
    .await
    .map_err(|e| {
        if e.is_unique_violation() {
            AppError::Conflict(format!("user {:?} already exists", username.as_str()))
        } else {
            e.into()
        }
    })?;
    let after = serde_json::json!({"username": username.as_str(), "role": role});
    audit_user(&mut tx, actor, &id, "user_created", None, Some(after));
    tx.commit().await?;
    Ok(CurrentUser {
        id,
        username: username.as_str().to_string(),
        role,
        scopes: Scopes::ALL,
    })
}

/// Checks a username and password. Unknown users cost the same Argon2 work as known ones, so
/// timing does not tell which usernames exist.
#[tracing::instrument(skip(db, password))]
pub async fn verify_login(
    db: &Db,
    username: &str,
    password: &str,
) -> Result<CurrentUser, AppError> {
    let row: Option<UserRow> = query(
        "SELECT id, username, role, password_hash FROM users \
         WHERE username = $1 AND NOT disabled AND oidc_subject IS NULL",
    )
    .bind(username)
    .fetch_optional(db)
    .await?;
    let hash = row.as_ref().map(|r| r.password_hash.clone());
    let matches = verify_password(password.to_string(), hash).await?;
    match row {
        Some(row) if matches => row.into_user(),
        _ => Err(AppError::BadCredentials),
    }
}

/// Loads an enabled user by id (sessions store only the id, so role changes apply at once).
#[tracing::instrument(level = "debug", skip(db))]
pub async fn find(db: &Db, id: &str) -> Result<Option<CurrentUser>, AppError> {
    let row: Option<UserRow> =
        query("SELECT id, username, role, password_hash FROM users WHERE id = $1 AND NOT disabled")
            .bind(id)
            .fetch_optional(db)
            .await?;
    row.map(UserRow::into_user).transpose()
}

/// Loads an enabled user by name.
pub async fn find_by_name(db: &Db, username: &str) -> Result<Option<CurrentUser>, AppError> {
    let row: Option<UserRow> = query(
        "SELECT id, username, role, password_hash FROM users WHERE username = $1 AND NOT disabled",
    )
    .bind(username)
    .fetch_optional(db)
    .await?;
    row.map(UserRow::into_user).transpose()
}

/// Argon2id takes 19 MiB and a core for each hash. Hashes run on a few threads of their own
/// (one per core, up to 4), one at a time each, and the rest wait in their queue: a flood of
/// sign-ins costs time, never memory or the blocking threads other work needs. Each thread
/// reuses its own 19 MiB (on blocking threads, every new thread's allocator arena kept a copy:
/// 200 concurrent sign-ins peaked at 340 MB).
fn on_hasher<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> tokio::sync::oneshot::Receiver<T> {
    type Job = Box<dyn FnOnce() + Send>;
    static QUEUE: std::sync::OnceLock<std::sync::mpsc::Sender<Job>> = std::sync::OnceLock::new();
    let queue = QUEUE.get_or_init(|| {
        let (sender, receiver) = std::sync::mpsc::channel::<Job>();
        let receiver = std::sync::Arc::new(std::sync::Mutex::new(receiver));
        let threads = std::thread::available_parallelism().map_or(2, usize::from);
        for n in 0..threads.clamp(1, 4) {
            let receiver = receiver.clone();
            let started = std::thread::Builder::new()
                .name(format!("argon2-{n}"))
                .spawn(move || loop {
                    let job = match receiver.lock() {
                        Ok(queue) => queue.recv(),
                        Err(poisoned) => poisoned.into_inner().recv(),
                    };
                    match job {
                        Ok(job) => job(),
                        Err(_) => return,
                    }
                });
            if let Err(error) = started {
                tracing::error!(%error, "cannot start a password hashing thread");
            }
        }
        sender
    });
    let (reply, answer) = tokio::sync::oneshot::channel();
    let job: Job = Box::new(move || {
        let _ = reply.send(work());
    });
    if queue.send(job).is_err() {
        tracing::error!("the password hashing threads are gone");
    }
    answer
}

async fn hash_password(password: String) -> Result<String, AppError> {
    on_hasher(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| {
                tracing::error!(error = %e, "password hashing failed");
                AppError::Internal
            })
    })
    .await
    .map_err(|_| AppError::Internal)?
}

/// Checks `password` against `hash`, or against a hash nobody's password matches when there
/// is none (an unknown user), at the same cost.
async fn verify_password(password: String, hash: Option<String>) -> Result<bool, AppError> {
    on_hasher(move || {
        let hash = hash.as_deref().unwrap_or_else(|| dummy_hash());
        // Each hashing thread keeps its Argon2 memory and works in it every time: allocating
        // 19 MiB per sign-in left the allocator holding hundreds of megabytes it never gave
        // back (20 sign-ins in a row: 370 MB).
        thread_local! {
            static MEMORY: std::cell::RefCell<Vec<argon2::Block>> = const { std::cell::RefCell::new(Vec::new()) };
        }
        MEMORY.with(|memory| verify_in(&mut memory.borrow_mut(), password.as_bytes(), hash))
    })
    .await
    .map_err(|_| AppError::Internal)?
}

/// What `PasswordVerifier::verify_password` does, in memory the caller keeps.
fn verify_in(
    memory: &mut Vec<argon2::Block>,
    password: &[u8],
    hash: &str,
) -> Result<bool, AppError> {
    use argon2::password_hash::Output;
    use argon2::{Algorithm, Params, Version};
    let unreadable = |what: &dyn std::fmt::Display| {
        tracing::error!(error = %what, "stored password hash is unreadable");
        AppError::Internal
    };
    let parsed = PasswordHash::new(hash).map_err(|e| unreadable(&e))?;
    let params = Params::try_from(&parsed).map_err(|e| unreadable(&e))?;
    let algorithm = Algorithm::try_from(parsed.algorithm).map_err(|e| unreadable(&e))?;
    let version = parsed
        .version
        .map_or(Ok(Version::V0x13), Version::try_from)
        .map_err(|e| unreadable(&e))?;
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return Err(unreadable(&"no salt or no hash"));
    };
    let mut salt_bytes = [0u8; 64];
    let salt = salt
        .decode_b64(&mut salt_bytes)
        .map_err(|e| unreadable(&e))?;
    memory.resize(params.block_count(), argon2::Block::new());
    let argon = Argon2::new(algorithm, version, params);
    let computed = Output::init_with(expected.len(), |out| {
        argon
            .hash_password_into_with_memory(password, salt, out, &mut memory[..])
            .map_err(Into::into)
    })
    .map_err(|e| unreadable(&e))?;
    // Output's equality is constant-time.
    Ok(computed == expected)
}

/// A valid Argon2id hash of a random password nobody knows, computed once.
fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(new_id().as_bytes(), &salt)
            .map(|h| h.to_string())
            .unwrap_or_default()
    })
}

/// How many users there are (the demo seeds only an empty database).
pub async fn count(db: &Db) -> Result<i64, AppError> {
    Ok(query("SELECT COUNT(*) FROM users").scalar(db).await?)
}

/// Audits an event of a user.
pub(crate) fn audit_user(
    tx: &mut Tx<'_>,
    actor: &Actor,
    id: &str,
    event: &'static str,
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
) {
    audit::record(
        tx,
        Event {
            actor,
            entity_kind: "user",
            entity_id: id,
            event,
            before,
            after,
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verifying_in_kept_memory_agrees_with_the_library() {
        let salt = SaltString::generate(&mut OsRng);
        let hash = Argon2::default()
            .hash_password(b"correct horse battery", &salt)
            .unwrap()
            .to_string();
        let mut memory = Vec::new();
        assert!(verify_in(&mut memory, b"correct horse battery", &hash).unwrap());
        assert!(!verify_in(&mut memory, b"correct horse battery!", &hash).unwrap());
        assert!(!verify_in(&mut memory, b"", &hash).unwrap());
        // Another hash's parameters: the memory is resized, and the answer still right.
        let small = Argon2::new(
            argon2::Algorithm::Argon2id,
            argon2::Version::V0x13,
            argon2::Params::new(8 * 1024, 1, 1, None).unwrap(),
        )
        .hash_password(b"x", &salt)
        .unwrap()
        .to_string();
        assert!(verify_in(&mut memory, b"x", &small).unwrap());
        assert!(verify_in(&mut memory, b"not a hash", "$nonsense").is_err());
    }
}
