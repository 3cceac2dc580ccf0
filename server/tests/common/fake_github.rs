//! The fake GitHub of the `ff-fake-github` binary, run inside the test process so that tests
//! change its scenario directly; its answers go to `target/github-contract/` for the contract
//! check (`node end2end/contract/check-graphql.mjs`).

#[path = "../../src/bin/ff-fake-github/fake/mod.rs"]
mod fake;

pub use fake::*;
use std::path::PathBuf;

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
