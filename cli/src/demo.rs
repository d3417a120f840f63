//! `mandrel demo` (being built).

/// Arguments of `mandrel demo`.
#[derive(clap::Args)]
pub struct Args {}

/// Runs `mandrel demo`.
pub fn run(_args: Args) -> crate::Outcome {
    anyhow::bail!("mandrel demo is not built yet")
}
