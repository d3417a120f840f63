//! A finger's surface radius profile along its axis and the PIP knuckle on it.

use nalgebra::{Matrix3, Point3, Vector3};

use super::candidates::{FingerCandidate, Surface};
use crate::numeric::{cross_basis, upper_median};

/// Where a finger's centre line is at `t` (metres from `base` along `direction`): the mean
/// of its axis points within ±4 mm, else the interpolation between the nearest ones either
/// side, else the straight axis.
pub(super) fn centre_at(c: &FingerCandidate, t: f64) -> Point3<f64> {
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
    let r_typ = upper_median(&mut rs).unwrap_or(0.008);
    let reach = 1.6 * r_typ;
    let mut out = vec![];
    let mut nb = Vec::new();
    let steps = (c.length_m() / 0.001).ceil() as i64 + 8;
    // Plane basis perpendicular to the axis, for the angular coverage.
    let helper = if c.direction.cross(&Vector3::x()).norm() > 0.1 {
        Vector3::x()
    } else {
        Vector3::y()
    };
    let (u, v) = cross_basis(&c.direction, &helper);
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
            let points = ds.len();
            out.push(ProfileSample {
                t_m: t,
                radius_m: upper_median(&mut ds).unwrap_or(0.0),
                points,
                coverage_deg: 30.0 * sectors.iter().filter(|&&s| s).count() as f64,
            });
        }
    }
    out
}

/// Least angular coverage (degrees) of a profile sample for the finger to count as seen
/// all the way round: eleven of the twelve 30° sectors, so one sector lost to noise does not
/// end the free finger.
const FREE_COVERAGE_DEG: f64 = 330.0;

/// Where the free finger starts: walking proximally from `from_m` along the radius profile,
/// the last sample of the unbroken run (1 mm steps, one missing step tolerated) seen all
/// the way round ([`FREE_COVERAGE_DEG`]). Proximally the finger's flanks turn into the skin
/// web between the fingers (or the palm), whose surface faces dorsally or palmarly and
/// leaves the sectors towards the neighbours empty. `None` when the sample at `from_m` is not
/// seen all the way round, or the run reaches the profile's proximal end (no start seen).
pub fn free_start(profile: &[ProfileSample], from_m: f64) -> Option<f64> {
    let mut run: Option<f64> = None;
    for p in profile.iter().rev().filter(|p| p.t_m <= from_m + 1e-9) {
        let adjacent = run.is_none_or(|t| t - p.t_m <= 0.0025);
        if p.coverage_deg >= FREE_COVERAGE_DEG && adjacent {
            run = Some(p.t_m);
        } else {
            return run;
        }
    }
    None
}

/// Angular sectors around the axis for [`mcp_knuckle`] (30° each).
const KNUCKLE_SECTORS: usize = 12;

/// The MCP knuckle: the head of the metacarpal raises the skin over the joint above the
/// proximal phalanx distally and the back of the hand proximally. Walking from the PIP
/// (`pip`) back along the proximal phalanx's direction `dir` (unit, proximal → distal) in
/// 1 mm steps, each of twelve 30° sectors around the axis keeps the median distance from
/// the axis of its outward-facing surface points (within 2.2x the finger's radius
/// `radius_m`); a sector's knuckle is a widening above both sides (the least of its rise
/// over the mean 5–10 mm proximally and over the mean 5–10 mm distally), and the most
/// prominent one with its peak between `lo_m` and `hi_m` behind the PIP is returned as
/// `(distance behind the PIP, prominence)` in metres, the position refined by a parabola
/// as in [`knuckle_between`]. A rise that goes on (the web, the palm's pad) has no
/// proximal side below it and is not a knuckle. `None` when no sector shows a widening of
/// at least 0.3 mm.
pub fn mcp_knuckle(
    surface: &Surface,
    pip: &Point3<f64>,
    dir: &Vector3<f64>,
    radius_m: f64,
    lo_m: f64,
    hi_m: f64,
) -> Option<(f64, f64)> {
    if !(lo_m.is_finite() && hi_m.is_finite() && radius_m > 0.0 && lo_m < hi_m) {
        return None;
    }
    let reach = 2.2 * radius_m;
    let helper = if dir.cross(&Vector3::x()).norm() > 0.1 {
        Vector3::x()
    } else {
        Vector3::y()
    };
    let (u, v) = cross_basis(dir, &helper);
    let first = (lo_m.max(0.0) / 0.001).floor() as i64 - 11;
    let last = (hi_m / 0.001).ceil() as i64 + 11;
    // Per step (distance behind the PIP) and sector: the median radius, if seen.
    let mut rows: Vec<(f64, [Option<f64>; KNUCKLE_SECTORS])> = vec![];
    let mut nb = Vec::new();
    for k in first.max(0)..=last {
        let s = k as f64 * 0.001;
        let centre = pip - dir * s;
        surface
            .grid
            .within(&surface.pts, &centre, reach.hypot(0.001), &mut nb);
        let mut by_sector: [Vec<f64>; KNUCKLE_SECTORS] = Default::default();
        for &i in &nb {
            let i = i as usize;
            if !surface.ok[i] {
                continue;
            }
            let d = surface.pts[i] - centre;
            let along = d.dot(dir);
            if along.abs() > 0.001 {
                continue;
            }
            let radial = d - dir * along;
            let r = radial.norm();
            if r < 1e-4 || r > reach || surface.nrm[i].dot(&(radial / r)) < 0.5 {
                continue;
            }
            let a = radial
                .dot(&v)
                .atan2(radial.dot(&u))
                .to_degrees()
                .rem_euclid(360.0);
            let b = ((a / (360.0 / KNUCKLE_SECTORS as f64)) as usize).min(KNUCKLE_SECTORS - 1);
            by_sector[b].push(r);
        }
        let medians =
            by_sector.map(|mut rs| (rs.len() >= 3).then(|| upper_median(&mut rs)).flatten());
        rows.push((s, medians));
    }
    let mean_in = |sector: usize, a: f64, b: f64| {
        let v: Vec<f64> = rows
            .iter()
            .filter(|(s, _)| *s >= a - 1e-9 && *s <= b + 1e-9)
            .filter_map(|(_, m)| m[sector])
            .collect();
        (v.len() >= 2).then(|| v.iter().sum::<f64>() / v.len() as f64)
    };
    let prominence = |sector: usize, s: f64| {
        let here = mean_in(sector, s - 0.0015, s + 0.0015)?;
        let distal = mean_in(sector, s - 0.010, s - 0.005)?;
        let proximal = mean_in(sector, s + 0.005, s + 0.010)?;
        Some((here - distal).min(here - proximal))
    };
    let mut best: Option<(usize, f64, f64)> = None;
    for sector in 0..KNUCKLE_SECTORS {
        let curve: Vec<(f64, f64)> = rows
            .iter()
            .map(|(s, _)| *s)
            .filter(|&s| s >= lo_m && s <= hi_m)
            .filter_map(|s| Some((s, prominence(sector, s)?)))
            .collect();
        for &(s, p) in &curve {
            if best.is_none_or(|b| p > b.2) {
                best = Some((sector, s, p));
            }
        }
    }
    let (sector, s0, prom) = best.filter(|b| b.2 >= MIN_MCP_KNUCKLE_M)?;
    // The crest itself: the sector's highest radius near the most prominent place (the
    // prominence's own peak leans towards the side that falls away more).
    let top = rows
        .iter()
        .filter(|(s, _)| (s - s0).abs() <= PEAK_FIT_HALF_M + 1e-9)
        .filter_map(|(s, m)| Some((*s, m[sector]?)))
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map_or(s0, |t| t.0);
    let window: Vec<(f64, f64)> = rows
        .iter()
        .filter(|(s, _)| (s - top).abs() <= PEAK_FIT_HALF_M + 1e-9)
        .filter_map(|(s, m)| Some((*s, m[sector]?)))
        .collect();
    Some((refine_peak(&window, top).unwrap_or(top), prom))
}

/// Least prominence (metres) of a sector's widening for [`mcp_knuckle`].
const MIN_MCP_KNUCKLE_M: f64 = 0.0003;

/// Half-width of the window (metres) over which the knuckle's prominence curve is fitted
/// with a parabola around its highest sample.
const PEAK_FIT_HALF_M: f64 = 0.003;

/// The PIP knuckle on a finger's surface radius profile ([`radius_profile`]): the most
/// prominent local widening between 20 % and 65 % of the tubular part (the DIP, at ~80 %,
/// and the palm, at the base, are outside); see [`knuckle_between`]. Returns `(t,
/// prominence)` in metres, or `None` when no widening of at least 0.15 mm stands out.
pub fn pip_from_profile(profile: &[ProfileSample], length_m: f64) -> Option<(f64, f64)> {
    knuckle_between(profile, 0.2 * length_m, 0.65 * length_m)
}

/// The most prominent local widening of a radius profile (radius above the mean of the
/// profile 6–12 mm either side) with its peak between `lo_m` and `hi_m` along the axis. The
/// position is the vertex of a least-squares parabola through the prominence curve within
/// ±3 mm of its highest sample (kept within that window), not the highest 1 mm sample
/// itself: a pick on the 1 mm grid jumps by a whole step when noise tips two near-equal
/// samples, and the ring point moves by 1.5 times that. Returns `(t, prominence)` in
/// metres, or `None` when no widening of at least 0.15 mm stands out.
pub fn knuckle_between(profile: &[ProfileSample], lo_m: f64, hi_m: f64) -> Option<(f64, f64)> {
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
        .filter(|&t| t >= lo_m && t <= hi_m)
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

    /// Samples every 1 mm from −8 to 60 mm, seen all the way round from `free_m` on and
    /// over 180° before it.
    fn coverage_profile(free_m: f64) -> Vec<ProfileSample> {
        (-8..=60)
            .map(|k| {
                let t = k as f64 * 0.001;
                ProfileSample {
                    t_m: t,
                    radius_m: 0.009,
                    points: 50,
                    coverage_deg: if t >= free_m - 1e-9 { 360.0 } else { 180.0 },
                }
            })
            .collect()
    }

    #[test]
    fn the_free_finger_starts_where_the_full_coverage_ends() {
        let p = coverage_profile(0.015);
        assert_eq!(free_start(&p, 0.040), Some(0.015));
        // One missing sample does not end the run; two do.
        let gap1: Vec<ProfileSample> = p
            .iter()
            .copied()
            .filter(|s| (s.t_m - 0.030).abs() > 1e-6)
            .collect();
        assert_eq!(free_start(&gap1, 0.040), Some(0.015));
        let gap2: Vec<ProfileSample> = p
            .iter()
            .copied()
            .filter(|s| (s.t_m - 0.0295).abs() > 0.001)
            .collect();
        assert!(free_start(&gap2, 0.040).is_some_and(|t| t > 0.029));
        // Not seen all the way round where the search starts, or never ending: no start.
        assert_eq!(free_start(&p, 0.010), None);
        assert_eq!(free_start(&coverage_profile(-0.1), 0.040), None);
    }

    /// A finger surface along −x from a PIP at the origin (radius 8 mm, points every
    /// 0.5 mm and 5°, radial normals), its radius raised on the +z side by `raise(s, cos θ)`
    /// at `s` metres behind the PIP.
    fn finger_surface(raise: impl Fn(f64, f64) -> f64) -> Surface {
        let (mut pts, mut nrm) = (vec![], vec![]);
        for k in 0..=140 {
            let s = k as f64 * 0.0005;
            for a in 0..72 {
                let th = (a as f64 * 5.0).to_radians();
                let n = Vector3::new(0.0, th.sin(), th.cos());
                let r = 0.008 + raise(s, th.cos());
                let p = Point3::new(-s, 0.0, 0.0) + n * r;
                pts.push(p.cast::<f32>());
                nrm.push(n.cast::<f32>());
            }
        }
        Surface::new(&pts, &nrm)
    }

    #[test]
    fn the_mcp_knuckle_is_the_dorsal_crest() {
        let bump = |s: f64, c: f64| {
            0.002 * (-((s - 0.045) / 0.003).powi(2) / 2.0).exp() * c.max(0.0).powi(2)
        };
        let surface = finger_surface(bump);
        let (s, prom) = knuckle_in(&surface, 0.035, 0.055).expect("knuckle");
        assert!((s - 0.045).abs() < 0.0005, "crest at {:.2} mm", s * 1e3);
        assert!(prom > 0.001, "prominence {prom}");
        // Outside the window it is not looked for.
        assert_eq!(knuckle_in(&surface, 0.010, 0.030), None);
    }

    /// [`mcp_knuckle`] behind a PIP at the origin, along +x, for a finger of radius 8 mm.
    fn knuckle_in(surface: &Surface, lo_m: f64, hi_m: f64) -> Option<(f64, f64)> {
        mcp_knuckle(surface, &Point3::origin(), &Vector3::x(), 0.008, lo_m, hi_m)
    }

    #[test]
    fn a_rise_that_goes_on_is_no_knuckle() {
        // The palm's pad: the surface rises 2 mm from 45 mm behind the PIP and stays up.
        let step =
            |s: f64, c: f64| 0.002 / (1.0 + (-(s - 0.045) / 0.001).exp()) * c.max(0.0).powi(2);
        let surface = finger_surface(step);
        assert_eq!(knuckle_in(&surface, 0.035, 0.055), None);
        // Nor is a plain tube, nor a degenerate window.
        let plain = finger_surface(|_, _| 0.0);
        assert_eq!(knuckle_in(&plain, 0.035, 0.055), None);
        assert_eq!(knuckle_in(&plain, 0.055, 0.035), None);
        assert_eq!(knuckle_in(&plain, f64::NAN, 0.035), None);
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
