//! The `drift` binary: parse the command line, start tracing, hand over to the library.
use clap::Parser;

fn main() -> anyhow::Result<()> {
    drift::commands::start_tracing();
    let cli = drift::cli::Cli::parse();
    Ok(drift::commands::run(cli)?)
}
