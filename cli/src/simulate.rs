//! `mandrel simulate OUT_DIR [--seed N] [--sensor truedepth|lidar] [--coverage full|dorsal]
//! [--no-poses] [--frames N] [--hand left|right] [--finger ring] [--scenario orbit|front]
//! [--no-body] [--landmark-missing-rate R]`: writes a simulated hand
//! scan folder (scan.json, depth/*.png) with its ground truth (truth.json) from the virtual
//! sensor. The folder reads back with `mandrel measure` / `mandrel fuse`.

use crate::BadInput;
use mandrel_core::hand::{Finger, Hand};
use mandrel_sim::{write_scan_with_truth, Coverage, Sensor, SimOptions, SimScan};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

/// Sensor choice on the command line.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum SensorArg {
    /// TrueDepth-like: 640x480, 0.6 mm noise at 30 cm.
    Truedepth,
    /// LiDAR-like: 256x192, 4 mm noise at 30 cm.
    Lidar,
}

/// Coverage choice on the command line.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum CoverageArg {
    /// The camera goes most of the way around the finger.
    Full,
    /// Back of the hand only.
    Dorsal,
}

/// Capture scenario on the command line.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum ScenarioArg {
    /// The camera moves around a still hand (`--coverage` says how far).
    Orbit,
    /// Front camera: the phone is still, the hand turns in front of it (back, side,
    /// palm), torso and face behind; no poses, 90 frames unless `--frames` says otherwise.
    Front,
}

/// Hand choice on the command line.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum HandArg {
    /// Left hand.
    Left,
    /// Right hand.
    Right,
}

/// Finger choice on the command line.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum FingerArg {
    /// Index finger.
    Index,
    /// Middle finger.
    Middle,
    /// Ring finger.
    Ring,
    /// Little finger.
    Little,
}

/// Arguments of `mandrel simulate`.
#[derive(clap::Args)]
pub struct Args {
    /// Output folder (created; must not already contain a scan.json).
    pub out_dir: PathBuf,
    /// Random seed (hand shape, placement, camera path, noise).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Sensor to imitate.
    #[arg(long, value_enum, default_value_t = SensorArg::Truedepth)]
    pub sensor: SensorArg,
    /// How far around the finger the camera goes.
    #[arg(long, value_enum, default_value_t = CoverageArg::Full)]
    pub coverage: CoverageArg,
    /// Write frames without poses (the pipeline must track).
    #[arg(long)]
    pub no_poses: bool,
    /// Number of frames (1-2000; default 40 for an orbit, 90 for the front scenario).
    #[arg(long)]
    pub frames: Option<usize>,
    /// Which hand (default: drawn from the seed).
    #[arg(long, value_enum)]
    pub hand: Option<HandArg>,
    /// Finger to measure.
    #[arg(long, value_enum, default_value_t = FingerArg::Ring)]
    pub finger: FingerArg,
    /// Landmark noise in pixels.
    #[arg(long, default_value_t = 2.0)]
    pub landmark_noise_px: f64,
    /// Overwrite an existing scan folder.
    #[arg(long)]
    pub force: bool,
    /// Capture scenario.
    #[arg(long, value_enum, default_value_t = ScenarioArg::Orbit)]
    pub scenario: ScenarioArg,
    /// Front scenario: leave out the torso and face behind the hand.
    #[arg(long)]
    pub no_body: bool,
    /// Fraction of frames without landmarks (0-1; default 0.12).
    #[arg(long)]
    pub landmark_missing_rate: Option<f64>,
}

/// Runs `mandrel simulate`.
pub fn run(args: Args) -> crate::Outcome {
    if args.out_dir.join("scan.json").exists() && !args.force {
        return Err(BadInput(format!(
            "{} already holds a scan (scan.json); pass --force to overwrite",
            args.out_dir.display()
        ))
        .into());
    }
    let front = matches!(args.scenario, ScenarioArg::Front);
    if front
        && (matches!(args.sensor, SensorArg::Lidar) || !matches!(args.coverage, CoverageArg::Full))
    {
        return Err(BadInput(
            "--scenario front is the TrueDepth front camera turning a hand; drop --sensor/--coverage".into(),
        )
        .into());
    }
    let opts = SimOptions {
        sensor: match args.sensor {
            SensorArg::Truedepth => Sensor::TrueDepth,
            SensorArg::Lidar => Sensor::Lidar,
        },
        coverage: match (front, args.coverage) {
            (true, _) => Coverage::Turn,
            (false, CoverageArg::Full) => Coverage::Full,
            (false, CoverageArg::Dorsal) => Coverage::Dorsal,
        },
        frames: args.frames.unwrap_or(if front { 90 } else { 40 }),
        poses_given: !args.no_poses && !front,
        body_behind: front.then_some(!args.no_body),
        landmark_missing_rate: args
            .landmark_missing_rate
            .unwrap_or(SimOptions::default().landmark_missing_rate),
        hand_side: args.hand.map(|h| match h {
            HandArg::Left => Hand::Left,
            HandArg::Right => Hand::Right,
        }),
        finger: match args.finger {
            FingerArg::Index => Finger::Index,
            FingerArg::Middle => Finger::Middle,
            FingerArg::Ring => Finger::Ring,
            FingerArg::Little => Finger::Little,
        },
        landmark_noise_px: args.landmark_noise_px,
        ..SimOptions::default()
    };
    let t0 = Instant::now();
    let scan = SimScan::generate(args.seed, &opts).map_err(|e| BadInput(e.to_string()))?;
    let gen_ms = t0.elapsed().as_secs_f64() * 1e3;
    let clipped = write_scan_with_truth(&args.out_dir, &scan)?;
    let t = &scan.truth;
    println!(
        "wrote {} frames to {} ({:?} {:?}, {:?} coverage, poses {}) in {:.0} ms",
        scan.frames.len(),
        args.out_dir.display(),
        scan.target.hand,
        scan.target.finger,
        opts.coverage,
        if opts.poses_given {
            "given"
        } else {
            "withheld"
        },
        gen_ms
    );
    println!(
        "truth: ring {:.2} mm, knuckle {:.2} mm, ellipticity {:.3}, depth noise {:.2} mm at 30 cm",
        t.ring_circumference_mm,
        t.knuckle_circumference_mm,
        t.ellipticity,
        t.depth_noise_mm_at_30cm
    );
    if clipped > 0 {
        eprintln!("warning: {clipped} depth samples were beyond the 16-bit PNG range and were written as 0");
    }
    Ok(ExitCode::SUCCESS)
}
