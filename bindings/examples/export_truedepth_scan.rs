//! Test support for the Swift binding test: rewrites a scan folder as what an iOS TrueDepth
//! shell hands over (raw `kCVPixelFormatType_DepthFloat32` little-endian buffers and ARKit
//! column-major camera transforms), because Swift on Linux has no PNG decoder.
//!
//! Usage: `export_truedepth_scan SCAN_DIR OUT_DIR` writes `OUT_DIR/frames.json` and
//! `OUT_DIR/NNNNNN.f32`.

use mandrel_core::scan::ScanFolder;
use nalgebra::Matrix4;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 3 {
        eprintln!("usage: export_truedepth_scan SCAN_DIR OUT_DIR");
        return ExitCode::from(2);
    }
    match run(&args[1], &args[2]) {
        Ok(n) => {
            println!("exported {n} frames to {}", args[2]);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(scan_dir: &str, out_dir: &str) -> Result<usize, Box<dyn std::error::Error>> {
    let scan = ScanFolder::open(scan_dir)?;
    std::fs::create_dir_all(out_dir)?;
    let flip = Matrix4::from_diagonal(&nalgebra::Vector4::new(1.0, -1.0, -1.0, 1.0));
    let mut frames = Vec::new();
    for i in 0..scan.len() {
        let f = scan.frame(i)?;
        let name = format!("{i:06}.f32");
        let bytes: Vec<u8> = f
            .depth
            .depth_m()
            .iter()
            .flat_map(|d| d.to_le_bytes())
            .collect();
        std::fs::write(format!("{out_dir}/{name}"), bytes)?;
        // OpenCV camera axes -> ARKit's (x right, y up, z backward): T_arkit = T_cv * diag(1,-1,-1,1).
        let arkit_pose: Option<Vec<f64>> = f.pose.map(|p| {
            let m = p.to_homogeneous() * flip;
            m.as_slice().to_vec() // nalgebra storage is column-major
        });
        let landmarks = f
            .landmarks
            .as_ref()
            .map(|l| l.points().iter().map(|p| [p.x, p.y]).collect::<Vec<_>>());
        frames.push(serde_json::json!({
            "depth": name,
            "timestamp": f.timestamp,
            "arkit_pose_column_major": arkit_pose,
            "landmarks": landmarks,
        }));
    }
    let k = scan.manifest.intrinsics;
    let doc = serde_json::json!({
        "intrinsics": {"width": k.width, "height": k.height, "fx": k.fx, "fy": k.fy, "cx": k.cx, "cy": k.cy},
        "hand": scan.manifest.target.hand,
        "finger": scan.manifest.target.finger,
        "frames": frames,
    });
    std::fs::write(
        format!("{out_dir}/frames.json"),
        serde_json::to_string(&doc)?,
    )?;
    Ok(scan.len())
}
