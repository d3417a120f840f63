//! `mandrel schema [-o FILE]`: prints the JSON Schema of the measurement JSON (what
//! `mandrel measure --json` prints and a sealed envelope carries), generated from the core's
//! types with `schemars`. `docs/measurement.schema.json` is its output, checked by a test.

use anyhow::Context;
use mandrel_core::measure::{Measurement, MEASUREMENT_FORMAT, MEASUREMENT_VERSION};
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `mandrel schema`.
#[derive(clap::Args)]
pub struct Args {
    /// Write the schema to this file instead of stdout.
    #[arg(short, long)]
    pub out: Option<PathBuf>,
}

/// The schema as pretty JSON text (with a final newline).
pub fn schema_text() -> anyhow::Result<String> {
    let mut schema = schemars::schema_for!(Measurement);
    schema.insert(
        "$id".into(),
        format!("urn:{MEASUREMENT_FORMAT}:v{MEASUREMENT_VERSION}").into(),
    );
    schema.insert(
        "title".into(),
        format!("{MEASUREMENT_FORMAT} version {MEASUREMENT_VERSION}").into(),
    );
    Ok(format!("{}\n", serde_json::to_string_pretty(&schema)?))
}

/// Runs `mandrel schema`.
pub fn run(args: Args) -> crate::Outcome {
    let text = schema_text()?;
    match args.out {
        Some(p) => std::fs::write(&p, text).with_context(|| format!("writing {}", p.display()))?,
        None => print!("{text}"),
    }
    Ok(ExitCode::SUCCESS)
}
