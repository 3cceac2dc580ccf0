use clap::Parser;
use ff_server::cli::{Cli, Command};
use ff_server::process::SECRETS;
use std::collections::HashMap;
use std::future::Future;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let secrets: HashMap<&str, String> = SECRETS
        .into_iter()
        .filter_map(|key| Some((key, std::env::var(key).ok()?)))
        .collect();
    for key in SECRETS {
        std::env::remove_var(key);
    }
    match cli.command {
        Command::Serve(args) => {
            let env = move |key: &str| {
                secrets
                    .get(key)
                    .cloned()
                    .or_else(|| std::env::var(key).ok())
            };
            let config = match ff_server::config::Config::resolve(args, env) {
                Ok(config) => config,
                Err(e) => return usage_error(e),
            };
            ff_server::telemetry::init(&config.log);
            run(ff_server::serve(config, ff_server::shutdown_signal()))
        }
        Command::Backup(args) => match storage(args.storage) {
            Ok(storage) => run(ff_server::backup_command(storage, args.action)),
            Err(e) => usage_error(e),
        },
        Command::Agents(args) => match storage(args.storage) {
            Ok(storage) => run(ff_server::agents_command(storage, args.action)),
            Err(e) => usage_error(e),
        },
        Command::McpBridge => {
            ff_server::telemetry::init("warn");
            run(ff_server::http::mcp_bridge::run())
        }
        Command::Token(args) => match storage(args.storage) {
            Ok(storage) => run(async move { ff_server::token_command(storage, args.rotate) }),
            Err(e) => usage_error(e),
        },
    }
}

/// The data directory of a command that is not `serve`, which logs only warnings.
fn storage(
    args: ff_server::cli::StorageArgs,
) -> Result<ff_server::config::Storage, ff_server::config::ConfigError> {
    let storage = ff_server::config::Storage::resolve(args, &|key| std::env::var(key).ok())?;
    ff_server::telemetry::init("warn");
    Ok(storage)
}

fn usage_error(e: impl std::fmt::Display) -> ExitCode {
    eprintln!("ff: {e}");
    ExitCode::from(2)
}

fn run(work: impl Future<Output = anyhow::Result<()>>) -> ExitCode {
    let runtime = match ff_server::runtime() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("ff: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(work) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("ff: {e:#}");
            ExitCode::FAILURE
        }
    }
}
