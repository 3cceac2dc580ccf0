//! GitHub, purely: the shapes of the GraphQL answers ff reads, the mappings that turn them into
//! ff's PR state, CI status and conflict mark (D§5.2, D§5.3, github.md §2), the repository and
//! URL types every GitHub input is parsed into once, and the PR details the browser is sent.
//!
//! The queries themselves live in `server/src/github/graphql/`; the models here follow their
//! selections field for field, in GitHub's spelling.

mod answer;
mod ci;
mod created;
mod details;
mod enums;
mod issues;
mod names;
mod observation;
mod prompt;
mod pull_request;
mod remote;
mod repository;
mod state;
mod urls;
mod view;

pub use answer::{
    login_or_ghost, Actor, Count, GraphqlError, GraphqlResponse, Nodes, PathSegment, RateLimit,
    ViewerAnswer, GHOST_LOGIN,
};
pub use ci::{
    actions_run_id, check_lines, ci_status, failing_checks, CheckLine, FailingCheck, Verdict,
};
pub use created::{created_pull_requests, creates_pull_request, MAX_CREATED_PER_TOOL_CALL};
pub use details::{
    DetailsAnswer, DetailsRepository, IssueComment, PullRequestDetails, Review, ReviewComment,
    ReviewThread,
};
pub use enums::{
    CheckConclusionState, CheckStatusState, MergeStateStatus, MergeableState,
    PullRequestReviewDecision, PullRequestReviewState, PullRequestState, StatusState,
};
pub use issues::{
    Issue, IssueAnswer, IssueRepository, IssueSummary, IssuesAnswer, IssuesRepository, Label,
};
pub use names::{
    GithubRepo, Host, NameError, Owner, RepoName, GITHUB_COM, OWNER_MAX_CHARS, REPO_MAX_CHARS,
};
pub use observation::{ratchet_observation, Observation};
pub use prompt::issue_prompt;
pub use pull_request::{
    CheckRun, CheckSuite, Commit, Discovery, LatestReview, PrCandidate, PullRequestCommit,
    PullRequestSummary, RepositoryCandidates, RepositoryPullRequest, RepositoryPullRequests,
    RollupContext, RollupContexts, StatusCheckRollup, StatusContext, SummaryAnswer, Workflow,
    WorkflowRun, CLOCK_SKEW_SECONDS,
};
pub use remote::is_ssh_remote;
pub use repository::{
    BranchRef, CreatePullRequestAnswer, CreatePullRequestPayload, CreatedPullRequest, RepositoryId,
    RepositoryIdAnswer,
};
pub use state::{merge_conflict, pr_state};
pub use urls::{find_pr_urls, IssueUrl, PrUrl, UrlError, MAX_FOUND_PR_URLS};
pub use view::{
    pr_state_label, review_label, web_link, AttachPr, CreatePr, HostState, HostStatus,
    PrDetailsView, PrReview, PrThread, PrThreadComment, PrView, RateLimitView,
};
