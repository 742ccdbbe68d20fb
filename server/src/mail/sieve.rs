//! Just enough Sieve (RFC 5228) to turn off forwarding safely: a lexer for the whole language
//! (comments, quoted and multi-line strings, string lists, tags, numbers, blocks) and a walk over
//! its commands that finds every `redirect` — at the top level or nested in `if`/`elsif`/`else`
//! blocks, with or without `:copy`. Turning forwarding off replaces each `redirect` to an outside
//! address with a comment and leaves every other byte of the script as it was, so every other
//! rule keeps working.

use std::ops::Range;

use super::is_external;

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
    let bytes = text.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let start = i;
        let c = bytes[i];
        match c {
            b' ' | b'\t' | b'\r' | b'\n' => i += 1,
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                let end = text[i + 2..].find("*/").ok_or(SieveError {
                    at: start,
                    what: "a comment is not closed",
                })?;
                i += 2 + end + 2;
            }
            b'"' => {
                let mut value = String::new();
                i += 1;
                loop {
                    match bytes.get(i) {
                        None => {
                            return Err(SieveError {
                                at: start,
                                what: "a string is not closed",
                            })
                        }
                        Some(b'"') => {
                            i += 1;
                            break;
                        }
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
                tokens.push((Token::String(value), start..i));
            }
            b'[' | b'{' | b'(' => {
                tokens.push((Token::Open(c as char), start..i + 1));
                i += 1;
            }
            b']' | b'}' | b')' => {
                tokens.push((Token::Close(c as char), start..i + 1));
                i += 1;
            }
            b',' => {
                tokens.push((Token::Comma, start..i + 1));
                i += 1;
            }
            b';' => {
                tokens.push((Token::Semicolon, start..i + 1));
                i += 1;
            }
            b':' => {
                i += 1;
                let word = identifier_at(bytes, i);
                if word == 0 {
                    return Err(SieveError {
                        at: start,
                        what: "a tag has no name",
                    });
                }
                i += word;
                tokens.push((
                    Token::Tag(text[start + 1..i].to_ascii_lowercase()),
                    start..i,
                ));
            }
            b'0'..=b'9' => {
                while i < bytes.len() && bytes[i].is_ascii_digit() {
                    i += 1;
                }
                if i < bytes.len() && matches!(bytes[i] | 0x20, b'k' | b'm' | b'g') {
                    i += 1;
                }
                tokens.push((Token::Number, start..i));
            }
            _ if c.is_ascii_alphabetic() || c == b'_' => {
                i += identifier_at(bytes, i);
                let word = text[start..i].to_ascii_lowercase();
                if word == "text" && bytes.get(i) == Some(&b':') {
                    let (value, end) = multi_line(text, i + 1).ok_or(SieveError {
                        at: start,
                        what: "a text: string is not closed",
                    })?;
                    i = end;
                    tokens.push((Token::String(value), start..i));
                } else {
                    tokens.push((Token::Identifier(word), start..i));
                }
            }
            _ => {
                return Err(SieveError {
                    at: start,
                    what: "an unexpected character",
                })
            }
        }
    }
    Ok(tokens)
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
    internal_domains: &[String],
) -> Result<Vec<String>, SieveError> {
    Ok(redirects(text)?
        .into_iter()
        .filter(|r| is_external(&r.address, internal_domains))
        .map(|r| r.address)
        .collect())
}

/// The script with every `redirect` to an outside address replaced by a comment, and the
/// addresses turned off; `None` when nothing forwards outside.
pub fn turn_off_external_forwarding(
    text: &str,
    internal_domains: &[String],
) -> Result<Option<(String, Vec<String>)>, SieveError> {
    let external: Vec<Redirect> = redirects(text)?
        .into_iter()
        .filter(|r| is_external(&r.address, internal_domains))
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

    fn internal() -> Vec<String> {
        vec!["example.test".into()]
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
