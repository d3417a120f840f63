//! Real TrueDepth frames nobody on the team made (`../shared/data/truedepth_mannequin_head`):
//! 90 pose-less frames of a mannequin head swept ear to ear, with the capture SDK's own
//! fused surfels as a peer reference (in the first frame's camera, like our world).
//!
//! The session must track every frame, fuse only the head (the shoulders and the room behind
//! are cut by segmentation), and its surface must lie on the peer's, as it is and after a
//! rigid alignment (the two fusions drift differently).

mod common;

use kiddo::{ImmutableKdTree, SquaredEuclidean};
use mandrel_core::scan::ScanFolder;
use mandrel_core::session::{ScanSession, SessionConfig};
use nalgebra::{Isometry3, Matrix3, Point3, Rotation3, Translation3, UnitQuaternion, Vector3};
use std::path::Path;

/// The reference surfels: a binary little-endian PLY of float32 x, y, z.
fn read_surfels(path: &Path) -> Vec<[f32; 3]> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let marker = b"end_header\n";
    let at = bytes
        .windows(marker.len())
        .position(|w| w == marker)
        .expect("PLY header")
        + marker.len();
    let header = std::str::from_utf8(&bytes[..at]).expect("ASCII header");
    assert!(header.contains("binary_little_endian"), "{header}");
    let n: usize = header
        .lines()
        .find_map(|l| l.strip_prefix("element vertex "))
        .expect("vertex count")
        .trim()
        .parse()
        .expect("count");
    let props = header.lines().filter(|l| l.starts_with("property")).count();
    assert_eq!(props, 3, "{header}");
    (0..n)
        .map(|i| {
            let f = |j: usize| {
                let o = at + 12 * i + 4 * j;
                f32::from_le_bytes(bytes[o..o + 4].try_into().unwrap())
            };
            [f(0), f(1), f(2)]
        })
        .collect()
}

/// Distances (metres) from each point to the nearest surfel.
fn distances(tree: &ImmutableKdTree<f32, 3>, pts: &[Point3<f64>]) -> Vec<f64> {
    pts.iter()
        .map(|p| {
            let q = [p.x as f32, p.y as f32, p.z as f32];
            let nn = tree
                .query(&q)
                .nearest_one::<SquaredEuclidean<f32>>()
                .execute();
            (nn.distance as f64).sqrt()
        })
        .collect()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn percentile(mut v: Vec<f64>, p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((v.len() - 1) as f64 * p).round() as usize]
}

/// Rigid point-to-point ICP of `pts` onto the surfels (Horn's closed form per iteration, on
/// pairs within 5 mm); returns the aligned points.
fn align(
    tree: &ImmutableKdTree<f32, 3>,
    surfels: &[[f32; 3]],
    pts: &[Point3<f64>],
) -> Vec<Point3<f64>> {
    let mut pose = Isometry3::<f64>::identity();
    for _ in 0..30 {
        let moved: Vec<Point3<f64>> = pts.iter().map(|p| pose * p).collect();
        let pairs: Vec<(Point3<f64>, Point3<f64>)> = moved
            .iter()
            .filter_map(|p| {
                let q = [p.x as f32, p.y as f32, p.z as f32];
                let nn = tree
                    .query(&q)
                    .nearest_one::<SquaredEuclidean<f32>>()
                    .execute();
                let s = surfels[nn.item as usize];
                (nn.distance.sqrt() < 0.005)
                    .then(|| (*p, Point3::new(s[0] as f64, s[1] as f64, s[2] as f64)))
            })
            .collect();
        let n = pairs.len() as f64;
        let ca = pairs.iter().map(|p| p.0.coords).sum::<Vector3<f64>>() / n;
        let cb = pairs.iter().map(|p| p.1.coords).sum::<Vector3<f64>>() / n;
        let mut h = Matrix3::zeros();
        for (a, b) in &pairs {
            h += (a.coords - ca) * (b.coords - cb).transpose();
        }
        let svd = h.svd(true, true);
        let (u, vt) = (svd.u.unwrap(), svd.v_t.unwrap());
        let mut d = Matrix3::identity();
        if (vt.transpose() * u.transpose()).determinant() < 0.0 {
            d[(2, 2)] = -1.0;
        }
        let r = Rotation3::from_matrix_unchecked(vt.transpose() * d * u.transpose());
        let t = cb - r * ca;
        let step = Isometry3::from_parts(
            Translation3::from(t),
            UnitQuaternion::from_rotation_matrix(&r),
        );
        pose = step * pose;
    }
    pts.iter().map(|p| pose * p).collect()
}

#[test]
fn truedepth_head_tracks_every_frame_and_fuses_only_the_head_onto_the_peer_surface() {
    let Some(dir) = common::shared_data("truedepth_mannequin_head") else {
        return;
    };
    let scan = ScanFolder::open(&dir).expect("scan folder");
    let mut cfg = SessionConfig::new(scan.manifest.target);
    cfg.keep_observations = false;
    let mut s = ScanSession::new(cfg).expect("session");
    for i in 0..scan.len() {
        s.push_frame(scan.frame(i).expect("frame")).expect("push");
    }
    let tracking = s.tracking_summary();
    let mut mesh = s.mesh();
    mesh.remove_small_components(200);
    let verts: Vec<Point3<f64>> = mesh.vertices.iter().map(|v| v.cast()).collect();
    let surfels = read_surfels(&dir.join("reference_fused_surfels.ply"));
    let tree: ImmutableKdTree<f32, 3> = ImmutableKdTree::new_from_slice(&surfels).expect("tree");
    let raw = distances(&tree, &verts);
    let aligned = distances(&tree, &align(&tree, &surfels, &verts));
    let (med_raw, med_aligned) = (median(raw.clone()), median(aligned.clone()));
    let (p95_raw, far) = (
        percentile(raw.clone(), 0.95),
        raw.iter().filter(|&&d| d > 0.02).count() as f64 / raw.len() as f64,
    );
    let depth_max = verts.iter().map(|v| v.z).fold(0.0, f64::max);
    println!(
        "truedepth head: {} frames, {} lost; mesh {} vertices, depth up to {depth_max:.3} m; \
         to the peer's surfels: median {:.3} mm as is, {:.3} mm aligned; p95 {:.3} mm; \
         {:.2} % farther than 20 mm",
        tracking.frames_total,
        tracking.frames_lost,
        verts.len(),
        med_raw * 1e3,
        med_aligned * 1e3,
        p95_raw * 1e3,
        far * 100.0
    );
    assert_eq!(tracking.frames_total, 90);
    assert_eq!(tracking.frames_lost, 0, "every frame tracked");
    // Only the head: nothing fused far from the peer's surface (the room, the table).
    assert!(far < 0.01, "{:.2} % of the mesh is background", far * 100.0);
    assert!(med_raw <= 1.0e-3, "median {:.3} mm as is", med_raw * 1e3);
    assert!(
        med_aligned <= 1.0e-3,
        "median {:.3} mm aligned",
        med_aligned * 1e3
    );
}
