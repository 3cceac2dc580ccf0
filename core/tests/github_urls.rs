//! GitHub names, remotes, PR and issue URLs against tables of verdicts, hostile input included,
//! and the scan of untrusted text for PR links.

use ff_core::github::{
    find_pr_urls, GithubRepo, Host, IssueUrl, NameError, Owner, PrUrl, RepoName, UrlError,
    MAX_FOUND_PR_URLS,
};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;

fn repo(host: &str, owner: &str, name: &str) -> GithubRepo {
    GithubRepo::parse(host, owner, name).unwrap()
}

fn pr(owner: &str, name: &str, number: u64) -> PrUrl {
    PrUrl::new(repo("github.com", owner, name), number)
}

#[test]
fn owners() {
    let long = "a".repeat(39);
    let too_long = "a".repeat(40);
    let cases: &[(&str, bool)] = &[
        ("octo", true),
        ("Octo-Org-1", true),
        ("0", true),
        (&long, true),
        (&too_long, false),
        ("", false),
        ("-octo", false),
        ("octo-", false),
        ("with spaces", false),
        ("octo_org", false),
        ("octo.org", false),
        ("..", false),
        ("ünï", false),
        ("octo\n", false),
    ];
    for &(text, ok) in cases {
        let parsed = Owner::parse(text);
        assert_eq!(parsed.is_ok(), ok, "{text:?}");
        match parsed {
            Ok(owner) => assert_eq!(owner.as_str(), text),
            Err(e) => assert_eq!(e, NameError::Owner(text.to_owned())),
        }
    }
    assert_eq!(
        Owner::parse("with spaces").unwrap_err().to_string(),
        "owner \"with spaces\" must be 1 to 39 letters, digits or '-', and not start or end with '-'"
    );
}

#[test]
fn repository_names() {
    let long = "r".repeat(100);
    let too_long = "r".repeat(101);
    let cases: &[(&str, bool)] = &[
        ("hello", true),
        ("hello.world", true),
        ("_x-y.z", true),
        (".github", true),
        ("...", true),
        ("-", true),
        (&long, true),
        (&too_long, false),
        ("", false),
        (".", false),
        ("..", false),
        ("a/b", false),
        ("a b", false),
        ("a%2e", false),
        ("héllo", false),
    ];
    for &(text, ok) in cases {
        assert_eq!(RepoName::parse(text).is_ok(), ok, "{text:?}");
    }
}

#[test]
fn hosts() {
    let label = "h".repeat(63);
    let long_label = "h".repeat(64);
    let long_host = vec!["h"; 127].join(".");
    let too_long_host = vec!["h"; 128].join(".");
    let cases: &[(&str, Option<&str>)] = &[
        ("github.com", Some("github.com")),
        ("GitHub.COM", Some("github.com")),
        ("localhost", Some("localhost")),
        ("ghe.corp-1.example", Some("ghe.corp-1.example")),
        ("127.0.0.1", Some("127.0.0.1")),
        (&label, Some(&label)),
        (&long_host, Some(&long_host)),
        (&long_label, None),
        (&too_long_host, None),
        ("", None),
        ("a..b", None),
        (".github.com", None),
        ("github.com.", None),
        ("-a.com", None),
        ("a-.com", None),
        ("a_b.com", None),
        ("gíthub.com", None),
        ("github.com:443", None),
        ("user@github.com", None),
        ("github.com/x", None),
    ];
    for &(text, expected) in cases {
        let parsed = Host::parse(text);
        assert_eq!(parsed.as_ref().ok().map(Host::as_str), expected, "{text:?}");
    }
}

#[test]
fn repositories_from_user_input_name_the_first_bad_part() {
    let ok = GithubRepo::parse("GitHub.com", "octo", "hello").unwrap();
    assert_eq!(ok.to_string(), "github.com/octo/hello");
    let cases = [
        (
            ("git hub", "octo", "hello"),
            NameError::Host("git hub".into()),
        ),
        (
            ("github.com", "with spaces", "hello"),
            NameError::Owner("with spaces".into()),
        ),
        (("github.com", "octo", ".."), NameError::Repo("..".into())),
    ];
    for ((host, owner, name), expected) in cases {
        assert_eq!(
            GithubRepo::parse(host, owner, name),
            Err(expected),
            "{host} {owner} {name}"
        );
    }
    assert!(ok.same_repository(&repo("github.com", "Octo", "HELLO")));
    assert!(!ok.same_repository(&repo("ghe.example", "octo", "hello")));
    assert!(!ok.same_repository(&repo("github.com", "octo", "hello2")));
}

#[test]
fn remotes() {
    use UrlError::*;
    let gh = |o: &str, r: &str| Ok(repo("github.com", o, r));
    let cases: Vec<(&str, Result<GithubRepo, UrlError>)> = vec![
        ("git@github.com:octo/hello.git", gh("octo", "hello")),
        ("git@github.com:octo/hello", gh("octo", "hello")),
        ("  git@github.com:octo/hello.git\n", gh("octo", "hello")),
        ("https://github.com/octo/hello.git", gh("octo", "hello")),
        ("https://github.com/octo-org/world", gh("octo-org", "world")),
        ("https://github.com/octo/hello/", gh("octo", "hello")),
        ("https://github.com/octo/hello.git/", gh("octo", "hello")),
        (
            "https://github.com/octo/hello.world.git",
            gh("octo", "hello.world"),
        ),
        (
            "https://token@github.com/octo/hello.git",
            gh("octo", "hello"),
        ),
        (
            "https://user:p%40ss@github.com/octo/hello",
            gh("octo", "hello"),
        ),
        ("HTTPS://GitHub.com/octo/hello", gh("octo", "hello")),
        ("http://github.com/octo/hello", gh("octo", "hello")),
        ("ssh://git@github.com/octo/hello.git", gh("octo", "hello")),
        (
            "ssh://git@github.com:22/octo/hello.git",
            gh("octo", "hello"),
        ),
        ("git+ssh://git@github.com/octo/hello", gh("octo", "hello")),
        (
            "git@ghe.corp.example:team/app.git",
            Ok(repo("ghe.corp.example", "team", "app")),
        ),
        (
            "https://GHE.Corp.Example/team/app",
            Ok(repo("ghe.corp.example", "team", "app")),
        ),
        // Which hosts run GitHub cannot be told from a URL.
        (
            "https://gitlab.com/octo/hello.git",
            Ok(repo("gitlab.com", "octo", "hello")),
        ),
        ("", Err(Empty)),
        ("/srv/git/hello.git", Err(LocalPath)),
        ("../hello", Err(LocalPath)),
        ("hello", Err(LocalPath)),
        ("./a:b/c", Err(LocalPath)),
        ("file:///srv/git/hello.git", Err(Scheme("file".into()))),
        ("git://github.com/octo/hello.git", Err(Scheme("git".into()))),
        ("https://github.com:8443/octo/hello", Err(Port)),
        ("ssh://git@github.com:ssh/octo/hello", Err(Port)),
        ("https://github.com/octo", Err(Shape(""))),
        ("https://github.com", Err(Shape(""))),
        ("https://github.com/a/b/c", Err(Shape(""))),
        ("git@github.com:/octo/hello.git", Err(Shape(""))),
        (
            "https://github.com/octo/he llo",
            Err(Name(NameError::Repo("he llo".into()))),
        ),
        (
            "git@github.com:octo/.git",
            Err(Name(NameError::Repo("".into()))),
        ),
        (
            "git@git hub:octo/hello",
            Err(Name(NameError::Host("git hub".into()))),
        ),
        ("git@github.com:octo/héllo.git", Err(NotAscii('é'))),
    ];
    for (remote, expected) in cases {
        let parsed = GithubRepo::from_remote(remote);
        match (&parsed, &expected) {
            // The shape's text is checked once below; here only that it is the shape.
            (Err(Shape(_)), Err(Shape(_))) => {}
            _ => assert_eq!(parsed, expected, "{remote:?}"),
        }
    }
    assert_eq!(
        GithubRepo::from_remote("https://github.com/octo")
            .unwrap_err()
            .to_string(),
        "must look like git@<host>:<owner>/<repo>.git, ssh://git@<host>/<owner>/<repo>.git or \
         https://<host>/<owner>/<repo>.git"
    );
}

const PR_SHAPE: &str = "https://<host>/<owner>/<repo>/pull/<number>";

#[test]
fn pr_urls() {
    use UrlError::*;
    let long_owner = format!("https://github.com/{}/app/pull/1", "a".repeat(100_000));
    let cases: Vec<(&str, Result<&str, UrlError>)> = vec![
        (
            "https://github.com/acme/app/pull/12",
            Ok("https://github.com/acme/app/pull/12"),
        ),
        (
            "https://GitHub.com/Acme/App/pull/12",
            Ok("https://github.com/Acme/App/pull/12"),
        ),
        (
            "HTTPS://github.com/acme/app/pull/12",
            Ok("https://github.com/acme/app/pull/12"),
        ),
        (
            "https://github.com/acme/app/pull/12/",
            Ok("https://github.com/acme/app/pull/12"),
        ),
        (
            "https://github.com/acme/app/pull/12?notification_referrer_id=x",
            Ok("https://github.com/acme/app/pull/12"),
        ),
        (
            "https://github.com/acme/app/pull/12#issuecomment-1",
            Ok("https://github.com/acme/app/pull/12"),
        ),
        (
            "  https://github.com/acme/app/pull/12\n",
            Ok("https://github.com/acme/app/pull/12"),
        ),
        (
            "https://ghe.corp.example/team-a/my.repo_v2/pull/7",
            Ok("https://ghe.corp.example/team-a/my.repo_v2/pull/7"),
        ),
        (
            "https://github.com/a/r/pull/18446744073709551615",
            Ok("https://github.com/a/r/pull/18446744073709551615"),
        ),
        ("", Err(Empty)),
        (" \t\n", Err(Empty)),
        ("http://github.com/acme/app/pull/12", Err(NotHttps)),
        ("github.com/acme/app/pull/12", Err(NotHttps)),
        (
            "javascript:alert(1)//https://github.com/acme/app/pull/1",
            Err(NotHttps),
        ),
        (
            "data:text/html,https://github.com/acme/app/pull/1",
            Err(NotHttps),
        ),
        ("https://github.com", Err(Shape(PR_SHAPE))),
        ("https://github.com/acme/app/pull", Err(Shape(PR_SHAPE))),
        ("https://github.com/acme/app/pull/", Err(Shape(PR_SHAPE))),
        (
            "https://github.com/acme/app/pull/12/files",
            Err(Shape(PR_SHAPE)),
        ),
        (
            "https://github.com/acme/app/pull/12//",
            Err(Shape(PR_SHAPE)),
        ),
        (
            "https://github.com/acme/app/issues/12",
            Err(Shape(PR_SHAPE)),
        ),
        ("https://github.com/acme/app/pulls/12", Err(Shape(PR_SHAPE))),
        ("https://github.com/acme/app/PULL/12", Err(Shape(PR_SHAPE))),
        ("https://github.com/acme/pull/12", Err(Shape(PR_SHAPE))),
        (
            "https://github.com/acme/app/pull/0",
            Err(Number("0".into())),
        ),
        (
            "https://github.com/acme/app/pull/012",
            Err(Number("012".into())),
        ),
        (
            "https://github.com/acme/app/pull/-1",
            Err(Number("-1".into())),
        ),
        (
            "https://github.com/acme/app/pull/+1",
            Err(Number("+1".into())),
        ),
        (
            "https://github.com/acme/app/pull/1e3",
            Err(Number("1e3".into())),
        ),
        (
            "https://github.com/acme/app/pull/12abc",
            Err(Number("12abc".into())),
        ),
        (
            "https://github.com/acme/app/pull/1\u{0}",
            Err(Number("1\u{0}".into())),
        ),
        (
            "https://github.com/acme/app/pull/18446744073709551616",
            Err(Number("18446744073709551616".into())),
        ),
        (
            "https://github.com/acme/../pull/1",
            Err(Name(NameError::Repo("..".into()))),
        ),
        (
            "https://github.com/../app/pull/1",
            Err(Name(NameError::Owner("..".into()))),
        ),
        (
            "https://github.com/acme/app%2F..%2Fx/pull/1",
            Err(Name(NameError::Repo("app%2F..%2Fx".into()))),
        ),
        (
            "https://github.com/ac me/app/pull/1",
            Err(Name(NameError::Owner("ac me".into()))),
        ),
        (
            "https://github.com/-acme/app/pull/1",
            Err(Name(NameError::Owner("-acme".into()))),
        ),
        (
            "https:///acme/app/pull/1",
            Err(Name(NameError::Host("".into()))),
        ),
        (
            "https://github..com/acme/app/pull/1",
            Err(Name(NameError::Host("github..com".into()))),
        ),
        ("https://gíthub.com/acme/app/pull/1", Err(NotAscii('í'))),
        ("https://github.com/acme/app/pull/١٢", Err(NotAscii('١'))),
        (
            "https://github.com/acme/app/pull/1\u{202e}",
            Err(NotAscii('\u{202e}')),
        ),
        (
            "https://evil.example@github.com/acme/app/pull/1",
            Err(UserInfo),
        ),
        ("https://github.com:8443/acme/app/pull/1", Err(Port)),
        (
            &long_owner,
            Err(Name(NameError::Owner(format!("{}…", "a".repeat(60))))),
        ),
    ];
    for (text, expected) in cases {
        let parsed = PrUrl::parse(text);
        assert_eq!(
            parsed.as_ref().map(PrUrl::as_str).map_err(Clone::clone),
            expected,
            "{:?}",
            text.get(..80).unwrap_or(text)
        );
    }
    let parsed = PrUrl::parse("https://GitHub.com/Acme/App/pull/12").unwrap();
    assert_eq!(
        (parsed.repo(), parsed.number()),
        (&repo("github.com", "Acme", "App"), 12)
    );
    assert_eq!(
        serde_json::to_string(&parsed).unwrap(),
        "\"https://github.com/Acme/App/pull/12\""
    );
}

#[test]
fn pr_url_errors_name_the_offending_part() {
    let message = |text: &str| PrUrl::parse(text).unwrap_err().to_string();
    let cases = [
        ("http://github.com/o/r/pull/1", "must start with https://"),
        (
            "https://github.com/o/r/pull/012",
            "has \"012\" where the number belongs",
        ),
        (
            "https://github.com/o/r/issues/1",
            "must look like https://<host>/<owner>/<repo>/pull/<number>",
        ),
        (
            "https://github.com/with spaces/r/pull/1",
            "has an invalid part: owner \"with spaces\" must be",
        ),
        (
            "https://github.com/o/r/pull/1é",
            "contains the character 'é'",
        ),
        ("https://github.com:1/o/r/pull/1", "has a port"),
    ];
    for (text, expected) in cases {
        assert!(
            message(text).starts_with(expected),
            "{text}: {}",
            message(text)
        );
    }
    let huge = format!("https://github.com/{}/r/pull/1", "x".repeat(1_000_000));
    assert!(
        message(&huge).len() < 300,
        "an error does not repeat huge input"
    );
}

#[test]
fn issue_urls() {
    let cases: Vec<(&str, Option<&str>)> = vec![
        (
            "https://github.com/o/r/issues/42",
            Some("https://github.com/o/r/issues/42"),
        ),
        (
            "https://GITHUB.com/o/r/issues/42/#top",
            Some("https://github.com/o/r/issues/42"),
        ),
        ("https://github.com/o/r/pull/42", None),
        ("https://github.com/o/r/issues", None),
        ("https://github.com/issues/42", None),
        ("https://github.com/o/r/issues/0", None),
        ("http://github.com/o/r/issues/42", None),
    ];
    for (text, expected) in cases {
        assert_eq!(
            IssueUrl::parse(text).ok().as_ref().map(IssueUrl::as_str),
            expected,
            "{text}"
        );
    }
    assert_eq!(
        IssueUrl::parse("https://github.com/o/r/pull/1")
            .unwrap_err()
            .to_string(),
        "must look like https://<host>/<owner>/<repo>/issues/<number>"
    );
}

#[test]
fn pr_urls_in_tool_output() {
    let cases: Vec<(&str, &str, Vec<PrUrl>)> = vec![
        (
            "gh pr create",
            "Creating pull request for fix/login into main in acme/app\n\nhttps://github.com/acme/app/pull/12\n",
            vec![pr("acme", "app", 12)],
        ),
        (
            "order of appearance, without repeats, sentence punctuation dropped",
            "see https://github.com/a/b/pull/2, and https://github.com/a/b/pull/1. Again: https://github.com/a/b/pull/2!",
            vec![pr("a", "b", 2), pr("a", "b", 1)],
        ),
        (
            "markdown, angle brackets, JSON, quotes",
            "[#3](https://github.com/a/b/pull/3) <https://github.com/a/b/pull/4> {\"url\":\"https://github.com/a/b/pull/5\"} 'https://github.com/a/b/pull/6' **https://github.com/a/b/pull/7**",
            (3..=7).map(|n| pr("a", "b", n)).collect(),
        ),
        (
            "a page of the PR is the PR",
            "https://github.com/a/b/pull/6/files#diff-1 https://github.com/a/b/pull/8/checks?x=1",
            vec![pr("a", "b", 6), pr("a", "b", 8)],
        ),
        (
            "an Enterprise host",
            "https://GHE.example.com/a/b/pull/12",
            vec![PrUrl::new(repo("ghe.example.com", "a", "b"), 12)],
        ),
        (
            "a link ends at non-ASCII text",
            "PR: https://github.com/a/b/pull/10。次",
            vec![pr("a", "b", 10)],
        ),
        (
            "whatever precedes the link",
            "javascript:https://github.com/a/b/pull/11",
            vec![pr("a", "b", 11)],
        ),
        ("issues are not PRs", "https://github.com/a/b/issues/7", vec![]),
        ("http is not taken", "http://github.com/a/b/pull/8", vec![]),
        ("no number", "https://github.com/a/b/pull/ https://github.com/a/b/pull", vec![]),
        ("a number that runs on", "https://github.com/a/b/pull/9abc", vec![]),
        ("a bad owner", "https://github.com/-a/b/pull/9", vec![]),
        ("dot segments", "https://github.com/a/../pull/9", vec![]),
        (
            "two links glued together are neither",
            "https://github.com/a/b/pull/1https://github.com/a/b/pull/2",
            vec![],
        ),
        ("user information", "https://x@github.com/a/b/pull/1", vec![]),
        ("nothing", "", vec![]),
    ];
    for (label, text, expected) in cases {
        assert_eq!(find_pr_urls(text), expected, "{label}");
    }
}

#[test]
fn scanning_is_bounded_on_huge_input() {
    let many: String = (1..=100)
        .map(|n| format!("https://github.com/a/b/pull/{n} "))
        .collect();
    let found = find_pr_urls(&many);
    assert_eq!(found.len(), MAX_FOUND_PR_URLS);
    assert_eq!(found[0], pr("a", "b", 1));
    assert_eq!(
        found[MAX_FOUND_PR_URLS - 1],
        pr("a", "b", MAX_FOUND_PR_URLS as u64)
    );

    // Megabytes of near-links: each byte is looked at a bounded number of times.
    let glued = format!(
        "{} https://github.com/a/b/pull/1",
        "https://".repeat(1 << 20)
    );
    assert_eq!(find_pr_urls(&glued), [pr("a", "b", 1)]);
    let long_tail = format!("https://github.com/a/b/pull/1/{}", "x".repeat(1 << 22));
    assert_eq!(find_pr_urls(&long_tail), []);
    assert_eq!(find_pr_urls(&"é".repeat(1 << 20)), []);
}

fn any_owner() -> impl Strategy<Value = String> {
    "[A-Za-z0-9]([A-Za-z0-9-]{0,37}[A-Za-z0-9])?"
}

fn any_repo_name() -> impl Strategy<Value = String> {
    "[A-Za-z0-9._-]{1,100}".prop_filter("not . or .. or a .git name", |r| {
        r != "." && r != ".." && !r.ends_with(".git")
    })
}

fn any_host() -> impl Strategy<Value = String> {
    "[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?){0,3}"
}

fn any_repo() -> impl Strategy<Value = GithubRepo> {
    (any_host(), any_owner(), any_repo_name())
        .prop_map(|(h, o, r)| GithubRepo::parse(&h, &o, &r).unwrap())
}

fn any_pr_url() -> impl Strategy<Value = PrUrl> {
    (any_repo(), 1..100_000u64).prop_map(|(r, n)| PrUrl::new(r, n))
}

proptest! {
    #[test]
    fn canonical_urls_round_trip(url in any_pr_url(), tail in select(&["", "/", "?a=b", "#x", "/?q#f"][..])) {
        let parsed = PrUrl::parse(&format!("{url}{tail}")).unwrap();
        prop_assert_eq!(&parsed, &url);
        let issue = IssueUrl::new(url.repo().clone(), url.number());
        prop_assert_eq!(IssueUrl::parse(issue.as_str()).unwrap(), issue);
    }

    #[test]
    fn remotes_in_every_form_name_their_repository(
        r in any_repo(),
        form in 0..6usize,
        user in select(&["git", "org-1"][..]),
    ) {
        let (host, owner, name) = (&r.host, &r.owner, &r.repo);
        let remote = match form {
            0 => format!("{user}@{host}:{owner}/{name}.git"),
            1 => format!("{host}:{owner}/{name}"),
            2 => format!("ssh://{user}@{host}:2222/{owner}/{name}.git"),
            3 => format!("https://{host}/{owner}/{name}.git"),
            4 => format!("https://token@{host}/{owner}/{name}/"),
            _ => format!("http://{host}/{owner}/{name}"),
        };
        prop_assert_eq!(GithubRepo::from_remote(&remote), Ok(r.clone()), "{}", remote);
    }

    #[test]
    fn every_link_in_noise_is_found_once_in_order(
        urls in vec(any_pr_url(), 0..30),
        separators in vec(select(&[" ", "\n", ", ", " (", ") ", "\"", "\t<", "> ", " — "][..]), 30),
        noise in vec("[a-z ]{0,12}", 30),
    ) {
        let mut text = String::new();
        for (i, url) in urls.iter().enumerate() {
            text.push_str(&noise[i]);
            text.push_str(separators[i]);
            text.push_str(url.as_str());
            text.push_str(separators[(i + 1) % 30]);
        }
        let mut expected: Vec<PrUrl> = Vec::new();
        for url in &urls {
            if !expected.contains(url) {
                expected.push(url.clone());
            }
        }
        expected.truncate(MAX_FOUND_PR_URLS);
        prop_assert_eq!(find_pr_urls(&text), expected);
    }

    #[test]
    fn any_text_is_safe_to_parse_and_scan(text in ".{0,200}", urlish in "[a-z:/.@#?%0-9 -]{0,80}") {
        for t in [&text, &urlish, &format!("https://{urlish}"), &format!("https://github.com/{urlish}")] {
            let _ = PrUrl::parse(t);
            let _ = IssueUrl::parse(t);
            let _ = GithubRepo::from_remote(t);
            prop_assert!(find_pr_urls(t).len() <= MAX_FOUND_PR_URLS);
        }
    }
}
