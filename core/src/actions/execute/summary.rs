//! What an action's execution came to, in words: every kind of result with its count.

use model::MessageResult;

/// "3 succeeded, 1 already in destination" — every kind of result with its count.
pub(super) fn summary(counts: &[(String, i64)]) -> String {
    let order = [
        MessageResult::Success,
        MessageResult::AlreadyInDestination,
        MessageResult::Duplicate,
        MessageResult::Gone,
        MessageResult::NotFound,
        MessageResult::Failed,
    ];
    let parts: Vec<String> = order
        .iter()
        .filter_map(|r| {
            counts.iter().find(|(k, _)| k == r.as_str()).map(|(_, n)| {
                let words = match r {
                    MessageResult::Success => "succeeded",
                    MessageResult::AlreadyInDestination => "already in destination",
                    MessageResult::Duplicate => "handled by an earlier approval",
                    MessageResult::Gone => "gone (deleted outside airdesk)",
                    MessageResult::NotFound => "not found",
                    MessageResult::Failed => "failed",
                };
                format!("{n} {words}")
            })
        })
        .collect();
    if parts.is_empty() {
        "nothing to do".into()
    } else {
        parts.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_names_every_result_with_its_count() {
        assert_eq!(
            summary(&[
                ("failed".into(), 1),
                ("success".into(), 3),
                ("already_in_destination".into(), 2)
            ]),
            "3 succeeded, 2 already in destination, 1 failed"
        );
        assert_eq!(summary(&[]), "nothing to do");
        assert_eq!(
            summary(&[
                ("not_found".into(), 1),
                ("gone".into(), 2),
                ("duplicate".into(), 4)
            ]),
            "4 handled by an earlier approval, 2 gone (deleted outside airdesk), 1 not found"
        );
    }
}
