//! Bench binary: milliseconds per pushed 640x480 f32 depth frame, called from Rust, for
//! comparison with the Kotlin binding (`bindings/tests/kotlin/Bench.kt`, run by
//! `bindings/scripts/bench-kotlin.sh`). Three ways, same frame and pose each time:
//! the core session with a prebuilt frame; the core with the TrueDepth byte decode; and
//! the FFI object's `push_truedepth` as the bindings call it (minus the foreign runtime).
//! A second run pushes an empty frame (no depth in range) so the per-call overhead shows.
//!
//! Usage: `bench_push_frame SCAN_DIR [ITERATIONS]`

use mandrel_core::frame::formats::{truedepth, RowLayout, TrueDepthFormat};
use mandrel_core::frame::{pose, DepthFrame, Frame};
use mandrel_core::scan::ScanFolder;
use mandrel_core::session::{ScanSession as CoreSession, SessionConfig};
use mandrel_ffi::{
    BufferLayout, CameraIntrinsics, CameraPose, FrameInfo, PoseConvention, ScanSession,
    TrueDepthPixelFormat,
};
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let dir = args
        .get(1)
        .ok_or("usage: bench_push_frame SCAN_DIR [ITERATIONS]")?;
    let iters: usize = args.get(2).map(|s| s.parse()).transpose()?.unwrap_or(30);
    let scan = ScanFolder::open(dir)?;
    let frame = scan.frame(0)?;
    let empty = DepthFrame::from_metres(
        frame.depth.width(),
        frame.depth.height(),
        vec![0.0; frame.depth.depth_m().len()],
    )?;
    for (label, depth) in [("scan frame", frame.depth.clone()), ("empty frame", empty)] {
        let bytes: Vec<u8> = depth
            .depth_m()
            .iter()
            .flat_map(|d| d.to_le_bytes())
            .collect();
        let k = frame.intrinsics;
        let p = frame.pose.ok_or("frame 0 has no pose")?;
        let cfg = SessionConfig::new(scan.manifest.target);

        // 1. Core, prebuilt frame (the clone of the depth is included, as a shell would own it).
        let mut core = CoreSession::new(cfg.clone())?;
        let t = Instant::now();
        for i in 0..iters {
            let f = Frame::new(depth.clone(), k, Some(p), None, i as f64)?;
            core.push_frame(f)?;
        }
        let core_ms = t.elapsed().as_secs_f64() * 1e3 / iters as f64;

        // 2. Core with the byte decode.
        let mut core2 = CoreSession::new(cfg.clone())?;
        let t = Instant::now();
        for i in 0..iters {
            let d = truedepth(
                &bytes,
                TrueDepthFormat::DepthFloat32,
                k.width,
                k.height,
                RowLayout::Packed,
            )?;
            core2.push_frame(Frame::new(d, k, Some(p), None, i as f64)?)?;
        }
        let decode_ms = t.elapsed().as_secs_f64() * 1e3 / iters as f64;

        // 3. The FFI object (what the generated bindings call), OpenCV pose column-major.
        let ffi = ScanSession::new(mandrel_ffi::session_config_defaults(
            scan.manifest.target.hand.into(),
            scan.manifest.target.finger.into(),
        ))?;
        let row = pose::to_row_major(&p);
        let col: Vec<f32> = (0..16).map(|i| row[(i % 4) * 4 + i / 4] as f32).collect();
        let t = Instant::now();
        for i in 0..iters {
            ffi.push_truedepth(
                &bytes,
                TrueDepthPixelFormat::DepthFloat32,
                BufferLayout {
                    width: k.width,
                    height: k.height,
                    bytes_per_row: 0,
                },
                FrameInfo {
                    intrinsics: CameraIntrinsics::from(k),
                    pose: Some(CameraPose {
                        convention: PoseConvention::Opencv,
                        column_major: col.clone(),
                    }),
                    timestamp_s: i as f64,
                    landmarks: None,
                },
            )?;
        }
        let ffi_ms = t.elapsed().as_secs_f64() * 1e3 / iters as f64;
        println!(
            "{label} {}x{} f32, {iters} pushes: core {core_ms:.3} ms/frame, core+decode {decode_ms:.3} ms/frame, ffi object {ffi_ms:.3} ms/frame",
            k.width, k.height
        );
    }
    Ok(())
}
