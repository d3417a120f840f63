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
//! 4. **Joints** ([`joints_of`]): the PIP is the knuckle, a prominent widening of the
//!    finger's surface radius profile ([`radius_profile`], [`pip_from_profile`]), when it
//!    lies where the proportion from the fingertip expects it ([`DISTAL_PER_RADIUS`]);
//!    otherwise the proportion itself, with its spread as the PIP's uncertainty. The MCP
//!    lies back along the axis by a share of the PIP→fingertip length
//!    ([`MCP_PIP_PER_DISTAL`]), whose spread between hands and the PIP's uncertainty set
//!    the MCP's. A second MCP cue, independent of the phalanx proportions, is where the
//!    free finger starts ([`free_start`]: proximally the flanks turn into the skin web),
//!    which lies a share of MCP→PIP beyond the MCP ([`WEB_SHARE`]); when the two agree they
//!    are combined by their uncertainties. The section fit then re-aims the axis and
//!    centres the slice.
//!
//! Guarantees: never panics; returns [`LocateError::NotFound`] with the reason when the
//! hand does not show five separable fingers, the naming cues disagree, or the target's
//! surface is seen from one side only. The hand side of the target is not needed: the thumb sets
//! the order, mirrored hands included.

mod candidates;
mod profile;

#[cfg(any(test, feature = "internals"))]
pub use candidates::find_fingers;
pub use candidates::{find_fingers_on, FingerCandidate, Surface};
#[cfg(feature = "internals")]
pub use profile::ProfileSample;
pub use profile::{free_start, knuckle_between, mcp_knuckle, pip_from_profile, radius_profile};

use super::{check_plausible, JointEstimate, LocateError, LocateMethod, LocatedFinger};
use crate::hand::{Finger, Target};
use crate::numeric::upper_median;
use nalgebra::{Matrix3, Point3, SymmetricEigen, Vector3};
use profile::{centre_at, ProfileSample as Sample};

/// Median tubular radius of a candidate (metres).
fn median_radius(c: &FingerCandidate) -> f64 {
    let mut rs: Vec<f64> = c.profile.iter().map(|p| p.1).collect();
    upper_median(&mut rs).unwrap_or(0.0)
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

/// MCP→PIP distance as a share of the PIP→end-of-tubular-part distance (about the middle
/// plus distal phalanx); its spread between hands goes into the MCP's uncertainty. See
/// docs/tuning.md#locate.
pub const MCP_PIP_PER_DISTAL: f64 = 0.95;

/// Least distance from the MCP to the tubular part's base (where the free finger starts), as
/// a share of MCP→PIP; negative: the tube may reach that far into the palm before the MCP
/// (a spread finger). See docs/tuning.md#locate.
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

/// Where the free finger starts ([`free_start`]: the web between the fingers) beyond the
/// MCP, as a share of MCP→PIP; its spread between hands ([`WEB_SHARE_SPREAD`]) goes into
/// the MCP's uncertainty from this cue. See docs/tuning.md#locate.
const WEB_SHARE: f64 = 0.37;

/// 1-sigma spread of [`WEB_SHARE`] between hands. See docs/tuning.md#locate.
const WEB_SHARE_SPREAD: f64 = 0.09;

/// 1-sigma of the free finger's start on the radius profile (metres): the profile's step.
const FREE_START_SIGMA_M: f64 = 0.001;

/// The MCP along the candidate from where the free finger starts (`t_free_m`) and the PIP:
/// the start lies [`WEB_SHARE`] of MCP→PIP beyond the MCP. Returns `(t, 1-sigma)` in
/// metres; the sigma is the share's spread over `mcp_pip_m` and the start's own
/// uncertainty, carried through the relation (a PIP error moves this MCP the other way by
/// a fraction of it, so leaving it out keeps the ring point's sigma on the safe side).
///
/// `mcp_pip_m` is the MCP→PIP length of the estimate this one is tested against (the
/// proportion's), not the length this cue implies: a hand without webs starts its free
/// finger at the MCP, which puts this MCP over half of MCP→PIP too far back, and scaling
/// the spread with that inflated length would widen the sigma enough to let the wrong
/// place pass [`combine_if_consistent`].
fn mcp_from_web(t_free_m: f64, t_pip_m: f64, mcp_pip_m: f64) -> (f64, f64) {
    let keep = 1.0 - WEB_SHARE;
    (
        (t_free_m - WEB_SHARE * t_pip_m) / keep,
        (WEB_SHARE_SPREAD * mcp_pip_m).hypot(FREE_START_SIGMA_M) / keep,
    )
}

/// The direction of the proximal phalanx: the least-squares line through the candidate's
/// axis points from `from_m` to `to_m` along it (metres from its base), oriented like the
/// candidate. A finger slightly flexed at its PIP or DIP (under the chaining's bend angle)
/// tilts the whole tube's direction away from the proximal phalanx, which places the MCP
/// off to the side by that angle times MCP→PIP. `None` when the axis points there span
/// less than [`MIN_PROXIMAL_SPAN_M`], or the line departs from the candidate's direction
/// by more than [`MAX_PROXIMAL_TURN_DEG`].
pub fn proximal_direction(c: &FingerCandidate, from_m: f64, to_m: f64) -> Option<Vector3<f64>> {
    let pts: Vec<&Point3<f64>> = c
        .axis_points
        .iter()
        .filter(|p| {
            let t = (*p - c.base).dot(&c.direction);
            t >= from_m && t <= to_m
        })
        .collect();
    if pts.len() < 6 {
        return None;
    }
    let mean = pts.iter().fold(Vector3::zeros(), |s, p| s + p.coords) / pts.len() as f64;
    let mut m = Matrix3::zeros();
    for p in &pts {
        let d = p.coords - mean;
        m += d * d.transpose();
    }
    let e = SymmetricEigen::new(m);
    let mut d: Vector3<f64> = e.eigenvectors.column(e.eigenvalues.imax()).into_owned();
    if d.dot(&c.direction) < 0.0 {
        d = -d;
    }
    let ts = pts.iter().map(|p| (p.coords - mean).dot(&d));
    let span = ts.clone().fold(f64::NEG_INFINITY, f64::max) - ts.fold(f64::INFINITY, f64::min);
    (span >= MIN_PROXIMAL_SPAN_M && angle_deg(&d, &c.direction) <= MAX_PROXIMAL_TURN_DEG)
        .then_some(d)
}

/// 1-sigma of the MCP placed at the MCP knuckle's crest ([`mcp_knuckle`]), metres. See
/// docs/tuning.md#locate.
const MCP_KNUCKLE_SIGMA_M: f64 = 0.003;

/// Least span of axis points (metres) for [`proximal_direction`].
const MIN_PROXIMAL_SPAN_M: f64 = 0.012;

/// Largest turn (degrees) of the proximal phalanx's direction from the candidate's for
/// [`proximal_direction`]: beyond it the chaining would have split the finger at a bend.
const MAX_PROXIMAL_TURN_DEG: f64 = 20.0;

/// Inverse-variance combination of two `(t, 1-sigma)` estimates when they agree within two
/// sigmas of their difference; `None` otherwise, and the caller keeps the first (the web
/// cue only refines the proportion's MCP, it does not overrule it).
fn combine_if_consistent(a: (f64, f64), b: (f64, f64)) -> Option<(f64, f64)> {
    let spread = a.1.hypot(b.1);
    // Written so that a NaN anywhere is no agreement.
    let agree = (a.0 - b.0).abs() <= 2.0 * spread && a.1 > 0.0 && b.1 > 0.0;
    if !agree {
        return None;
    }
    let (wa, wb) = (a.1.powi(-2), b.1.powi(-2));
    Some(((wa * a.0 + wb * b.0) / (wa + wb), (wa + wb).sqrt().recip()))
}

/// How far before the PIP (metres) the search for the free finger's start begins: clear of
/// the knuckle, on the proximal phalanx.
const WEB_SEARCH_FROM_PIP_M: f64 = 0.005;

/// PIP→end-of-tubular-part distance per median tubular radius, index to little finger
/// (middle plus distal phalanx over the finger's thickness). See docs/tuning.md#locate.
pub const DISTAL_PER_RADIUS: [f64; 4] = [4.7, 5.5, 5.4, 4.5];

/// 1-sigma spread of [`DISTAL_PER_RADIUS`] between hands, as a share of the distance.
/// See docs/tuning.md#locate.
const DISTAL_SPREAD: f64 = 0.2;

/// Least prominence (metres) of a radius-profile widening for it to be taken as the PIP
/// knuckle with [`PIP_SIGMA_M`]; weaker ones (a hand without knuckle widening, a
/// palm edge) do not override the proportion. See docs/tuning.md#locate.
const STRONG_KNUCKLE_M: f64 = 0.0004;

/// Where the PIP is expected from the fingertip by proportion: `(t, 1-sigma)` in metres
/// along the candidate, [`DISTAL_PER_RADIUS`] times the median tubular radius back from the
/// tube's end.
fn pip_by_proportion(c: &FingerCandidate, finger: Finger) -> (f64, f64) {
    let k = match finger {
        Finger::Index | Finger::Thumb => DISTAL_PER_RADIUS[0],
        Finger::Middle => DISTAL_PER_RADIUS[1],
        Finger::Ring => DISTAL_PER_RADIUS[2],
        Finger::Little => DISTAL_PER_RADIUS[3],
    };
    let d = k * median_radius(c);
    (c.length_m() - d, DISTAL_SPREAD * d)
}

/// The PIP along the candidate, `(t, 1-sigma)` in metres, from two cues: the knuckle on the
/// radius profile and the proportion from the fingertip ([`pip_by_proportion`]). A
/// prominent knuckle ([`STRONG_KNUCKLE_M`]) within two sigmas of the proportion is taken
/// with [`PIP_SIGMA_M`] (the widest between 20 % and 65 % of the tube first, else the
/// widest in that window); otherwise the proportion stands, with its own
/// sigma: no widening is trusted where the proportions put no knuckle, and a knuckle-less
/// finger is still located, with the uncertainty that makes it ask for a rescan rather than
/// report a confident size.
fn pip_along(profile: &[Sample], c: &FingerCandidate, finger: Finger) -> (f64, f64) {
    let len = c.length_m();
    let (t_prop, sigma_prop) = pip_by_proportion(c, finger);
    let (lo, hi) = (t_prop - 2.0 * sigma_prop, t_prop + 2.0 * sigma_prop);
    let strong_inside = |k: Option<(f64, f64)>| {
        k.filter(|&(t, prom)| prom >= STRONG_KNUCKLE_M && (lo..=hi).contains(&t))
    };
    strong_inside(pip_from_profile(profile, len))
        .or_else(|| strong_inside(knuckle_between(profile, lo.max(0.0), hi.min(len))))
        .map_or((t_prop, sigma_prop.max(PIP_SIGMA_M)), |(t, _)| {
            (t, PIP_SIGMA_M)
        })
}

/// The MCP is placed from the PIP: a PIP error e moves it by (1 + [`MCP_PIP_PER_DISTAL`]) e
/// and the ring point by half of (2 + [`MCP_PIP_PER_DISTAL`]) e; the measurement takes the
/// ring point's uncertainty as half the two joints' sigmas combined as if independent, so
/// the MCP's sigma carries this factor times the PIP's extra uncertainty beyond
/// [`PIP_SIGMA_M`] to make that come out right.
fn mcp_carry() -> f64 {
    ((2.0 + MCP_PIP_PER_DISTAL).powi(2) - 1.0).sqrt()
}

/// Places MCP and PIP on a finger candidate; returns them with the MCP's and the PIP's
/// 1-sigma position uncertainty (metres). The PIP comes from [`pip_along`]; the MCP lies
/// [`MCP_PIP_PER_DISTAL`] times the PIP→fingertip distance back along the axis (phalanx
/// proportions), with the proportions' spread, the PIP's uncertainty carried over
/// ([`mcp_carry`]) and any disagreement with the tubular part's base ([`base_conflict_m`])
/// as its uncertainty. Where the profile shows the free finger's start ([`free_start`],
/// searched from [`WEB_SEARCH_FROM_PIP_M`] before the PIP), the MCP placed from it
/// ([`mcp_from_web`]) is combined with the proportion's when they agree
/// ([`combine_if_consistent`]); a hand without webs, whose free finger starts at the MCP,
/// mostly puts that cue too far from the proportion's to be combined.
pub fn joints_of(
    surface: &Surface,
    c: &FingerCandidate,
    finger: Finger,
) -> Result<(Point3<f64>, Point3<f64>, f64, f64), LocateError> {
    joint_cues(surface, c, finger).map(|j| (j.mcp, j.pip, j.sigma_mcp_m, j.sigma_pip_m))
}

/// What [`joints_of`] places, with the MCP's two cues apart (for tests and diagnostics).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct JointCues {
    /// The MCP [`joints_of`] returns.
    pub mcp: Point3<f64>,
    /// The PIP [`joints_of`] returns.
    pub pip: Point3<f64>,
    /// The MCP's 1-sigma position uncertainty, metres.
    pub sigma_mcp_m: f64,
    /// The PIP's 1-sigma position uncertainty, metres.
    pub sigma_pip_m: f64,
    /// The MCP by phalanx proportion alone: distance from the candidate's base along its
    /// direction and 1-sigma, metres.
    pub mcp_by_proportion_m: (f64, f64),
    /// Where the free finger starts ([`free_start`]), metres from the candidate's base;
    /// `None` when the profile does not show it.
    pub free_start_m: Option<f64>,
    /// Whether the MCP from the free finger's start was combined with the proportion's.
    pub web_combined: bool,
    /// The MCP knuckle ([`mcp_knuckle`]), metres from the candidate's base; `None` when the
    /// surface shows none where the other cues expect the MCP.
    pub mcp_knuckle_m: Option<f64>,
    /// The proximal phalanx's direction ([`proximal_direction`]) the MCP was placed along;
    /// `None` when the candidate's own direction was used.
    pub proximal_direction: Option<Vector3<f64>>,
}

/// [`joints_of`] with its cues: see there.
pub fn joint_cues(
    surface: &Surface,
    c: &FingerCandidate,
    finger: Finger,
) -> Result<JointCues, LocateError> {
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
    let median_cov = upper_median(&mut cov).unwrap_or(0.0);
    if median_cov < MIN_PROFILE_COVERAGE_DEG {
        return Err(LocateError::NotFound(format!(
            "the target finger's surface is seen over {median_cov:.0}° around its axis ({MIN_PROFILE_COVERAGE_DEG:.0}° needed to find its knuckle)"
        )));
    }
    let (t_pip, sigma_pip) = pip_along(&profile, c, finger);
    if !(t_pip > 0.0 && t_pip < len) {
        return Err(LocateError::NotFound(format!(
            "the target finger's tubular part ({:.0} mm) is too short for its PIP by proportion",
            len * 1e3
        )));
    }
    let pip = centre_at(c, t_pip);
    let rest = len - t_pip;
    let mcp_pip = MCP_PIP_PER_DISTAL * rest;
    // Proportions vary by ~10 % of the distal length between hands; the knuckle peak by ~1 mm.
    let sigma_proportion = (0.1 * mcp_pip).hypot(PIP_SIGMA_M);
    let carried = mcp_carry() * (sigma_pip.powi(2) - PIP_SIGMA_M.powi(2)).max(0.0).sqrt();
    let by_proportion = (
        t_pip - mcp_pip,
        sigma_proportion
            .hypot(carried)
            .hypot(base_conflict_m(t_pip, mcp_pip)),
    );
    let free = free_start(&profile, t_pip - WEB_SEARCH_FROM_PIP_M)
        .filter(|&t| t < t_pip - WEB_SEARCH_FROM_PIP_M);
    let combined = free.and_then(|t_free| {
        combine_if_consistent(by_proportion, mcp_from_web(t_free, t_pip, mcp_pip))
    });
    let (t_mcp, sigma_mcp) = combined.unwrap_or(by_proportion);
    // The proximal phalanx's own direction, from its axis points clear of the PIP knuckle.
    let proximal = proximal_direction(c, t_mcp, t_pip - WEB_SEARCH_FROM_PIP_M);
    let dir = proximal.unwrap_or(c.direction);
    // The MCP knuckle where the cues so far expect the MCP, searched along that direction.
    let behind = t_pip - t_mcp;
    let knuckle = mcp_knuckle(
        surface,
        &pip,
        &dir,
        median_radius(c),
        behind - 2.0 * sigma_mcp,
        behind + 2.0 * sigma_mcp,
    )
    .map(|(s, _)| t_pip - s);
    let (t_mcp, sigma_mcp) = knuckle
        .and_then(|t_k| combine_if_consistent((t_mcp, sigma_mcp), (t_k, MCP_KNUCKLE_SIGMA_M)))
        .unwrap_or((t_mcp, sigma_mcp));
    Ok(JointCues {
        mcp: pip - dir * (t_pip - t_mcp),
        pip,
        sigma_mcp_m: sigma_mcp,
        sigma_pip_m: sigma_pip,
        mcp_by_proportion_m: by_proportion,
        free_start_m: free,
        web_combined: combined.is_some(),
        mcp_knuckle_m: knuckle,
        proximal_direction: proximal,
    })
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
    let (mcp, pip, sigma_mcp, sigma_pip) = joints_of(&surface, c, target.finger)?;
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
        pip: est(pip, sigma_pip),
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
mod pip_cue_tests {
    use super::*;

    /// A straight 80 mm ring-finger candidate of 8 mm tubular radius along x.
    fn candidate() -> FingerCandidate {
        FingerCandidate {
            direction: Vector3::x(),
            base: Point3::origin(),
            end: Point3::new(0.080, 0.0, 0.0),
            profile: (0..=80).map(|k| (k as f64 * 0.001, 0.008)).collect(),
            axis_points: (0..=80)
                .map(|k| Point3::new(k as f64 * 0.001, 0.0, 0.0))
                .collect(),
            bend: None,
        }
    }

    /// Radius profile with a slow taper and, if `knuckle` is given, a Gaussian widening
    /// (3 mm wide) of that height at that position (metres).
    fn profile(knuckle: Option<(f64, f64)>) -> Vec<Sample> {
        (0..=80)
            .map(|k| {
                let t = k as f64 * 0.001;
                let bump =
                    knuckle.map_or(0.0, |(c, h)| h * (-((t - c) / 0.003).powi(2) / 2.0).exp());
                Sample {
                    t_m: t,
                    radius_m: 0.009 - 0.01 * t + bump,
                    points: 50,
                    coverage_deg: 360.0,
                }
            })
            .collect()
    }

    #[test]
    fn knuckle_near_the_proportion_is_taken_with_the_knuckle_sigma() {
        let c = candidate();
        let (t_prop, _) = pip_by_proportion(&c, Finger::Ring);
        let at = t_prop + 0.004;
        let (t, s) = pip_along(&profile(Some((at, 0.0008))), &c, Finger::Ring);
        assert!((t - at).abs() < 0.0005, "{t} vs {at}");
        assert_eq!(s, PIP_SIGMA_M);
    }

    #[test]
    fn missing_weak_or_misplaced_knuckle_leaves_the_proportion_and_its_spread() {
        let c = candidate();
        let (t_prop, s_prop) = pip_by_proportion(&c, Finger::Ring);
        assert!(s_prop > 3.0 * PIP_SIGMA_M, "{s_prop}");
        for knuckle in [
            None,
            // Too weak to be a knuckle.
            Some((t_prop, 0.0002)),
            // Prominent, but where the proportions put no PIP.
            Some((t_prop - 2.5 * s_prop, 0.0015)),
        ] {
            let (t, s) = pip_along(&profile(knuckle), &c, Finger::Ring);
            assert_eq!((t, s), (t_prop, s_prop), "{knuckle:?}");
        }
    }

    #[test]
    fn an_uncertain_pip_makes_the_ring_point_uncertain_by_its_lever() {
        // Ring point = PIP − MCP_PIP_PER_DISTAL/2 · (end − PIP): a PIP error e moves it by
        // (1 + MCP_PIP_PER_DISTAL/2) e; half the joints' combined sigma must say the same.
        let extra = 0.005_f64;
        let sigma_mcp = mcp_carry() * extra;
        let ring = 0.5 * sigma_mcp.hypot(extra);
        assert!((ring - (1.0 + MCP_PIP_PER_DISTAL / 2.0) * extra).abs() < 1e-12);
    }
}

#[cfg(test)]
mod proximal_direction_tests {
    use super::*;

    /// An 80 mm candidate along x whose axis points run `deg` degrees off x (in the x–z
    /// plane) up to 40 mm and along x beyond (a finger flexed at its PIP).
    fn bent(deg: f64) -> FingerCandidate {
        let d = Vector3::new(deg.to_radians().cos(), 0.0, deg.to_radians().sin());
        let axis_points: Vec<Point3<f64>> = (0..=80)
            .map(|k| {
                let t = k as f64 * 0.001;
                if t <= 0.040 {
                    Point3::from(d * t)
                } else {
                    Point3::from(d * 0.040) + Vector3::x() * (t - 0.040)
                }
            })
            .collect();
        FingerCandidate {
            direction: Vector3::x(),
            base: Point3::origin(),
            end: Point3::new(0.080, 0.0, 0.0),
            profile: (0..=80).map(|k| (k as f64 * 0.001, 0.008)).collect(),
            axis_points,
            bend: None,
        }
    }

    #[test]
    fn the_proximal_phalanx_sets_the_direction() {
        let d = proximal_direction(&bent(7.0), 0.0, 0.035).expect("direction");
        assert!((angle_deg(&d, &Vector3::x()) - 7.0).abs() < 0.1, "{d:?}");
        assert!(d.z > 0.0 && d.x > 0.0);
    }

    #[test]
    fn too_short_or_too_turned_a_piece_gives_none() {
        assert_eq!(proximal_direction(&bent(7.0), 0.0, 0.008), None);
        assert_eq!(proximal_direction(&bent(30.0), 0.0, 0.035), None);
    }
}

#[cfg(test)]
mod web_cue_tests {
    use super::*;

    #[test]
    fn the_web_places_the_mcp_by_its_share_of_mcp_pip() {
        // MCP at 0, PIP at 40 mm: the free finger starts WEB_SHARE of the way.
        let (t, s) = mcp_from_web(WEB_SHARE * 0.040, 0.040, 0.040);
        assert!(t.abs() < 1e-12, "{t}");
        let expected = (WEB_SHARE_SPREAD * 0.040).hypot(FREE_START_SIGMA_M) / (1.0 - WEB_SHARE);
        assert!((s - expected).abs() < 1e-12, "{s} vs {expected}");
    }

    #[test]
    fn agreeing_cues_are_weighted_and_disagreeing_ones_leave_the_first() {
        let (t, s) = combine_if_consistent((0.010, 0.004), (0.004, 0.003)).unwrap();
        // Weights 1/16 and 1/9.
        assert!((t - (0.010 / 16.0 + 0.004 / 9.0) / (1.0 / 16.0 + 1.0 / 9.0)).abs() < 1e-12);
        assert!(s < 0.003 && s > 0.0, "{s}");
        // 20 mm apart, 2 sigma of the difference is 10 mm.
        assert_eq!(combine_if_consistent((0.010, 0.004), (-0.010, 0.003)), None);
        // A degenerate sigma or a NaN is not combined.
        assert_eq!(combine_if_consistent((0.010, 0.004), (0.010, 0.0)), None);
        assert_eq!(
            combine_if_consistent((0.010, 0.004), (f64::NAN, 0.003)),
            None
        );
    }

    /// A hand without webs starts its free finger at its MCP (give or take a few mm), a
    /// webbed one about a third of MCP→PIP beyond it. Against a proportion's MCP in the
    /// right place, with the sigma `joints_of` gives it, only the second is combined.
    #[test]
    fn a_free_finger_starting_at_the_mcp_is_not_taken_for_a_web() {
        let mcp_pip: f64 = 0.040;
        let by_proportion = (0.0, (0.1 * mcp_pip).hypot(PIP_SIGMA_M));
        for share in [-0.1, 0.0, 0.1] {
            let web = mcp_from_web(share * mcp_pip, mcp_pip, mcp_pip);
            assert_eq!(
                combine_if_consistent(by_proportion, web),
                None,
                "web-less, free finger from {share} of MCP→PIP: {web:?}"
            );
        }
        for share in [0.25, WEB_SHARE, 0.49] {
            let web = mcp_from_web(share * mcp_pip, mcp_pip, mcp_pip);
            let (t, s) = combine_if_consistent(by_proportion, web)
                .unwrap_or_else(|| panic!("web at {share} of MCP→PIP not combined: {web:?}"));
            assert!(
                t.abs() <= web.0.abs() && s < by_proportion.1,
                "{share}: {t} {s}"
            );
        }
    }
}
