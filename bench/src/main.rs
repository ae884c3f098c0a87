//! `drift-bench`: the figures of docs/PERFORMANCE.md — speed, capacity and memory of Drift,
//! mostly side by side with a reference tool doing the same job. A tool, not the product: it
//! runs the `drift` binary it measures as a child process (see `support::drift_bin`).
#![forbid(unsafe_code)]

mod cli;
mod first_audio;
mod listeners;
mod load;
mod render;
mod scan;
mod scan_files;
mod servers;
mod sessions;
mod support;
mod walk;

use clap::Parser;
use cli::{BenchCommand, Cli};

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("DRIFT_LOG").unwrap_or_else(|_| {
                tracing_subscriber::EnvFilter::new(
                    "info,lofty=error,symphonia=warn,symphonia_core=off,symphonia_bundle_mp3=error",
                )
            }),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match cli.what {
        None => render::run(cli.render)?,
        Some(BenchCommand::Render(r)) => render::run(r)?,
        Some(BenchCommand::Listeners(l)) => listeners::run(l)?,
        Some(BenchCommand::Scan(s)) => scan::run(s)?,
        Some(BenchCommand::Drift(d)) => walk::run(&d),
        Some(BenchCommand::Sessions(s)) => sessions::run(s)?,
    }
    Ok(())
}
