//! How a query's values are named to SQLite.

use std::borrow::Cow;

/// Fewer values than this are bound by name as written.
const MANY_VALUES: usize = 16;

/// For SQLite, the text with `?` for each `$n` when there are many values and they appear as
/// `$1, $2, …` once each, in order — what [`super::Query::push_bind`] writes. Binding looks each
/// parameter up by its name, and SQLite finds a name by walking the list of all of them: a
/// batch's statement of a thousand values spent more time naming them than running. `?`
/// has no name, and is the next number, so it means the same. Any other text (a `$1` used
/// twice, numbers out of order) is left as it is.
pub(super) fn anonymous(sql: &str, values: usize) -> Cow<'_, str> {
    if values < MANY_VALUES {
        return Cow::Borrowed(sql);
    }
    let bytes = sql.as_bytes();
    let mut out = String::with_capacity(sql.len());
    let (mut next, mut copied, mut at) = (1usize, 0, 0);
    let mut quote = None;
    while at < bytes.len() {
        let byte = bytes[at];
        match quote {
            Some(q) if byte == q => quote = None,
            Some(_) => {}
            None if byte == b'\'' || byte == b'"' => quote = Some(byte),
            None if byte == b'$' => {
                let digits = bytes[at + 1..]
                    .iter()
                    .take_while(|b| b.is_ascii_digit())
                    .count();
                let number: Option<usize> = sql[at + 1..at + 1 + digits].parse().ok();
                if number != Some(next) {
                    return Cow::Borrowed(sql);
                }
                out.push_str(&sql[copied..at]);
                out.push('?');
                next += 1;
                at += 1 + digits;
                copied = at;
                continue;
            }
            None => {}
        }
        at += 1;
    }
    if next != values + 1 {
        return Cow::Borrowed(sql);
    }
    out.push_str(&sql[copied..]);
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::query;

    #[test]
    fn many_values_in_order_are_bound_without_names() {
        let mut q = query("INSERT INTO t (a, b) VALUES ");
        q.push_rows(&[1i64; 9], |q, item| {
            q.push_bind(item.map_or(0, |(_, n)| *n)).push(", '$1'");
        });
        let sql = anonymous(&q.sql, q.args.len());
        assert_eq!(q.args.len(), 16);
        assert!(sql.starts_with("INSERT INTO t (a, b) VALUES (?, '$1'), (?, '$1')"));
        assert_eq!(sql.matches('?').count(), 16);
        assert!(!sql.contains("$2"), "{sql}");
    }

    #[test]
    fn placeholders_used_twice_or_out_of_order_keep_their_names() {
        let values = |n: usize| (1..=n).map(|i| format!("${i}")).collect::<Vec<_>>();
        let few = values(4).join(", ");
        assert_eq!(anonymous(&few, 4), few, "few values keep their names");
        let mut twice = values(20);
        twice.push("$1".into());
        let twice = twice.join(", ");
        assert_eq!(anonymous(&twice, 20), twice);
        let mut swapped = values(20);
        swapped.swap(3, 4);
        let swapped = swapped.join(", ");
        assert_eq!(anonymous(&swapped, 20), swapped);
        let short = values(19).join(", ");
        assert_eq!(
            anonymous(&short, 20),
            short,
            "a value without its placeholder"
        );
        let in_order = values(20).join(", ");
        assert_eq!(anonymous(&in_order, 20), vec!["?"; 20].join(", "));
    }
}
