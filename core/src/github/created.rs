//! Which pull request URLs in an agent's tool output name a PR that tool call opened (github.md
//! §2). Any tool output may quote PR URLs (an issue, `gh pr list`, a CHANGELOG); only a tool
//! call that opens a PR is taken at its word, and then only as a claim that ff checks on GitHub.

use super::urls::{find_pr_urls, PrUrl};
use crate::transcript::{ToolCall, ToolContent};
use serde_json::Value;

/// One tool call names at most this many PRs for ff to check (`gh pr create` prints one).
pub const MAX_CREATED_PER_TOOL_CALL: usize = 3;

/// The PRs `tool` says it opened: the PR URLs of its output, once it finished, when it is a tool
/// call that opens pull requests. None for any other tool call.
pub fn created_pull_requests(tool: &ToolCall) -> Vec<PrUrl> {
    if tool.status != "completed" || !creates_pull_request(tool) {
        return Vec::new();
    }
    let mut urls = find_pr_urls(&output_text(tool));
    urls.truncate(MAX_CREATED_PER_TOOL_CALL);
    urls
}

/// A command that runs `gh pr create` (`gh pr new`, `hub pull-request`), or a tool named for
/// creating one (a GitHub MCP server's `create_pull_request`).
pub fn creates_pull_request(tool: &ToolCall) -> bool {
    let command = tool
        .raw_input
        .as_ref()
        .map(command_text)
        .unwrap_or_default();
    runs_pr_create(&command) || runs_pr_create(&tool.title) || names_pr_creation(&tool.title)
}

/// `rawInput.command` as agents send it: a string, or a list of arguments.
fn command_text(input: &Value) -> String {
    match &input["command"] {
        Value::String(command) => command.clone(),
        Value::Array(words) => words
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(" "),
        _ => String::new(),
    }
}

/// Whether a shell command line invokes `gh pr create` or an equivalent anywhere in it.
fn runs_pr_create(command: &str) -> bool {
    let words: Vec<&str> = command
        .split(|c: char| c.is_whitespace() || matches!(c, ';' | '&' | '|' | '(' | ')' | '`'))
        .map(|w| w.trim_matches(|c| c == '"' || c == '\''))
        .filter(|w| !w.is_empty())
        .collect();
    let program = |w: &str| w.rsplit('/').next().unwrap_or(w).to_owned();
    words.iter().enumerate().any(|(i, word)| {
        let next = |n: usize| words.get(i + n).copied().unwrap_or_default();
        match program(word).as_str() {
            "gh" => next(1) == "pr" && matches!(next(2), "create" | "new"),
            "hub" => next(1) == "pull-request",
            _ => false,
        }
    })
}

/// A title such as `mcp__github__create_pull_request` or "Create pull request".
fn names_pr_creation(title: &str) -> bool {
    let words: Vec<String> = title
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect();
    words.windows(3).any(|w| {
        matches!(w[0].as_str(), "create" | "open")
            && matches!(w[1].as_str(), "pull" | "a")
            && matches!(w[2].as_str(), "request" | "pull")
    }) || words
        .windows(2)
        .any(|w| matches!(w[0].as_str(), "create" | "open") && w[1] == "pr")
}

/// Everything the tool call output: its content and its raw output (never its input, which
/// the agent wrote).
fn output_text(tool: &ToolCall) -> String {
    let mut text = String::new();
    for part in &tool.content {
        if let ToolContent::Text { text: part } = part {
            text.push_str(part);
            text.push('\n');
        }
    }
    match &tool.raw_output {
        None | Some(Value::Null) => {}
        Some(Value::String(output)) => text.push_str(output),
        Some(other) => text.push_str(&other.to_string()),
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn tool(title: &str, input: Value, status: &str, output: &str) -> ToolCall {
        ToolCall {
            tool_call_id: "t1".into(),
            title: title.into(),
            kind: "execute".into(),
            status: status.into(),
            content: vec![ToolContent::Text {
                text: output.into(),
            }],
            locations: Vec::new(),
            raw_input: Some(input),
            raw_output: None,
        }
    }

    const URL: &str = "https://github.com/acme/app/pull/12";

    #[test]
    fn only_tool_calls_that_open_a_pr_are_believed() {
        let cases: &[(&str, Value, bool)] = &[
            ("Run gh", json!({"command": "gh pr create --fill"}), true),
            (
                "Bash",
                json!({"command": "git push -u origin HEAD && gh pr create -t x -b y"}),
                true,
            ),
            (
                "Bash",
                json!({"command": "/usr/bin/gh pr new --draft"}),
                true,
            ),
            (
                "Bash",
                json!({"command": ["bash", "-lc", "gh pr create --fill"]}),
                true,
            ),
            ("Bash", json!({"command": "hub pull-request -m x"}), true),
            ("gh pr create --title 'Fix'", json!({}), true),
            (
                "mcp__github__create_pull_request",
                json!({"owner": "acme"}),
                true,
            ),
            ("Create pull request", json!({}), true),
            ("Open a pull request", json!({}), true),
            (
                "gh issue view 5",
                json!({"command": "gh issue view 5"}),
                false,
            ),
            ("gh pr list", json!({"command": "gh pr list"}), false),
            (
                "gh pr view 12",
                json!({"command": "gh pr view 12 --json url"}),
                false,
            ),
            (
                "Read CHANGELOG.md",
                json!({"file_path": "CHANGELOG.md"}),
                false,
            ),
            (
                "Bash",
                json!({"command": "grep 'pr create' notes.md"}),
                false,
            ),
            ("mcp__github__list_pull_requests", json!({}), false),
            ("Review pull request", json!({}), false),
        ];
        for (title, input, expected) in cases {
            let call = tool(title, input.clone(), "completed", URL);
            assert_eq!(creates_pull_request(&call), *expected, "{title} {input}");
            let found = created_pull_requests(&call);
            assert_eq!(found.len(), usize::from(*expected), "{title} {input}");
        }
    }

    #[test]
    fn a_pr_is_claimed_once_the_call_finished_and_only_from_its_output() {
        let input =
            json!({"command": "gh pr create --body 'after https://github.com/acme/app/pull/3'"});
        for status in ["pending", "in_progress", "failed", "cancelled"] {
            assert!(created_pull_requests(&tool("gh", input.clone(), status, URL)).is_empty());
        }
        let done = tool("gh", input.clone(), "completed", "");
        assert!(
            created_pull_requests(&done).is_empty(),
            "the input's URL is the agent's"
        );
        let mut raw = tool("gh", input, "completed", "");
        raw.raw_output = Some(json!({"stdout": format!("{URL}\n"), "exit": 0}));
        let found = created_pull_requests(&raw);
        assert_eq!(found.iter().map(PrUrl::as_str).collect::<Vec<_>>(), [URL]);
    }

    #[test]
    fn a_flood_of_urls_names_a_few() {
        let output: String = (1..100)
            .map(|n| format!("https://github.com/acme/app/pull/{n}\n"))
            .collect();
        let call = tool(
            "gh",
            json!({"command": "gh pr create"}),
            "completed",
            &output,
        );
        assert_eq!(
            created_pull_requests(&call).len(),
            MAX_CREATED_PER_TOOL_CALL
        );
    }
}
