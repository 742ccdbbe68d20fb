use super::*;
use model::{ActionSource, InvestigationType, Severity, Verdict};

fn facts(action_type: ActionType, copies: i64, mailboxes: &[&str]) -> Facts {
    Facts {
        action_type,
        target: "cluster".to_owned(),
        source: ActionSource::Automated,
        verdict: Some(Verdict::Malicious),
        severity: Severity::High,
        investigation_type: InvestigationType::UserReported,
        cluster_size: copies,
        copies,
        mailboxes: mailboxes.iter().map(|m| m.to_string()).collect(),
        proposer: None,
    }
}

const GROUPS: &str = r#"
[[groups]]
name = "executives"
addresses = ["CEO@example.test"]
level = "semi"

[[groups]]
name = "finance"
domains = ["finance.example.test"]
globs = ["*-ap@example.test"]
level = "full"

[[groups]]
name = "everyone"
globs = ["*"]
level = "full"
"#;

fn policy(rules: &str) -> Policy {
    Policy::parse(&format!("{GROUPS}\n{rules}"), "test").expect("valid policy")
}

#[test]
fn without_a_file_everything_waits_for_one_person_and_hard_delete_for_two() {
    let policy = Policy::builtin();
    let soft = policy.evaluate(&facts(
        ActionType::SoftDeleteCluster,
        3,
        &["a@example.test"],
    ));
    assert_eq!(
        (soft.then, soft.rule.as_str()),
        (Then::RequireApproval, "default")
    );
    assert_eq!(soft.level, Level::Semi);
    let hard = policy.evaluate(&facts(ActionType::HardDelete, 1, &["a@example.test"]));
    assert_eq!(
        (hard.then, hard.rule.as_str()),
        (Then::RequireTwoApprovals, "builtin:hard_delete")
    );
}

#[test]
fn more_than_a_thousand_copies_now_need_two_approvals_even_where_a_rule_approves() {
    let policy = policy(
        r#"[[rules]]
name = "auto"
when = 'verdict == "malicious"'
then = "approve""#,
    );
    let small = policy.evaluate(&facts(
        ActionType::SoftDeleteCluster,
        1_000,
        &["a@example.test"],
    ));
    assert_eq!((small.then, small.rule.as_str()), (Then::Approve, "auto"));
    let large = policy.evaluate(&facts(
        ActionType::SoftDeleteCluster,
        1_001,
        &["a@example.test"],
    ));
    assert_eq!(
        (large.then, large.rule.as_str()),
        (Then::RequireTwoApprovals, "builtin:large_action")
    );
}

#[test]
fn the_first_matching_rule_decides() {
    let policy = policy(
        r#"
[[rules]]
name = "forbid-forwarding"
when = 'action_type == "turn_off_forwarding"'
then = "forbid"
reason = "forwarding is handled by the mail team"

[[rules]]
name = "everything"
when = 'true'
then = "approve"
"#,
    );
    let forwarding = policy.evaluate(&facts(
        ActionType::TurnOffForwarding,
        0,
        &["a@example.test"],
    ));
    assert_eq!(forwarding.then, Then::Forbid);
    assert_eq!(forwarding.rule, "forbid-forwarding");
    assert_eq!(
        forwarding.reason.as_deref(),
        Some("forwarding is handled by the mail team")
    );
    let soft = policy.evaluate(&facts(
        ActionType::SoftDeleteCluster,
        2,
        &["a@example.test"],
    ));
    assert_eq!(
        (soft.then, soft.rule.as_str()),
        (Then::Approve, "everything")
    );
}

#[test]
fn each_then_is_returned_as_written() {
    for (then, word) in [
        (Then::Approve, "approve"),
        (Then::RequireApproval, "require_approval"),
        (Then::RequireTwoApprovals, "require_two_approvals"),
        (Then::Forbid, "forbid"),
    ] {
        let policy = policy(&format!(
            "[[rules]]\nname = \"r\"\nwhen = 'copies <= 10'\nthen = \"{word}\""
        ));
        let outcome = policy.evaluate(&facts(
            ActionType::SoftDeleteCluster,
            10,
            &["x@example.test"],
        ));
        assert_eq!(outcome.then, then, "{word}");
    }
}

#[test]
fn a_rule_over_copies_now_sees_the_count_it_is_given() {
    let policy = policy(
        r#"[[rules]]
name = "few"
when = 'copies <= 5 && mailboxes <= 2'
then = "approve""#,
    );
    let few = policy.evaluate(&facts(
        ActionType::SoftDeleteCluster,
        5,
        &["a@example.test"],
    ));
    assert_eq!(few.then, Then::Approve);
    // The same cluster after a second wave arrived: recounted, no longer "few".
    let grown = policy.evaluate(&facts(
        ActionType::SoftDeleteCluster,
        6,
        &["a@example.test"],
    ));
    assert_eq!(
        (grown.then, grown.rule.as_str()),
        (Then::RequireApproval, "default")
    );
}

#[test]
fn groups_match_by_address_domain_and_glob_without_regard_to_case() {
    let policy = policy("");
    assert_eq!(
        policy.groups_of("ceo@example.test"),
        ["executives", "everyone"]
    );
    assert_eq!(
        policy.groups_of("bob@Finance.Example.Test"),
        ["finance", "everyone"]
    );
    assert_eq!(
        policy.groups_of("emea-ap@example.test"),
        ["finance", "everyone"]
    );
    assert_eq!(policy.groups_of("bob@example.test"), ["everyone"]);
    // A look-alike domain is not the finance domain.
    assert_eq!(
        policy.groups_of("bob@evilfinance.example.test"),
        ["everyone"]
    );
}

#[test]
fn an_approving_rule_approves_only_where_every_mailbox_is_automated_full() {
    let policy = policy(
        r#"[[rules]]
name = "auto"
when = 'true'
then = "approve""#,
    );
    let staff = policy.evaluate(&facts(
        ActionType::SoftDeleteCluster,
        2,
        &["a@example.test", "b@finance.example.test"],
    ));
    assert_eq!((staff.then, staff.level), (Then::Approve, Level::Full));
    // One executive among the recipients holds the whole action for a person.
    let with_ceo = policy.evaluate(&facts(
        ActionType::SoftDeleteCluster,
        2,
        &["a@example.test", "ceo@example.test"],
    ));
    assert_eq!(
        (with_ceo.then, with_ceo.level),
        (Then::RequireApproval, Level::Semi)
    );
    assert!(with_ceo.reason.unwrap().contains("semi"));
}

#[test]
fn a_group_automated_none_makes_the_strictest_level() {
    let policy = Policy::parse(
        r#"
[[groups]]
name = "board"
addresses = ["chair@example.test"]
level = "none"
"#,
        "test",
    )
    .unwrap();
    assert_eq!(
        policy.level_of(["chair@example.test", "x@example.test"]),
        Level::None
    );
    assert_eq!(policy.level_of(["x@example.test"]), Level::Semi);
}

#[test]
fn rules_can_read_groups_source_and_proposer() {
    let policy = policy(
        r#"
[[rules]]
name = "exec-two"
when = '"executives" in groups'
then = "require_two_approvals"

[[rules]]
name = "bots"
when = 'source == "api" && proposer.startsWith("svc-")'
then = "forbid"
"#,
    );
    let exec = policy.evaluate(&facts(
        ActionType::SoftDeleteCluster,
        1,
        &["ceo@example.test"],
    ));
    assert_eq!(exec.rule, "exec-two");
    let mut bot = facts(ActionType::SoftDeleteCluster, 1, &["a@example.test"]);
    bot.source = ActionSource::Api;
    bot.proposer = Some("svc-siem".to_owned());
    assert_eq!(policy.evaluate(&bot).then, Then::Forbid);
    bot.proposer = Some("alice".to_owned());
    assert_eq!(policy.evaluate(&bot).rule, "default");
}

#[test]
fn separation_of_duties_is_on_for_api_actions_by_default_and_per_rule_otherwise() {
    let policy = policy(
        r#"[[rules]]
name = "manual-sod"
when = 'source == "manual"'
then = "require_approval"
separation_of_duties = true"#,
    );
    let mut action = facts(ActionType::SoftDeleteCluster, 1, &["a@example.test"]);
    assert!(!policy.evaluate(&action).separation_of_duties);
    action.source = ActionSource::Api;
    assert!(policy.evaluate(&action).separation_of_duties);
    action.source = ActionSource::Manual;
    assert!(policy.evaluate(&action).separation_of_duties);
}

#[test]
fn a_rule_that_fails_at_evaluation_never_approves() {
    // Fails only for a manual action whose proposer's name is not a number: the example
    // action (from the API) evaluates, so the file loads.
    let policy = policy(
        r#"[[rules]]
name = "ratio"
when = 'source != "manual" || int(proposer) > 0'
then = "approve""#,
    );
    let mut manual = facts(ActionType::SoftDeleteCluster, 3, &["a@example.test"]);
    manual.source = ActionSource::Manual;
    manual.proposer = Some("alice".to_owned());
    let outcome = policy.evaluate(&manual);
    assert_eq!(
        (outcome.then, outcome.rule.as_str()),
        (Then::RequireApproval, "ratio")
    );
    assert!(outcome.reason.unwrap().contains("could not be evaluated"));
}

#[test]
fn an_invalid_file_is_refused_with_its_line_and_reason() {
    let cases = [
        ("[[rules]]\nname = \"a\"\nwhen = 'copies >'\nthen = \"approve\"\n", 3, "does not parse"),
        ("[[rules]]\nname = \"a\"\nwhen = 'copise > 3'\nthen = \"approve\"\n", 2, "copise"),
        ("[[rules]]\nname = \"a\"\nwhen = 'copies + 1'\nthen = \"approve\"\n", 2, "not true or false"),
        ("[[rules]]\nname = \"a\"\nwhen = 'true'\nthen = \"allow\"\n", 4, "allow"),
        ("[[rules]]\nname = \"a\"\nwhen = 'true'\nthne = \"approve\"\n", 4, "thne"),
        ("\n[[groups]]\nname = \"g\"\nglobs = [\"[\"]\n", 3, "glob"),
        ("[[groups]]\nname = \"g\"\n", 2, "no members"),
        (
            "[[rules]]\nname = \"a\"\nwhen = 'true'\nthen = \"forbid\"\n[[rules]]\nname = \"a\"\nwhen = 'true'\nthen = \"forbid\"\n",
            6,
            "second rule",
        ),
        ("[[rules]]\nname = \"a b\"\nwhen = 'true'\nthen = \"forbid\"\n", 2, "rule name"),
        ("[defaults]\nlevel = \"most\"\n", 2, "most"),
    ];
    for (text, line, reason) in cases {
        let error = Policy::parse(text, "test").expect_err(text);
        assert_eq!(error.line, Some(line), "{text}: {error}");
        assert!(error.reason.contains(reason), "{text}: {error}");
    }
}

#[test]
fn the_hash_names_the_text() {
    let a = Policy::parse("[defaults]\nlevel = \"semi\"\n", "a").unwrap();
    let b = Policy::parse("[defaults]\nlevel = \"full\"\n", "b").unwrap();
    assert_ne!(a.hash(), b.hash());
    assert_eq!(
        a.hash(),
        Policy::parse("[defaults]\nlevel = \"semi\"\n", "c")
            .unwrap()
            .hash()
    );
    assert_eq!(a.hash().len(), 64);
}
