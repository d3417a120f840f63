//! `mandrel fuse SCAN_DIR -o mesh.ply`: fuses a scan folder's posed frames into a TSDF
//! volume and writes the extracted surface mesh (PLY binary/ASCII or OBJ by extension).
//! Frames without a pose are tracked against the model (`track::ScanTracker`); with
//! `--refine` platform poses are refined too. Lost frames are skipped and reported.
//! Each frame's depth is dropped as soon as it has been fused.

use crate::BadInput;
use anyhow::Context;
use mandrel_core::fuse::{FuseError, TsdfConfig, TsdfVolume};
use mandrel_core::mesh::{self, PlyFormat};
use mandrel_core::scan::ScanFolder;
use mandrel_core::track::{ScanTracker, TrackConfig, TrackError};
use std::io::IsTerminal;
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

fn fuse_error(e: FuseError) -> anyhow::Error {
    match e {
        FuseError::MemoryCap { .. } => anyhow::Error::new(e),
        other => BadInput(other.to_string()).into(),
    }
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
    let config = TsdfConfig::with_voxel_size_m(args.voxel_mm / 1000.0);
    let mut vol = TsdfVolume::new(config).map_err(|e| BadInput(format!("--voxel-mm: {e}")))?;
    let scan = ScanFolder::open(&args.scan_dir)?;

    let bar = if std::io::stderr().is_terminal() {
        let b = indicatif::ProgressBar::new(scan.len() as u64);
        b.set_style(
            indicatif::ProgressStyle::with_template("fusing {bar:30} {pos}/{len} frames {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        b
    } else {
        indicatif::ProgressBar::hidden()
    };

    let mut fused = 0usize;
    let mut skipped_no_pose = 0usize;
    let mut integrate_s = 0.0f64;
    let mut integrate_cpu_s = 0.0f64;
    let needs_tracking = args.refine || scan.manifest.frames.iter().any(|f| f.pose.is_none());
    let mut tracker = match needs_tracking {
        true => Some(ScanTracker::new(TrackConfig::for_sensor(
            &scan.manifest.sensor,
        ))?),
        false => None,
    };
    for i in 0..scan.len() {
        let frame = scan.frame(i)?;
        bar.inc(1);
        if let Some(tr) = tracker.as_mut() {
            let rec = tr
                .push(&frame.depth, &frame.intrinsics, frame.pose, &mut vol)
                .map_err(|e| match e {
                    TrackError::Fuse(f) => fuse_error(f),
                    other => BadInput(other.to_string()).into(),
                })
                .with_context(|| format!("frame {i}"))?;
            fused += rec.fused as usize;
            integrate_s += rec.integrate_ms / 1e3;
            continue;
        }
        let Some(pose) = frame.pose else {
            skipped_no_pose += 1;
            continue;
        };
        let t = Instant::now();
        let c = thread_cpu_s();
        vol.integrate(&frame.depth, &frame.intrinsics, &pose)
            .map_err(fuse_error)
            .with_context(|| format!("frame {i}"))?;
        integrate_s += t.elapsed().as_secs_f64();
        integrate_cpu_s += thread_cpu_s() - c;
        fused += 1;
        drop(frame);
    }
    bar.finish_and_clear();
    if skipped_no_pose > 0 {
        eprintln!(
            "warning: {skipped_no_pose} of {} frames have no pose and were skipped (tracking is not wired into `mandrel fuse` yet)",
            scan.len()
        );
    }
    if fused == 0 {
        return Err(BadInput(format!(
            "{}: no frame has a pose or could be tracked, nothing could be fused",
            args.scan_dir.display()
        ))
        .into());
    }

    let t = Instant::now();
    let c = thread_cpu_s();
    let mut mesh = mesh::extract(&vol);
    let extract_ms = t.elapsed().as_secs_f64() * 1000.0;
    let extract_cpu_ms = (thread_cpu_s() - c) * 1000.0;
    let removed = if args.min_fragment_triangles > 0 {
        mesh.remove_small_components(args.min_fragment_triangles)
    } else {
        0
    };
    if mesh.is_empty() {
        anyhow::bail!("the fused volume holds no surface (all frames filtered out?)");
    }
    let topo = mesh.topology();

    let file = std::fs::File::create(&args.output)
        .with_context(|| format!("creating {}", args.output.display()))?;
    let w = std::io::BufWriter::new(file);
    match format {
        OutFormat::Ply(f) => mesh.write_ply(w, f),
        OutFormat::Obj => mesh.write_obj(w),
    }
    .with_context(|| format!("writing {}", args.output.display()))?;

    let integrate_ms_per_frame = integrate_s * 1000.0 / fused as f64;
    let integrate_cpu_ms_per_frame = integrate_cpu_s * 1000.0 / fused as f64;
    if args.stats && args.json {
        let j = serde_json::json!({
            "frames": fused,
            "skipped_no_pose": skipped_no_pose,
            "integrate_ms_per_frame": integrate_ms_per_frame,
            "integrate_cpu_ms_per_frame": integrate_cpu_ms_per_frame,
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
            "tracking": tracker.as_ref().map(|t| serde_json::json!({
                "summary": t.summary(), "per_frame": t.frames() })),
        });
        println!("{j}");
    } else if args.stats {
        if let Some(t) = &tracker {
            for f in t.frames() {
                let h = &f.health;
                println!(
                    "track frame {:>4}: {:?}{} residual {:.3} mm, inliers {:.0} %, {} iterations, {:.1} ms",
                    f.index,
                    h.status,
                    h.lost_reason.map(|r| format!(" ({r})")).unwrap_or_default(),
                    h.residual_m * 1e3,
                    h.inlier_ratio * 100.0,
                    h.iterations,
                    f.track_ms
                );
            }
            let s = t.summary();
            println!(
                "tracking:              {} ok, {} lost {:?}, mean residual {:.3} mm, mean inliers {:.0} %, {:.1} ms/frame",
                s.ok, s.lost, s.lost_frames, s.mean_residual_m * 1e3, s.mean_inlier_ratio * 100.0, s.track_ms_per_frame
            );
        }
        println!("frames fused:          {fused} ({skipped_no_pose} skipped: no pose)");
        println!("integrate:             {integrate_ms_per_frame:.2} ms/frame ({integrate_cpu_ms_per_frame:.2} ms CPU)");
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

/// CPU time of the calling thread in seconds (wall-clock timings on a loaded machine
/// mostly measure the other processes); 0 where unavailable.
#[cfg(unix)]
#[allow(unsafe_code)]
fn thread_cpu_s() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec through a valid pointer.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    if rc == 0 {
        ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
    } else {
        0.0
    }
}

#[cfg(not(unix))]
fn thread_cpu_s() -> f64 {
    0.0
}
