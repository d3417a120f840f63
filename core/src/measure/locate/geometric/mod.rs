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
//! 3. **Naming** ([`name_fingers`]): parts pointing against the hand's main direction
//!    (forearm flanks) are dropped; the thumb is the part whose direction departs most from
//!    the others; from the thumb's side, the remaining bases are index, middle, ring,
//!    little, which must lie side by side a finger's width apart, with the little finger
//!    not wider than the index.
//! 4. **Joints** ([`joints_of`]): the PIP is the knuckle, the most prominent widening of
//!    the finger's surface radius profile ([`radius_profile`], [`pip_from_profile`]); the
//!    MCP lies back along the axis by a share of the PIP→fingertip length
//!    ([`MCP_PIP_PER_DISTAL`]), whose spread between hands sets the MCP's uncertainty. The
//!    section fit then re-aims the axis and centres the slice.
//!
//! Guarantees: never panics; returns [`LocateError::NotFound`] with the reason when the
//! hand does not show five separable fingers, the naming cues disagree, or the target's
//! knuckle does not stand out. The hand side of the target is not needed: the thumb sets
//! the order, mirrored hands included.

use super::{check_plausible, JointEstimate, LocateError, LocateMethod, LocatedFinger};
use crate::scan::{Finger, Target};
use nalgebra::{Matrix3, Point3, SymmetricEigen, Vector3};
use std::collections::{BTreeMap, HashMap};

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

/// A surface prepared for neighbourhood queries: points, unit normals, validity, grid.
pub struct Surface {
    pts: Vec<Point3<f64>>,
    nrm: Vec<Vector3<f64>>,
    ok: Vec<bool>,
    grid: Grid,
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

/// Where a finger's centre line is at `t` (metres from `base` along `direction`): the mean
/// of its axis points within ±4 mm, else the interpolation between the nearest ones either
/// side, else the straight axis.
fn centre_at(c: &FingerCandidate, t: f64) -> Point3<f64> {
    let on_line = c.base + c.direction * t;
    let mut sum = Vector3::zeros();
    let mut k = 0.0;
    let mut before: Option<(f64, Point3<f64>)> = None;
    let mut after: Option<(f64, Point3<f64>)> = None;
    for p in &c.axis_points {
        let tp = (p - c.base).dot(&c.direction);
        // Offset from the straight line at the point's own t, carried to `t`.
        let q = on_line + ((p - c.base) - c.direction * tp);
        if (tp - t).abs() <= 0.004 {
            sum += q.coords;
            k += 1.0;
        } else if tp < t && before.is_none_or(|b| tp > b.0) {
            before = Some((tp, q));
        } else if tp > t && after.is_none_or(|a| tp < a.0) {
            after = Some((tp, q));
        }
    }
    if k >= 2.0 {
        return Point3::from(sum / k);
    }
    match (before, after) {
        (Some((ta, a)), Some((tb, b))) if tb - ta > 1e-6 => {
            let f = (t - ta) / (tb - ta);
            Point3::from(a.coords * (1.0 - f) + b.coords * f)
        }
        _ => on_line,
    }
}

/// One step of a finger's [`radius_profile`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProfileSample {
    /// Distance from the candidate's `base` along its direction, metres.
    pub t_m: f64,
    /// Median distance of the slice's surface points from the centre line, metres.
    pub radius_m: f64,
    /// Surface points in the slice.
    pub points: usize,
    /// Angular coverage of those points around the axis (30° sectors), degrees.
    pub coverage_deg: f64,
}

/// Radius profile of a finger from the surface itself (not the tubular patches, which miss
/// knuckles): at 1 mm steps along the axis, the median distance from the centre line of the
/// surface points in a 2 mm slice that face outwards (normal within ~50° of radial) and lie
/// within 1.6x the finger's typical radius. Returns one sample per step with at least 6
/// points.
pub fn radius_profile(surface: &Surface, c: &FingerCandidate) -> Vec<ProfileSample> {
    let mut rs: Vec<f64> = c.profile.iter().map(|p| p.1).collect();
    rs.sort_by(|a, b| a.total_cmp(b));
    let r_typ = rs.get(rs.len() / 2).copied().unwrap_or(0.008);
    let reach = 1.6 * r_typ;
    let mut out = vec![];
    let mut nb = Vec::new();
    let steps = (c.length_m() / 0.001).ceil() as i64 + 8;
    // Plane basis perpendicular to the axis, for the angular coverage.
    let u = c.direction.cross(&Vector3::x());
    let u = if u.norm() > 0.1 {
        u.normalize()
    } else {
        c.direction.cross(&Vector3::y()).normalize()
    };
    let v = c.direction.cross(&u);
    for k in -8..=steps {
        let t = k as f64 * 0.001;
        let centre = centre_at(c, t);
        surface
            .grid
            .within(&surface.pts, &centre, reach.hypot(0.001), &mut nb);
        let mut ds = vec![];
        let mut sectors = [false; 12];
        for &i in &nb {
            let i = i as usize;
            if !surface.ok[i] {
                continue;
            }
            let d = surface.pts[i] - centre;
            let along = d.dot(&c.direction);
            if along.abs() > 0.001 {
                continue;
            }
            let radial = d - c.direction * along;
            let r = radial.norm();
            if r < 1e-4 || r > reach || surface.nrm[i].dot(&(radial / r)) < 0.65 {
                continue;
            }
            ds.push(r);
            let a = radial
                .dot(&v)
                .atan2(radial.dot(&u))
                .to_degrees()
                .rem_euclid(360.0);
            if let Some(s) = sectors.get_mut((a / 30.0) as usize) {
                *s = true;
            }
        }
        if ds.len() >= 6 {
            ds.sort_by(|a, b| a.total_cmp(b));
            out.push(ProfileSample {
                t_m: t,
                radius_m: ds[ds.len() / 2],
                points: ds.len(),
                coverage_deg: 30.0 * sectors.iter().filter(|&&s| s).count() as f64,
            });
        }
    }
    out
}

/// Finds finger-like tubular parts of a surface given as points with unit normals.
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
    // Ordered by root index, so the output (and every sum over it) is the same on every run.
    let mut groups: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
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
    // Ordered by root index, so the output (and every sum over it) is the same on every run.
    let mut groups: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
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

/// Median tubular radius of a candidate (metres).
fn median_radius(c: &FingerCandidate) -> f64 {
    let mut rs: Vec<f64> = c.profile.iter().map(|p| p.1).collect();
    rs.sort_by(|a, b| a.total_cmp(b));
    rs.get(rs.len() / 2).copied().unwrap_or(0.0)
}

fn angle_deg(a: &Vector3<f64>, b: &Vector3<f64>) -> f64 {
    a.dot(b).clamp(-1.0, 1.0).acos().to_degrees()
}

/// Range of distances across the hand between adjacent long fingers' bases (metres).
const ADJACENT_SPACING_M: (f64, f64) = (0.008, 0.040);
/// Shortest long finger (tubular part) relative to the longest of the four.
const MIN_LENGTH_SHARE: f64 = 0.6;
/// The little finger is thinner than the index: the finger named index must be at least
/// this fraction of the little finger's radius.
const THINNER_RATIO: f64 = 0.95;

/// Names finger candidates: returns their indices in the order thumb, index, middle, ring,
/// little.
///
/// 1. Parts pointing against the hand's main direction (more than 100° from the mean of
///    the candidates within 45° of the best-supported direction: a forearm's flanks, the
///    far side of a wrist) are dropped.
/// 2. Of the five longest remaining parts (at least 20 mm), the thumb is the one whose
///    direction departs most from the leave-one-out mean of the others, by at least 15°
///    and 5° more than any other.
/// 3. The four others are ordered across the hand from the thumb's side; adjacent axes
///    must be a finger's width apart (8–40 mm at the bases).
/// 4. Checks, else the naming is refused: each of the four is at least
///    [`MIN_LENGTH_SHARE`] as long as the longest (whole fingers, not fragments of partly
///    seen ones); the little finger is not clearly wider than the index (median tubular
///    radii, [`THINNER_RATIO`]).
pub fn name_fingers(cands: &[FingerCandidate]) -> Result<[usize; 5], LocateError> {
    let long: Vec<usize> = (0..cands.len())
        .filter(|&i| cands[i].length_m() >= 0.02)
        .collect();
    // The hand's main direction: best-supported direction among the long parts.
    let support = |i: usize| {
        long.iter()
            .filter(|&&j| angle_deg(&cands[i].direction, &cands[j].direction) < 45.0)
            .map(|&j| cands[j].length_m())
            .sum::<f64>()
    };
    let Some(&main) = long
        .iter()
        .max_by(|&&a, &&b| support(a).total_cmp(&support(b)))
    else {
        return Err(LocateError::NotFound(
            "no finger-like part found on the surface".into(),
        ));
    };
    let main_dir = long
        .iter()
        .filter(|&&j| angle_deg(&cands[main].direction, &cands[j].direction) < 45.0)
        .fold(Vector3::zeros(), |s, &j| s + cands[j].direction)
        .normalize();
    let idx: Vec<usize> = long
        .iter()
        .copied()
        .filter(|&i| angle_deg(&cands[i].direction, &main_dir) <= 100.0)
        .take(5)
        .collect();
    if idx.len() < 5 {
        return Err(LocateError::NotFound(format!(
            "{} finger-like parts found on the surface, 5 needed to name them",
            idx.len()
        )));
    }
    // Thumb: largest angle from the leave-one-out mean of the others.
    let angle_from_others = |k: usize| {
        let m = idx
            .iter()
            .filter(|&&i| i != k)
            .fold(Vector3::zeros(), |s, &i| s + cands[i].direction)
            .normalize();
        angle_deg(&cands[k].direction, &m)
    };
    let thumb = *idx
        .iter()
        .max_by(|&&a, &&b| angle_from_others(a).total_cmp(&angle_from_others(b)))
        .ok_or_else(|| LocateError::NotFound("no fingers".into()))?;
    let thumb_angle = angle_from_others(thumb);
    let others: Vec<usize> = idx.iter().copied().filter(|&i| i != thumb).collect();
    let second = others
        .iter()
        .map(|&i| angle_from_others(i))
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
    let across = |p: &Point3<f64>| {
        let d = p.coords - bc;
        d - fm * d.dot(&fm)
    };
    let mut m = Matrix3::zeros();
    for &i in &others {
        let d = across(&cands[i].base);
        m += d * d.transpose();
    }
    let e = SymmetricEigen::new(m);
    let mut lat: Vector3<f64> = e
        .eigenvectors
        .column(e.eigenvalues.imax())
        .into_owned()
        .normalize();
    // Orient from the thumb's side.
    if across(&cands[thumb].base).dot(&lat) > 0.0 {
        lat = -lat;
    }
    let mut ordered = others.clone();
    ordered.sort_by(|&a, &b| {
        across(&cands[a].base)
            .dot(&lat)
            .total_cmp(&across(&cands[b].base).dot(&lat))
    });
    for w in ordered.windows(2) {
        let gap = (across(&cands[w[1]].base) - across(&cands[w[0]].base)).norm();
        if !(ADJACENT_SPACING_M.0..=ADJACENT_SPACING_M.1).contains(&gap) {
            return Err(LocateError::NotFound(format!(
                "neighbouring finger candidates are {:.0} mm apart across the hand (8–40 mm expected)",
                gap * 1e3
            )));
        }
    }
    // Whole fingers, not fragments of a partly seen one: each at least 60 % as long as the
    // longest (little fingers run ~70–80 % of the middle finger).
    let longest = ordered
        .iter()
        .map(|&i| cands[i].length_m())
        .fold(0.0, f64::max);
    if let Some(&short) = ordered
        .iter()
        .find(|&&i| cands[i].length_m() < MIN_LENGTH_SHARE * longest)
    {
        return Err(LocateError::NotFound(format!(
            "a finger candidate is {:.0} mm long against {:.0} mm for the longest: fingers are only partly seen",
            cands[short].length_m() * 1e3,
            longest * 1e3
        )));
    }
    let (r_index, r_little) = (
        median_radius(&cands[ordered[0]]),
        median_radius(&cands[ordered[3]]),
    );
    if r_index < THINNER_RATIO * r_little {
        return Err(LocateError::NotFound(format!(
            "the finger named little ({:.1} mm radius) is wider than the one named index ({:.1} mm): the thumb side is in doubt",
            r_little * 1e3,
            r_index * 1e3
        )));
    }
    Ok([thumb, ordered[0], ordered[1], ordered[2], ordered[3]])
}

/// Least median angular coverage of the target finger's surface (degrees) for its radius
/// profile to be trusted: a finger seen from one side only (dorsal scans) shows about half.
const MIN_PROFILE_COVERAGE_DEG: f64 = 240.0;

/// 1-sigma of the PIP position from the knuckle peak (metres).
const PIP_SIGMA_M: f64 = 0.0015;

/// MCP→PIP distance as a share of the PIP→end-of-tubular-part distance (which is about
/// the middle plus distal phalanx, the fingertip cap and pulp roughly cancelling). Phalanx
/// lengths in the literature give ~1.03–1.13 for the long fingers (proximal over middle +
/// distal bone, e.g. Buryanov & Kotiuk 2010), the virtual hands 0.93–1.19 (mean 1.04), the
/// five shared scans' generator 0.81–0.94 (mean 0.85): the value sits between the two
/// generators and its 10 % spread goes into the MCP's uncertainty.
pub const MCP_PIP_PER_DISTAL: f64 = 0.95;

/// Half-width of the window (metres) over which the knuckle's prominence curve is fitted
/// with a parabola around its highest sample.
const PEAK_FIT_HALF_M: f64 = 0.003;

/// The PIP knuckle on a finger's surface radius profile ([`radius_profile`]): the most
/// prominent local widening (radius above the mean of the profile 6–12 mm either side)
/// between 20 % and 65 % of the tubular part (the DIP, at ~80 %, and the palm, at the
/// base, are outside). The position is the vertex of a least-squares parabola through the
/// prominence curve within ±3 mm of its highest sample (kept within that window), not the
/// highest 1 mm sample itself: a pick on the 1 mm grid jumps by a whole step when noise
/// tips two near-equal samples, and the ring point moves by 1.5 times that. Returns
/// `(t, prominence)` in metres, or `None` when no widening of at least 0.15 mm stands out.
pub fn pip_from_profile(profile: &[ProfileSample], length_m: f64) -> Option<(f64, f64)> {
    let mean_in = |a: f64, b: f64| {
        let v: Vec<f64> = profile
            .iter()
            .filter(|p| p.t_m >= a && p.t_m <= b)
            .map(|p| p.radius_m)
            .collect();
        (v.len() >= 3).then(|| v.iter().sum::<f64>() / v.len() as f64)
    };
    let prominence = |t: f64| {
        let (here, before, after) = (
            mean_in(t - 0.0015, t + 0.0015)?,
            mean_in(t - 0.012, t - 0.006)?,
            mean_in(t + 0.006, t + 0.012)?,
        );
        Some(here - 0.5 * (before + after))
    };
    let curve: Vec<(f64, f64)> = profile
        .iter()
        .map(|p| p.t_m)
        .filter(|&t| t >= 0.2 * length_m && t <= 0.65 * length_m)
        .filter_map(|t| Some((t, prominence(t)?)))
        .collect();
    let best = curve
        .iter()
        .copied()
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .filter(|b| b.1 >= 0.00015)?;
    let window: Vec<(f64, f64)> = curve
        .iter()
        .copied()
        .filter(|(t, _)| (t - best.0).abs() <= PEAK_FIT_HALF_M + 1e-9)
        .collect();
    Some((refine_peak(&window, best.0).unwrap_or(best.0), best.1))
}

/// Vertex of the least-squares parabola through `samples` (`(t, value)`), when it opens
/// downwards and at least five samples span both sides of `t0`; clamped to the samples'
/// range.
fn refine_peak(samples: &[(f64, f64)], t0: f64) -> Option<f64> {
    if samples.len() < 5 || !samples.iter().any(|s| s.0 < t0) || !samples.iter().any(|s| s.0 > t0) {
        return None;
    }
    // Centred, in millimetres, for conditioning.
    let mut ata = Matrix3::zeros();
    let mut atb = Vector3::zeros();
    for &(t, v) in samples {
        let x = (t - t0) * 1e3;
        let row = Vector3::new(1.0, x, x * x);
        ata += row * row.transpose();
        atb += row * (v * 1e3);
    }
    let c = ata.lu().solve(&atb)?;
    if !(c.z < 0.0) {
        return None;
    }
    let lo = samples.iter().map(|s| s.0).fold(f64::INFINITY, f64::min);
    let hi = samples
        .iter()
        .map(|s| s.0)
        .fold(f64::NEG_INFINITY, f64::max);
    let vertex = t0 + (-c.y / (2.0 * c.z)) * 1e-3;
    vertex.is_finite().then(|| vertex.clamp(lo, hi))
}

/// Least distance from the MCP to the tubular part's base (where the free finger starts), as
/// a share of MCP→PIP; negative: the tube may reach that far into the palm before the MCP
/// (a spread finger). Measured from the true joints: the shared scans'
/// generator 0.05–0.47, the WebXR hand meshes 0.02–0.15, virtual hands with skin webs
/// −0.15–0.23 — the MCP sits at or before the point where the finger leaves the hand.
const MIN_BASE_SHARE: f64 = -0.15;

/// How far (metres) the proportion-placed MCP lies inside the free finger beyond what any
/// measured hand allows ([`MIN_BASE_SHARE`]); zero when the two cues agree. A cut-off or
/// curled fingertip shortens the PIP→end distance and pulls the MCP forward: the two
/// anatomical cues then disagree and the MCP's uncertainty must cover the disagreement.
/// `t_pip_m` is the PIP's distance from the tubular part's base, `mcp_pip_m` the placed
/// MCP→PIP distance.
fn base_conflict_m(t_pip_m: f64, mcp_pip_m: f64) -> f64 {
    let base_share = (mcp_pip_m - t_pip_m) / mcp_pip_m;
    (MIN_BASE_SHARE - base_share).max(0.0) * mcp_pip_m
}

/// Places MCP and PIP on a finger candidate; returns them with the MCP's 1-sigma position
/// uncertainty (metres; the PIP's is [`PIP_SIGMA_M`]). The PIP is the knuckle on the surface radius profile
/// ([`pip_from_profile`]); the MCP lies [`MCP_PIP_PER_DISTAL`] times the PIP→fingertip
/// distance back along the axis (phalanx proportions). Its uncertainty is the proportions'
/// spread plus any disagreement with where the free finger starts ([`base_conflict_m`]).
pub fn joints_of(
    surface: &Surface,
    c: &FingerCandidate,
) -> Result<(Point3<f64>, Point3<f64>, f64), LocateError> {
    let len = c.length_m();
    if !(0.03..=0.14).contains(&len) {
        return Err(LocateError::NotFound(format!(
            "the target finger's visible tubular part is {:.0} mm long (30–140 mm expected); the finger may be bent, cut off or merged with a neighbour",
            len * 1e3
        )));
    }
    let profile = radius_profile(surface, c);
    // The widening is only trusted on a finger seen most of the way round.
    let mut cov: Vec<f64> = profile
        .iter()
        .filter(|p| p.t_m >= 0.0 && p.t_m <= len)
        .map(|p| p.coverage_deg)
        .collect();
    cov.sort_by(|a, b| a.total_cmp(b));
    let median_cov = cov.get(cov.len() / 2).copied().unwrap_or(0.0);
    if median_cov < MIN_PROFILE_COVERAGE_DEG {
        return Err(LocateError::NotFound(format!(
            "the target finger's surface is seen over {median_cov:.0}° around its axis ({MIN_PROFILE_COVERAGE_DEG:.0}° needed to find its knuckle)"
        )));
    }
    let (t_pip, _) = pip_from_profile(&profile, len).ok_or_else(|| {
        LocateError::NotFound("no PIP knuckle stands out on the target finger".into())
    })?;
    let pip = centre_at(c, t_pip);
    let rest = len - t_pip;
    let mcp_pip = MCP_PIP_PER_DISTAL * rest;
    // Along the proximal piece's direction (the finger may bend at the PIP).
    let mcp = pip - c.direction * mcp_pip;
    // Proportions vary by ~10 % of the distal length between hands; the knuckle peak by ~1 mm.
    let sigma_proportion = (0.1 * mcp_pip).hypot(PIP_SIGMA_M);
    Ok((
        mcp,
        pip,
        sigma_proportion.hypot(base_conflict_m(t_pip, mcp_pip)),
    ))
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
    let surface = Surface::new(points, normals);
    let cands = find_fingers_on(&surface);
    let names = name_fingers(&cands)?;
    let k = match target.finger {
        Finger::Thumb => {
            return Err(LocateError::NotFound(
                "the thumb is not measured landmark-free".into(),
            ))
        }
        Finger::Index => 1,
        Finger::Middle => 2,
        Finger::Ring => 3,
        Finger::Little => 4,
    };
    let c = cands
        .get(names[k])
        .ok_or_else(|| LocateError::NotFound("finger index out of range".into()))?;
    let (mcp, pip, sigma_mcp) = joints_of(&surface, c)?;
    let est = |p: Point3<f64>, sigma_m: f64| JointEstimate {
        position: p,
        sigma_m,
        ray_residual_m: 0.0,
        views_used: 0,
        views_rejected: 0,
        depth_behind_skin_m: None,
    };
    let found = LocatedFinger {
        mcp: est(mcp, sigma_mcp),
        pip: est(pip, PIP_SIGMA_M),
        method: LocateMethod::Geometric,
    };
    check_plausible(&found)?;
    Ok(found)
}

#[cfg(test)]
mod base_conflict_tests {
    use super::*;

    #[test]
    fn agreeing_cues_add_nothing_and_a_short_fingertip_adds_the_gap() {
        // MCP placed 5 mm before the tube's base: consistent.
        assert_eq!(base_conflict_m(0.045, 0.050), 0.0);
        // Exactly at the allowed limit: consistent.
        assert!(base_conflict_m(0.046, 0.040) < 1e-12);
        // A short distal part put the MCP 12.8 mm inside a 20.2 mm proximal piece:
        // 0.63 share, 0.48 beyond the limit = 9.7 mm.
        let c = base_conflict_m(0.033, 0.0202);
        assert!((c - (0.033 - 0.0202 * 1.15)).abs() < 1e-12, "{c}");
        assert!(c > 0.009, "{c}");
    }
}

#[cfg(test)]
mod knuckle_tests {
    use super::*;

    /// A 80 mm finger profile on the 1 mm grid: a slow taper plus a knuckle bump (Gaussian,
    /// 3 mm wide, 0.8 mm high) centred at `centre_m`.
    fn profile(centre_m: f64) -> Vec<ProfileSample> {
        (0..=80)
            .map(|k| {
                let t = k as f64 * 0.001;
                let bump = 0.0008 * (-((t - centre_m) / 0.003).powi(2) / 2.0).exp();
                ProfileSample {
                    t_m: t,
                    radius_m: 0.010 - 0.02 * t + bump,
                    points: 50,
                    coverage_deg: 360.0,
                }
            })
            .collect()
    }

    #[test]
    fn knuckle_is_located_between_profile_samples() {
        let mut last = f64::NEG_INFINITY;
        for i in 0..=10 {
            let centre = 0.030 + i as f64 * 0.0001;
            let (t, prom) = pip_from_profile(&profile(centre), 0.080).expect("knuckle");
            assert!(prom > 0.0003, "prominence {prom}");
            assert!(
                (t - centre).abs() < 0.00015,
                "knuckle at {:.2} mm, placed at {:.2} mm",
                centre * 1e3,
                t * 1e3
            );
            // Moves with the knuckle, not in 1 mm jumps.
            assert!(t > last, "{t} after {last}");
            last = t;
        }
    }

    #[test]
    fn flat_profile_has_no_knuckle() {
        let flat: Vec<ProfileSample> = profile(0.030)
            .into_iter()
            .map(|p| ProfileSample {
                radius_m: 0.009,
                ..p
            })
            .collect();
        assert_eq!(pip_from_profile(&flat, 0.080), None);
    }

    #[test]
    fn peak_refinement_needs_a_downward_parabola() {
        let up: Vec<(f64, f64)> = (-3..=3)
            .map(|k| (k as f64 * 0.001, (k * k) as f64 * 1e-5))
            .collect();
        assert_eq!(refine_peak(&up, 0.0), None);
        let down: Vec<(f64, f64)> = (-3..=3)
            .map(|k| {
                let t = k as f64 * 0.001;
                (t, -(t - 0.0004).powi(2))
            })
            .collect();
        let v = refine_peak(&down, 0.0).unwrap();
        assert!((v - 0.0004).abs() < 1e-9, "{v}");
        assert_eq!(refine_peak(&down[..4], 0.0), None);
    }
}
