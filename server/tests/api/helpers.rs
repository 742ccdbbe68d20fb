//! `spawn_app()` and a `TestApp` with one helper per endpoint.

use std::net::SocketAddr;

use airdesk_core::actions::ExecutionConfig;
use airdesk_core::db::Db;
use airdesk_core::{tokens, users, AppState, RulesConfig};
use mail::{Connector, Folders};
use model::{Actor, InternalDomains, Role, Username};
use reqwest::{Client, Response};
use serde_json::{json, Value};
use server::config::Settings;
use server::startup::Application;
use tempfile::TempDir;

/// Who the tests act as when they create users and tokens.
pub fn tester() -> Actor {
    Actor::User("test".into())
}

pub const PASSWORD: &str = "correct horse battery";

pub struct TestApp {
    pub address: String,
    /// The server's own state: its database and mail store.
    pub state: AppState,
    /// The server's own database handle, also for checking what the server wrote.
    pub db: Db,
    /// A client that keeps cookies, like a browser.
    pub browser: Client,
    pub client: Client,
    pub dir: TempDir,
}

/// Starts the real application on a free port with its own database and mail root.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Starts the application with some settings changed (a short de-duplication window, say).
pub async fn spawn_app_with(change: impl FnOnce(&mut Settings)) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut settings = settings_in(&dir);
    change(&mut settings);
    let app = Application::build(&settings)
        .await
        .expect("application builds");
    let address = format!("http://{}", app.local_addr());
    let state = app.state().clone();
    let db = state.db.clone();
    tokio::spawn(app.run_until(std::future::pending()));
    TestApp {
        address,
        state,
        db,
        browser: Client::builder().cookie_store(true).build().unwrap(),
        client: Client::new(),
        dir,
    }
}

pub fn settings_in(dir: &TempDir) -> Settings {
    Settings {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        database_url: database_url(dir.path()),
        database_pool: 4,
        rules: RulesConfig {
            internal_domains: InternalDomains::new(["example.test"]),
            ..RulesConfig::default()
        },
        body_limit: 1024 * 1024,
        secure_cookies: false,
        trusted_proxies: Vec::new(),
        mail: Connector::Maildir {
            root: dir.path().join("mail"),
            sieve_global: None,
        },
        folders: Folders::default(),
        read_limits: Default::default(),
        execution: ExecutionConfig {
            poll: std::time::Duration::from_millis(50),
            backoff: std::time::Duration::from_millis(200),
            ..ExecutionConfig::default()
        },
        // Tests index when they mean to (TestApp::index), not on a timer.
        index_interval: None,
        index: Default::default(),
        playbook: Default::default(),
        indicators_file: None,
        policy: Some(lenient_policy(dir.path())),
        audit_key_file: None,
        webhooks: Default::default(),
        intake: None,
        notify: None,
        sign_in: Default::default(),
    }
}

/// An approval policy for the suites that test something else: whoever ingested an action may
/// approve it, and one approval runs an action of any size or a hard delete. `policy.rs` tests the defaults
/// and the rest of the policy with files of its own.
pub fn lenient_policy(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("lenient-policy.toml");
    if !path.exists() {
        // Written aside and renamed into place: instances started one after another read it
        // whole.
        let aside = dir.join(".lenient-policy.toml.new");
        std::fs::write(
            &aside,
            "[defaults]\nseparation_of_duties = []\nlarge_action_approvals = 1\nhard_delete_approvals = 1\n",
        )
        .expect("policy written");
        std::fs::rename(&aside, &path).expect("policy in place");
    }
    path
}

/// Waits (up to 60 s) for an action on the server at `base` to finish executing; returns it.
pub async fn settled(client: &Client, base: &str, token: &str, id: &str) -> Value {
    poll_until(
        client,
        base,
        token,
        &format!("/api/v1/actions/{id}"),
        |action| {
            let status = action["status"].as_str().unwrap_or_default();
            ["completed", "partially_completed", "failed"].contains(&status)
        },
    )
    .await
}

/// GETs `path` on the server at `base` until `done` holds for the JSON it answers (up to 60 s);
/// returns that answer.
pub async fn poll_until(
    client: &Client,
    base: &str,
    token: &str,
    path: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let body: Value = client
            .get(format!("{base}{path}"))
            .bearer_auth(token)
            .send()
            .await
            .expect("request sent")
            .json()
            .await
            .expect("JSON");
        if done(&body) {
            return body;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{path} never got there: {body}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Waits until the index on the server at `base` holds `copies` messages with this link.
pub async fn indexed(client: &Client, base: &str, token: &str, url: &str, copies: usize) {
    poll_until(
        client,
        base,
        token,
        &format!("/api/v1/messages?url={url}"),
        |page| page["items"].as_array().is_some_and(|i| i.len() == copies),
    )
    .await;
}

/// Marks a domain malicious on the server at `base`, so an investigation of its mail is.
pub async fn malicious_domain(client: &Client, base: &str, token: &str, domain: &str) {
    let added = client
        .post(format!("{base}/api/v1/indicators"))
        .bearer_auth(token)
        .json(&json!({"kind": "domain", "value": domain, "verdict": "malicious"}))
        .send()
        .await
        .expect("request sent");
    assert_eq!(added.status(), 201);
}

/// Waits until the server at `base` has a campaign's remediation pending: a soft delete of a
/// cluster and forwarding turned off; returns the page of pending actions.
pub async fn remediation_pending(client: &Client, base: &str, token: &str) -> Value {
    let path = "/api/v1/actions?status=pending&limit=100";
    poll_until(client, base, token, path, |page| {
        let types: Vec<&str> = page["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|a| a["type"].as_str())
            .collect();
        types.contains(&"soft_delete_cluster") && types.contains(&"turn_off_forwarding")
    })
    .await
}

/// Changes (or undoes) action `id` on the server at `base` to `to`; asserts the change was
/// accepted and returns the new action once it has finished executing.
pub async fn change_at(client: &Client, base: &str, token: &str, id: &str, to: &str) -> Value {
    let response = client
        .post(format!("{base}/api/v1/actions/{id}/change"))
        .bearer_auth(token)
        .json(&json!({"to": to}))
        .send()
        .await
        .expect("request sent");
    assert!(
        response.status().is_success(),
        "changing {id} to {to}: {}",
        response.status()
    );
    let change: Value = response.json().await.expect("action");
    settled(client, base, token, change["id"].as_str().expect("an id")).await
}

/// Approves every action of a page of pending ones and waits for each to complete; returns
/// each one's (type, id).
pub async fn approve_every_one(
    client: &Client,
    base: &str,
    token: &str,
    pending: &Value,
) -> Vec<(String, String)> {
    let mut done = Vec::new();
    for action in pending["items"].as_array().expect("a page of actions") {
        let id = action["id"].as_str().expect("an id");
        approve_at(client, base, token, id).await;
        let finished = settled(client, base, token, id).await;
        assert_eq!(finished["status"], "completed", "{finished}");
        let kind = action["type"].as_str().expect("a type");
        done.push((kind.to_string(), id.to_string()));
    }
    done
}

/// Approves an action on the server at `base`; asserts 200 and returns the action.
pub async fn approve_at(client: &Client, base: &str, token: &str, id: &str) -> Value {
    let response = client
        .post(format!("{base}/api/v1/actions/{id}/approve"))
        .bearer_auth(token)
        .send()
        .await
        .expect("request sent");
    assert_eq!(response.status(), 200, "approving {id}");
    response.json().await.expect("action")
}

/// The database of the test whose temp folder is `dir`: an SQLite file in it, or — when
/// `AIRDESK_TEST_POSTGRES` names a PostgreSQL server, as `scripts/test` does on its second
/// pass — a database of the test's own on that server, named after the folder and created
/// the first time it is asked for (so a server started as a process finds the same one).
pub fn database_url(dir: &std::path::Path) -> String {
    let Some(server) = postgres_server() else {
        return format!("sqlite://{}/airdesk.db", dir.display());
    };
    use std::hash::{Hash, Hasher};
    let mut hasher = std::hash::DefaultHasher::new();
    dir.hash(&mut hasher);
    let name = format!("t_{:016x}", hasher.finish());
    let admin = server.clone();
    let created = name.clone();
    // Its own runtime on its own thread: callers may be inside a runtime, or not.
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(create_database(&admin, &created));
    })
    .join()
    .expect("the test database is created");
    let mut url = reqwest::Url::parse(&server).expect("AIRDESK_TEST_POSTGRES is a URL");
    url.set_path(&name);
    url.to_string()
}

/// The PostgreSQL server the suite runs against, if any.
pub fn postgres_server() -> Option<String> {
    std::env::var("AIRDESK_TEST_POSTGRES")
        .ok()
        .filter(|s| !s.is_empty())
}

async fn create_database(server: &str, name: &str) {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(server)
        .await
        .expect("the test PostgreSQL server answers");
    for attempt in 0.. {
        let exists: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
                .bind(name)
                .fetch_one(&mut conn)
                .await
                .unwrap();
        if exists {
            return;
        }
        // Concurrent CREATE DATABASE calls can refuse each other; try again.
        match sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await
        {
            Ok(_) => return,
            Err(error) if attempt < 20 => {
                eprintln!("CREATE DATABASE {name}: {error}; again");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            Err(error) => panic!("CREATE DATABASE {name}: {error}"),
        }
    }
}

/// A migrated database for the test in `dir` (for a server run as a process) with a Search
/// and purge user `analyst`; returns it and a bearer token for that user.
pub async fn prepared_database(dir: &std::path::Path) -> (Db, String) {
    let url = database_url(dir);
    let db = Db::connect(&url).await.expect("database");
    db.migrate().await.expect("migrations");
    users::create(
        &db,
        &tester(),
        &Username::parse("analyst").unwrap(),
        PASSWORD,
        Role::SearchAndPurge,
    )
    .await
    .expect("user created");
    let token = tokens::create(
        &db,
        &tester(),
        "analyst",
        &airdesk_core::tokens::Grant::full("test"),
    )
    .await
    .expect("token created")
    .secret;
    (db, token)
}

/// Writes an RFC 5322 message into `<root>/<mailbox>/<folder>/cur/`, as a mail server would
/// deliver it, creating the mailbox's standard folders.
pub fn deliver(
    root: &std::path::Path,
    mailbox: &str,
    message_id: &str,
    folder: &str,
) -> std::path::PathBuf {
    static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let dir = root.join(mailbox);
    for standard in ["", ".Junk", ".Deleted Items"] {
        for sub in ["cur", "new", "tmp"] {
            std::fs::create_dir_all(dir.join(standard).join(sub)).unwrap();
        }
    }
    let folder_dir = if folder == "INBOX" {
        dir.clone()
    } else {
        dir.join(format!(".{folder}"))
    };
    for sub in ["cur", "new", "tmp"] {
        std::fs::create_dir_all(folder_dir.join(sub)).unwrap();
    }
    let n = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let path = folder_dir
        .join("cur")
        .join(format!("1764150000.M{n}P{}.test:2,S", std::process::id()));
    std::fs::write(&path, message(mailbox, message_id)).unwrap();
    path
}

/// The message [`deliver`] writes.
pub fn message(mailbox: &str, message_id: &str) -> String {
    format!(
        "Message-ID: {message_id}\r\nFrom: billing@evil.test\r\nTo: {mailbox}\r\nSubject: Invoice overdue\r\nDate: Fri, 20 Nov 2026 09:00:00 +0000\r\n\r\nPay at http://invoice.evil.test/pay\r\n"
    )
}

/// The ingest example of shared/API.md.
pub fn api_md_example() -> Value {
    json!({
        "title": "User-reported phish: Invoice overdue",
        "investigation_type": "user_reported",
        "alert": {"title": "Email reported by user as phish", "severity": "high"},
        "clusters": [{
            "cluster_by": "url",
            "cluster_value": "http://invoice.evil.test/pay",
            "verdict": "malicious",
            "messages": [{
                "mailbox": "alice@example.test",
                "internet_message_id": "<c1-1@evil.test>",
                "sender": "billing@evil.test",
                "subject": "Invoice overdue",
                "received_at": "2026-11-20T09:00:00Z"
            }]
        }],
        "forwarding": [{"mailbox": "bob@example.test",
                        "forward_to": "bob@elsewhere.test", "verdict": "suspicious"}]
    })
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// Creates a user with `PASSWORD`.
    pub async fn user(&self, name: &str, role: Role) {
        users::create(
            &self.db,
            &tester(),
            &Username::parse(name).unwrap(),
            PASSWORD,
            role,
        )
        .await
        .expect("user created");
    }

    /// Creates a user and a bearer token for them.
    pub async fn token(&self, name: &str, role: Role) -> String {
        self.user(name, role).await;
        tokens::create(
            &self.db,
            &tester(),
            name,
            &airdesk_core::tokens::Grant::full("test"),
        )
        .await
        .expect("token created")
        .secret
    }

    /// Creates a user and a token for them with only these scopes.
    pub async fn scoped_token(
        &self,
        name: &str,
        role: Role,
        scopes: &[model::Scope],
        expires_at: Option<chrono::DateTime<chrono::Utc>>,
    ) -> (String, String) {
        self.user(name, role).await;
        let grant = airdesk_core::tokens::Grant {
            label: format!("{name} scoped"),
            scopes: model::Scopes::of(scopes),
            expires_at,
        };
        let created = tokens::create(&self.db, &tester(), name, &grant)
            .await
            .expect("token created");
        (created.id, created.secret)
    }

    pub async fn get(&self, path: &str, token: &str) -> Response {
        self.client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("request sent")
    }

    /// `GET /api/v1/investigations/{id}`, read as JSON.
    pub async fn investigation(&self, token: &str, id: &str) -> Value {
        self.get(&format!("/api/v1/investigations/{id}"), token)
            .await
            .json()
            .await
            .expect("an investigation")
    }

    pub async fn ingest(&self, token: &str, body: &Value) -> Response {
        self.client
            .post(self.url("/api/v1/investigations"))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .expect("request sent")
    }

    /// Signs the cookie-keeping client in through the login server function.
    pub async fn sign_in(&self, name: &str, password: &str) -> Response {
        self.browser
            .post(self.url("/rpc/login"))
            .header("Origin", &self.address)
            .form(&[
                ("username", name),
                ("password", password),
                ("next", "/incidents"),
            ])
            .send()
            .await
            .expect("request sent")
    }

    /// Ingests `n` investigations of the same cluster; returns their Soft delete email cluster
    /// action ids.
    pub async fn same_cluster_actions(&self, token: &str, n: usize) -> Vec<String> {
        let mut body = api_md_example();
        body["forwarding"] = json!([]);
        let mut ids = Vec::new();
        for _ in 0..n {
            let created: Value = self
                .ingest(token, &body)
                .await
                .json()
                .await
                .expect("created");
            ids.push(
                created["actions"][0]["id"]
                    .as_str()
                    .expect("action id")
                    .to_string(),
            );
        }
        ids
    }

    pub async fn decide(
        &self,
        token: &str,
        id: &str,
        decision: &str,
        body: Option<Value>,
    ) -> Response {
        let request = self
            .client
            .post(self.url(&format!("/api/v1/actions/{id}/{decision}")))
            .bearer_auth(token);
        let request = match body {
            Some(body) => request.json(&body),
            None => request,
        };
        request.send().await.expect("request sent")
    }

    /// Sends these POSTs (path, JSON body) all at once; returns each status and body, in order.
    pub async fn post_concurrently(
        &self,
        token: &str,
        requests: Vec<(String, Option<Value>)>,
    ) -> Vec<(u16, Value)> {
        let tasks: Vec<_> = requests
            .into_iter()
            .map(|(path, body)| {
                let mut request = self.client.post(self.url(&path)).bearer_auth(token);
                if let Some(body) = body {
                    request = request.json(&body);
                }
                tokio::spawn(async move {
                    let response = request.send().await.expect("request sent");
                    let status = response.status().as_u16();
                    (
                        status,
                        response.json::<Value>().await.unwrap_or(Value::Null),
                    )
                })
            })
            .collect();
        let mut answers = Vec::new();
        for task in tasks {
            answers.push(task.await.expect("request task"));
        }
        answers
    }

    /// The Maildir++ tree the server acts on.
    pub fn mail_root(&self) -> std::path::PathBuf {
        self.dir.path().join("mail")
    }

    /// Delivers a real message file into a mailbox folder (`INBOX`, `Junk`, …), flagged Seen;
    /// returns its path.
    pub fn deliver(&self, mailbox: &str, message_id: &str, folder: &str) -> std::path::PathBuf {
        deliver(&self.mail_root(), mailbox, message_id, folder)
    }

    /// Puts shared/API.md's example on disk: alice's message in her inbox, and bob's Sieve
    /// script forwarding to bob@elsewhere.test.
    pub fn deliver_example(&self) {
        self.deliver("alice@example.test", "<c1-1@evil.test>", "INBOX");
        let bob = self.mail_root().join("bob@example.test");
        for folder in ["", ".Junk"] {
            for sub in ["cur", "new", "tmp"] {
                std::fs::create_dir_all(bob.join(folder).join(sub)).unwrap();
            }
        }
        std::fs::create_dir_all(bob.join("sieve")).unwrap();
        std::fs::write(
            bob.join("sieve/rules.sieve"),
            "require \"fileinto\";\nif header :contains \"subject\" \"[list]\" { fileinto \"Junk\"; }\nredirect \"bob@elsewhere.test\";\n",
        )
        .unwrap();
        std::os::unix::fs::symlink("sieve/rules.sieve", bob.join(".dovecot.sieve")).unwrap();
    }

    /// Waits (up to 60 s) for an action to finish executing; returns it.
    pub async fn settled(&self, token: &str, id: &str) -> Value {
        settled(&self.client, &self.address, token, id).await
    }

    /// Changes (or undoes) an action; returns the response.
    pub async fn change(&self, token: &str, id: &str, to: &str) -> Response {
        self.client
            .post(self.url(&format!("/api/v1/actions/{id}/change")))
            .bearer_auth(token)
            .json(&json!({"to": to}))
            .send()
            .await
            .expect("request sent")
    }

    pub async fn count(&self, sql: &str) -> i64 {
        airdesk_core::db::query(sql.to_string())
            .scalar(&self.db)
            .await
            .expect("count query")
    }
}

/// Asserts a problem+json response with this status; returns the problem.
pub async fn assert_problem(response: Response, status: u16) -> Value {
    assert_eq!(response.status().as_u16(), status, "status");
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(content_type, "application/problem+json");
    let problem: Value = response.json().await.expect("problem body");
    assert_eq!(problem["status"], status);
    assert!(
        problem["title"].is_string()
            && problem["detail"].is_string()
            && problem["type"].is_string()
    );
    problem
}

/// A browser-like client signed in as `name` (password `PASSWORD`), for server functions.
pub async fn signed_in(app: &TestApp, name: &str) -> Client {
    let client = Client::builder().cookie_store(true).build().unwrap();
    let response = client
        .post(app.url("/rpc/login"))
        .header("Origin", &app.address)
        .form(&[("username", name), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success() || response.status().is_redirection(),
        "{name} signs in"
    );
    client
}

/// The release-like binary as a process (`airdesk serve`) on a test's database and mail root;
/// killed when dropped.
pub struct Process {
    pub child: std::process::Child,
    pub base: String,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `airdesk serve` on a free port for the test in `dir`, with these global flags first,
/// short job leases and small batches (so takeovers happen within a test), logging at `level`
/// to `stderr`; returns once it listens.
pub fn serve_process(
    dir: &std::path::Path,
    flags: &[&str],
    level: &str,
    stderr: std::process::Stdio,
) -> Process {
    serve_process_with(dir, flags, &[], level, stderr)
}

/// [`serve_process`] with flags of `serve` itself too; the test's Maildir folder is the store
/// unless the global flags name one with `--mail-store`.
pub fn serve_process_with(
    dir: &std::path::Path,
    flags: &[&str],
    serve_flags: &[&str],
    level: &str,
    stderr: std::process::Stdio,
) -> Process {
    use std::io::BufRead;
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_airdesk"));
    command.args(flags);
    if !flags.contains(&"--mail-store") {
        command.arg("--mail-root").arg(dir.join("mail"));
    }
    let mut child = command
        .args(["serve", "--listen", "127.0.0.1:0", "--job-lease", "2s"])
        .args([
            "--job-batch",
            "50",
            "--body-limit",
            "16000000",
            "--database-pool",
            "8",
        ])
        .arg("--database-url")
        .arg(database_url(dir))
        .args(serve_flags)
        .env("AIRDESK_POLICY", lenient_policy(dir))
        .env("AIRDESK_LOG", level)
        .stdout(std::process::Stdio::piped())
        .stderr(stderr)
        .spawn()
        .expect("airdesk starts");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line
        .trim()
        .trim_start_matches("airdesk listening on ")
        .to_string();
    assert!(
        base.starts_with("http://"),
        "airdesk did not start: {line:?}"
    );
    Process { child, base }
}
