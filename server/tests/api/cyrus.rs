//! A real Cyrus IMAP 3.6 (Debian's packages, unpacked by scripts/setup under target/cyrus —
//! installing them would remove Dovecot) for the tests: IMAP, JMAP over HTTP and ManageSieve
//! on free loopback ports, from a generated configuration in a folder of its own, any password
//! accepted (`alwaystrue`); stopped when dropped. Each mailbox signs in once over IMAP (which
//! creates its account and role folders) and grants the service account its folders.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

/// The account airdesk signs in as; each mailbox's ACL lets it in.
pub const SERVICE: &str = "airdesk";
/// Any password does (`sasl_pwcheck_method: alwaystrue`).
pub const PASSWORD: &str = "any password";
/// The rights the service account gets on every folder of a mailbox.
const RIGHTS: &str = "lrswipkxtecdan";

pub struct Cyrus {
    dir: TempDir,
    pub imap_port: u16,
    pub http_port: u16,
    pub sieve_port: u16,
    child: Option<Child>,
}

/// A free loopback port no other test of this process has been given (a port the kernel
/// hands out may come back to a second test before the first one's server binds it).
fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU16, Ordering};
    static NEXT: AtomicU16 = AtomicU16::new(0);
    let _ = NEXT.compare_exchange(
        0,
        20_000 + (std::process::id() % 20_000) as u16,
        Ordering::SeqCst,
        Ordering::SeqCst,
    );
    loop {
        let port = NEXT.fetch_add(1, Ordering::SeqCst);
        if port > 60_000 {
            NEXT.store(20_000, Ordering::SeqCst);
            continue;
        }
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// Where scripts/setup unpacked Debian's Cyrus packages.
fn cyrus_root() -> PathBuf {
    let root = std::env::var_os("AIRDESK_CYRUS_ROOT")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/cyrus/root"));
    assert!(
        root.join("usr/lib/cyrus/bin/master").exists(),
        "Cyrus is not unpacked at {} (run scripts/setup)",
        root.display()
    );
    root
}

fn library_path(root: &Path) -> String {
    format!(
        "{}:{}",
        root.join("usr/lib/x86_64-linux-gnu").display(),
        root.join("lib/x86_64-linux-gnu").display()
    )
}

/// The uid and gid Cyrus runs as (it refuses root).
fn nobody() -> (u32, u32) {
    let id = |flag: &str, name: &str| -> u32 {
        let out = Command::new("id").args([flag, name]).output().unwrap();
        String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
    };
    (id("-u", "nobody"), id("-g", "nobody"))
}

fn chown_tree(path: &Path) {
    let (uid, gid) = nobody();
    std::os::unix::fs::chown(path, Some(uid), Some(gid)).unwrap();
    if path.is_dir() && !path.is_symlink() {
        for entry in std::fs::read_dir(path).unwrap() {
            chown_tree(&entry.unwrap().path());
        }
    }
}

impl Cyrus {
    /// Starts a Cyrus with these mailboxes, each opened to [`SERVICE`].
    pub fn start(mailboxes: &[&str]) -> Cyrus {
        let root = cyrus_root();
        let dir = tempfile::Builder::new()
            .prefix("cy")
            .tempdir_in("/tmp")
            .unwrap();
        let d = dir.path();
        for sub in [
            "conf/db",
            "conf/socket",
            "conf/proc",
            "conf/lock",
            "conf/sieve",
            "part",
        ] {
            std::fs::create_dir_all(d.join(sub)).unwrap();
        }
        let (imap_port, http_port, sieve_port) = (free_port(), free_port(), free_port());
        let conf = d.join("imapd.conf");
        std::fs::write(
            &conf,
            format!(
                "configdirectory: {d}/conf\npartition-default: {d}/part\nsievedir: {d}/conf/sieve\n\
proc_path: {d}/conf/proc\nmboxname_lockpath: {d}/conf/lock\nlmtpsocket: {d}/conf/socket/lmtp\n\
idlesocket: {d}/conf/socket/idle\nnotifysocket: {d}/conf/socket/notify\n\
cyrus_user: nobody\ncyrus_group: {group}\nadmins: admin\nsasl_pwcheck_method: alwaystrue\n\
allowplaintext: yes\nvirtdomains: userid\naltnamespace: yes\nunixhierarchysep: yes\n\
httpmodules: jmap\nconversations: yes\nconversations_db: twoskip\n\
jmap_nonstandard_extensions: yes\njmap_vacation: no\nautocreate_post: yes\nautocreate_quota: 0\n\
autocreate_inbox_folders: Drafts|Sent|Trash|Archive|Junk\nxlist-drafts: Drafts\nxlist-sent: Sent\n\
xlist-trash: Trash\nxlist-archive: Archive\nxlist-junk: Junk\nspecialusealways: yes\n\
httpallowcompress: no\nsieve_maxscripts: 10\nproxyservers: {SERVICE}\ndefaultpartition: default\n",
                d = d.display(),
                group = group_of_nobody(),
            ),
        )
        .unwrap();
        let bin = root.join("usr/lib/cyrus/bin");
        let cmd = |name: &str| format!("{} -C {}", bin.join(name).display(), conf.display());
        std::fs::write(
            d.join("cyrus.conf"),
            format!(
                "START {{\n  recover cmd=\"{recover} -r\"\n}}\nSERVICES {{\n\
  imap cmd=\"{imapd}\" listen=\"127.0.0.1:{imap_port}\" prefork=0\n\
  http cmd=\"{httpd}\" listen=\"127.0.0.1:{http_port}\" prefork=0\n\
  sieve cmd=\"{timsieved}\" listen=\"127.0.0.1:{sieve_port}\" prefork=0\n}}\n\
EVENTS {{\n}}\nDAEMON {{\n}}\n",
                recover = cmd("ctl_cyrusdb"),
                imapd = cmd("imapd"),
                httpd = cmd("httpd"),
                timsieved = cmd("timsieved"),
            ),
        )
        .unwrap();
        chown_tree(d);
        let mut command = Command::new(bin.join("master"));
        command
            .args(["-C"])
            .arg(&conf)
            .arg("-M")
            .arg(d.join("cyrus.conf"))
            .arg("-p")
            .arg(d.join("master.pid"))
            .arg("-D")
            // A group of its own: a master shutting down signals its whole process group,
            // which would otherwise take the other tests' Cyrus servers down with it.
            .process_group(0)
            .env("LD_LIBRARY_PATH", library_path(&root))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let child = command.spawn().expect("start Cyrus master");
        let cyrus = Cyrus {
            dir,
            imap_port,
            http_port,
            sieve_port,
            child: Some(child),
        };
        let deadline = Instant::now() + Duration::from_secs(15);
        for port in [imap_port, http_port, sieve_port] {
            while TcpStream::connect(("127.0.0.1", port)).is_err() {
                assert!(Instant::now() < deadline, "Cyrus did not listen on {port}");
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        for mailbox in mailboxes {
            cyrus.open_to_service(mailbox);
        }
        cyrus
    }

    /// The mailbox signs in (creating its account and role folders) and grants the service
    /// account every folder it has.
    pub fn open_to_service(&self, mailbox: &str) {
        self.as_owner(mailbox, |imap| {
            for folder in ["INBOX", "Junk", "Trash", "Drafts", "Sent", "Archive"] {
                imap.ok(&format!("SETACL \"{folder}\" {SERVICE} {RIGHTS}"));
            }
        });
    }

    /// The JMAP session resource.
    pub fn session_url(&self) -> url::Url {
        url::Url::parse(&format!(
            "http://127.0.0.1:{}/.well-known/jmap",
            self.http_port
        ))
        .unwrap()
    }

    /// Acts over IMAP as the mailbox's owner (what a mail client would do), in a session of
    /// its own that logs out afterwards.
    pub fn as_owner<T>(&self, mailbox: &str, act: impl FnOnce(&mut RawImap) -> T) -> T {
        act(&mut RawImap::login(self.imap_port, mailbox))
    }

    /// The owners' own ManageSieve sessions (each signs in as itself, no service account):
    /// what a mail client's filter editor would do, to set up and read back their rules.
    pub fn owner_sieve(&self) -> mail::imap::ManageSieve {
        let settings = mail::imap::ImapSettings {
            imap: mail::imap::Endpoint::loopback(self.imap_port),
            user: String::new(),
            password: PASSWORD.into(),
            oauth2: None,
            master_separator: String::new(),
            managesieve: Some(mail::imap::Endpoint::loopback(self.sieve_port)),
            tls: mail::tls::Tls::new(&mail::tls::TlsSettings::default()).unwrap(),
            max_connections: 1,
            index_connections: 1,
            sieve_connections: 1,
            timeout: Duration::from_secs(5),
        };
        mail::imap::Imap::new(settings, mail::Folders::default()).sieve()
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

fn group_of_nobody() -> String {
    let out = Command::new("id").args(["-gn", "nobody"]).output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

impl Drop for Cyrus {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            // SIGTERM: master stops its services and exits.
            let _ = Command::new("kill").arg(child.id().to_string()).status();
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for RawImap {
    fn drop(&mut self) {
        let _ = self.writer.write_all(b"z LOGOUT\r\n");
        let mut rest = String::new();
        while self.reader.read_line(&mut rest).is_ok_and(|n| n > 0) {
            if rest.starts_with("z ") {
                break;
            }
            rest.clear();
        }
    }
}

/// Just enough IMAP for a test to act as a mailbox's owner: commands one at a time, the
/// tagged answer checked.
pub struct RawImap {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
    tag: u32,
}

impl RawImap {
    fn login(port: u16, user: &str) -> RawImap {
        let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        // A command and its literal go in separate writes: without this, each waits for the
        // delayed ACK of the one before (40 ms an APPEND).
        stream.set_nodelay(true).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(15)))
            .unwrap();
        let mut imap = RawImap {
            reader: BufReader::new(stream.try_clone().unwrap()),
            writer: stream,
            tag: 0,
        };
        let mut greeting = String::new();
        imap.reader.read_line(&mut greeting).unwrap();
        imap.ok(&format!("LOGIN \"{user}\" \"{PASSWORD}\""));
        imap
    }

    /// Sends a command; returns the untagged lines, panicking unless it ends OK.
    pub fn ok(&mut self, command: &str) -> Vec<String> {
        self.send(command.as_bytes(), None)
            .unwrap_or_else(|e| panic!("{command}: {e}"))
    }

    /// Appends a message to a folder, flagged Seen.
    pub fn append(&mut self, folder: &str, raw: &[u8]) {
        let command = format!("APPEND \"{folder}\" (\\Seen) {{{}+}}", raw.len());
        self.send(command.as_bytes(), Some(raw))
            .unwrap_or_else(|e| panic!("{command}: {e}"));
    }

    /// Sends a command: the untagged lines, or the tagged answer other than OK.
    fn send(&mut self, command: &[u8], literal: Option<&[u8]>) -> Result<Vec<String>, String> {
        self.tag += 1;
        let tag = format!("t{}", self.tag);
        self.writer.write_all(tag.as_bytes()).unwrap();
        self.writer.write_all(b" ").unwrap();
        self.writer.write_all(command).unwrap();
        self.writer.write_all(b"\r\n").unwrap();
        if let Some(literal) = literal {
            self.writer.write_all(literal).unwrap();
            self.writer.write_all(b"\r\n").unwrap();
        }
        let mut untagged = Vec::new();
        loop {
            let mut line = String::new();
            assert!(
                self.reader.read_line(&mut line).unwrap() > 0,
                "Cyrus hung up"
            );
            if let Some(rest) = line.strip_prefix(&format!("{tag} ")) {
                return match rest.starts_with("OK") {
                    true => Ok(untagged),
                    false => Err(rest.to_string()),
                };
            }
            untagged.push(line);
        }
    }

    /// UIDs in the selected folder whose Message-ID header is `id`.
    pub fn uids_of(&mut self, folder: &str, id: &str) -> Vec<String> {
        self.ok(&format!("SELECT \"{folder}\""));
        self.ok(&format!("UID SEARCH HEADER Message-ID \"{id}\""))
            .iter()
            .filter_map(|l| l.strip_prefix("* SEARCH"))
            .flat_map(|l| l.split_whitespace().map(str::to_string).collect::<Vec<_>>())
            .collect()
    }

    /// Each message in a folder as Maildir would name its flags: `<uid>:2,S` when Seen.
    pub fn files(&mut self, folder: &str) -> Vec<String> {
        let Ok(selected) = self.send(format!("SELECT \"{folder}\"").as_bytes(), None) else {
            return Vec::new(); // no such folder
        };
        let exists = selected
            .iter()
            .find_map(|l| {
                l.strip_prefix("* ")?
                    .strip_suffix(" EXISTS\r\n")?
                    .parse::<u32>()
                    .ok()
            })
            .unwrap_or(0);
        if exists == 0 {
            return Vec::new();
        }
        self.ok("UID FETCH 1:* (FLAGS)")
            .iter()
            .filter(|l| l.contains("FETCH"))
            .map(|l| {
                let uid = l
                    .split("UID ")
                    .nth(1)
                    .and_then(|r| r.split([' ', ')']).next())
                    .unwrap_or("?");
                let seen = if l.contains("\\Seen") { "S" } else { "" };
                format!("{uid}:2,{seen}")
            })
            .collect()
    }
}
