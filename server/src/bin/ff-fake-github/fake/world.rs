//! The fake's scenario: repositories with pull requests, checks, reviews and issues, which a
//! test changes between polls; and the failures it injects. Each PR becomes a JSON object with
//! every field ff's queries can select, which the executor then cuts to the selection.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::VecDeque;

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct World {
    /// The token every request must carry (`Bearer …`); anything else is answered 401.
    pub token: String,
    pub viewer: String,
    pub repos: Vec<Repo>,
    /// Consumed one per GraphQL request, front first.
    #[serde(default)]
    pub inject: VecDeque<Inject>,
    /// Added to every answer.
    #[serde(default)]
    pub delay_ms: u64,
    pub limit: u32,
    pub remaining: u32,
    /// Seconds since the epoch.
    pub reset_at: i64,
}

/// A failure for the next request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Inject {
    /// An HTTP status with GitHub's JSON message (`message`, or the fake's own); rate-limit
    /// headers when given.
    Status {
        status: u16,
        retry_after: Option<u64>,
        /// `x-ratelimit-remaining: 0` and `x-ratelimit-reset` (epoch seconds).
        reset: Option<i64>,
        #[serde(default)]
        message: Option<String>,
    },
    /// 200 with a `RATE_LIMITED` GraphQL error and no data, and GitHub's headers saying when
    /// the limit resets (epoch seconds).
    RateLimited { reset: i64 },
    /// 200 with a body that is not JSON.
    Malformed,
    /// Answers normally after this long.
    Slow { ms: u64 },
    /// 200 with a JSON answer of this many bytes: a proxy or a server gone wrong.
    Huge { bytes: usize },
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Repo {
    pub owner: String,
    pub name: String,
    pub default_branch: String,
    pub prs: Vec<Pr>,
    #[serde(default)]
    pub issues: Vec<Issue>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Pr {
    pub number: u64,
    pub title: String,
    pub head: String,
    /// Whose repository the head branch is in (a fork when not the repository's owner).
    pub head_owner: String,
    pub base: String,
    /// OPEN, CLOSED or MERGED.
    pub state: String,
    pub draft: bool,
    pub review_decision: Option<String>,
    pub mergeable: String,
    pub merge_state_status: String,
    pub head_oid: String,
    pub checks: Vec<Check>,
    pub reviews: Vec<Review>,
    pub threads: Vec<Thread>,
    pub comments: u64,
    pub body: String,
    pub created_at: String,
    pub updated_at: String,
    /// Replies made through `addPullRequestReviewThreadReply`, oldest first.
    #[serde(default)]
    pub thread_replies: Vec<ThreadReply>,
    /// Node ids of the users `requestReviews` asked, one entry per user per request.
    #[serde(default)]
    pub review_requests: Vec<String>,
}

/// A reply on the thread at `thread` (an index into the PR's threads).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ThreadReply {
    pub thread: usize,
    pub author: String,
    pub body: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Check {
    pub name: String,
    pub workflow: String,
    pub run_id: u64,
    /// QUEUED, IN_PROGRESS or COMPLETED.
    pub status: String,
    pub conclusion: Option<String>,
    /// The job's log; `None`: GitHub has none (expired, or the job never ran).
    #[serde(default)]
    pub log: Option<String>,
}

impl Check {
    /// The Actions job id (a check run's `databaseId`) of the check at `index` of a PR.
    pub fn job_id(run_id: u64, index: usize) -> u64 {
        run_id * 10 + index as u64
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Review {
    pub author: String,
    pub state: String,
    pub body: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Thread {
    pub path: String,
    pub line: u32,
    pub resolved: bool,
    pub author: String,
    pub body: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Issue {
    pub number: u64,
    pub title: String,
    pub body: String,
    pub author: String,
    pub assignees: Vec<String>,
    pub labels: Vec<String>,
    pub created_at: String,
}

/// A fixed, valid object id for a commit named by `seed`.
pub fn oid(seed: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in seed.bytes() {
        hash = (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    format!(
        "{hash:016x}{:016x}{:08x}",
        hash.rotate_left(17),
        hash as u32
    )
}

pub fn now_text() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    time_text(now.as_secs() as i64, now.subsec_millis())
}

/// RFC 3339 in UTC with milliseconds, as GitHub writes times.
pub fn time_text(epoch_seconds: i64, millis: u32) -> String {
    let (days, rem) = (
        epoch_seconds.div_euclid(86_400),
        epoch_seconds.rem_euclid(86_400),
    );
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

pub fn epoch_seconds() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

impl World {
    pub fn new(token: &str) -> Self {
        Self {
            token: token.to_owned(),
            viewer: "octo".to_owned(),
            repos: Vec::new(),
            inject: VecDeque::new(),
            delay_ms: 0,
            limit: 5000,
            remaining: 5000,
            reset_at: epoch_seconds() + 3600,
        }
    }

    pub fn repo(&mut self, owner: &str, name: &str) -> &mut Repo {
        let at = match self.find(owner, name) {
            Some(at) => at,
            None => {
                self.repos.push(Repo {
                    owner: owner.to_owned(),
                    name: name.to_owned(),
                    default_branch: "main".to_owned(),
                    prs: Vec::new(),
                    issues: Vec::new(),
                });
                self.repos.len() - 1
            }
        };
        &mut self.repos[at]
    }

    fn find(&self, owner: &str, name: &str) -> Option<usize> {
        self.repos
            .iter()
            .position(|r| r.owner.eq_ignore_ascii_case(owner) && r.name.eq_ignore_ascii_case(name))
    }

    pub fn get_repo(&self, owner: &str, name: &str) -> Option<&Repo> {
        self.find(owner, name).map(|i| &self.repos[i])
    }
}

impl Repo {
    /// Opens a PR from `head` (in `head_owner`'s repository) with CI pending; returns its number.
    pub fn open(&mut self, head: &str, head_owner: &str) -> u64 {
        let number = self.next_number();
        let now = now_text();
        self.prs.push(Pr {
            number,
            title: format!("Work on {head}"),
            head: head.to_owned(),
            head_owner: head_owner.to_owned(),
            base: self.default_branch.clone(),
            state: "OPEN".into(),
            draft: false,
            review_decision: Some("REVIEW_REQUIRED".into()),
            mergeable: "MERGEABLE".into(),
            merge_state_status: "BLOCKED".into(),
            head_oid: oid(&format!("{head}-{number}")),
            checks: vec![Check {
                name: "test".into(),
                workflow: "CI".into(),
                run_id: 1000 + number,
                status: "IN_PROGRESS".into(),
                conclusion: None,
                log: None,
            }],
            reviews: Vec::new(),
            threads: Vec::new(),
            comments: 0,
            body: String::new(),
            created_at: now.clone(),
            updated_at: now,
            thread_replies: Vec::new(),
            review_requests: Vec::new(),
        });
        number
    }

    pub fn next_number(&self) -> u64 {
        let prs = self.prs.iter().map(|p| p.number);
        let issues = self.issues.iter().map(|i| i.number);
        prs.chain(issues).max().unwrap_or(0) + 1
    }

    /// Changes a PR the way GitHub would record it: `updatedAt` moves.
    pub fn change(&mut self, number: u64, edit: impl FnOnce(&mut Pr)) {
        let pr = self
            .prs
            .iter_mut()
            .find(|p| p.number == number)
            .unwrap_or_else(|| panic!("the fake has no PR #{number}"));
        edit(pr);
        pr.updated_at = now_text();
    }

    fn url(&self, kind: &str, number: u64) -> String {
        format!(
            "https://github.com/{}/{}/{kind}/{number}",
            self.owner, self.name
        )
    }

    /// The log of the job `job` of any PR's checks.
    pub fn job_log(&self, job: u64) -> Option<&str> {
        self.prs.iter().find_map(|pr| {
            pr.checks
                .iter()
                .enumerate()
                .find(|(i, c)| Check::job_id(c.run_id, *i) == job)
                .and_then(|(_, c)| c.log.as_deref())
        })
    }

    /// The node id of the thread at `index` of PR `number`.
    pub fn thread_id(&self, number: u64, index: usize) -> String {
        format!("PRRT_{}_{number}_{index}", self.name)
    }

    /// The node id of a user, as the fake makes them up.
    pub fn user_id(login: &str) -> String {
        format!("U_{login}")
    }

    pub fn node_id(&self) -> String {
        format!("R_{}_{}", self.owner, self.name)
    }

    /// The repository as an object of GraphQL fields (connections are resolved by arguments).
    pub fn json(&self) -> Value {
        json!({
            "__typename": "Repository",
            "id": self.node_id(),
            "defaultBranchRef": {"name": self.default_branch},
        })
    }

    /// PR `pr` as `viewer` (the token's user) reads it.
    pub fn pr_json(&self, pr: &Pr, viewer: &str) -> Value {
        let contexts: Vec<Value> = pr
            .checks
            .iter()
            .enumerate()
            .map(|(i, c)| {
                json!({
                    "__typename": "CheckRun",
                    "databaseId": Check::job_id(c.run_id, i),
                    "name": c.name,
                    "status": c.status,
                    "conclusion": c.conclusion,
                    "startedAt": pr.created_at,
                    "completedAt": if c.status == "COMPLETED" { json!(pr.updated_at) } else { Value::Null },
                    "detailsUrl": format!("https://github.com/{}/{}/actions/runs/{}/job/{}", self.owner, self.name, c.run_id, Check::job_id(c.run_id, i)),
                    "checkSuite": {"workflowRun": {"workflow": {"name": c.workflow}}},
                })
            })
            .collect();
        let rollup_state = rollup(&pr.checks);
        let rollup = if pr.checks.is_empty() {
            Value::Null
        } else {
            json!({"state": rollup_state, "contexts": {"totalCount": contexts.len(), "nodes": contexts, "pageInfo": {"hasNextPage": false, "endCursor": null}}})
        };
        let reviews: Vec<Value> = pr
            .reviews
            .iter()
            .enumerate()
            .map(|(i, r)| {
                json!({
                    "author": {"__typename": "User", "login": r.author, "id": Self::user_id(&r.author)},
                    "state": r.state,
                    "body": r.body,
                    "submittedAt": pr.updated_at,
                    "url": format!("{}#pullrequestreview-{}", self.url("pull", pr.number), i + 1),
                })
            })
            .collect();
        let threads: Vec<Value> = pr
            .threads
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let comment = |n: u64, author: &str, body: &str| {
                    json!({
                        "databaseId": n,
                        "author": {"login": author},
                        "body": body,
                        "url": format!("{}#discussion_r{n}", self.url("pull", pr.number)),
                        "createdAt": pr.updated_at,
                        "updatedAt": pr.updated_at,
                        "path": t.path,
                        "line": t.line,
                        "viewerDidAuthor": author.eq_ignore_ascii_case(viewer),
                    })
                };
                let mut comments = vec![comment(5000 + i as u64, &t.author, &t.body)];
                comments.extend(
                    pr.thread_replies
                        .iter()
                        .enumerate()
                        .filter(|(_, r)| r.thread == i)
                        .map(|(n, r)| comment(7000 + n as u64, &r.author, &r.body)),
                );
                json!({
                    "id": self.thread_id(pr.number, i),
                    "isResolved": t.resolved,
                    "isOutdated": false,
                    "path": t.path,
                    "line": t.line,
                    "comments": {"totalCount": comments.len(), "nodes": comments},
                })
            })
            .collect();
        // Each reviewer's latest review that approved or asked for changes.
        let mut opinions: Vec<Value> = Vec::new();
        for review in reviews.iter().rev() {
            let opinionated = matches!(
                review["state"].as_str(),
                Some("APPROVED" | "CHANGES_REQUESTED")
            );
            if opinionated
                && !opinions
                    .iter()
                    .any(|o| o["author"]["login"] == review["author"]["login"])
            {
                opinions.push(json!({"author": review["author"], "state": review["state"]}));
            }
        }
        opinions.reverse();
        let comments: Vec<Value> = (0..pr.comments)
            .map(|i| {
                json!({
                    "databaseId": 9000 + i,
                    "author": {"login": "reviewer"},
                    "body": format!("comment {i}"),
                    "url": format!("{}#issuecomment-{}", self.url("pull", pr.number), 9000 + i),
                    "createdAt": pr.updated_at,
                    "updatedAt": pr.updated_at,
                })
            })
            .collect();
        json!({
            "__typename": "PullRequest",
            "id": format!("PR_{}_{}", self.name, pr.number),
            "number": pr.number,
            "url": self.url("pull", pr.number),
            "title": pr.title,
            "body": pr.body,
            "state": pr.state,
            "isDraft": pr.draft,
            "merged": pr.state == "MERGED",
            "mergedAt": if pr.state == "MERGED" { json!(pr.updated_at) } else { Value::Null },
            "closed": pr.state != "OPEN",
            "updatedAt": pr.updated_at,
            "createdAt": pr.created_at,
            "headRefName": pr.head,
            "headRefOid": pr.head_oid,
            "baseRefName": pr.base,
            "isCrossRepository": !pr.head_owner.eq_ignore_ascii_case(&self.owner),
            "headRepositoryOwner": {"__typename": "User", "login": pr.head_owner},
            "author": {"__typename": "User", "login": pr.head_owner},
            "reviewDecision": pr.review_decision,
            "mergeable": pr.mergeable,
            "mergeStateStatus": pr.merge_state_status,
            "commits": {"totalCount": 1, "nodes": [{"commit": {"oid": pr.head_oid, "statusCheckRollup": rollup}}]},
            "reviews": {"totalCount": reviews.len(), "nodes": reviews},
            "latestReviews": {"totalCount": reviews.len(), "nodes": reviews.iter().map(|r| json!({"author": r["author"], "state": r["state"], "submittedAt": r["submittedAt"]})).collect::<Vec<_>>()},
            "latestOpinionatedReviews": {"totalCount": opinions.len(), "nodes": opinions},
            "comments": {"totalCount": comments.len(), "nodes": comments},
            "reviewThreads": {"totalCount": threads.len(), "nodes": threads},
        })
    }

    pub fn issue_json(&self, issue: &Issue) -> Value {
        json!({
            "number": issue.number,
            "title": issue.title,
            "body": issue.body,
            "url": self.url("issues", issue.number),
            "createdAt": issue.created_at,
            "author": {"login": issue.author},
            "assignees": {"totalCount": issue.assignees.len(), "nodes": issue.assignees.iter().map(|a| json!({"login": a})).collect::<Vec<_>>()},
            "labels": {"totalCount": issue.labels.len(), "nodes": issue.labels.iter().map(|l| json!({"name": l})).collect::<Vec<_>>()},
        })
    }
}

/// GitHub's own rollup state of the checks.
fn rollup(checks: &[Check]) -> &'static str {
    let failed = checks.iter().any(|c| {
        matches!(
            c.conclusion.as_deref(),
            Some("FAILURE" | "CANCELLED" | "TIMED_OUT" | "ACTION_REQUIRED" | "STARTUP_FAILURE")
        )
    });
    if failed {
        "FAILURE"
    } else if checks.iter().any(|c| c.status != "COMPLETED") {
        "PENDING"
    } else {
        "SUCCESS"
    }
}
