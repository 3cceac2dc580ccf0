//! `ff-fake-github [--port N] [--token T] [--contract-dir DIR]`: the fake GitHub GraphQL API of
//! ff's tests as a process, for the end-to-end tests. It prints `fake github at <url>` and
//! serves until it is killed; `GET/PUT /_fake/world` read and replace the scenario, `GET
//! /_fake/served` lists the requests it answered.

// The server's tests include the same module and use the parts a process does not need.
#[allow(dead_code)]
mod fake;

use std::path::PathBuf;

fn usage() -> ! {
    eprintln!("usage: ff-fake-github [--port N] [--token T] [--contract-dir DIR]");
    std::process::exit(2)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut port = 0;
    let mut token = "fake-token".to_owned();
    let mut contract_dir = None;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().unwrap_or_else(|| usage());
        match flag.as_str() {
            "--port" => port = value.parse().unwrap_or_else(|_| usage()),
            "--token" => token = value,
            "--contract-dir" => contract_dir = Some(PathBuf::from(value)),
            _ => usage(),
        }
    }
    let fake = fake::FakeGithub::start(fake::World::new(&token), port, contract_dir).await;
    println!("fake github at {}", fake.url);
    std::future::pending::<()>().await;
}
