//! The `drift` binary: parse the command line, start tracing, hand over to the library.
use clap::Parser;

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
    let cli = drift::cli::Cli::parse();
    Ok(drift::commands::run(cli)?)
}
