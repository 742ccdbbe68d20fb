//! Just enough Sieve (RFC 5228) to turn off forwarding safely: a lexer for the whole language
//! (comments, quoted and multi-line strings, string lists, tags, numbers, blocks) and a walk over
//! its commands that finds every `redirect` — at the top level or nested in `if`/`elsif`/`else`
//! blocks, with or without `:copy`. Turning forwarding off replaces each `redirect` to an outside
//! address with a comment and leaves every other byte of the script as it was, so every other
//! rule keeps working.

use std::ops::Range;

use model::InternalDomains;

/// A script that cannot be read safely: nothing is changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the Sieve script cannot be read at byte {at}: {what}")]
pub struct SieveError {
    pub at: usize,
    pub what: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
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

/// A `redirect` command: where it sends mail and where it sits in the script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redirect {
    pub address: String,
    /// From the `redirect` keyword to its `;`, inclusive.
    pub span: Range<usize>,
}

fn lex(text: &str) -> Result<Vec<(Token, Range<usize>)>, SieveError> {
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

/// Every `redirect` command in the script, in order.
pub fn redirects(text: &str) -> Result<Vec<Redirect>, SieveError> {
    let tokens = lex(text)?;
    let mut found = Vec::new();
    let mut i = 0;
    // At the start of a command: the script's start, after `;`, `{` or a block's `}`.
    let mut at_command = true;
    let mut blocks = 0usize;
    while i < tokens.len() {
        let (token, span) = &tokens[i];
        match token {
            Token::Identifier(word) if at_command && word == "redirect" => {
                let start = span.start;
                let mut address = None;
                let mut depth = 0usize;
                i += 1;
                loop {
                    let Some((token, span)) = tokens.get(i) else {
                        return Err(SieveError {
                            at: start,
                            what: "a redirect has no closing ;",
                        });
                    };
                    match token {
                        Token::Semicolon if depth == 0 => {
                            found.push(Redirect {
                                address: address.unwrap_or_default(),
                                span: start..span.end,
                            });
                            break;
                        }
                        Token::Open(_) => depth += 1,
                        Token::Close(_) => depth = depth.saturating_sub(1),
                        // The last string is the address (`:copy` and the like are tags).
                        Token::String(value) => address = Some(value.clone()),
                        _ => {}
                    }
                    i += 1;
                }
                at_command = true;
            }
            Token::Identifier(_) if at_command => at_command = false,
            Token::Semicolon => at_command = true,
            Token::Open('{') => {
                blocks += 1;
                at_command = true;
            }
            Token::Close('}') => {
                blocks = blocks.checked_sub(1).ok_or(SieveError {
                    at: span.start,
                    what: "a } without its {",
                })?;
                at_command = true;
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

/// The addresses the script forwards to outside the organisation.
pub fn external_forwards(
    text: &str,
    internal: &InternalDomains,
) -> Result<Vec<String>, SieveError> {
    Ok(redirects(text)?
        .into_iter()
        .filter(|r| !internal.is_internal_address(&r.address))
        .map(|r| r.address)
        .collect())
}

/// The script with every `redirect` to an outside address replaced by a comment, and the
/// addresses turned off; `None` when nothing forwards outside.
pub fn turn_off_external_forwarding(
    text: &str,
    internal: &InternalDomains,
) -> Result<Option<(String, Vec<String>)>, SieveError> {
    let external: Vec<Redirect> = redirects(text)?
        .into_iter()
        .filter(|r| !internal.is_internal_address(&r.address))
        .collect();
    if external.is_empty() {
        return Ok(None);
    }
    let mut out = String::with_capacity(text.len() + 64 * external.len());
    let mut copied = 0;
    for redirect in &external {
        out.push_str(&text[copied..redirect.span.start]);
        out.push_str(&format!(
            "/* airdesk: turned off external forwarding to {} */",
            comment_safe(&redirect.address)
        ));
        copied = redirect.span.end;
    }
    out.push_str(&text[copied..]);
    let addresses = external.into_iter().map(|r| r.address).collect();
    Ok(Some((out, addresses)))
}

/// Text that can sit inside a bracket comment: no `*/`, no line breaks, printable only.
fn comment_safe(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .replace("*/", "* /")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn internal() -> InternalDomains {
        InternalDomains::new(["example.test"])
    }

    #[test]
    fn finds_redirects_at_top_level_and_in_blocks() {
        let script = r#"require ["copy", "fileinto"];
# redirect "in-a-comment@evil.test";
/* redirect "in-a-block-comment@evil.test"; */
redirect "top@elsewhere.test";
if header :contains "subject" "redirect \"x\";" {
    redirect :copy "nested@elsewhere.test";
} elsif address :is "from" "boss@example.test" {
    fileinto "Boss";
    redirect "assistant@example.test";
} else {
    if true { redirect text:
deep@elsewhere.test
.
; }
}
"#;
        let found: Vec<String> = redirects(script)
            .unwrap()
            .into_iter()
            .map(|r| r.address)
            .collect();
        assert_eq!(
            found,
            [
                "top@elsewhere.test",
                "nested@elsewhere.test",
                "assistant@example.test",
                "deep@elsewhere.test\n"
            ]
        );
    }

    #[test]
    fn turning_off_keeps_internal_redirects_and_every_other_rule() {
        let script = "require \"fileinto\";\nif header :contains \"subject\" \"x\" { fileinto \"X\"; redirect \"out@elsewhere.test\"; }\nredirect \"in@example.test\";\nkeep;\n";
        let (out, off) = turn_off_external_forwarding(script, &internal())
            .unwrap()
            .unwrap();
        assert_eq!(off, ["out@elsewhere.test"]);
        assert_eq!(
            out,
            "require \"fileinto\";\nif header :contains \"subject\" \"x\" { fileinto \"X\"; /* airdesk: turned off external forwarding to out@elsewhere.test */ }\nredirect \"in@example.test\";\nkeep;\n"
        );
        assert!(external_forwards(&out, &internal()).unwrap().is_empty());
    }

    #[test]
    fn nothing_to_turn_off_is_none() {
        assert_eq!(
            turn_off_external_forwarding("keep;\nredirect \"a@example.test\";", &internal()),
            Ok(None)
        );
    }

    #[test]
    fn a_hostile_address_cannot_close_the_comment() {
        let script = "redirect \"x*/ discard; /*@evil.test\";";
        let (out, _) = turn_off_external_forwarding(script, &internal())
            .unwrap()
            .unwrap();
        assert_eq!(
            out,
            "/* airdesk: turned off external forwarding to x* / discard; /*@evil.test */"
        );
        assert!(redirects(&out).unwrap().is_empty());
    }

    #[test]
    fn unreadable_scripts_are_refused() {
        assert!(redirects("redirect \"open@evil.test;").is_err());
        assert!(redirects("/* never closed").is_err());
        assert!(redirects("if true { redirect \"a@b.test\";").is_err());
        assert!(redirects("redirect \"a@b.test\"").is_err());
    }

    #[test]
    fn variables_count_as_external() {
        let script = "require \"variables\";\nset \"to\" \"a@example.test\";\nredirect \"${to}\";";
        assert_eq!(external_forwards(script, &internal()).unwrap(), ["${to}"]);
    }
}
