//! `mandrel keygen`, `seal`, `open`: the receiver side (being built).

/// Arguments of `mandrel keygen`.
#[derive(clap::Args)]
pub struct KeygenArgs {}
/// Arguments of `mandrel seal`.
#[derive(clap::Args)]
pub struct SealArgs {}
/// Arguments of `mandrel open`.
#[derive(clap::Args)]
pub struct OpenArgs {}

/// Runs `mandrel keygen`.
pub fn keygen(_a: KeygenArgs) -> crate::Outcome {
    anyhow::bail!("not built yet")
}
/// Runs `mandrel seal`.
pub fn seal(_a: SealArgs) -> crate::Outcome {
    anyhow::bail!("not built yet")
}
/// Runs `mandrel open`.
pub fn open(_a: OpenArgs) -> crate::Outcome {
    anyhow::bail!("not built yet")
}
