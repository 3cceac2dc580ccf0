//! Branch names against a table of verdicts, and the same table against git itself.

use ff_core::refname::{BranchName, RefNameError, RefNameError::*};
use std::collections::BTreeSet;
use std::process::Command;

/// Every name with our verdict: `None` means valid.
const CASES: &[(&str, Option<RefNameError>)] = &[
    ("main", None),
    ("feature/x", None),
    ("a/b/c", None),
    ("a.b", None),
    ("a@b", None),
    ("a-b", None),
    ("x-", None),
    ("a/-b", None),
    ("v1.2.3", None),
    ("feature/ünïcödé", None),
    ("日本語/🚀", None),
    // Only ASCII control characters are refused; U+0085 is a C1 control, fine for git.
    ("a\u{85}b", None),
    ("@a", None),
    ("a@", None),
    ("a/@", None),
    ("HEAD/x", None),
    ("x/HEAD", None),
    ("head", None),
    ("lock", None),
    ("a.lockx", None),
    ("a.lock.b", None),
    ("a./b", None),
    ("a{b}", None),
    ("refs/heads/x", None),
    ("", Some(Empty)),
    ("-x", Some(LeadingDash)),
    ("-", Some(LeadingDash)),
    ("HEAD", Some(Reserved("HEAD"))),
    ("@", Some(Reserved("@"))),
    ("a..b", Some(DoubleDot)),
    ("..", Some(DoubleDot)),
    ("a@{b", Some(AtBrace)),
    ("x@{y", Some(AtBrace)),
    ("@{-1}", Some(AtBrace)),
    ("@{", Some(AtBrace)),
    ("x.lock", Some(ComponentEndsWithLock)),
    ("a.lock/b", Some(ComponentEndsWithLock)),
    ("a/b.lock", Some(ComponentEndsWithLock)),
    (".a", Some(ComponentStartsWithDot)),
    ("a/.b", Some(ComponentStartsWithDot)),
    (".lock", Some(ComponentStartsWithDot)),
    ("a/", Some(EmptyComponent)),
    ("/a", Some(EmptyComponent)),
    ("a//b", Some(EmptyComponent)),
    ("/", Some(EmptyComponent)),
    ("a.", Some(EndsWithDot)),
    ("a/b.", Some(EndsWithDot)),
    ("a\u{1}b", Some(ControlCharacter)),
    ("a\tb", Some(ControlCharacter)),
    ("a\nb", Some(ControlCharacter)),
    ("a\u{7f}b", Some(ControlCharacter)),
    ("a b", Some(ForbiddenCharacter(' '))),
    ("a~b", Some(ForbiddenCharacter('~'))),
    ("a^b", Some(ForbiddenCharacter('^'))),
    ("a:b", Some(ForbiddenCharacter(':'))),
    ("a?b", Some(ForbiddenCharacter('?'))),
    ("a*b", Some(ForbiddenCharacter('*'))),
    ("a[b", Some(ForbiddenCharacter('['))),
    ("a\\b", Some(ForbiddenCharacter('\\'))),
];

/// Names git takes as branches that ff refuses on purpose: in every revision argument `@` alone
/// means HEAD, so a branch of that name could never be named unambiguously.
const STRICTER_THAN_GIT: &[&str] = &["@"];

#[test]
fn every_name_gets_its_verdict() {
    for (name, expected) in CASES {
        let parsed = BranchName::parse(name);
        assert_eq!(parsed.as_ref().err(), expected.as_ref(), "{name:?}");
        if let Ok(branch) = parsed {
            assert_eq!(
                (branch.as_str(), branch.to_string()),
                (*name, name.to_string())
            );
        }
    }
}

#[test]
fn every_error_variant_has_a_case() {
    // Exhaustive on purpose: a new variant does not compile until it is counted here.
    let variant = |e: &RefNameError| match e {
        Empty => 0,
        LeadingDash => 1,
        Reserved(_) => 2,
        EmptyComponent => 3,
        ComponentStartsWithDot => 4,
        ComponentEndsWithLock => 5,
        EndsWithDot => 6,
        DoubleDot => 7,
        AtBrace => 8,
        ControlCharacter => 9,
        ForbiddenCharacter(_) => 10,
    };
    let covered: BTreeSet<_> = CASES
        .iter()
        .filter_map(|(_, e)| e.as_ref().map(variant))
        .collect();
    assert_eq!(covered, (0..=10).collect());
}

#[test]
fn git_check_ref_format_agrees() {
    // Outside any repository, so that git judges the name alone and never expands `@{-1}`.
    let dir = tempfile::tempdir().unwrap();
    let ceiling = dir.path().parent().unwrap();
    for (name, _) in CASES {
        let output = Command::new("git")
            .args(["check-ref-format", "--branch", name])
            .current_dir(dir.path())
            .env("GIT_CEILING_DIRECTORIES", ceiling)
            .output()
            .expect("git must be on PATH to cross-check branch names");
        let git_accepts = output.status.success();
        let we_accept = BranchName::parse(name).is_ok();
        assert_eq!(
            git_accepts,
            we_accept || STRICTER_THAN_GIT.contains(name),
            "{name:?}: git {}",
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
}
