//! The create-workspace body of api.md §2: serde decides BAD_REQUEST, `parse` VALIDATION_FAILED.

use ff_core::create::{
    CreateWorkspace, CreateWorkspaceRequest, DisplayName, FieldError, WorkspaceSource,
};
use ff_core::refname::BranchName;
use serde_json::{json, Value};

const ISSUE_URL: &str = "https://github.com/o/r/issues/42";

fn request(body: Value) -> Result<CreateWorkspaceRequest, serde_json::Error> {
    serde_json::from_value(body)
}

fn parse(body: Value) -> Result<CreateWorkspace, FieldError> {
    request(body.clone())
        .unwrap_or_else(|e| panic!("{body} is well-formed: {e}"))
        .parse()
}

fn accepted(body: Value) -> CreateWorkspace {
    parse(body.clone()).unwrap_or_else(|e| panic!("{body} is acceptable: {e}"))
}

/// Asserts that `body` is refused because of `field`, with a message naming `value`.
fn refused(body: Value, field: &str, value: &str) {
    let err = parse(body.clone()).expect_err(&body.to_string());
    assert_eq!(err.field, field, "{body}: {err}");
    assert!(
        err.message.contains(value),
        "{body}: {err:?} does not name {value:?}"
    );
}

fn manual(name: &str) -> Value {
    json!({"source": "MANUAL", "name": name})
}

fn resume(branch: &str) -> Value {
    json!({"source": "RESUME_BRANCH", "branchName": branch})
}

fn issue(number: u64, url: &str) -> Value {
    json!({"source": "GITHUB_ISSUE", "issueNumber": number, "issueUrl": url})
}

fn with(mut body: Value, field: &str, value: impl Into<Value>) -> Value {
    body[field] = value.into();
    body
}

fn branch(name: &str) -> BranchName {
    BranchName::parse(name).unwrap()
}

#[test]
fn malformed_bodies_are_serde_errors() {
    let cases = [
        (with(manual("x"), "nmae", "typo"), "nmae"),
        // A field of another source is as unknown as a typo.
        (with(manual("x"), "branchName", "feature/x"), "branchName"),
        (
            with(issue(42, ISSUE_URL), "description", "d"),
            "description",
        ),
        (json!({"source": "FORK", "name": "x"}), "FORK"),
        (json!({"source": "manual", "name": "x"}), "manual"),
        (json!({"name": "x"}), "source"),
        (json!({"source": "MANUAL"}), "name"),
        (
            json!({"source": "RESUME_BRANCH", "name": "x"}),
            "branchName",
        ),
        (
            json!({"source": "GITHUB_ISSUE", "issueUrl": ISSUE_URL}),
            "issueNumber",
        ),
        (
            json!({"source": "GITHUB_ISSUE", "issueNumber": 42}),
            "issueUrl",
        ),
        (with(manual("x"), "name", 5), "invalid type"),
        (with(manual("x"), "name", Value::Null), "invalid type"),
        (with(manual("x"), "ratchetEnabled", "yes"), "invalid type"),
        (
            with(manual("x"), "description", json!(["d"])),
            "invalid type",
        ),
        (
            with(issue(42, ISSUE_URL), "issueNumber", "42"),
            "invalid type",
        ),
        (
            with(issue(42, ISSUE_URL), "issueNumber", -42),
            "invalid value",
        ),
        (
            with(issue(42, ISSUE_URL), "issueNumber", 4.2),
            "invalid type",
        ),
    ];
    for (body, reason) in cases {
        let err = request(body.clone()).expect_err(&body.to_string());
        assert!(err.to_string().contains(reason), "{body}: {err}");
    }
}

#[test]
fn the_documented_bodies_round_trip() {
    let bodies = [
        json!({"source": "MANUAL", "name": "Fix login", "description": "…", "baseBranch": "main", "ratchetEnabled": true}),
        json!({"source": "RESUME_BRANCH", "branchName": "feature/x", "name": "…", "description": "…", "ratchetEnabled": true}),
        json!({"source": "GITHUB_ISSUE", "issueNumber": 42, "issueUrl": ISSUE_URL, "name": "…", "ratchetEnabled": true}),
        json!({"source": "MANUAL", "name": "Fix login", "initialPrompt": "Fix the login form", "agent": "claude"}),
        manual("Fix login"),
    ];
    for body in bodies {
        assert_eq!(
            serde_json::to_value(request(body.clone()).unwrap()).unwrap(),
            body
        );
    }
}

#[test]
fn a_manual_request_parses_into_a_command() {
    let body = json!({"source": "MANUAL", "name": " Fix login ", "description": " d ", "baseBranch": "main", "ratchetEnabled": true});
    let expected = CreateWorkspace {
        name: DisplayName::parse("name", "Fix login").unwrap(),
        description: Some("d".to_owned()),
        ratchet_enabled: Some(true),
        source: WorkspaceSource::Manual {
            base_branch: Some(branch("main")),
        },
        initial_prompt: None,
        agent: None,
    };
    assert_eq!(accepted(body), expected);
    let minimal = accepted(manual("x"));
    assert_eq!((minimal.description, minimal.ratchet_enabled), (None, None));
    assert_eq!(
        minimal.source,
        WorkspaceSource::Manual { base_branch: None }
    );
}

#[test]
fn names_are_trimmed_and_one_to_two_hundred_characters_long() {
    assert_eq!(
        accepted(manual("\t Fix login  ")).name.as_str(),
        "Fix login"
    );
    // Characters, not bytes: 200 'é' are 400 bytes.
    let longest = "é".repeat(200);
    assert_eq!(accepted(manual(&longest)).name.as_str(), longest);
    assert!(parse(manual(&format!("  {}  ", "x".repeat(200)))).is_ok());
    refused(manual(""), "name", "must not be empty");
    refused(manual(" \t\n "), "name", "must not be empty");
    refused(manual(&"é".repeat(201)), "name", "201");
    // A given name is validated even where a default exists.
    refused(with(resume("b"), "name", "  "), "name", "empty");
    refused(
        with(issue(42, ISSUE_URL), "name", "x".repeat(201)),
        "name",
        "201",
    );
}

#[test]
fn branch_names_must_be_valid_git_branches() {
    for bad in ["-x", "a..b", "x.lock", "x@{y"] {
        refused(with(manual("x"), "baseBranch", bad), "baseBranch", bad);
        refused(resume(bad), "branchName", bad);
    }
    let source = accepted(with(manual("x"), "baseBranch", "release/1.2")).source;
    assert_eq!(
        source,
        WorkspaceSource::Manual {
            base_branch: Some(branch("release/1.2"))
        }
    );
}

#[test]
fn a_resumed_branch_names_the_workspace_after_the_branch() {
    let resumed = accepted(resume("feature/x"));
    assert_eq!(resumed.name.as_str(), "feature/x");
    assert_eq!(
        resumed.source,
        WorkspaceSource::ResumeBranch {
            branch: branch("feature/x")
        }
    );
    let named = accepted(with(resume("feature/x"), "name", " Mine "));
    assert_eq!(named.name.as_str(), "Mine");
    // A default is cut to the limit rather than refused: the user never typed it.
    let long = format!("feature/{}", "x".repeat(250));
    let cut = accepted(resume(&long));
    assert_eq!(cut.name.as_str(), &long[..200]);
    // Git takes a branch made of Unicode spaces; as a name it is blank, so one must be given.
    refused(resume("\u{3000}"), "name", "branchName");
}

#[test]
fn an_issue_names_the_workspace_after_its_number() {
    let created = accepted(with(issue(42, ISSUE_URL), "ratchetEnabled", false));
    assert_eq!(created.name.as_str(), "Issue #42");
    assert_eq!(
        (created.description, created.ratchet_enabled),
        (None, Some(false))
    );
    let WorkspaceSource::GithubIssue(issue_ref) = created.source else {
        panic!("{:?}", created.source);
    };
    assert_eq!((issue_ref.number, issue_ref.url.as_str()), (42, ISSUE_URL));
    assert!(parse(issue(42, "https://github.com/o/r/issues/42/")).is_ok());
}

#[test]
fn issue_urls_must_be_https_and_point_at_the_numbered_issue() {
    for url in [
        "http://github.com/o/r/issues/42",
        "github.com/o/r/issues/42",
        "not a url",
        "https://github.com/o/r/pull/42",
        "https://github.com/o/r/issues/43",
        "https://github.com/o/r/issues/42x",
        "https://github.com/issues/42",
        "https://github.com/o/r/issues",
    ] {
        refused(issue(42, url), "issueUrl", url);
    }
    refused(
        issue(0, "https://github.com/o/r/issues/0"),
        "issueNumber",
        "issueNumber",
    );
}

#[test]
fn descriptions_are_trimmed_optional_and_bounded() {
    let describe = |text: &str| {
        [
            with(manual("x"), "description", text),
            with(resume("b"), "description", text),
        ]
    };
    for body in describe("  Fix the bug \n") {
        assert_eq!(accepted(body).description.as_deref(), Some("Fix the bug"));
    }
    for body in describe(" \n\t ") {
        assert_eq!(accepted(body).description, None);
    }
    for body in describe(&"d".repeat(10_000)) {
        assert!(parse(body).is_ok());
    }
    for body in describe(&"d".repeat(10_001)) {
        refused(body, "description", "10001");
    }
}

#[test]
fn every_source_takes_an_initial_prompt_and_an_agent() {
    for body in [manual("x"), resume("b"), issue(42, ISSUE_URL)] {
        let command = accepted(with(
            with(body.clone(), "initialPrompt", "  Fix the form\n"),
            "agent",
            "codex",
        ));
        assert_eq!(
            command.initial_prompt.as_ref().map(|p| p.as_str()),
            Some("  Fix the form\n"),
            "kept as sent"
        );
        assert_eq!(command.agent.as_deref(), Some("codex"));
        refused(
            with(body.clone(), "initialPrompt", " \n "),
            "initialPrompt",
            "must not be empty",
        );
        refused(
            with(body.clone(), "initialPrompt", "x".repeat(100_001)),
            "initialPrompt",
            "100001",
        );
        refused(
            with(body.clone(), "agent", "Not An Agent"),
            "agent",
            "agent name",
        );
    }
}
