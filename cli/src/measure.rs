//! `mandrel measure` (being built).

/// Arguments of `mandrel measure`.
#[derive(clap::Args)]
pub struct Args {}

/// Runs `mandrel measure`.
pub fn run(_args: Args) -> crate::Outcome {
    anyhow::bail!("mandrel measure is not built yet")
}
