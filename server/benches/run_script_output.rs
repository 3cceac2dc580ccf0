//! A dev server that floods its output: resident memory and CPU of ff while `yes ""` (empty
//! lines, the worst case for per-line bookkeeping) runs for 10 s, next to the same with 4 KiB
//! lines, in the same run. Run with `cargo bench -p ff-server --bench run_script_output`
//! (FF_BENCH_SECONDS=N to change the 10 s).

#[path = "../tests/common/mod.rs"]
mod common;

use common::binary::RunningFf;
use common::repo::TestRepo;
use serde_json::json;
use std::path::PathBuf;
use std::time::Duration;

const BUFFER_MIB: f64 = 0.5;

struct Measured {
    resident_mib: f64,
    cores: f64,
    logged_kib: usize,
}

async fn flood(ff: &RunningFf, id: &str, seconds: u64) -> Measured {
    let before_memory = ff.memory_kib("VmRSS");
    let before_cpu = ff.cpu_time();
    let (status, body) = ff
        .post(&format!("/api/workspaces/{id}/run-script/start"), None)
        .await;
    assert!(status.is_success(), "{body}");
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    let cpu = ff.cpu_time() - before_cpu;
    let resident = ff.memory_kib("VmRSS").saturating_sub(before_memory);
    let logs = common::client()
        .get(format!("{}/api/workspaces/{id}/run-script/logs", ff.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    ff.post(&format!("/api/workspaces/{id}/run-script/stop"), None)
        .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    Measured {
        resident_mib: resident as f64 / 1024.0,
        cores: cpu.as_secs_f64() / seconds as f64,
        logged_kib: logs.len() / 1024,
    }
}

#[tokio::main]
async fn main() {
    let seconds: u64 = std::env::var("FF_BENCH_SECONDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(10);
    let data = tempfile::tempdir().unwrap();
    let repo = TestRepo::new();
    repo.configure(json!({"scripts": {
        "run": "if [ -f long ]; then exec yes \"$(head -c 4096 /dev/zero | tr '\\0' x)\"; else exec yes ''; fi",
    }}));
    let ff = RunningFf::start(data.path(), "warn");
    let project = ff.add_project(&repo.path).await;
    let mut ids = Vec::new();
    for name in ["Empty lines", "Long lines"] {
        let ready = ff.ready_workspace(&project, name).await;
        ids.push((
            name,
            ready["id"].as_str().unwrap().to_owned(),
            PathBuf::from(ready["worktreePath"].as_str().unwrap()),
        ));
    }
    std::fs::write(ids[1].2.join("long"), "").unwrap();

    println!(
        "run-script output flood, {seconds} s each (ring buffer {BUFFER_MIB} MiB per workspace):"
    );
    for (name, id, _) in &ids {
        let m = flood(&ff, id, seconds).await;
        println!(
            "  {name:<12} resident +{:.2} MiB (target < {:.1} MiB: buffer + 2), CPU {:.3} core (target < 0.2), log tail {} KiB",
            m.resident_mib,
            BUFFER_MIB + 2.0,
            m.cores,
            m.logged_kib,
        );
    }
}
