//! `mandrel simulate` (being built).

/// Arguments of `mandrel simulate`.
#[derive(clap::Args)]
pub struct Args {}

/// Runs `mandrel simulate`.
pub fn run(_args: Args) -> crate::Outcome {
    anyhow::bail!("mandrel simulate is not built yet")
}
