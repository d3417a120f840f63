#!/usr/bin/env python3
"""Times TSDF integration of one scan folder in Open3D and in `mandrel fuse`, on one core.

Open3D 0.20 (`pip install open3d`; on Debian also `apt-get install -y libusb-1.0-0
libgomp1`) runs both of its TSDF implementations, legacy `ScalableTSDFVolume` and tensor
`t.geometry.VoxelBlockGrid` (CPU), with the same voxel size, truncation (4 voxels, as
mandrel's default) and maximum depth as mandrel, on the frames that have a pose. The
process pins itself (and so `mandrel`, its child) to one CPU and sets OMP_NUM_THREADS=1
before importing Open3D. Only integration calls are timed (PNG decoding is not), in CPU
time (process time), so that other load on the machine does not distort the ratio: for
Open3D the integration calls, for mandrel its session's `push_frame` calls
(`push_cpu_ms_per_frame` of `mandrel fuse --stats --json`), which fuse posed frames as
they come (no tracking without --refine) plus the per-frame checks and range statistic. Prints both timings and the ratios; with --json, one JSON
object on the last line.

Usage:
  python3 scripts/open3d_compare.py ../shared/scans/td-full-pose-01 \
      [--mandrel target/release/mandrel] [--voxel-mm 1.0] [--json]

Build mandrel first: `cargo build --release -p mandrel-cli`.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

# One thread, one core, for Open3D and for the mandrel child process.
os.environ["OMP_NUM_THREADS"] = "1"
os.environ["TBB_NUM_THREADS"] = "1"
try:
    os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
except (AttributeError, OSError):
    pass

import numpy as np  # noqa: E402
import open3d as o3d  # noqa: E402
import open3d.core as o3c  # noqa: E402

TRUNC_VOXELS = 4.0
MAX_DEPTH_M = 0.6


def load_scan(scan_dir):
    with open(os.path.join(scan_dir, "scan.json")) as f:
        manifest = json.load(f)
    k = manifest["intrinsics"]
    frames = []
    for fr in manifest["frames"]:
        if fr.get("pose") is None:
            continue
        pose = np.array(fr["pose"], dtype=np.float64).reshape(4, 4)  # camera-to-world
        frames.append((os.path.join(scan_dir, fr["depth"]), np.linalg.inv(pose)))
    return manifest, k, frames


def run_legacy(k, frames, depth_scale, voxel_m):
    intr = o3d.camera.PinholeCameraIntrinsic(
        k["width"], k["height"], k["fx"], k["fy"], k["cx"], k["cy"]
    )
    vol = o3d.pipelines.integration.ScalableTSDFVolume(
        voxel_length=voxel_m,
        sdf_trunc=TRUNC_VOXELS * voxel_m,
        color_type=o3d.pipelines.integration.TSDFVolumeColorType.NoColor,
    )
    color = o3d.geometry.Image(np.zeros((k["height"], k["width"], 3), dtype=np.uint8))
    total = 0.0
    for path, extrinsic in frames:
        depth = o3d.io.read_image(path)
        rgbd = o3d.geometry.RGBDImage.create_from_color_and_depth(
            color,
            depth,
            depth_scale=depth_scale,
            depth_trunc=MAX_DEPTH_M,
            convert_rgb_to_intensity=False,
        )
        t = time.process_time()
        vol.integrate(rgbd, intr, extrinsic)
        total += time.process_time() - t
    t = time.process_time()
    mesh = vol.extract_triangle_mesh()
    extract = time.process_time() - t
    return total / len(frames) * 1000.0, extract * 1000.0, len(mesh.triangles)


def run_vbg(k, frames, depth_scale, voxel_m):
    dev = o3c.Device("CPU:0")
    intr = o3c.Tensor(
        [[k["fx"], 0, k["cx"]], [0, k["fy"], k["cy"]], [0, 0, 1]], o3c.Dtype.Float64
    )
    vbg = o3d.t.geometry.VoxelBlockGrid(
        attr_names=("tsdf", "weight"),
        attr_dtypes=(o3c.float32, o3c.float32),
        attr_channels=((1), (1)),
        voxel_size=voxel_m,
        block_resolution=8,
        block_count=40000,
        device=dev,
    )
    total = 0.0
    for path, extrinsic in frames:
        depth = o3d.t.io.read_image(path).to(dev)
        ext = o3c.Tensor(extrinsic, o3c.Dtype.Float64)
        t = time.process_time()
        coords = vbg.compute_unique_block_coordinates(
            depth, intr, ext, depth_scale, MAX_DEPTH_M, TRUNC_VOXELS
        )
        vbg.integrate(coords, depth, intr, ext, depth_scale, MAX_DEPTH_M, TRUNC_VOXELS)
        total += time.process_time() - t
    t = time.process_time()
    mesh = vbg.extract_triangle_mesh()
    extract = time.process_time() - t
    return total / len(frames) * 1000.0, extract * 1000.0, len(mesh.triangle.indices)


def run_mandrel(exe, scan_dir, voxel_mm):
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run(
            [exe, "fuse", scan_dir, "-o", os.path.join(tmp, "m.ply"),
             "--voxel-mm", str(voxel_mm), "--stats", "--json"],
            check=True, capture_output=True, text=True,
        )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scan_dir")
    ap.add_argument("--mandrel", default=os.path.join(
        os.path.dirname(__file__), "..", "target", "release", "mandrel"))
    ap.add_argument("--voxel-mm", type=float, default=1.0)
    ap.add_argument("--repeat", type=int, default=3, help="runs of each; the best is kept")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    if not os.path.isfile(a.mandrel):
        sys.exit(f"mandrel binary not found at {a.mandrel}: build it or pass --mandrel")
    manifest, k, frames = load_scan(a.scan_dir)
    if not frames:
        sys.exit("no frame with a pose in this scan")
    voxel_m = a.voxel_mm / 1000.0
    scale = manifest["depth_scale"]
    best = lambda runs, key: min(runs, key=key)  # noqa: E731
    legacy = best([run_legacy(k, frames, scale, voxel_m) for _ in range(a.repeat)], lambda r: r[0])
    vbg = best([run_vbg(k, frames, scale, voxel_m) for _ in range(a.repeat)], lambda r: r[0])
    ours = best([run_mandrel(a.mandrel, a.scan_dir, a.voxel_mm) for _ in range(a.repeat)],
                lambda r: r["push_cpu_ms_per_frame"])
    m_ms = ours["push_cpu_ms_per_frame"]
    result = {
        "scan": os.path.basename(os.path.normpath(a.scan_dir)),
        "frames": len(frames),
        "voxel_mm": a.voxel_mm,
        "open3d_version": o3d.__version__,
        "mandrel_integrate_ms_per_frame": m_ms,
        "mandrel_extract_ms": ours["extract_cpu_ms"],
        "mandrel_triangles": ours["triangles"],
        "open3d_scalable_integrate_ms_per_frame": legacy[0],
        "open3d_scalable_extract_ms": legacy[1],
        "open3d_scalable_triangles": legacy[2],
        "open3d_vbg_integrate_ms_per_frame": vbg[0],
        "open3d_vbg_extract_ms": vbg[1],
        "open3d_vbg_triangles": vbg[2],
        "ratio_vs_scalable": legacy[0] / m_ms,
        "ratio_vs_vbg": vbg[0] / m_ms,
    }
    print(f"scan {result['scan']}: {len(frames)} posed frames, voxel {a.voxel_mm} mm, "
          f"truncation {TRUNC_VOXELS:g} voxels, max depth {MAX_DEPTH_M} m, one core, best of {a.repeat}")
    print(f"{'':28}{'integrate CPU ms/frame':>24}{'extract CPU ms':>16}{'triangles':>11}")
    for name, ms, ex, tri in [
        ("mandrel", m_ms, ours["extract_cpu_ms"], ours["triangles"]),
        ("Open3D ScalableTSDFVolume", *legacy),
        ("Open3D VoxelBlockGrid (CPU)", *vbg),
    ]:
        print(f"{name:28}{ms:24.2f}{ex:16.1f}{tri:11d}")
    if legacy[2] == 0:
        print("note: ScalableTSDFVolume extracted no surface from these frames; its timing "
              "does not measure a working integration")
    print(f"mandrel integrates {result['ratio_vs_scalable']:.1f}x faster than ScalableTSDFVolume "
          f"and {result['ratio_vs_vbg']:.1f}x faster than VoxelBlockGrid")
    if a.json:
        print(json.dumps(result))


if __name__ == "__main__":
    main()
