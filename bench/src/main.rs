//! `drift-bench`: the figures of docs/PERFORMANCE.md — speed, capacity and memory of Drift,
//! mostly side by side with a reference tool doing the same job. A tool, not the product: it
//! runs the `drift` binary it measures as a child process (see `support::drift_bin`).
#![forbid(unsafe_code)]

mod cli;
mod first_audio;
mod listeners;
mod load;
mod relay;
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
    drift::commands::start_tracing();
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
