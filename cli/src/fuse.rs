//! `mandrel fuse SCAN_DIR -o mesh.ply`: pushes a scan folder's frames into a fuse-only
//! [`ScanSession`] and writes the extracted surface mesh (PLY binary/ASCII or OBJ by
//! extension). Frames are tracked, refined and fused as `mandrel measure` does: frames
//! without a pose are tracked against the model; with `--refine` platform poses are
//! refined too. Lost frames are skipped and reported. Each frame's depth is dropped as soon
//! as it has been fused.

use crate::measure::session_error;
use crate::progress::{self, Progress, Stage};
use crate::BadInput;
use anyhow::Context;
use mandrel_core::mesh::PlyFormat;
use mandrel_core::scan::ScanFolder;
use mandrel_core::session::{FrameOutcome, ScanSession, SessionConfig, SessionError};
use mandrel_core::TrackConfig;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

/// Arguments of `mandrel fuse`.
#[derive(clap::Args)]
pub struct Args {
    /// Scan folder (scan.json + depth/*.png).
    pub scan_dir: PathBuf,
    /// Refine platform poses against the model (frames without a pose are always tracked).
    #[arg(long)]
    pub refine: bool,
    /// Output mesh: .ply (binary unless --ascii) or .obj.
    #[arg(short, long)]
    pub output: PathBuf,
    /// Voxel size in millimetres (0.5-4).
    #[arg(long, default_value_t = 1.0)]
    pub voxel_mm: f32,
    /// Print statistics (frames, timings, blocks, memory, triangles).
    #[arg(long)]
    pub stats: bool,
    /// With --stats: print them as one JSON object on the last line of stdout.
    #[arg(long)]
    pub json: bool,
    /// Write ASCII PLY instead of binary.
    #[arg(long)]
    pub ascii: bool,
    /// Drop disconnected mesh fragments with fewer triangles than this (0 keeps all).
    #[arg(long, default_value_t = 200)]
    pub min_fragment_triangles: usize,
}

enum OutFormat {
    Ply(PlyFormat),
    Obj,
}

/// A frame outcome's name as in the JSON output (`tracking_lost`, `no_usable_depth`, ...).
fn outcome_label(o: FrameOutcome) -> String {
    serde_json::to_value(o)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// Runs `mandrel fuse`.
pub fn run(args: Args) -> crate::Outcome {
    let ext = args
        .output
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase());
    let format = match ext.as_deref() {
        Some("ply") if args.ascii => OutFormat::Ply(PlyFormat::Ascii),
        Some("ply") => OutFormat::Ply(PlyFormat::Binary),
        Some("obj") => OutFormat::Obj,
        _ => {
            return Err(BadInput(format!(
                "output {}: extension must be .ply or .obj",
                args.output.display()
            ))
            .into())
        }
    };
    if !args.voxel_mm.is_finite() {
        return Err(BadInput(format!("--voxel-mm {} is not a number", args.voxel_mm)).into());
    }
    let scan = ScanFolder::open(&args.scan_dir)?;
    let mut cfg = SessionConfig::new(scan.manifest.target);
    cfg.voxel_size_m = args.voxel_mm / 1000.0;
    cfg.track = TrackConfig::for_sensor(&scan.manifest.sensor);
    cfg.refine_platform_poses = args.refine;
    cfg.keep_observations = false;
    let mut session = ScanSession::new(cfg).map_err(|e| match e {
        SessionError::InvalidConfig(m) => BadInput(format!("--voxel-mm: {m}")).into(),
        other => session_error(other),
    })?;

    let bar = Progress::new(scan.len(), progress::wanted(args.json));

    // Frames are decoded here and pushed one by one; each frame's depth is dropped by the
    // session once it has been fused.
    let mut reports = Vec::with_capacity(scan.len());
    let mut push_cpu_s = 0.0f64;
    for i in 0..scan.len() {
        let frame = scan.frame(i)?;
        let c = process_cpu_s();
        let report = session
            .push_frame(frame)
            .map_err(session_error)
            .with_context(|| format!("frame {i}"))?;
        push_cpu_s += process_cpu_s() - c;
        bar.frame_done();
        reports.push(report);
    }
    let count = |o: FrameOutcome| reports.iter().filter(|r| r.outcome == o).count();
    let fused = count(FrameOutcome::Fused);
    let lost = count(FrameOutcome::TrackingLost);
    let no_depth = count(FrameOutcome::NoUsableDepth);
    if fused == 0 {
        return Err(BadInput(format!(
            "{}: no frame could be fused (tracking lost or no usable depth on every frame)",
            args.scan_dir.display()
        ))
        .into());
    }
    let timings = session.timings();
    let tracking = session.tracking_summary();

    bar.stage(Stage::Mesh);
    let t = Instant::now();
    let c = process_cpu_s();
    let mut mesh = session.mesh();
    let extract_ms = t.elapsed().as_secs_f64() * 1000.0;
    let extract_cpu_ms = (process_cpu_s() - c) * 1000.0;
    let removed = if args.min_fragment_triangles > 0 {
        mesh.remove_small_components(args.min_fragment_triangles)
    } else {
        0
    };
    if mesh.is_empty() {
        anyhow::bail!("the fused volume holds no surface (all frames filtered out?)");
    }
    let topo = mesh.topology();
    bar.finish();

    let file = std::fs::File::create(&args.output)
        .with_context(|| format!("creating {}", args.output.display()))?;
    let w = std::io::BufWriter::new(file);
    match format {
        OutFormat::Ply(f) => mesh.write_ply(w, f),
        OutFormat::Obj => mesh.write_obj(w),
    }
    .with_context(|| format!("writing {}", args.output.display()))?;

    let vol = session.volume();
    let pushed = reports.len();
    let integrate_ms_per_frame = timings.fuse / fused as f64;
    let track_ms_per_frame = timings.track / pushed as f64;
    let push_ms_per_frame = timings.total / pushed as f64;
    let push_cpu_ms_per_frame = push_cpu_s * 1000.0 / pushed as f64;
    if args.stats && args.json {
        let per_frame: Vec<_> = reports
            .iter()
            .map(|r| {
                serde_json::json!({
                    "index": r.index,
                    "outcome": r.outcome,
                    "pixels_fused": r.pixels_fused,
                })
            })
            .collect();
        let j = serde_json::json!({
            "frames": fused,
            "frames_pushed": pushed,
            "tracking_lost": lost,
            "no_usable_depth": no_depth,
            "integrate_ms_per_frame": integrate_ms_per_frame,
            "track_ms_per_frame": track_ms_per_frame,
            "push_ms_per_frame": push_ms_per_frame,
            "push_cpu_ms_per_frame": push_cpu_ms_per_frame,
            "extract_ms": extract_ms,
            "extract_cpu_ms": extract_cpu_ms,
            "blocks": vol.block_count(),
            "voxel_bytes_peak": vol.voxel_bytes(),
            "triangles": mesh.triangles.len(),
            "vertices": mesh.vertices.len(),
            "components": topo.components,
            "boundary_edges": topo.boundary_edges,
            "fragment_triangles_removed": removed,
            "voxel_size_mm": args.voxel_mm,
            "tracking": { "summary": tracking, "per_frame": per_frame },
        });
        println!("{j}");
    } else if args.stats {
        for r in reports.iter().filter(|r| r.outcome != FrameOutcome::Fused) {
            println!("frame {:>4}: {}", r.index, outcome_label(r.outcome));
        }
        println!(
            "tracking:              {} of {pushed} frames tracked, {} lost, median residual {:.3} mm, {track_ms_per_frame:.1} ms/frame",
            tracking.frames_tracked,
            tracking.frames_lost,
            tracking.median_residual_m * 1e3
        );
        println!("frames fused:          {fused} of {pushed} ({lost} lost, {no_depth} without usable depth)");
        println!("integrate:             {integrate_ms_per_frame:.2} ms/frame");
        println!(
            "per frame (session):   {push_ms_per_frame:.2} ms ({push_cpu_ms_per_frame:.2} ms CPU)"
        );
        println!("extract:               {extract_ms:.1} ms ({extract_cpu_ms:.1} ms CPU)");
        println!(
            "blocks:                {} ({:.1} MiB voxel data, peak)",
            vol.block_count(),
            vol.voxel_bytes() as f64 / (1 << 20) as f64
        );
        println!(
            "mesh:                  {} triangles, {} vertices, {} component(s), {} boundary edges ({removed} fragment triangles removed)",
            mesh.triangles.len(),
            mesh.vertices.len(),
            topo.components,
            topo.boundary_edges
        );
        println!("wrote:                 {}", args.output.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// CPU time of this process in seconds, over all its threads (the session runs stages in
/// parallel; wall-clock timings on a loaded machine mostly measure the other processes); 0
/// where unavailable.
#[cfg(unix)]
#[allow(unsafe_code)]
fn process_cpu_s() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec through a valid pointer.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    if rc == 0 {
        ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
    } else {
        0.0
    }
}

#[cfg(not(unix))]
fn process_cpu_s() -> f64 {
    0.0
}
