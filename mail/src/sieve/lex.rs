//! The Sieve lexer (RFC 5228 §2): comments, quoted and multi-line strings, string lists,
//! tags, numbers and blocks — the whole language's tokens, each with where it sits, so a
//! change can replace one command and leave every other byte as it was.

use std::ops::Range;

/// A script that cannot be read safely: nothing is changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the Sieve script cannot be read at byte {at}: {what}")]
pub struct SieveError {
    pub at: usize,
    pub what: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Token {
    Identifier(String),
    Tag(String),
    Number,
    /// A quoted or multi-line string, unescaped.
    String(String),
    Open(char),
    Close(char),
    Comma,
    Semicolon,
}

pub(super) fn lex(text: &str) -> Result<Vec<(Token, Range<usize>)>, SieveError> {
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < text.len() {
        let (token, end) = next_token(text, i)?;
        if let Some(token) = token {
            tokens.push((token, i..end));
        }
        i = end;
    }
    Ok(tokens)
}

/// The token starting at `start` (none for space and comments), and where it ends.
fn next_token(text: &str, start: usize) -> Result<(Option<Token>, usize), SieveError> {
    let bytes = text.as_bytes();
    let error = |what| SieveError { at: start, what };
    let one = |token| Ok((Some(token), start + 1));
    let c = bytes[start];
    match c {
        b' ' | b'\t' | b'\r' | b'\n' => Ok((None, start + 1)),
        b'#' => Ok((
            None,
            text[start..].find('\n').map_or(text.len(), |n| start + n),
        )),
        b'/' if bytes.get(start + 1) == Some(&b'*') => {
            let end = text[start + 2..]
                .find("*/")
                .ok_or(error("a comment is not closed"))?;
            Ok((None, start + 2 + end + 2))
        }
        b'"' => quoted_string(text, start),
        b'[' | b'{' | b'(' => one(Token::Open(c as char)),
        b']' | b'}' | b')' => one(Token::Close(c as char)),
        b',' => one(Token::Comma),
        b';' => one(Token::Semicolon),
        b':' => {
            let word = identifier_at(bytes, start + 1);
            if word == 0 {
                return Err(error("a tag has no name"));
            }
            let end = start + 1 + word;
            let tag = text[start + 1..end].to_ascii_lowercase();
            Ok((Some(Token::Tag(tag)), end))
        }
        b'0'..=b'9' => {
            let mut end = start;
            while end < bytes.len() && bytes[end].is_ascii_digit() {
                end += 1;
            }
            if end < bytes.len() && matches!(bytes[end] | 0x20, b'k' | b'm' | b'g') {
                end += 1;
            }
            Ok((Some(Token::Number), end))
        }
        _ if c.is_ascii_alphabetic() || c == b'_' => word(text, start),
        _ => Err(error("an unexpected character")),
    }
}

/// A quoted string starting at its opening quote, unescaped.
fn quoted_string(text: &str, start: usize) -> Result<(Option<Token>, usize), SieveError> {
    let bytes = text.as_bytes();
    let mut value = String::new();
    let mut i = start + 1;
    loop {
        match bytes.get(i) {
            None => {
                return Err(SieveError {
                    at: start,
                    what: "a string is not closed",
                })
            }
            Some(b'"') => return Ok((Some(Token::String(value)), i + 1)),
            Some(b'\\') if i + 1 < bytes.len() => {
                let ch = text[i + 1..].chars().next().unwrap_or('\\');
                value.push(ch);
                i += 1 + ch.len_utf8();
            }
            Some(_) => {
                let ch = text[i..].chars().next().unwrap_or('?');
                value.push(ch);
                i += ch.len_utf8();
            }
        }
    }
}

/// An identifier, or the `text:` that starts a multi-line string.
fn word(text: &str, start: usize) -> Result<(Option<Token>, usize), SieveError> {
    let bytes = text.as_bytes();
    let end = start + identifier_at(bytes, start);
    let word = text[start..end].to_ascii_lowercase();
    if word == "text" && bytes.get(end) == Some(&b':') {
        let (value, end) = multi_line(text, end + 1).ok_or(SieveError {
            at: start,
            what: "a text: string is not closed",
        })?;
        return Ok((Some(Token::String(value)), end));
    }
    Ok((Some(Token::Identifier(word)), end))
}

fn identifier_at(bytes: &[u8], from: usize) -> usize {
    let mut n = 0;
    while let Some(&b) = bytes.get(from + n) {
        let ok = if n == 0 {
            b.is_ascii_alphabetic() || b == b'_'
        } else {
            b.is_ascii_alphanumeric() || b == b'_'
        };
        if !ok {
            break;
        }
        n += 1;
    }
    n
}

/// A `text:` string starting after the colon: the rest of that line (spaces, maybe a comment)
/// is skipped; lines follow until one holding only a dot. Returns the value and the index after
/// the closing line.
fn multi_line(text: &str, from: usize) -> Option<(String, usize)> {
    let first_newline = text[from..].find('\n')? + from + 1;
    let mut value = String::new();
    let mut at = first_newline;
    loop {
        let end = text[at..].find('\n').map(|n| at + n + 1);
        let line = &text[at..end.unwrap_or(text.len())];
        let bare = line.trim_end_matches('\n').trim_end_matches('\r');
        if bare == "." {
            return Some((value, end.unwrap_or(text.len())));
        }
        value.push_str(line.strip_prefix("..").map_or(line, |_| &line[1..]));
        at = end?;
    }
}
