//! A small ManageSieve client (RFC 5804): enough to read, store and activate a mailbox's Sieve
//! scripts on a remote server. No maintained client crate exists; the protocol is a handful of
//! line-based commands with quoted strings and literals.

use std::time::Duration;

use base64::Engine;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};

use super::settings::Endpoint;
use crate::tls::{MailStream, Security, Tls};

/// The longest response line or literal accepted: scripts are small.
const MAX_LITERAL: usize = 4 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum ManageSieveError {
    /// The connection failed or the server spoke something else.
    #[error("ManageSieve: {0}")]
    Io(String),
    /// The server answered NO (or BYE), with its code and words.
    #[error("ManageSieve refused: {code}{text}")]
    No { code: String, text: String },
}

impl From<std::io::Error> for ManageSieveError {
    fn from(error: std::io::Error) -> Self {
        ManageSieveError::Io(error.to_string())
    }
}

impl ManageSieveError {
    /// The server's response code (e.g. `NONEXISTENT`), if it refused with one.
    pub fn code(&self) -> Option<&str> {
        match self {
            ManageSieveError::No { code, .. } if !code.is_empty() => {
                Some(code.trim_start_matches('(').trim_end_matches(") "))
            }
            _ => None,
        }
    }
}

type Result<T> = std::result::Result<T, ManageSieveError>;

mod wire;
use wire::{parse_items, quote, split_literal, status_of, Item};

/// A response: the data lines before the final status line, and whether it was OK.
#[derive(Debug)]
struct Response {
    lines: Vec<Vec<Item>>,
}

/// A ManageSieve session over any byte stream (TCP or TLS in use, an in-memory pipe in tests).
pub struct Client<S> {
    stream: BufReader<S>,
    /// The last capability listing (the greeting, or after TLS): each name and its value.
    capabilities: Vec<(String, String)>,
}

impl Client<MailStream> {
    /// Connects, reads the greeting and, if the endpoint asks for it, runs STARTTLS: a server
    /// that does not offer it, or refuses it, is an error, never a session in clear text.
    pub async fn connect(endpoint: &Endpoint, tls: &Tls, timeout: Duration) -> Result<Self> {
        let address = endpoint.address();
        let opened = tokio::time::timeout(timeout, endpoint.open(tls))
            .await
            .map_err(|_| ManageSieveError::Io(format!("connecting to {address} timed out")))?
            .map_err(ManageSieveError::Io)?;
        let client = Client::start(opened).await?;
        match endpoint.security {
            Security::StartTls => client.starttls(tls, &endpoint.host, &address).await,
            Security::Plain | Security::Implicit => Ok(client),
        }
    }

    /// How the session is carried: TLS (version and suite) or clear text.
    pub fn transport(&self) -> String {
        self.stream.get_ref().describe()
    }

    async fn starttls(mut self, tls: &Tls, host: &str, address: &str) -> Result<Self> {
        if !self.offers("STARTTLS") {
            return Err(ManageSieveError::Io(format!(
                "{address} does not offer STARTTLS, which is required; not continuing in clear \
                 text"
            )));
        }
        self.command("STARTTLS").await?;
        // Bytes that came with or after the OK were sent in clear text: a server (or someone
        // between) trying to slip them into the TLS session.
        if !self.stream.buffer().is_empty() {
            return Err(ManageSieveError::Io(format!(
                "{address} sent data after agreeing to STARTTLS; refused"
            )));
        }
        let MailStream::Plain(tcp) = self.stream.into_inner() else {
            return Err(ManageSieveError::Io("STARTTLS on a TLS session".into()));
        };
        let stream = tls.connect(host, tcp).await.map_err(ManageSieveError::Io)?;
        // RFC 5804 2.2: the server lists its capabilities again once TLS is up.
        Client::start(stream).await
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Client<S> {
    /// Reads the greeting (the capabilities, then OK).
    pub async fn start(stream: S) -> Result<Self> {
        let mut client = Client {
            stream: BufReader::new(stream),
            capabilities: Vec::new(),
        };
        let greeting = client.response().await?;
        client.capabilities = greeting
            .lines
            .into_iter()
            .filter_map(|line| {
                let mut texts = line.into_iter().map(|item| match item {
                    Item::String(text) | Item::Atom(text) => text,
                });
                Some((texts.next()?, texts.next().unwrap_or_default()))
            })
            .collect();
        Ok(client)
    }

    /// Whether the last capability listing named `capability` (case-insensitive).
    pub fn offers(&self, capability: &str) -> bool {
        self.capabilities
            .iter()
            .any(|(name, _)| name.eq_ignore_ascii_case(capability))
    }

    /// The last capability listing, as `NAME value` lines.
    pub fn capabilities(&self) -> Vec<String> {
        self.capabilities
            .iter()
            .map(|(name, value)| format!("{name} {value}").trim_end().to_string())
            .collect()
    }

    /// SASL PLAIN: acts as `authorize_as` (a mailbox), authenticated as `user` (the service
    /// account; with Dovecot a master user may also log in as `mailbox*master`).
    pub async fn authenticate(
        &mut self,
        authorize_as: &str,
        user: &str,
        password: &str,
    ) -> Result<()> {
        let token = base64::engine::general_purpose::STANDARD
            .encode(format!("{authorize_as}\0{user}\0{password}"));
        self.command(&format!("AUTHENTICATE \"PLAIN\" \"{token}\""))
            .await?;
        Ok(())
    }

    /// Every script's name and whether it is the active one.
    pub async fn list_scripts(&mut self) -> Result<Vec<(String, bool)>> {
        let response = self.command("LISTSCRIPTS").await?;
        Ok(response
            .lines
            .into_iter()
            .filter_map(|line| {
                let mut items = line.into_iter();
                let name = match items.next()? {
                    Item::String(name) => name,
                    Item::Atom(_) => return None,
                };
                let active =
                    matches!(items.next(), Some(Item::Atom(a)) if a.eq_ignore_ascii_case("ACTIVE"));
                Some((name, active))
            })
            .collect())
    }

    /// A script's text; `None` if there is no such script.
    pub async fn get_script(&mut self, name: &str) -> Result<Option<String>> {
        match self.command(&format!("GETSCRIPT {}", quote(name)?)).await {
            Ok(response) => Ok(response
                .lines
                .into_iter()
                .flatten()
                .find_map(|item| match item {
                    Item::String(text) => Some(text),
                    Item::Atom(_) => None,
                })
                .or(Some(String::new()))),
            Err(error) if error.code() == Some("NONEXISTENT") => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// Stores a script (the server checks it compiles, and refuses it otherwise).
    pub async fn put_script(&mut self, name: &str, text: &str) -> Result<()> {
        let command = format!("PUTSCRIPT {} {{{}+}}\r\n{text}", quote(name)?, text.len());
        self.command(&command).await?;
        Ok(())
    }

    /// Makes the named script the active one.
    pub async fn set_active(&mut self, name: &str) -> Result<()> {
        self.command(&format!("SETACTIVE {}", quote(name)?)).await?;
        Ok(())
    }

    pub async fn logout(mut self) {
        let _ = self.command("LOGOUT").await;
    }

    async fn command(&mut self, command: &str) -> Result<Response> {
        let stream = self.stream.get_mut();
        stream.write_all(command.as_bytes()).await?;
        stream.write_all(b"\r\n").await?;
        stream.flush().await?;
        self.response().await
    }

    /// Reads lines until the status line: OK returns the data lines, NO and BYE are errors.
    async fn response(&mut self) -> Result<Response> {
        let mut lines = Vec::new();
        loop {
            let items = self.read_line().await?;
            if let Some(status) = status_of(&items) {
                return status.map(|()| Response { lines });
            }
            lines.push(items);
        }
    }

    /// SASL with one client message (XOAUTH2, OAUTHBEARER). A refusing server first sends a
    /// challenge with its reason; an empty answer lets it finish with NO.
    pub async fn authenticate_sasl(&mut self, mechanism: &str, initial: &str) -> Result<()> {
        let encoded = base64::engine::general_purpose::STANDARD.encode(initial);
        let stream = self.stream.get_mut();
        stream
            .write_all(format!("AUTHENTICATE {} \"{encoded}\"\r\n", quote(mechanism)?).as_bytes())
            .await?;
        stream.flush().await?;
        loop {
            let items = self.read_line().await?;
            if let Some(status) = status_of(&items) {
                return status;
            }
            if matches!(items.first(), Some(Item::String(_))) {
                let stream = self.stream.get_mut();
                stream.write_all(b"\"\"\r\n").await?;
                stream.flush().await?;
            }
        }
    }

    /// One response line as items; literals (`{n}` then n bytes) are read inline.
    async fn read_line(&mut self) -> Result<Vec<Item>> {
        let mut items = Vec::new();
        loop {
            let mut raw = Vec::new();
            let read = (&mut self.stream)
                .take(MAX_LITERAL as u64)
                .read_until(b'\n', &mut raw)
                .await?;
            if read == 0 {
                return Err(ManageSieveError::Io(
                    "the server closed the connection".into(),
                ));
            }
            let line = String::from_utf8_lossy(&raw);
            let line = line.trim_end_matches(['\r', '\n']);
            let (rest, literal) = split_literal(line)?;
            items.extend(parse_items(rest)?);
            let Some(length) = literal else {
                return Ok(items);
            };
            if length > MAX_LITERAL {
                return Err(ManageSieveError::Io("a literal over the size limit".into()));
            }
            let mut bytes = vec![0; length];
            self.stream.read_exact(&mut bytes).await?;
            items.push(Item::String(String::from_utf8_lossy(&bytes).into_owned()));
            // The line goes on after the literal (often just CRLF).
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A scripted server on the other end of an in-memory pipe: answers each expected command.
    async fn session(
        exchanges: Vec<(&'static str, &'static str)>,
    ) -> Client<tokio::io::DuplexStream> {
        let (client, mut server) = tokio::io::duplex(64 * 1024);
        tokio::spawn(async move {
            server
                .write_all(b"\"IMPLEMENTATION\" \"Test\"\r\n\"SASL\" \"PLAIN\"\r\nOK \"ready\"\r\n")
                .await
                .unwrap();
            let mut reader = BufReader::new(server);
            for (expected, answer) in exchanges {
                let mut got = vec![0; expected.len()];
                reader.read_exact(&mut got).await.unwrap();
                assert_eq!(String::from_utf8_lossy(&got), expected);
                reader.get_mut().write_all(answer.as_bytes()).await.unwrap();
            }
        });
        Client::start(client).await.unwrap()
    }

    #[tokio::test]
    async fn lists_scripts_and_reads_literals() {
        let mut client = session(vec![
            (
                "LISTSCRIPTS\r\n",
                "\"rules\" ACTIVE\r\n\"old \\\"one\\\"\"\r\nOK\r\n",
            ),
            (
                "GETSCRIPT \"rules\"\r\n",
                "{22}\r\nredirect \"a@b.test\";\r\n\r\nOK\r\n",
            ),
            (
                "GETSCRIPT \"gone\"\r\n",
                "NO (NONEXISTENT) \"There is no script by that name\"\r\n",
            ),
        ])
        .await;
        assert_eq!(
            client.list_scripts().await.unwrap(),
            [
                ("rules".to_string(), true),
                ("old \"one\"".to_string(), false)
            ]
        );
        assert_eq!(
            client.get_script("rules").await.unwrap().as_deref(),
            Some("redirect \"a@b.test\";\r\n")
        );
        assert_eq!(client.get_script("gone").await.unwrap(), None);
    }

    #[tokio::test]
    async fn puts_with_a_literal_and_reports_refusals() {
        let mut client = session(vec![
            (
                "AUTHENTICATE \"PLAIN\" \"YUBleC50ZXN0AGFkbWluAHNlY3JldA==\"\r\n",
                "OK \"Logged in.\"\r\n",
            ),
            ("PUTSCRIPT \"x\" {5+}\r\nkeep;\r\n", "OK\r\n"),
            (
                "SETACTIVE \"x\"\r\n",
                "NO \"line 1: error: unknown command\"\r\n",
            ),
        ])
        .await;
        client
            .authenticate("a@ex.test", "admin", "secret")
            .await
            .unwrap();
        client.put_script("x", "keep;").await.unwrap();
        let refused = client.set_active("x").await.unwrap_err();
        assert!(refused.to_string().contains("unknown command"), "{refused}");
    }
}
