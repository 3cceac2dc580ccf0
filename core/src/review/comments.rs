//! Line comments on a workspace's diff (review.md §2): what a person writes, what is kept, and
//! the bodies of their routes.

use super::path::ReviewPath;
use crate::create::FieldError;
use crate::ids::{CommentId, SessionId, Timestamp, WorkspaceId};
use serde::{Deserialize, Serialize};

/// Longest comment body, in characters.
pub const MAX_BODY_CHARS: usize = 10_000;
/// Most lines one comment can span.
pub const MAX_COMMENT_LINES: u32 = 200;

/// Which version of the file a comment's line numbers are in: the base (`OLD`, for removed
/// lines) or the working tree (`NEW`, for added and unchanged lines).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Side {
    Old,
    New,
}

impl Side {
    /// Which version of the file the side is, in words.
    pub fn label(self) -> &'static str {
        match self {
            Self::Old => "base version",
            Self::New => "working tree",
        }
    }
}

/// A draft waits for "Send to agent"; a sent one was delivered to the agent's session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CommentState {
    Draft,
    Sent,
}

/// `POST /api/workspaces/{id}/review/comments`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewComment {
    pub path: String,
    pub side: Side,
    pub start_line: u32,
    pub end_line: u32,
    pub body: String,
}

/// A [`NewComment`] whose fields are acceptable on their own (the server then checks that the
/// lines are shown in the diff).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommentRequest {
    pub path: ReviewPath,
    pub side: Side,
    pub start_line: u32,
    pub end_line: u32,
    pub body: String,
}

impl NewComment {
    pub fn parse(self) -> Result<CommentRequest, FieldError> {
        let path =
            ReviewPath::parse(&self.path).map_err(|e| FieldError::new("path", e.to_string()))?;
        if self.start_line == 0 || self.end_line < self.start_line {
            return Err(FieldError::new(
                "endLine",
                format!(
                    "lines {}–{} are not a range of lines (they count from 1, and endLine is not before startLine)",
                    self.start_line, self.end_line
                ),
            ));
        }
        if self.end_line - self.start_line >= MAX_COMMENT_LINES {
            return Err(FieldError::new(
                "endLine",
                format!("a comment spans at most {MAX_COMMENT_LINES} lines"),
            ));
        }
        if self.body.trim().is_empty() {
            return Err(FieldError::new("body", "body must not be empty"));
        }
        let chars = self.body.chars().count();
        if chars > MAX_BODY_CHARS {
            return Err(FieldError::new(
                "body",
                format!("body is {chars} characters long; at most {MAX_BODY_CHARS} are accepted"),
            ));
        }
        Ok(CommentRequest {
            path,
            side: self.side,
            start_line: self.start_line,
            end_line: self.end_line,
            body: self.body.trim_end().to_owned(),
        })
    }
}

/// `PATCH /api/workspaces/{id}/review/comments/{commentId}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CommentUpdate {
    pub resolved: bool,
}

/// A kept comment, as `GET …/review/comments` lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReviewComment {
    pub id: CommentId,
    pub workspace_id: WorkspaceId,
    pub path: String,
    pub side: Side,
    pub start_line: u32,
    pub end_line: u32,
    /// The lines as they were when the comment was written.
    pub quoted: Vec<String>,
    pub body: String,
    pub state: CommentState,
    pub created_at: Timestamp,
    pub sent_at: Option<Timestamp>,
    /// The session it was sent to.
    pub session_id: Option<SessionId>,
    pub resolved_at: Option<Timestamp>,
    /// Where its lines are in the diff now (`startLine` unless they moved); `None` when they
    /// are no longer there as they were: "lines changed since".
    pub current_start_line: Option<u32>,
}

impl ReviewComment {
    pub fn changed_since(&self) -> bool {
        self.current_start_line.is_none()
    }

    pub fn is_open(&self) -> bool {
        self.resolved_at.is_none()
    }

    /// "line 12" or "lines 12–14".
    pub fn lines_label(&self) -> String {
        if self.start_line == self.end_line {
            format!("line {}", self.start_line)
        } else {
            format!("lines {}–{}", self.start_line, self.end_line)
        }
    }
}

/// `POST /api/workspaces/{id}/review/send`: the session that received the message, and the
/// comments it carried (now SENT).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SentReview {
    pub session_id: SessionId,
    pub comments: Vec<ReviewComment>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(start_line: u32, end_line: u32, body: &str) -> NewComment {
        NewComment {
            path: "src/lib.rs".into(),
            side: Side::New,
            start_line,
            end_line,
            body: body.into(),
        }
    }

    #[test]
    fn acceptable_comments_parse_and_others_name_their_field() {
        let parsed = request(3, 4, "Rename this.\n\n").parse().unwrap();
        assert_eq!(parsed.path.as_str(), "src/lib.rs");
        assert_eq!(parsed.body, "Rename this.");
        let cases = [
            (request(0, 1, "x"), "endLine"),
            (request(5, 4, "x"), "endLine"),
            (request(1, 1 + MAX_COMMENT_LINES, "x"), "endLine"),
            (request(1, 1, "  \n"), "body"),
            (request(1, 1, &"x".repeat(MAX_BODY_CHARS + 1)), "body"),
            (
                NewComment {
                    path: "../x".into(),
                    ..request(1, 1, "x")
                },
                "path",
            ),
        ];
        for (comment, field) in cases {
            assert_eq!(
                comment.clone().parse().unwrap_err().field,
                field,
                "{comment:?}"
            );
        }
        assert!(request(1, MAX_COMMENT_LINES, "x").parse().is_ok());
    }

    #[test]
    fn bodies_refuse_unknown_fields_and_enums_use_wire_names() {
        let err = serde_json::from_str::<NewComment>(
            r#"{"path": "a", "side": "NEW", "startLine": 1, "endLine": 1, "body": "x", "sate": 1}"#,
        )
        .unwrap_err();
        assert!(err.to_string().contains("sate"), "{err}");
        assert!(serde_json::from_str::<CommentUpdate>(r#"{"resolved": true, "x": 1}"#).is_err());
        assert_eq!(serde_json::to_value(Side::Old).unwrap(), "OLD");
        assert_eq!(serde_json::to_value(CommentState::Sent).unwrap(), "SENT");
        assert!(serde_json::from_str::<Side>(r#""new""#).is_err());
    }
}
