//! ManageSieve's response lines (RFC 5804): status lines, quoted strings, literals, atoms.

use super::{ManageSieveError, Result};

/// One token of a response line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Item {
    Atom(String),
    String(String),
}

/// A status line's outcome: OK, or NO and BYE as errors with their code and words; `None` for
/// any other line.
pub(super) fn status_of(items: &[Item]) -> Option<Result<()>> {
    let Some(Item::Atom(word)) = items.first() else {
        return None;
    };
    let status = word.to_ascii_uppercase();
    match status.as_str() {
        "OK" => Some(Ok(())),
        "NO" | "BYE" => {
            let mut code = String::new();
            let mut text = String::new();
            for item in &items[1..] {
                match item {
                    Item::Atom(a) => {
                        code.push_str(a);
                        code.push(' ');
                    }
                    Item::String(s) => text.push_str(s),
                }
            }
            Some(Err(ManageSieveError::No { code, text }))
        }
        _ => None,
    }
}

/// A line ending in `{n}` or `{n+}` announces a literal of n bytes.
pub(super) fn split_literal(line: &str) -> Result<(&str, Option<usize>)> {
    if let Some(open) = line.rfind('{') {
        if line.ends_with('}') {
            let length = line[open + 1..line.len() - 1].trim_end_matches('+');
            if let Ok(n) = length.parse::<usize>() {
                return Ok((&line[..open], Some(n)));
            }
        }
    }
    Ok((line, None))
}

pub(super) fn parse_items(text: &str) -> Result<Vec<Item>> {
    let mut items = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            ' ' => {
                chars.next();
            }
            '"' => {
                chars.next();
                let mut value = String::new();
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => value.push(chars.next().unwrap_or('\\')),
                        Some(c) => value.push(c),
                        None => return Err(ManageSieveError::Io("an unclosed string".into())),
                    }
                }
                items.push(Item::String(value));
            }
            '(' => {
                // A response code, kept as one atom: `(NONEXISTENT)`, `(QUOTA/MAXSIZE)`.
                let mut code = String::new();
                for c in chars.by_ref() {
                    code.push(c);
                    if c == ')' {
                        break;
                    }
                }
                items.push(Item::Atom(code));
            }
            _ => {
                let mut atom = String::new();
                while let Some(&c) = chars.peek() {
                    if c == ' ' {
                        break;
                    }
                    atom.push(c);
                    chars.next();
                }
                items.push(Item::Atom(atom));
            }
        }
    }
    Ok(items)
}

/// A quoted string for a script name; names with line breaks cannot be sent.
pub(super) fn quote(text: &str) -> Result<String> {
    if text.contains(['\r', '\n', '\0']) {
        return Err(ManageSieveError::Io(
            "a script name with a line break".into(),
        ));
    }
    Ok(format!(
        "\"{}\"",
        text.replace('\\', "\\\\").replace('"', "\\\"")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_with_line_breaks_are_refused() {
        assert!(quote("a\r\nLOGOUT").is_err());
        assert_eq!(quote("a\"b").unwrap(), "\"a\\\"b\"");
    }
}
