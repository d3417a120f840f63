//! `mandrel measure SCAN_DIR`: runs a scan folder through a [`ScanSession`] (frames in
//! order, landmarks as recorded) and prints the measurement, as a human summary or one JSON
//! object. Exit 0 when `ok`, 3 when `needs_rescan`, 2 on bad input.

use crate::BadInput;
use mandrel_core::hand::{Finger, Hand, Target};
use mandrel_core::measure::sizes::SizeSystem;
use mandrel_core::measure::{Measurement, Status};
use mandrel_core::scan::ScanFolder;
use mandrel_core::session::{ScanSession, SessionConfig, SessionError};
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `mandrel measure`.
#[derive(clap::Args)]
pub struct Args {
    /// Scan folder (with scan.json).
    pub scan_dir: PathBuf,
    /// Print one JSON object on stdout instead of a summary.
    #[arg(long)]
    pub json: bool,
    /// Ignore landmarks: find the finger geometrically.
    #[arg(long)]
    pub no_landmarks: bool,
    /// Finger to measure (default: the scan's target).
    #[arg(long, value_parser = parse_finger)]
    pub finger: Option<Finger>,
    /// Hand (default: the scan's target).
    #[arg(long, value_parser = parse_hand)]
    pub hand: Option<Hand>,
}

/// `--finger`: a finger name in any case (its error lists the accepted names).
fn parse_finger(s: &str) -> Result<Finger, String> {
    s.parse::<Finger>().map_err(|e| e.to_string())
}

/// `--hand`: `left` or `right` in any case.
fn parse_hand(s: &str) -> Result<Hand, String> {
    s.parse::<Hand>().map_err(|e| e.to_string())
}

/// Maps a session error to the CLI's exit codes: caller input is `BadInput` (exit 2).
pub fn session_error(e: SessionError) -> anyhow::Error {
    match e {
        SessionError::InvalidFrame(_) | SessionError::InvalidConfig(_) => {
            BadInput(e.to_string()).into()
        }
        SessionError::NotEnoughData(_) | SessionError::Limit(_) => BadInput(e.to_string()).into(),
        _ => anyhow::Error::new(e),
    }
}

/// Runs a whole scan folder through a session. Frames are read and decoded on a separate
/// thread, at most [`DECODE_AHEAD`] ahead of the session, so decoding the next frame
/// overlaps processing the current one (the session's `timings_ms` never include decoding).
pub fn measure_folder(
    scan: &ScanFolder,
    target: Target,
    use_landmarks: bool,
) -> anyhow::Result<Measurement> {
    let mut cfg = SessionConfig::new(target);
    cfg.use_landmarks = use_landmarks;
    let mut session = ScanSession::new(cfg).map_err(session_error)?;
    std::thread::scope(|s| {
        let (tx, rx) = std::sync::mpsc::sync_channel(DECODE_AHEAD);
        s.spawn(move || {
            for i in 0..scan.len() {
                // A send error means the session stopped early: stop decoding.
                if tx.send((i, scan.frame(i))).is_err() {
                    break;
                }
            }
        });
        // A frame that repeats an earlier one exactly is a replay, not a new view: skipped
        // and reported.
        let mut replays = mandrel_core::frame::fingerprint::ReplayDetector::new();
        let mut replayed = Vec::new();
        for (i, frame) in rx {
            let frame = frame?;
            if let Some(earlier) = replays.check(i, &frame) {
                replayed.push((i, earlier));
                continue;
            }
            session
                .push_frame(frame)
                .map_err(session_error)
                .map_err(|e| e.context(format!("frame {i}")))?;
        }
        if let Some((i, earlier)) = replayed.first() {
            eprintln!(
                "warning: {} frame(s) repeat an earlier frame exactly (frame {i} = frame {earlier}, ...) and were not used",
                replayed.len()
            );
        }
        session.finish().map_err(session_error)
    })
}

/// Frames decoded ahead of the session by [`measure_folder`] (each 640x480 frame is about
/// 1.2 MB of depth).
const DECODE_AHEAD: usize = 2;

/// Runs `mandrel measure`.
pub fn run(args: Args) -> crate::Outcome {
    let scan = ScanFolder::open(&args.scan_dir)?;
    let target = Target {
        hand: args.hand.unwrap_or(scan.manifest.target.hand),
        finger: args.finger.unwrap_or(scan.manifest.target.finger),
    };
    let m = measure_folder(&scan, target, !args.no_landmarks)?;
    if args.json {
        println!("{}", serde_json::to_string(&m)?);
    } else {
        print!("{}", summary(&m));
    }
    Ok(match m.status {
        Status::Ok => ExitCode::SUCCESS,
        // needs_rescan, and any status a later core adds: not a size to sell.
        _ => ExitCode::from(3),
    })
}

/// A short human-readable summary of a measurement.
pub fn summary(m: &Measurement) -> String {
    let mut s = String::new();
    s.push_str(&format!(
        "{} hand, {} finger: {}\n",
        m.hand,
        m.finger,
        match m.status {
            Status::Ok => "ok".to_string(),
            status => format!(
                "{} ({})",
                match status {
                    Status::NeedsRescan => "needs rescan".to_string(),
                    other => label(serde_json::to_value(other)),
                },
                m.reasons
                    .iter()
                    .map(|r| label(serde_json::to_value(r)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    ));
    if let (Some(r), Some(u)) = (m.ring_circumference_mm, m.uncertainty_mm) {
        s.push_str(&format!(
            "  ring circumference    {r:.2} mm ± {u:.2} mm (1σ)\n"
        ));
    }
    if let Some(k) = m.knuckle_circumference_mm {
        s.push_str(&format!("  knuckle circumference {k:.2} mm\n"));
    }
    if let Some(z) = &m.sizes {
        let p = |system| z.printed(system);
        s.push_str(&format!(
            "  sizes: ISO {} | US {} | UK {} | EU {} | JP {} | CH {} | IN {} | CN {}\n",
            p(SizeSystem::Iso),
            p(SizeSystem::Us),
            p(SizeSystem::Uk),
            p(SizeSystem::Eu),
            p(SizeSystem::Jp),
            p(SizeSystem::Ch),
            p(SizeSystem::In),
            p(SizeSystem::Cn)
        ));
    }
    if let Some(r) = &m.recommended {
        let p = |system| r.sizes.printed(system);
        s.push_str(&format!(
            "  recommended: US {} / UK {} / EU {} — {}\n",
            p(SizeSystem::Us),
            p(SizeSystem::Uk),
            p(SizeSystem::Eu),
            r.advice
        ));
    }
    s.push_str(&format!(
        "  coverage {:.0}°, {} frames used, {:.0} ms\n",
        m.coverage_deg, m.frames_used, m.timings_ms.total
    ));
    s
}

/// The string of a serialised unit enum (its snake_case name).
fn label(v: Result<serde_json::Value, serde_json::Error>) -> String {
    v.ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}
