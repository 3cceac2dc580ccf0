//! The envelope of every GraphQL answer, and the small shapes many answers share.

use crate::ids::Timestamp;
use serde::{Deserialize, Deserializer, Serialize};

/// `{"data": …, "errors": [...]}`. Both may be present: with aliases, one failed alias comes
/// back as `null` plus an error naming its path while the others keep their data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GraphqlResponse<T> {
    pub data: Option<T>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<GraphqlError>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GraphqlError {
    pub message: String,
    /// GitHub's error class: `NOT_FOUND`, `RATE_LIMITED`, `FORBIDDEN`, …
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub path: Vec<PathSegment>,
}

/// One step of an error's path: a field's response key or a list index.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum PathSegment {
    Key(String),
    Index(u64),
}

impl GraphqlError {
    pub fn is_rate_limited(&self) -> bool {
        self.kind.as_deref() == Some("RATE_LIMITED")
    }

    /// The top-level response key the error belongs to (`b3` in a batch), if any.
    pub fn alias(&self) -> Option<&str> {
        match self.path.first() {
            Some(PathSegment::Key(key)) => Some(key),
            _ => None,
        }
    }
}

/// `rateLimit { cost remaining resetAt limit }`, asked for by every query.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RateLimit {
    pub cost: u32,
    pub remaining: u32,
    pub reset_at: Timestamp,
    pub limit: u32,
}

/// A connection's `nodes`. GraphQL lets both the list and its items be null; ff has no use for
/// either null, so both read as absent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(bound(deserialize = "T: Deserialize<'de>"))]
pub struct Nodes<T> {
    #[serde(deserialize_with = "present_nodes")]
    pub nodes: Vec<T>,
}

pub(super) fn present_nodes<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    let nodes = Option::<Vec<Option<T>>>::deserialize(deserializer)?;
    Ok(nodes.into_iter().flatten().flatten().collect())
}

/// A connection asked only for its size.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Count {
    pub total_count: u64,
}

/// `author { login }` and the like. GitHub answers `null` for a deleted account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub login: String,
}

/// The login GitHub shows for a deleted account.
pub const GHOST_LOGIN: &str = "ghost";

/// The login to show for an author that may be gone.
pub fn login_or_ghost(author: Option<&Actor>) -> &str {
    author.map_or(GHOST_LOGIN, |a| a.login.as_str())
}

/// The answer of `viewer.graphql`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ViewerAnswer {
    pub rate_limit: Option<RateLimit>,
    pub viewer: Actor,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn null_nodes_are_skipped() {
        let nodes: Nodes<Actor> =
            serde_json::from_value(json!({"nodes": [{"login": "a"}, null, {"login": "b"}]}))
                .unwrap();
        assert_eq!(nodes.nodes.len(), 2);
        let none: Nodes<Actor> = serde_json::from_value(json!({"nodes": null})).unwrap();
        assert!(none.nodes.is_empty());
        assert!(serde_json::from_value::<Nodes<Actor>>(json!({})).is_err());
    }

    #[test]
    fn errors_name_their_alias_and_class() {
        let answer: GraphqlResponse<serde_json::Value> = serde_json::from_value(json!({
            "data": {"b0": {}, "b1": null},
            "errors": [
                {"type": "NOT_FOUND", "path": ["b1"], "message": "Could not resolve"},
                {"type": "RATE_LIMITED", "message": "API rate limit exceeded"},
                {"path": ["b0", "pullRequests", 0], "message": "odd"}
            ]
        }))
        .unwrap();
        let aliases: Vec<_> = answer.errors.iter().map(GraphqlError::alias).collect();
        assert_eq!(aliases, [Some("b1"), None, Some("b0")]);
        let limited: Vec<_> = answer
            .errors
            .iter()
            .map(GraphqlError::is_rate_limited)
            .collect();
        assert_eq!(limited, [false, true, false]);
        assert_eq!(answer.errors[2].path[2], PathSegment::Index(0));
    }

    #[test]
    fn deleted_authors_read_as_ghost() {
        let someone = Actor {
            login: "octo".into(),
        };
        assert_eq!(login_or_ghost(Some(&someone)), "octo");
        assert_eq!(login_or_ghost(None), "ghost");
    }
}
