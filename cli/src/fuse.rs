//! `mandrel fuse` (being built).

/// Arguments of `mandrel fuse`.
#[derive(clap::Args)]
pub struct Args {}

/// Runs `mandrel fuse`.
pub fn run(_args: Args) -> crate::Outcome {
    anyhow::bail!("mandrel fuse is not built yet")
}
