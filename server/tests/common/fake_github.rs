//! The fake GitHub of the `ff-fake-github` binary, run inside the test process so that tests
//! change its scenario directly; its answers go to `target/github-contract/` for the contract
//! check (`node end2end/contract/check-graphql.mjs`).

#[path = "../../src/bin/ff-fake-github/fake/mod.rs"]
mod fake;

pub use fake::*;
use std::path::{Path, PathBuf};

/// The token the fake accepts and the tests give ff.
pub const TOKEN: &str = "test-token";
pub const OWNER: &str = "acme";
pub const REPO: &str = "app";

pub fn contract_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/github-contract")
}

/// A fake with the repository `acme/app` and nothing in it.
pub async fn start() -> FakeGithub {
    let mut world = World::new(TOKEN);
    world.repo(OWNER, REPO);
    FakeGithub::start(world, 0, Some(contract_dir())).await
}

/// Makes `acme/app` the project's GitHub repository.
pub async fn link(app: &super::TestApp, project: &str) {
    let (status, body) = app
        .send(
            reqwest::Method::PATCH,
            &format!("/api/projects/{project}"),
            Some(serde_json::json!({"githubOwner": OWNER, "githubRepo": REPO})),
        )
        .await;
    assert_eq!(status, reqwest::StatusCode::OK, "{body}");
}

/// Opens a PR of `acme/app` from `branch` in `head_owner`'s repository, its head commit the
/// branch's in `clone` (as a push from that clone leaves it; a made-up one without the branch).
pub fn open_from(fake: &FakeGithub, clone: &Path, branch: &str, head_owner: &str) -> u64 {
    let head = std::process::Command::new("git")
        .args(["rev-parse", "--verify", "--quiet"])
        .arg(format!("refs/heads/{branch}"))
        .current_dir(clone)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
    let number = fake.world(|w| w.repo(OWNER, REPO).open(branch, head_owner));
    if let Some(head) = head {
        change(fake, number, |pr| pr.head_oid = head);
    }
    number
}

/// Changes PR `number` of `acme/app` as GitHub would record it.
pub fn change(fake: &FakeGithub, number: u64, edit: impl FnOnce(&mut world::Pr)) {
    fake.world(|w| w.repo(OWNER, REPO).change(number, edit));
}

/// Every check of the PR ran to `conclusion`.
pub fn complete(pr: &mut world::Pr, conclusion: &str) {
    for check in &mut pr.checks {
        check.status = "COMPLETED".into();
        check.conclusion = Some(conclusion.into());
    }
}
