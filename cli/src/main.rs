//! `mandrel`: the desktop harness. Each subcommand lives in its own module.
//! Exit codes: 0 success (measure: status ok), 2 bad input, 3 measure: needs_rescan, 1 other failure.

use clap::{Parser, Subcommand};
use std::process::ExitCode;

mod cad;
mod demo;
mod fuse;
mod keys;
mod measure;
mod plot;
mod progress;
mod report;
mod schema;
mod simulate;

#[derive(Parser)]
#[command(
    name = "mandrel",
    version,
    about = "Hand scan to ring size, on the device"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Fuse a scan folder into a mesh (PLY or OBJ by extension).
    Fuse(fuse::Args),
    /// Measure the target finger of a scan folder and print ring sizes.
    Measure(measure::Args),
    /// Write a simulated hand scan folder (with truth.json) from the virtual sensor.
    Simulate(simulate::Args),
    /// Run the whole pipeline on a built-in simulated scan and write mesh, overlay and section images.
    Demo(demo::Args),
    /// Generate an X25519 key pair for the receiving side (OUT_PREFIX.pub, OUT_PREFIX.key).
    Keygen(keys::KeygenArgs),
    /// Seal a measurement JSON to a recipient public key (HPKE), with a consent record.
    Seal(keys::SealArgs),
    /// Open a sealed envelope with the recipient private key; fails loudly on tampering.
    Open(keys::OpenArgs),
    /// Print the JSON Schema of the measurement JSON (`measure --json`, sealed payloads).
    Schema(schema::Args),
    /// Make a fitted ring band from a measurement: STL and 3MF mesh, DXF and SVG contour.
    Cad(cad::Args),
}

/// Outcome of a subcommand: the process exit code.
pub type Outcome = anyhow::Result<ExitCode>;

/// An error caused by the user's input (exit code 2), as opposed to an internal failure.
#[derive(Debug)]
pub struct BadInput(pub String);
impl std::fmt::Display for BadInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for BadInput {}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Fuse(a) => fuse::run(a),
        Command::Measure(a) => measure::run(a),
        Command::Simulate(a) => simulate::run(a),
        Command::Demo(a) => demo::run(a),
        Command::Keygen(a) => keys::keygen(a),
        Command::Seal(a) => keys::seal(a),
        Command::Open(a) => keys::open(a),
        Command::Schema(a) => schema::run(a),
        Command::Cad(a) => cad::run(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            // Control bytes (from file names, JSON strings) are escaped, never sent raw to
            // the terminal.
            let message = mandrel_core::limits::read::escape_controls(&error_chain(&e));
            eprintln!("error: {message}");
            if e.downcast_ref::<BadInput>().is_some()
                || e.downcast_ref::<mandrel_core::scan::ScanError>().is_some()
                || e.downcast_ref::<mandrel_core::frame::FrameError>()
                    .is_some()
                || e.downcast_ref::<mandrel_core::limits::read::ReadError>()
                    .is_some()
                || e.downcast_ref::<mandrel_core::limits::LimitExceeded>()
                    .is_some()
            {
                ExitCode::from(2)
            } else {
                ExitCode::from(1)
            }
        }
    }
}

/// The error and its causes on one line, skipping a cause whose text the message before it
/// already contains (core errors print their source inline).
fn error_chain(e: &anyhow::Error) -> String {
    let mut msg = e.to_string();
    for cause in e.chain().skip(1) {
        let c = cause.to_string();
        if !msg.contains(&c) {
            msg.push_str(": ");
            msg.push_str(&c);
        }
    }
    msg
}
