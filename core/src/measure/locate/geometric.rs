//! Landmark-free finger localisation from the fused surface (mesh vertices with normals).
//!
//! 1. **Tubular patches**: around seeds on a 2 mm grid, the normals of a 6 mm neighbourhood
//!    are analysed (PCA of n nᵀ): on a finger they are all perpendicular to its axis and
//!    spread around it. A circle fitted in the plane perpendicular to that axis
//!    (`p⊥ = c + r n⊥`, linear least squares) gives an axis point and a radius; patches with
//!    a finger radius (4.5–12 mm) and a small fit residual are kept. Flat palm regions (no
//!    normal spread), sharp edges (radius too small) and fingertips (normals in all
//!    directions) are rejected.
//! 2. **Finger segments**: axis points are linked when close and parallel; each linked
//!    group with enough length is a segment, and collinear segments (phalanges either side
//!    of a knuckle) are chained into fingers, oriented away from the hand's centroid.
//! 3. **Naming**: the thumb is the finger whose direction departs most from the others;
//!    from the thumb's side, the remaining bases are index, middle, ring, little.
//! 4. **Joints**: along the target finger, the tubular part runs from the palm web to the
//!    fingertip cap; MCP and PIP are placed at fixed fractions of it
//!    ([`joint_fractions`]). The section fit then re-aims the axis and centres the slice.
//!
//! Guarantees: never panics; returns [`LocateError::NotFound`] with the reason when the
//! hand does not show five separable fingers or the target's joints cannot be placed.

use super::{check_plausible, JointEstimate, LocateError, LocateMethod, LocatedFinger};
use crate::scan::{Finger, Target};
use nalgebra::{Matrix3, Point3, SymmetricEigen, Vector3};
use std::collections::HashMap;

/// Neighbourhood radius for the tubular test (metres).
const PATCH_RADIUS_M: f64 = 0.006;
/// Seed spacing (metres).
const SEED_SPACING_M: f64 = 0.002;
/// Finger radius range accepted (metres).
const RADIUS_RANGE_M: (f64, f64) = (0.0045, 0.012);
/// Axis points closer than this are linked (metres).
const LINK_M: f64 = 0.003;
/// Shortest segment kept (metres along its axis).
const MIN_SEGMENT_M: f64 = 0.010;

/// A finger found on the surface.
#[derive(Debug, Clone, PartialEq)]
pub struct FingerCandidate {
    /// Unit direction, proximal → distal.
    pub direction: Vector3<f64>,
    /// Proximal end of the tubular part (where it leaves the palm), on the axis.
    pub base: Point3<f64>,
    /// Distal end of the tubular part, on the axis.
    pub end: Point3<f64>,
    /// Axis samples: (distance from `base` along `direction`, radius), sorted.
    pub profile: Vec<(f64, f64)>,
    /// Axis points (world) belonging to this finger.
    pub axis_points: Vec<Point3<f64>>,
    /// Where the axis bends between the proximal piece and the next (a flexed PIP), if it
    /// does by more than 8°.
    pub bend: Option<Point3<f64>>,
}

impl FingerCandidate {
    /// Length of the tubular part, metres.
    pub fn length_m(&self) -> f64 {
        (self.end - self.base).norm()
    }
}

struct AxisPoint {
    p: Point3<f64>,
    a: Vector3<f64>,
    r: f64,
}

fn cell(p: &Point3<f64>, size: f64) -> [i64; 3] {
    [
        (p.x / size).floor() as i64,
        (p.y / size).floor() as i64,
        (p.z / size).floor() as i64,
    ]
}

struct Grid {
    size: f64,
    cells: HashMap<[i64; 3], Vec<u32>>,
}

impl Grid {
    fn new(points: &[Point3<f64>], size: f64) -> Self {
        let mut cells: HashMap<[i64; 3], Vec<u32>> = HashMap::new();
        for (i, p) in points.iter().enumerate() {
            cells.entry(cell(p, size)).or_default().push(i as u32);
        }
        Self { size, cells }
    }
    fn within(&self, points: &[Point3<f64>], q: &Point3<f64>, r: f64, out: &mut Vec<u32>) {
        out.clear();
        let c = cell(q, self.size);
        let k = (r / self.size).ceil() as i64;
        for dx in -k..=k {
            for dy in -k..=k {
                for dz in -k..=k {
                    if let Some(v) = self.cells.get(&[c[0] + dx, c[1] + dy, c[2] + dz]) {
                        for &i in v {
                            if let Some(p) = points.get(i as usize) {
                                if (p - q).norm_squared() <= r * r {
                                    out.push(i);
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Finds finger-like tubular parts of a surface given as points with unit normals.
pub fn find_fingers(points: &[Point3<f32>], normals: &[Vector3<f32>]) -> Vec<FingerCandidate> {
    let n = points.len().min(normals.len());
    let pts: Vec<Point3<f64>> = points[..n].iter().map(|p| p.cast()).collect();
    let nrm: Vec<Vector3<f64>> = normals[..n].iter().map(|v| v.cast()).collect();
    let ok: Vec<bool> = (0..n)
        .map(|i| {
            pts[i].iter().all(|v| v.is_finite())
                && nrm[i].iter().all(|v| v.is_finite())
                && (nrm[i].norm() - 1.0).abs() < 0.1
        })
        .collect();
    let grid = Grid::new(&pts, PATCH_RADIUS_M);
    // Seeds: one point per 2 mm cell.
    let mut seen = HashMap::new();
    for i in 0..n {
        if ok[i] {
            seen.entry(cell(&pts[i], SEED_SPACING_M)).or_insert(i);
        }
    }
    let mut seeds: Vec<usize> = seen.into_values().collect();
    seeds.sort_unstable();
    let mut nb = Vec::new();
    let mut axis_pts = Vec::new();
    for &s in &seeds {
        grid.within(&pts, &pts[s], PATCH_RADIUS_M, &mut nb);
        nb.retain(|&i| ok[i as usize]);
        if nb.len() < 12 {
            continue;
        }
        if let Some(ap) = tubular_patch(&pts, &nrm, &nb, &pts[s]) {
            axis_pts.push(ap);
        }
    }
    let segments = link_segments(&axis_pts);
    let centroid = {
        let mut c = Vector3::zeros();
        let mut k = 0.0;
        for (p, &o) in pts.iter().zip(&ok) {
            if o {
                c += p.coords;
                k += 1.0;
            }
        }
        if k > 0.0 {
            Point3::from(c / k)
        } else {
            Point3::origin()
        }
    };
    chain_fingers(segments, &centroid)
}

/// Tests one neighbourhood for a finger-like cylinder; returns its axis point.
fn tubular_patch(
    pts: &[Point3<f64>],
    nrm: &[Vector3<f64>],
    nb: &[u32],
    seed: &Point3<f64>,
) -> Option<AxisPoint> {
    let mut m = Matrix3::zeros();
    for &i in nb {
        let v = nrm.get(i as usize)?;
        m += v * v.transpose();
    }
    m /= nb.len() as f64;
    let e = SymmetricEigen::new(m);
    let mut idx = [0usize, 1, 2];
    idx.sort_by(|&a, &b| e.eigenvalues[a].total_cmp(&e.eigenvalues[b]));
    let (l0, l1) = (e.eigenvalues[idx[0]], e.eigenvalues[idx[1]]);
    // Normals perpendicular to the axis, and spread around it (≥ ~50° of arc).
    if l0 > 0.04 || l1 < 0.05 {
        return None;
    }
    let a: Vector3<f64> = e.eigenvectors.column(idx[0]).into_owned().normalize();
    let u: Vector3<f64> = e.eigenvectors.column(idx[1]).into_owned().normalize();
    let v = a.cross(&u);
    // Circle fit: x_i = cx + r nx_i, y_i = cy + r ny_i.
    let mut ata = Matrix3::zeros();
    let mut atb = Vector3::zeros();
    for &i in nb {
        let d = pts.get(i as usize)? - seed;
        let nn = nrm.get(i as usize)?;
        let (x, y) = (d.dot(&u), d.dot(&v));
        let (nx, ny) = (nn.dot(&u), nn.dot(&v));
        let r1 = Vector3::new(1.0, 0.0, nx);
        let r2 = Vector3::new(0.0, 1.0, ny);
        ata += r1 * r1.transpose() + r2 * r2.transpose();
        atb += r1 * x + r2 * y;
    }
    let sol = ata.lu().solve(&atb)?;
    // Outward normals: a surface point is the centre plus r·n.
    let (cx, cy, r) = (sol.x, sol.y, sol.z);
    if !(RADIUS_RANGE_M.0..=RADIUS_RANGE_M.1).contains(&r) {
        return None;
    }
    let mut ss = 0.0;
    for &i in nb {
        let d = pts.get(i as usize)? - seed;
        let (x, y) = (d.dot(&u) - cx, d.dot(&v) - cy);
        let e = x.hypot(y) - r;
        ss += e * e;
    }
    let rms = (ss / nb.len() as f64).sqrt();
    if rms > 0.0008 {
        return None;
    }
    Some(AxisPoint {
        p: seed + u * cx + v * cy,
        a,
        r,
    })
}

struct Segment {
    centre: Point3<f64>,
    dir: Vector3<f64>,
    t_min: f64,
    t_max: f64,
    members: Vec<(Point3<f64>, f64)>,
}

/// Links axis points (close and parallel) into segments and fits a line to each.
fn link_segments(ap: &[AxisPoint]) -> Vec<Segment> {
    let n = ap.len();
    let mut parent: Vec<usize> = (0..n).collect();
    fn find(p: &mut [usize], mut i: usize) -> usize {
        while p[i] != i {
            p[i] = p[p[i]];
            i = p[i];
        }
        i
    }
    let pts: Vec<Point3<f64>> = ap.iter().map(|a| a.p).collect();
    let grid = Grid::new(&pts, LINK_M);
    let mut nb = Vec::new();
    for i in 0..n {
        grid.within(&pts, &pts[i], LINK_M, &mut nb);
        for &j in &nb {
            let j = j as usize;
            if j <= i || ap[i].a.dot(&ap[j].a).abs() < 0.9 {
                continue;
            }
            let (ri, rj) = (find(&mut parent, i), find(&mut parent, j));
            if ri != rj {
                parent[ri] = rj;
            }
        }
    }
    let mut groups: HashMap<usize, Vec<usize>> = HashMap::new();
    for i in 0..n {
        let r = find(&mut parent, i);
        groups.entry(r).or_default().push(i);
    }
    let mut out = vec![];
    for (_, g) in groups {
        if g.len() < 8 {
            continue;
        }
        let c = g.iter().fold(Vector3::zeros(), |s, &i| s + ap[i].p.coords) / g.len() as f64;
        let mut m = Matrix3::zeros();
        for &i in &g {
            let d = ap[i].p.coords - c;
            m += d * d.transpose();
        }
        let e = SymmetricEigen::new(m);
        let imax = e.eigenvalues.imax();
        let dir: Vector3<f64> = e.eigenvectors.column(imax).into_owned().normalize();
        let ts: Vec<f64> = g.iter().map(|&i| (ap[i].p.coords - c).dot(&dir)).collect();
        let t_min = ts.iter().copied().fold(f64::INFINITY, f64::min);
        let t_max = ts.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        if t_max - t_min < MIN_SEGMENT_M {
            continue;
        }
        // Thickness across the line must be small (a finger, not a patch of palm).
        let lateral = (e.eigenvalues.sum() - e.eigenvalues[imax]).max(0.0) / g.len() as f64;
        if lateral.sqrt() > 0.004 {
            continue;
        }
        out.push(Segment {
            centre: Point3::from(c),
            dir,
            t_min,
            t_max,
            members: g.iter().map(|&i| (ap[i].p, ap[i].r)).collect(),
        });
    }
    out
}

/// Chains collinear segments into fingers, oriented away from `centroid`.
fn chain_fingers(mut segs: Vec<Segment>, centroid: &Point3<f64>) -> Vec<FingerCandidate> {
    // Orient each segment distally.
    for s in &mut segs {
        if (s.centre - centroid).dot(&s.dir) < 0.0 {
            s.dir = -s.dir;
            let (a, b) = (-s.t_max, -s.t_min);
            s.t_min = a;
            s.t_max = b;
        }
    }
    let n = segs.len();
    let mut parent: Vec<usize> = (0..n).collect();
    fn find(p: &mut [usize], mut i: usize) -> usize {
        while p[i] != i {
            p[i] = p[p[i]];
            i = p[i];
        }
        i
    }
    for i in 0..n {
        for j in (i + 1)..n {
            let (a, b) = (&segs[i], &segs[j]);
            if a.dir.dot(&b.dir) < 0.77 {
                continue;
            }
            // Collinear pieces (ends within 18 mm, lines within 5 mm), or the phalanges
            // either side of a bent joint (one's distal end within 12 mm of the other's
            // proximal end, bent by less than ~40°).
            let a_end = a.centre + a.dir * a.t_max;
            let b_start = b.centre + b.dir * b.t_min;
            let b_end = b.centre + b.dir * b.t_max;
            let a_start = a.centre + a.dir * a.t_min;
            let gap = (b_start - a_end).norm().min((a_start - b_end).norm());
            let off = |s: &Segment, p: &Point3<f64>| {
                let d = p - s.centre;
                (d - s.dir * d.dot(&s.dir)).norm()
            };
            let collinear = gap < 0.018 && off(a, &b.centre) < 0.005 && off(b, &a.centre) < 0.005;
            let jointed = gap < 0.012;
            if collinear || jointed {
                let (ri, rj) = (find(&mut parent, i), find(&mut parent, j));
                if ri != rj {
                    parent[ri] = rj;
                }
            }
        }
    }
    let mut groups: HashMap<usize, Vec<usize>> = HashMap::new();
    for i in 0..n {
        let r = find(&mut parent, i);
        groups.entry(r).or_default().push(i);
    }
    let mut fingers = vec![];
    for (_, g) in groups {
        let members: Vec<(Point3<f64>, f64)> = g
            .iter()
            .flat_map(|&i| segs[i].members.iter().copied())
            .collect();
        let c = members
            .iter()
            .fold(Vector3::zeros(), |s, (p, _)| s + p.coords)
            / members.len() as f64;
        let mut m = Matrix3::zeros();
        for (p, _) in &members {
            let d = p.coords - c;
            m += d * d.transpose();
        }
        let e = SymmetricEigen::new(m);
        let mut dir: Vector3<f64> = e
            .eigenvectors
            .column(e.eigenvalues.imax())
            .into_owned()
            .normalize();
        let c = Point3::from(c);
        if (c - centroid).dot(&dir) < 0.0 {
            dir = -dir;
        }
        let mut ts: Vec<(f64, f64)> = members
            .iter()
            .map(|(p, r)| ((p - c).dot(&dir), *r))
            .collect();
        ts.sort_by(|a, b| a.0.total_cmp(&b.0));
        let (Some(&(t0, _)), Some(&(t1, _))) = (ts.first(), ts.last()) else {
            continue;
        };
        let base = c + dir * t0;
        // The MCP→PIP axis follows the most proximal piece (the proximal phalanx) when the
        // finger is bent.
        let proximal = g
            .iter()
            .min_by(|&&x, &&y| {
                let tx = (segs[x].centre - c).dot(&dir);
                let ty = (segs[y].centre - c).dot(&dir);
                tx.total_cmp(&ty)
            })
            .map(|&i| segs[i].dir)
            .unwrap_or(dir);
        let direction = if g.len() > 1 && proximal.dot(&dir) > 0.7 {
            proximal
        } else {
            dir
        };
        // A bent finger: the first joint bend along the chain (between the proximal piece
        // and the next one) is the PIP.
        let mut order: Vec<usize> = g.clone();
        order.sort_by(|&x, &y| {
            let tx = (segs[x].centre - c).dot(&dir);
            let ty = (segs[y].centre - c).dot(&dir);
            tx.total_cmp(&ty)
        });
        let bend = match order.as_slice() {
            [a, b, ..] => {
                let (a, b) = (&segs[*a], &segs[*b]);
                let angle = a.dir.dot(&b.dir).clamp(-1.0, 1.0).acos().to_degrees();
                (angle > 8.0).then(|| {
                    nalgebra::center(&(a.centre + a.dir * a.t_max), &(b.centre + b.dir * b.t_min))
                })
            }
            _ => None,
        };
        fingers.push(FingerCandidate {
            bend,
            direction,
            base,
            end: c + dir * t1,
            profile: ts.iter().map(|&(t, r)| (t - t0, r)).collect(),
            axis_points: members.iter().map(|(p, _)| *p).collect(),
        });
    }
    // Longest first (stable order for callers).
    fingers.sort_by(|a, b| b.length_m().total_cmp(&a.length_m()));
    fingers
}

/// Names five finger candidates: returns them in order thumb, index, middle, ring, little.
pub fn name_fingers(cands: &[FingerCandidate]) -> Result<[usize; 5], LocateError> {
    // The five longest tubular parts at least 20 mm long.
    let idx: Vec<usize> = (0..cands.len())
        .filter(|&i| cands[i].length_m() >= 0.02)
        .take(5)
        .collect();
    if idx.len() < 5 {
        return Err(LocateError::NotFound(format!(
            "{} finger-like parts found on the surface, 5 needed to name them",
            idx.len()
        )));
    }
    let mean = idx
        .iter()
        .fold(Vector3::zeros(), |s, &i| s + cands[i].direction)
        .normalize();
    // Thumb: largest angle from the leave-one-out mean of the others.
    let angle_from_others = |k: usize| {
        let m = idx
            .iter()
            .filter(|&&i| i != k)
            .fold(Vector3::zeros(), |s, &i| s + cands[i].direction)
            .normalize();
        cands[k].direction.dot(&m).clamp(-1.0, 1.0).acos()
    };
    let thumb = *idx
        .iter()
        .max_by(|&&a, &&b| angle_from_others(a).total_cmp(&angle_from_others(b)))
        .ok_or_else(|| LocateError::NotFound("no fingers".into()))?;
    let thumb_angle = angle_from_others(thumb).to_degrees();
    let others: Vec<usize> = idx.iter().copied().filter(|&i| i != thumb).collect();
    let second = others
        .iter()
        .map(|&i| angle_from_others(i).to_degrees())
        .fold(0.0, f64::max);
    if thumb_angle < 15.0 || thumb_angle < second + 5.0 {
        return Err(LocateError::NotFound(format!(
            "no finger stands out as the thumb (largest direction change {thumb_angle:.0}°, next {second:.0}°)"
        )));
    }
    // Lateral axis across the four fingers' bases, perpendicular to their mean direction.
    let fm = others
        .iter()
        .fold(Vector3::zeros(), |s, &i| s + cands[i].direction)
        .normalize();
    let bc = others
        .iter()
        .fold(Vector3::zeros(), |s, &i| s + cands[i].base.coords)
        / others.len() as f64;
    let mut m = Matrix3::zeros();
    for &i in &others {
        let d = cands[i].base.coords - bc;
        let d = d - fm * d.dot(&fm);
        m += d * d.transpose();
    }
    let e = SymmetricEigen::new(m);
    let mut lat: Vector3<f64> = e
        .eigenvectors
        .column(e.eigenvalues.imax())
        .into_owned()
        .normalize();
    // Orient from the thumb's side.
    let tb = cands[thumb].base.coords - bc;
    if tb.dot(&lat) > 0.0 {
        lat = -lat;
    }
    let _ = mean;
    let mut ordered = others.clone();
    ordered.sort_by(|&a, &b| {
        let ta = (cands[a].base.coords - bc).dot(&lat);
        let tb = (cands[b].base.coords - bc).dot(&lat);
        ta.total_cmp(&tb)
    });
    Ok([thumb, ordered[0], ordered[1], ordered[2], ordered[3]])
}

/// MCP→PIP distance as a share of the PIP→end-of-tubular-part distance.
pub const MCP_PIP_PER_DISTAL: f64 = 0.9;

/// Joint positions along a finger's tubular part, as fractions of its length from the base
/// (web end): `(pip, mcp)`. The tubular part runs from where the finger leaves the palm web
/// to where the fingertip cap begins, so it scales with the finger; the PIP sits at a fixed
/// share of it (the middle and distal phalanges are ~65 % of it on ring, middle and little
/// fingers; the index finger has no web on the thumb side, so its tubular part starts
/// nearer the MCP). Calibrated on the five independent shared scans (ring: spread ±1.5 %,
/// i.e. ±1.2 mm; index: one scan) and consistent with phalanx length ratios in
/// Buryanov & Kotiuk (2010); the thumb uses the index values (uncalibrated).
pub fn joint_fractions(finger: Finger) -> (f64, f64) {
    match finger {
        Finger::Ring | Finger::Middle | Finger::Little => (0.348, 0.348 - 0.555),
        Finger::Index | Finger::Thumb => (0.471, 0.471 - 0.495),
    }
}

/// Places MCP and PIP on a named finger candidate; returns them with a 1-sigma position
/// uncertainty (metres).
pub fn joints_of(
    c: &FingerCandidate,
    finger: Finger,
) -> Result<(Point3<f64>, Point3<f64>, f64), LocateError> {
    let len = c.length_m();
    if !(0.03..=0.14).contains(&len) {
        return Err(LocateError::NotFound(format!(
            "the target finger's visible tubular part is {:.0} mm long (30–140 mm expected); the finger may be bent, cut off or merged with a neighbour",
            len * 1e3
        )));
    }
    let (fp, _) = joint_fractions(finger);
    // PIP: the bend of a flexed finger, else a fixed share of the tubular part.
    let pip = match c.bend {
        Some(b) if (b - c.base).dot(&c.direction) > 0.25 * len => {
            c.base + c.direction * (b - c.base).dot(&c.direction)
        }
        _ => c.base + c.direction * (fp * len),
    };
    // MCP: the proximal phalanx is ~0.9 of the rest of the finger beyond the PIP (0.83–1.03
    // on both generators' hands).
    let rest = (c.end - pip).norm();
    let mcp = pip - c.direction * (MCP_PIP_PER_DISTAL * rest);
    // Proportions vary by ~1.5 % of the length between hands, plus the web's sharpness.
    let sigma = (0.015 * len).hypot(0.002);
    Ok((mcp, pip, sigma))
}

/// Locates `target`'s MCP and PIP from a surface (points with outward unit normals).
pub fn locate(
    points: &[Point3<f32>],
    normals: &[Vector3<f32>],
    target: Target,
) -> Result<LocatedFinger, LocateError> {
    if points.is_empty() {
        return Err(LocateError::NotFound("the fused surface is empty".into()));
    }
    let cands = find_fingers(points, normals);
    let names = name_fingers(&cands)?;
    let k = match target.finger {
        Finger::Thumb => 0,
        Finger::Index => 1,
        Finger::Middle => 2,
        Finger::Ring => 3,
        Finger::Little => 4,
    };
    let c = cands
        .get(names[k])
        .ok_or_else(|| LocateError::NotFound("finger index out of range".into()))?;
    let (mcp, pip, sigma) = joints_of(c, target.finger)?;
    let est = |p: Point3<f64>| JointEstimate {
        position: p,
        sigma_m: sigma,
        ray_residual_m: 0.0,
        views_used: 0,
        views_rejected: 0,
        depth_behind_skin_m: None,
    };
    let found = LocatedFinger {
        mcp: est(mcp),
        pip: est(pip),
        method: LocateMethod::Geometric,
    };
    check_plausible(&found)?;
    Ok(found)
}
