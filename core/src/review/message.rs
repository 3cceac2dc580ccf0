//! The one message "Send to agent" queues in the workspace's session (review.md §2): every draft
//! comment with its file, its lines and the code it is about, in Markdown.

use super::comments::{ReviewComment, Side};
use super::path::ReviewPath;

/// The message for `comments` (in the order given).
pub fn review_message(comments: &[ReviewComment]) -> String {
    let mut message = format!(
        "Review comments on your changes ({}). Please address each one. Line numbers are those \
         of the working tree, except for removed lines, which are numbered as in the base branch.\n",
        comments.len()
    );
    for (n, comment) in comments.iter().enumerate() {
        let removed = match comment.side {
            Side::Old => " (removed lines)",
            Side::New => "",
        };
        message.push_str(&format!(
            "\n## {}. `{}`, {}{removed}\n\n",
            n + 1,
            comment.path,
            comment.lines_label()
        ));
        let code = comment.quoted.join("\n");
        let fence = "`".repeat(longest_backtick_run(&code).max(2) + 1);
        let language = ReviewPath::parse(&comment.path)
            .ok()
            .and_then(|p| p.extension().map(str::to_owned))
            .unwrap_or_default();
        message.push_str(&format!("{fence}{language}\n{code}\n{fence}\n\n"));
        message.push_str(&comment.body);
        message.push('\n');
    }
    message
}

/// So that quoted code containing a fence cannot close the message's own.
fn longest_backtick_run(text: &str) -> usize {
    text.split(|c| c != '`').map(str::len).max().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{CommentId, Timestamp, WorkspaceId};
    use crate::review::comments::CommentState;

    fn comment(
        path: &str,
        side: Side,
        lines: (u32, u32),
        quoted: &[&str],
        body: &str,
    ) -> ReviewComment {
        ReviewComment {
            id: CommentId::new("c"),
            workspace_id: WorkspaceId::new("w"),
            path: path.into(),
            side,
            start_line: lines.0,
            end_line: lines.1,
            quoted: quoted.iter().map(|&l| l.to_owned()).collect(),
            body: body.into(),
            state: CommentState::Draft,
            created_at: Timestamp::from_millis(0).unwrap(),
            sent_at: None,
            session_id: None,
            resolved_at: None,
            current_start_line: Some(lines.0),
        }
    }

    #[test]
    fn every_comment_names_its_file_and_lines_and_quotes_its_code() {
        let message = review_message(&[
            comment(
                "src/lib.rs",
                Side::New,
                (12, 12),
                &["let x = 1;"],
                "Use a constant.",
            ),
            comment(
                "README.md",
                Side::Old,
                (3, 4),
                &["old", "text"],
                "Why remove this?",
            ),
        ]);
        assert_eq!(
            message,
            "Review comments on your changes (2). Please address each one. Line numbers are \
             those of the working tree, except for removed lines, which are numbered as in the \
             base branch.\n\
             \n## 1. `src/lib.rs`, line 12\n\n```rs\nlet x = 1;\n```\n\nUse a constant.\n\
             \n## 2. `README.md`, lines 3–4 (removed lines)\n\n```md\nold\ntext\n```\n\nWhy remove this?\n"
        );
    }

    #[test]
    fn quoted_fences_cannot_close_the_message_s_own() {
        let message = review_message(&[comment("notes", Side::New, (1, 1), &["```` four"], "x")]);
        assert!(message.contains("\n`````\n```` four\n`````\n"), "{message}");
    }
}
