//! The GraphQL documents, kept as `.graphql` files that CI validates against GitHub's schema,
//! and the batched summary query built from pr_summary.graphql's fragments.

use serde_json::{json, Map, Value};

const SUMMARY: &str = include_str!("graphql/pr_summary.graphql");
pub const DETAILS: &str = include_str!("graphql/pr_details.graphql");
pub const REPOSITORY_ID: &str = include_str!("graphql/repository_id.graphql");
pub const CREATE_PULL_REQUEST: &str = include_str!("graphql/create_pull_request.graphql");
pub const ISSUES: &str = include_str!("graphql/issues.graphql");
pub const ISSUE: &str = include_str!("graphql/issue.graphql");
pub const VIEWER: &str = include_str!("graphql/viewer.graphql");
pub const REVIEW_THREADS: &str = include_str!("graphql/review_threads.graphql");
pub const REPLY_TO_REVIEW_THREAD: &str = include_str!("graphql/reply_to_review_thread.graphql");
pub const RESOLVE_REVIEW_THREAD: &str = include_str!("graphql/resolve_review_thread.graphql");
pub const REQUEST_REVIEWS: &str = include_str!("graphql/request_reviews.graphql");

/// GitHub accepts more, but the cost of one request and the size of its answer stay bounded.
pub const MAX_ALIASES: usize = 50;

/// One workspace's part of a summary request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Alias {
    /// Its PR is known: read it whole.
    Known(u64),
    /// Discovery: the PRs whose head is this branch.
    Branch(String),
}

impl Alias {
    /// The response key of the `index`th alias of a batch.
    pub fn key(&self, index: usize) -> String {
        match self {
            Self::Known(_) => format!("p{index}"),
            Self::Branch(_) => format!("b{index}"),
        }
    }
}

/// The text of `fragment NAME …` in pr_summary.graphql, up to the next definition.
fn fragment(name: &str) -> &'static str {
    let start = SUMMARY
        .find(&format!("fragment {name} on"))
        .unwrap_or_else(|| panic!("pr_summary.graphql defines fragment {name}"));
    let rest = &SUMMARY[start..];
    let end = ["\nfragment ", "\nquery "]
        .iter()
        .filter_map(|next| rest[1..].find(next).map(|i| i + 1))
        .min()
        .unwrap_or(rest.len());
    rest[..end].trim_end()
}

/// A summary request for `aliases` (at most [`MAX_ALIASES`]) of one repository: the query and
/// its variables. Only the fragments it uses are included (GraphQL refuses unused ones).
pub fn summary_batch(owner: &str, name: &str, aliases: &[Alias]) -> (String, Value) {
    assert!(
        aliases.len() <= MAX_ALIASES,
        "a batch has at most {MAX_ALIASES} aliases"
    );
    let mut params = vec!["$owner: String!".to_owned(), "$name: String!".to_owned()];
    let mut fields = String::new();
    let mut variables = Map::new();
    variables.insert("owner".into(), json!(owner));
    variables.insert("name".into(), json!(name));
    for (i, alias) in aliases.iter().enumerate() {
        let key = alias.key(i);
        match alias {
            Alias::Known(number) => {
                params.push(format!("$n{i}: Int!"));
                variables.insert(format!("n{i}"), json!(number));
                fields.push_str(&format!(
                    "  {key}: repository(owner: $owner, name: $name) {{\n    pullRequest(number: $n{i}) {{\n      ...PrSummary\n    }}\n  }}\n"
                ));
            }
            Alias::Branch(branch) => {
                params.push(format!("$h{i}: String!"));
                variables.insert(format!("h{i}"), json!(branch));
                fields.push_str(&format!(
                    "  {key}: repository(owner: $owner, name: $name) {{\n    pullRequests(\n      headRefName: $h{i}\n      first: 5\n      states: [OPEN, CLOSED, MERGED]\n      orderBy: {{ field: CREATED_AT, direction: DESC }}\n    ) {{\n      nodes {{\n        ...PrCandidate\n      }}\n    }}\n  }}\n"
                ));
            }
        }
    }
    let mut query = format!(
        "query PrSummaryBatch({}) {{\n  rateLimit {{\n    cost\n    remaining\n    resetAt\n    limit\n  }}\n{fields}}}\n",
        params.join(", ")
    );
    if aliases.iter().any(|a| matches!(a, Alias::Known(_))) {
        query.push('\n');
        query.push_str(fragment("PrSummary"));
        query.push('\n');
    }
    if aliases.iter().any(|a| matches!(a, Alias::Branch(_))) {
        query.push('\n');
        query.push_str(fragment("PrCandidate"));
        query.push('\n');
    }
    (query, Value::Object(variables))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_names_each_alias_and_carries_only_the_fragments_it_uses() {
        let (query, variables) = summary_batch(
            "acme",
            "app",
            &[Alias::Known(7), Alias::Branch("feature/x".into())],
        );
        assert!(query.starts_with(
            "query PrSummaryBatch($owner: String!, $name: String!, $n0: Int!, $h1: String!) {"
        ));
        assert!(query.contains(
            "  p0: repository(owner: $owner, name: $name) {\n    pullRequest(number: $n0) {"
        ));
        assert!(query.contains("  b1: repository(owner: $owner, name: $name) {\n    pullRequests(\n      headRefName: $h1\n      first: 5"));
        assert!(query.contains("fragment PrSummary on PullRequest {"));
        assert!(query.contains("fragment PrCandidate on PullRequest {"));
        assert!(
            !query.contains("query PrSummary("),
            "the file's own query stays out"
        );
        assert_eq!(
            variables,
            json!({"owner": "acme", "name": "app", "n0": 7, "h1": "feature/x"})
        );
        let (known_only, _) = summary_batch("acme", "app", &[Alias::Known(1)]);
        assert!(!known_only.contains("PrCandidate"));
        let (branches_only, _) = summary_batch("acme", "app", &[Alias::Branch("b".into())]);
        assert!(!branches_only.contains("fragment PrSummary"));
    }

    #[test]
    fn fragments_end_where_the_next_definition_starts() {
        let summary = fragment("PrSummary");
        assert!(summary.ends_with('}'));
        assert!(!summary.contains("fragment PrCandidate"));
        assert!(fragment("PrCandidate").ends_with('}'));
    }
}
