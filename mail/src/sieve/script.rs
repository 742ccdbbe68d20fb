//! What a Sieve script does with mail that could take it outside, read from its commands
//! wherever they sit (top level or nested in `if`/`elsif`/`else` and other blocks):
//! `redirect` (with or without `:copy`), enotify's `notify` (RFC 5435, and the older
//! `:method "mailto"` form), Dovecot's `pipe` and `execute`, and the `include`s that pull in
//! other scripts. Turning forwarding off replaces those commands with comments and leaves every
//! other byte of the script as it was, so every other rule keeps working.

use std::ops::Range;

use model::InternalDomains;

use super::lex::{lex, SieveError, Token};

/// One argument of a command.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Arg {
    Tag(String),
    Str(String),
    List(Vec<String>),
    Number,
}

/// A command that ends with `;`: its name, arguments and where it sits (name to `;`).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Command {
    name: String,
    args: Vec<Arg>,
    span: Range<usize>,
}

/// A way mail leaves through this script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forward {
    /// Where it goes, as the script writes it (an address, a variable, a program…).
    pub target: String,
    /// `redirect`, `notify`, `pipe` or `execute`.
    pub how: &'static str,
    pub span: Range<usize>,
}

/// An `include` of another script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Include {
    pub name: String,
    /// `:global` (the administrator's scripts) rather than `:personal`.
    pub global: bool,
    pub span: Range<usize>,
}

/// Everything in a script that matters to forwarding.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reading {
    pub forwards: Vec<Forward>,
    pub includes: Vec<Include>,
}

impl Forward {
    /// Whether this stays inside: only a `redirect` or a `mailto:` notification to a plain
    /// address on an internal domain does. Variables, encoded characters, programs and
    /// anything unreadable count as outside: when in doubt, forwarding is turned off.
    pub fn is_internal(&self, internal: &InternalDomains) -> bool {
        matches!(self.how, "redirect" | "notify") && internal.is_internal_address(&self.target)
    }
}

/// Reads a script; an error when it cannot be read safely.
pub fn read(text: &str) -> Result<Reading, SieveError> {
    let mut reading = Reading::default();
    for command in commands(text)? {
        match command.name.as_str() {
            "redirect" => reading.forwards.extend(redirect(&command)),
            "notify" => reading.forwards.extend(notify(&command)),
            "pipe" | "execute" => reading.forwards.extend(program(&command)),
            "include" => reading.includes.extend(include(&command)),
            _ => {}
        }
    }
    Ok(reading)
}

/// Every command that ends with `;`, in order.
fn commands(text: &str) -> Result<Vec<Command>, SieveError> {
    let tokens = lex(text)?;
    let mut found = Vec::new();
    let mut blocks = 0usize;
    let mut i = 0;
    while i < tokens.len() {
        match &tokens[i].0 {
            Token::Identifier(word) if !matches!(word.as_str(), "if" | "elsif" | "else") => {
                let (command, next) = command_at(&tokens, i)?;
                found.extend(command);
                i = next;
                continue;
            }
            Token::Open('{') => blocks += 1,
            Token::Close('}') => {
                blocks = blocks.checked_sub(1).ok_or(SieveError {
                    at: tokens[i].1.start,
                    what: "a } without its {",
                })?;
            }
            _ => {}
        }
        i += 1;
    }
    if blocks != 0 {
        return Err(SieveError {
            at: text.len(),
            what: "a { is not closed",
        });
    }
    Ok(found)
}

/// The command starting at token `start`: `None` for one that opens a block instead of ending
/// with `;` (its block's commands are read on their own). Answers where to go on.
fn command_at(
    tokens: &[(Token, Range<usize>)],
    start: usize,
) -> Result<(Option<Command>, usize), SieveError> {
    let (Token::Identifier(name), span) = &tokens[start] else {
        unreachable!("called at an identifier")
    };
    let mut args = Vec::new();
    let mut depth = 0usize;
    let mut list: Option<Vec<String>> = None;
    let mut i = start + 1;
    while let Some((token, at)) = tokens.get(i) {
        match token {
            Token::Semicolon if depth == 0 => {
                let command = Command {
                    name: name.clone(),
                    args,
                    span: span.start..at.end,
                };
                return Ok((Some(command), i + 1));
            }
            // A test's parentheses, or a block: the block's commands are read on their own.
            Token::Open('{') if depth == 0 => return Ok((None, i)),
            Token::Open('[') => list = Some(Vec::new()),
            Token::Close(']') => args.push(Arg::List(list.take().unwrap_or_default())),
            Token::Open(_) => depth += 1,
            Token::Close(_) => depth = depth.saturating_sub(1),
            Token::String(value) => match &mut list {
                Some(items) => items.push(value.clone()),
                None => args.push(Arg::Str(value.clone())),
            },
            Token::Tag(tag) => args.push(Arg::Tag(tag.clone())),
            Token::Number => args.push(Arg::Number),
            _ => {}
        }
        i += 1;
    }
    Err(SieveError {
        at: span.start,
        what: "a command has no closing ;",
    })
}

/// The positional strings of a command, after skipping each tag that takes an argument.
fn positional<'a>(command: &'a Command, tags_with_values: &[&str]) -> Vec<&'a str> {
    let mut out = Vec::new();
    let mut skip = false;
    for arg in &command.args {
        match arg {
            Arg::Tag(tag) => skip = tags_with_values.contains(&tag.as_str()),
            _ if skip => skip = false,
            Arg::Str(value) => out.push(value.as_str()),
            Arg::List(items) => out.extend(items.iter().map(String::as_str)),
            Arg::Number => {}
        }
    }
    out
}

/// The value of a tag that takes one: `:method "mailto"`.
fn tagged<'a>(command: &'a Command, tag: &str) -> Option<Vec<&'a str>> {
    let at = command
        .args
        .iter()
        .position(|a| matches!(a, Arg::Tag(t) if t == tag))?;
    match command.args.get(at + 1)? {
        Arg::Str(value) => Some(vec![value.as_str()]),
        Arg::List(items) => Some(items.iter().map(String::as_str).collect()),
        _ => None,
    }
}

fn forward(command: &Command, how: &'static str, target: &str) -> Forward {
    Forward {
        target: target.to_string(),
        how,
        span: command.span.clone(),
    }
}

/// `redirect [:copy] [:list] "address"`: the last string is where mail goes.
fn redirect(command: &Command) -> Vec<Forward> {
    let target = positional(command, &[]).last().copied().unwrap_or("");
    vec![forward(command, "redirect", target)]
}

/// `notify [:from s] [:importance s] [:options l] [:message s] "method"` (RFC 5435), or the
/// older `notify :method "mailto" :options ["addr"]`. A `mailto:` method sends mail to its
/// address; any other method (xmpp:, tel:…) sends word of the mail outside all the same.
fn notify(command: &Command) -> Vec<Forward> {
    if let Some(method) = tagged(command, "method") {
        if method
            .first()
            .is_some_and(|m| m.eq_ignore_ascii_case("mailto"))
        {
            let to = tagged(command, "options").unwrap_or_default();
            if to.is_empty() {
                return vec![forward(command, "notify", "mailto")];
            }
            return to.iter().map(|a| forward(command, "notify", a)).collect();
        }
        return method
            .iter()
            .map(|m| forward(command, "notify", m))
            .collect();
    }
    let args = positional(command, &["from", "importance", "options", "message"]);
    let method = args.last().copied().unwrap_or("");
    let target = match method.get(..7) {
        Some(scheme) if scheme.eq_ignore_ascii_case("mailto:") => {
            let address = &method[7..];
            address.split(['?', ',']).next().unwrap_or(address)
        }
        _ => method,
    };
    vec![forward(command, "notify", target)]
}

/// Dovecot's `pipe` and `execute`: the message goes to a program, and from there anywhere.
fn program(command: &Command) -> Vec<Forward> {
    let how = if command.name == "pipe" {
        "pipe"
    } else {
        "execute"
    };
    let program = positional(command, &[]).first().copied().unwrap_or("");
    vec![forward(command, how, &format!("program {program}"))]
}

/// `include [:personal / :global] [:once] [:optional] "name"`.
fn include(command: &Command) -> Option<Include> {
    let name = positional(command, &[]).last()?.to_string();
    let global = command
        .args
        .iter()
        .any(|a| matches!(a, Arg::Tag(t) if t == "global"));
    Some(Include {
        name,
        global,
        span: command.span.clone(),
    })
}

/// The script with each span replaced: a command turned into a comment, or rewritten.
pub fn replace(text: &str, changes: &mut [(Range<usize>, String)]) -> String {
    changes.sort_by_key(|(span, _)| span.start);
    let mut out = String::with_capacity(text.len() + 64 * changes.len());
    let mut copied = 0;
    for (span, with) in changes.iter() {
        if span.start < copied {
            continue;
        }
        out.push_str(&text[copied..span.start]);
        out.push_str(with);
        copied = span.end;
    }
    out.push_str(&text[copied..]);
    out
}

/// A bracket comment saying what was turned off; nothing the script wrote can close it.
pub fn comment(what: &str) -> String {
    let safe = what
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .replace("*/", "* /");
    format!("/* airdesk: turned off {safe} */")
}

#[cfg(test)]
mod tests;
