//! A real Dovecot (Debian's dovecot-imapd, -managesieved, -sieve) for the tests: started from a
//! generated configuration in a short folder under /tmp, on free loopback ports, with a master
//! user and a passwd-file of mailboxes; stopped when dropped. Several run side by side.

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

pub const MASTER_USER: &str = "admin";
pub const MASTER_PASSWORD: &str = "master secret";
/// A mailbox only for checking that logins work.
const PROBE: &str = "probe@example.test";

/// A server certificate and its key, as PEM (the tests' CA in certs.rs makes them).
pub struct ServerCert {
    pub cert_pem: String,
    pub key_pem: String,
}

pub struct Dovecot {
    root: TempDir,
    pub imap_port: u16,
    /// IMAP in TLS from the first byte; only with a certificate.
    pub imaps_port: u16,
    pub sieve_port: u16,
    /// Whether the server has a certificate (`ssl = required`).
    tls: bool,
    child: Option<Child>,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn dovecot_ids() -> (u32, u32) {
    static IDS: std::sync::OnceLock<(u32, u32)> = std::sync::OnceLock::new();
    *IDS.get_or_init(|| {
        let id = |flag: &str| -> u32 {
            let out = Command::new("id").args([flag, "dovecot"]).output().unwrap();
            String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
        };
        (id("-u"), id("-g"))
    })
}

/// Gives a tree to the dovecot user, as its mail processes run as that user.
pub fn chown_tree(path: &Path) {
    let (uid, gid) = dovecot_ids();
    std::os::unix::fs::chown(path, Some(uid), Some(gid)).unwrap();
    if path.is_dir() && !path.is_symlink() {
        for entry in std::fs::read_dir(path).unwrap() {
            chown_tree(&entry.unwrap().path());
        }
    }
}

impl Dovecot {
    /// Starts a Dovecot that knows these mailboxes, in clear text (`ssl = no`).
    pub fn start(mailboxes: &[&str]) -> Dovecot {
        Dovecot::start_with(mailboxes, None)
    }

    /// With a certificate: `ssl = required` (no login before TLS), STARTTLS on the IMAP and
    /// ManageSieve ports, and an implicit-TLS IMAP port.
    pub fn start_with(mailboxes: &[&str], cert: Option<&ServerCert>) -> Dovecot {
        Dovecot::launch(mailboxes, cert, None)
    }

    /// In clear text, with OAuth2 beside the passwords: a master passdb of driver oauth2 that
    /// asks `introspection_url` about each bearer token (SASL XOAUTH2 and OAUTHBEARER), so a
    /// service principal's token opens any mailbox as `mailbox*principal`.
    pub fn start_oauth2(mailboxes: &[&str], introspection_url: &str) -> Dovecot {
        Dovecot::launch(mailboxes, None, Some(introspection_url))
    }

    /// Configures and starts one. A port from [`free_port`] is free when it is picked, not
    /// necessarily when Dovecot binds it (another test may have taken it meanwhile): then it
    /// starts again on other ports.
    fn launch(mailboxes: &[&str], cert: Option<&ServerCert>, oauth2: Option<&str>) -> Dovecot {
        let mut tries = 0;
        loop {
            tries += 1;
            let mut dovecot = Dovecot::configure(mailboxes, cert, oauth2);
            match dovecot.try_run() {
                Ok(()) => return dovecot,
                Err(why) if tries < 5 && why.contains("in use") => continue,
                Err(why) => panic!("{why}"),
            }
        }
    }

    fn configure(mailboxes: &[&str], cert: Option<&ServerCert>, oauth2: Option<&str>) -> Dovecot {
        // Short: unix socket paths over ~107 bytes fail.
        let root = tempfile::Builder::new()
            .prefix("dv")
            .tempdir_in("/tmp")
            .unwrap();
        std::fs::set_permissions(root.path(), std::fs::Permissions::from_mode(0o711)).unwrap();
        let r = root.path().display().to_string();
        for dir in ["run", "state", "mail"] {
            std::fs::create_dir_all(root.path().join(dir)).unwrap();
        }
        std::fs::write(
            root.path().join("master-users"),
            format!("{MASTER_USER}:{{PLAIN}}{MASTER_PASSWORD}\n"),
        )
        .unwrap();
        std::fs::write(root.path().join("users"), "").unwrap();
        let (imap_port, sieve_port) = (free_port(), free_port());
        let imaps_port = if cert.is_some() { free_port() } else { 0 };
        let ssl = match cert {
            Some(cert) => {
                std::fs::write(root.path().join("cert.pem"), &cert.cert_pem).unwrap();
                std::fs::write(root.path().join("key.pem"), &cert.key_pem).unwrap();
                format!(
                    "ssl = required\nssl_cert = <{r}/cert.pem\nssl_key = <{r}/key.pem\n\
                     disable_plaintext_auth = yes"
                )
            }
            None => "ssl = no\ndisable_plaintext_auth = no".to_string(),
        };
        let (mechanisms, oauth2_passdb) = match oauth2 {
            Some(url) => {
                std::fs::write(
                    root.path().join("oauth2.conf"),
                    format!(
                        "introspection_mode = post\nintrospection_url = {url}\n\
                         username_attribute = username\nactive_attribute = active\n\
                         active_value = true\nforce_introspection = yes\n"
                    ),
                )
                .unwrap();
                // A refused token is answered at once (the tests refuse tokens on purpose).
                (
                    "plain login xoauth2 oauthbearer\nauth_failure_delay = 0",
                    format!(
                        "passdb {{\n  driver = oauth2\n  mechanisms = xoauth2 oauthbearer\n  \
                         args = {r}/oauth2.conf\n  master = yes\n  pass = yes\n}}\n"
                    ),
                )
            }
            None => ("plain login", String::new()),
        };
        std::fs::write(
            root.path().join("dovecot.conf"),
            format!(
                r#"base_dir = {r}/run
state_dir = {r}/state
log_path = {r}/dovecot.log
protocols = imap sieve
listen = 127.0.0.1
{ssl}
auth_mechanisms = {mechanisms}
auth_master_user_separator = *
mail_location = maildir:{r}/mail/%u
mail_uid = dovecot
mail_gid = dovecot
first_valid_uid = 1
{oauth2_passdb}passdb {{
  driver = passwd-file
  args = {r}/master-users
  master = yes
  pass = yes
}}
passdb {{
  driver = passwd-file
  args = {r}/users
}}
userdb {{
  driver = static
  args = uid=dovecot gid=dovecot home={r}/mail/%u
}}
# Login and imap processes reused, as Dovecot advises for a busy server: with its default of
# new processes for every session, logins were most of the time the IMAP benches measured.
service imap-login {{
  service_count = 0
  inet_listener imap {{
    port = {imap_port}
  }}
  inet_listener imaps {{
    port = {imaps_port}
    ssl = yes
  }}
}}
service managesieve-login {{
  inet_listener sieve {{
    port = {sieve_port}
  }}
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0600
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
service imap {{
  service_count = 0
}}
protocol imap {{
  mail_max_userip_connections = 200
}}
plugin {{
  sieve = file:~/sieve;active=~/.dovecot.sieve
}}
"#
            ),
        )
        .unwrap();
        let dovecot = Dovecot {
            root,
            imap_port,
            imaps_port,
            sieve_port,
            tls: cert.is_some(),
            child: None,
        };
        dovecot.add_mailbox(PROBE);
        for mailbox in mailboxes {
            dovecot.add_mailbox(mailbox);
        }
        dovecot
    }

    fn config(&self) -> PathBuf {
        self.root.path().join("dovecot.conf")
    }

    /// Lets Dovecot open this mailbox (the master user logs in as it).
    pub fn add_mailbox(&self, mailbox: &str) {
        let mut users = std::fs::OpenOptions::new()
            .append(true)
            .open(self.root.path().join("users"))
            .unwrap();
        writeln!(users, "{mailbox}:{{PLAIN}}user-password-not-used").unwrap();
        let dir = self.mail_root().join(mailbox);
        for sub in ["cur", "new", "tmp"] {
            std::fs::create_dir_all(dir.join(sub)).unwrap();
        }
        let (uid, gid) = dovecot_ids();
        std::os::unix::fs::chown(self.mail_root(), Some(uid), Some(gid)).unwrap();
        chown_tree(&dir);
    }

    /// `mail_location = maildir:<this>/%u`.
    pub fn mail_root(&self) -> PathBuf {
        self.root.path().join("mail")
    }

    pub fn imap_url(&self) -> String {
        format!("imap://127.0.0.1:{}", self.imap_port)
    }

    pub fn sieve_url(&self) -> String {
        format!("sieve://127.0.0.1:{}", self.sieve_port)
    }

    fn run(&mut self) {
        if let Err(why) = self.try_run() {
            panic!("{why}");
        }
    }

    fn try_run(&mut self) -> Result<(), String> {
        let child = Command::new("dovecot")
            .arg("-F")
            .arg("-c")
            .arg(self.config())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("dovecot (dovecot-imapd) is installed");
        self.child = Some(child);
        self.wait_ready()
    }

    /// Ready means a login works, not just an open port. A Dovecot that exited says why.
    fn wait_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if self.login_works() {
                return Ok(());
            }
            if let Some(mut child) = self.child.take_if(|c| c.try_wait().unwrap().is_some()) {
                let mut stderr = String::new();
                if let Some(mut pipe) = child.stderr.take() {
                    let _ = std::io::Read::read_to_string(&mut pipe, &mut stderr);
                }
                let status = child.wait().unwrap();
                return Err(format!("dovecot exited ({status}): {stderr}{}", self.log()));
            }
            assert!(
                Instant::now() < deadline,
                "dovecot not ready: {}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// In clear text, a master-user login; with `ssl = required` (no login without TLS), the
    /// greeting and a login through the auth service.
    fn login_works(&self) -> bool {
        if self.tls {
            return self.greets()
                && self
                    .doveadm(&["auth", "test", PROBE, "user-password-not-used"])
                    .status
                    .success();
        }
        self.master_login_works()
    }

    fn greets(&self) -> bool {
        use std::io::{BufRead, BufReader};
        let Ok(stream) = TcpStream::connect(("127.0.0.1", self.imap_port)) else {
            return false;
        };
        stream.set_read_timeout(Some(Duration::from_secs(2))).ok();
        let mut line = String::new();
        BufReader::new(stream).read_line(&mut line).is_ok() && line.starts_with("* OK")
    }

    fn master_login_works(&self) -> bool {
        use std::io::{BufRead, BufReader};
        let Ok(stream) = TcpStream::connect(("127.0.0.1", self.imap_port)) else {
            return false;
        };
        stream.set_read_timeout(Some(Duration::from_secs(2))).ok();
        let mut writer = stream.try_clone().unwrap();
        let mut reader = BufReader::new(stream);
        let mut line = String::new();
        if reader.read_line(&mut line).is_err() {
            return false;
        }
        let _ = writeln!(
            writer,
            "a LOGIN \"{PROBE}*{MASTER_USER}\" \"{MASTER_PASSWORD}\"\r"
        );
        loop {
            line.clear();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => return false,
                Ok(_) if line.starts_with("a ") => return line.starts_with("a OK"),
                Ok(_) => {}
            }
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.root.path().join("dovecot.log")).unwrap_or_default()
    }

    /// Stops the server (SIGTERM to the master) and waits for it to go.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same ports and files.
    pub fn restart(&mut self) {
        self.stop();
        self.run();
    }

    /// Runs `doveadm` against this instance.
    pub fn doveadm(&self, args: &[&str]) -> std::process::Output {
        Command::new("doveadm")
            .arg("-c")
            .arg(self.config())
            .args(args)
            .output()
            .unwrap()
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        self.stop();
    }
}
