//! Finding finger-like tubular parts on a surface: tubular patches around seeds, linked
//! into segments, chained into fingers (steps 1 and 2 of the module docs).

use nalgebra::{Matrix3, Point3, SymmetricEigen, Vector3};
use std::collections::{BTreeMap, HashMap};

use crate::numeric::{CellMap, UnionFind};

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

/// A uniform hash grid over points for radius queries.
pub(super) struct Grid {
    size: f64,
    cells: CellMap<Vec<u32>>,
}

impl Grid {
    fn new(points: &[Point3<f64>], size: f64) -> Self {
        let mut cells: CellMap<Vec<u32>> = CellMap::default();
        for (i, p) in points.iter().enumerate() {
            cells.entry(cell(p, size)).or_default().push(i as u32);
        }
        Self { size, cells }
    }
    /// Indices of `points` within `r` of `q`, into `out`.
    pub(super) fn within(
        &self,
        points: &[Point3<f64>],
        q: &Point3<f64>,
        r: f64,
        out: &mut Vec<u32>,
    ) {
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

/// A surface prepared for neighbourhood queries: points, unit normals, validity, grid.
pub struct Surface {
    /// Points (world, metres).
    pub(super) pts: Vec<Point3<f64>>,
    /// Unit normals.
    pub(super) nrm: Vec<Vector3<f64>>,
    /// Whether the point and its normal are usable.
    pub(super) ok: Vec<bool>,
    /// Neighbourhood index over `pts`.
    pub(super) grid: Grid,
}

impl Surface {
    /// Prepares points with outward unit normals (pairs beyond the shorter list are ignored;
    /// non-finite or non-unit entries are skipped).
    pub fn new(points: &[Point3<f32>], normals: &[Vector3<f32>]) -> Self {
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
        Self { pts, nrm, ok, grid }
    }
}

/// Finds finger-like tubular parts of a surface given as points with unit normals.
#[cfg(any(test, feature = "internals"))]
pub fn find_fingers(points: &[Point3<f32>], normals: &[Vector3<f32>]) -> Vec<FingerCandidate> {
    find_fingers_on(&Surface::new(points, normals))
}

/// [`find_fingers`] on a prepared [`Surface`].
pub fn find_fingers_on(surface: &Surface) -> Vec<FingerCandidate> {
    let (pts, nrm, ok, grid) = (&surface.pts, &surface.nrm, &surface.ok, &surface.grid);
    let n = pts.len();
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
        grid.within(pts, &pts[s], PATCH_RADIUS_M, &mut nb);
        nb.retain(|&i| ok[i as usize]);
        if nb.len() < 12 {
            continue;
        }
        if let Some(ap) = tubular_patch(pts, nrm, &nb, &pts[s]) {
            axis_pts.push(ap);
        }
    }
    let segments = link_segments(&axis_pts);
    let centroid = {
        let mut c = Vector3::zeros();
        let mut k = 0.0;
        for (p, &o) in pts.iter().zip(ok) {
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
    let mut sets = UnionFind::new(n);
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
            sets.union(i, j);
        }
    }
    // Ordered by root index, so the output (and every sum over it) is the same on every run.
    let mut groups: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for i in 0..n {
        let r = sets.find(i);
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
    let mut sets = UnionFind::new(n);
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
                sets.union(i, j);
            }
        }
    }
    // Ordered by root index, so the output (and every sum over it) is the same on every run.
    let mut groups: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for i in 0..n {
        let r = sets.find(i);
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
