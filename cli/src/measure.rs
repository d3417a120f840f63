//! `mandrel measure SCAN_DIR`: runs a scan folder through a [`ScanSession`] (frames in
//! order, landmarks as recorded) and prints the measurement, as a human summary or one JSON
//! object. Exit 0 when `ok`, 3 when `needs_rescan`, 2 on bad input.

use crate::plot::OverlayInput;
use crate::progress::{self, Progress, Stage};
use crate::report::{write_report, ReportInput, Truth};
use crate::BadInput;
use mandrel_core::frame::pose::to_row_major;
use mandrel_core::frame::Frame;
use mandrel_core::hand::{Finger, Hand, Target};
use mandrel_core::measure::sizes::SizeSystem;
use mandrel_core::measure::{MeasureDetail, Measurement, Status};
use mandrel_core::scan::ScanFolder;
use mandrel_core::session::{
    FrameOutcome, ScanSession, SessionConfig, SessionError, SessionErrorKind,
};
use nalgebra::Isometry3;
use std::path::{Path, PathBuf};
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
    /// Also write a report into this folder: result.json, mesh.ply, section.png,
    /// overlay.png, profile.png and a self-contained report.html.
    #[arg(long, value_name = "DIR")]
    pub report: Option<PathBuf>,
    /// Write the estimated camera poses as JSON, `{"poses": [...]}`: one entry per frame in
    /// order, a row-major 4x4 camera-to-world matrix (metres, OpenCV axes, world = the
    /// session's: the platform's, or the first frame's camera), or null for a lost frame.
    #[arg(long, value_name = "FILE")]
    pub poses_out: Option<PathBuf>,
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
    match e.kind() {
        SessionErrorKind::InvalidFrame
        | SessionErrorKind::InvalidConfig
        | SessionErrorKind::NotEnoughData => BadInput(e.to_string()).into(),
        SessionErrorKind::Internal => anyhow::Error::new(e),
    }
}

/// What [`run_folder`] leaves: the measurement, its detail, the session (for the mesh and
/// the profile) and the frame the report's overlay shows.
pub struct FolderRun {
    /// The measurement.
    pub measurement: Measurement,
    /// The located finger and fitted sections.
    pub detail: MeasureDetail,
    /// The finished session.
    pub session: ScanSession,
    /// The frame for the overlay picture: its index, the frame and the pose the pipeline
    /// used for it ([`overlay_score`] picks it).
    pub overlay: Option<(usize, Frame, Option<Isometry3<f64>>)>,
    /// The hand mask the session cut the overlay frame to (row-major flags, frame-sized).
    pub overlay_mask: Option<Vec<bool>>,
    /// Each frame's pose (camera-to-world), `None` when the frame was lost.
    pub poses: Vec<Option<Isometry3<f64>>>,
}

/// How well a frame shows the finger for the overlay: the pixel distance between its
/// MCP and PIP landmarks (the finger seen most from the side), or 0 without landmarks.
pub fn overlay_score(frame: &Frame, finger: mandrel_core::hand::Finger) -> f64 {
    let (mi, pi) = finger.mcp_pip_landmarks();
    frame
        .landmarks
        .as_ref()
        .map(|l| (l.points()[mi] - l.points()[pi]).norm())
        .filter(|d| d.is_finite())
        .unwrap_or(0.0)
}

/// Runs a whole scan folder through a session. Frames are read and decoded on a separate
/// thread, at most [`DECODE_AHEAD`] ahead of the session, so decoding the next frame
/// overlaps processing the current one (the session's `timings_ms` never include decoding).
/// Keeps what a report needs and shows `progress`.
pub fn run_folder(
    scan: &ScanFolder,
    target: Target,
    use_landmarks: bool,
    progress: &Progress,
) -> anyhow::Result<FolderRun> {
    let mut cfg = SessionConfig::new(target);
    cfg.use_landmarks = use_landmarks;
    let mut session = ScanSession::new(cfg).map_err(session_error)?;
    let mut best: Option<(f64, usize, Frame, Option<Isometry3<f64>>)> = None;
    let mut best_mask: Option<Vec<bool>> = None;
    let mut poses = Vec::with_capacity(scan.len());
    let middle = scan.len() / 2;
    let (measurement, detail) = std::thread::scope(|s| {
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
                poses.push(None);
                progress.frame_done();
                continue;
            }
            // The overlay frame: the best view of the finger (the middle one without
            // landmarks); a copy is kept only when it beats the one kept so far.
            let score = overlay_score(&frame, target.finger) + if i == middle { 1e-3 } else { 0.0 };
            let keep = best.as_ref().is_none_or(|b| score > b.0);
            let copy = keep.then(|| frame.clone());
            let report = session
                .push_frame(frame)
                .map_err(session_error)
                .map_err(|e| e.context(format!("frame {i}")))?;
            poses.push(
                report
                    .pose
                    .filter(|_| report.outcome != FrameOutcome::TrackingLost),
            );
            if let Some(f) = copy {
                best = Some((score, i, f, report.pose));
                best_mask = session.last_mask().map(|m| m.to_flags());
            }
            progress.frame_done();
        }
        if let Some((i, earlier)) = replayed.first() {
            eprintln!(
                "warning: {} frame(s) repeat an earlier frame exactly (frame {i} = frame {earlier}, ...) and were not used",
                replayed.len()
            );
        }
        progress.stage(Stage::Measure);
        session.finish_detailed().map_err(session_error)
    })?;
    Ok(FolderRun {
        measurement,
        detail,
        session,
        overlay: best.map(|(_, i, f, p)| (i, f, p)),
        overlay_mask: best_mask,
        poses,
    })
}

/// Frames decoded ahead of the session by [`run_folder`] (each 640x480 frame is about
/// 1.2 MB of depth).
const DECODE_AHEAD: usize = 2;

/// Runs `mandrel measure`.
pub fn run(args: Args) -> crate::Outcome {
    let scan = ScanFolder::open(&args.scan_dir)?;
    let target = Target {
        hand: args.hand.unwrap_or(scan.manifest.target.hand),
        finger: args.finger.unwrap_or(scan.manifest.target.finger),
    };
    let progress = Progress::new(scan.len(), progress::wanted(args.json));
    let t0 = std::time::Instant::now();
    let run = run_folder(&scan, target, !args.no_landmarks, &progress)?;
    let pipeline_ms = t0.elapsed().as_secs_f64() * 1e3;
    if let Some(dir) = &args.report {
        write_folder_report(&args.scan_dir, dir, &run, pipeline_ms, &progress)?;
    }
    progress.finish();
    let m = run.measurement;
    if let Some(path) = &args.poses_out {
        write_poses(path, &run.poses)?;
    }
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

/// Writes the report of a folder run into `dir` (`crate::report`).
fn write_folder_report(
    scan_dir: &Path,
    dir: &Path,
    run: &FolderRun,
    pipeline_ms: f64,
    progress: &Progress,
) -> anyhow::Result<()> {
    let truth = Truth::read(scan_dir)?;
    progress.stage(Stage::Mesh);
    let t = std::time::Instant::now();
    let mesh = run.session.mesh();
    let mesh_ms = t.elapsed().as_secs_f64() * 1e3;
    progress.stage(Stage::Report);
    let t = std::time::Instant::now();
    let profile = run
        .detail
        .finger
        .as_ref()
        .and_then(|f| run.session.circumference_profile(f));
    let profile_ms = t.elapsed().as_secs_f64() * 1e3;
    let Some((index, frame, pose)) = &run.overlay else {
        return Err(BadInput(format!(
            "{}: the scan holds no frame to draw",
            scan_dir.display()
        ))
        .into());
    };
    let name = scan_dir
        .canonicalize()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| scan_dir.display().to_string());
    let input = ReportInput {
        title: name,
        measurement: &run.measurement,
        detail: &run.detail,
        mesh: &mesh,
        profile: profile.as_ref(),
        overlay: OverlayInput {
            frame,
            index: *index,
            pose: *pose,
            detail: &run.detail,
            hand_mask: run.overlay_mask.as_deref(),
        },
        truth: truth.as_ref(),
        wall_ms: vec![
            (
                "read, decode and measure the scan (wall)".into(),
                pipeline_ms,
            ),
            ("mesh extraction for the report".into(), mesh_ms),
            ("circumference profile".into(), profile_ms),
        ],
    };
    write_report(dir, &input)?;
    Ok(())
}

/// Writes `{"poses": [...]}`: per frame a row-major 4x4 matrix, or null.
fn write_poses(path: &Path, poses: &[Option<Isometry3<f64>>]) -> anyhow::Result<()> {
    let rows: Vec<Option<Vec<f64>>> = poses
        .iter()
        .map(|p| p.as_ref().map(|p| to_row_major(p).to_vec()))
        .collect();
    let json = serde_json::to_string(&serde_json::json!({ "poses": rows }))?;
    std::fs::write(path, json)
        .map_err(|e| BadInput(format!("cannot write {}: {e}", path.display())).into())
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
