use clap::Parser;
use ff_server::cli::{Cli, Command};
use std::future::Future;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => {
            let config = match args.resolve() {
                Ok(config) => config,
                Err(e) => return usage_error(e),
            };
            ff_server::telemetry::init(&config.log);
            run(ff_server::serve(config, ff_server::shutdown_signal()))
        }
        Command::Backup(args) => {
            let storage = match ff_server::config::Storage::resolve(args.storage, &|key| {
                std::env::var(key).ok()
            }) {
                Ok(storage) => storage,
                Err(e) => return usage_error(e),
            };
            ff_server::telemetry::init("warn");
            run(ff_server::backup_command(storage, args.action))
        }
    }
}

fn usage_error(e: impl std::fmt::Display) -> ExitCode {
    eprintln!("ff: {e}");
    ExitCode::from(2)
}

fn run(work: impl Future<Output = anyhow::Result<()>>) -> ExitCode {
    let runtime = match tokio::runtime::Runtime::new() {
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
