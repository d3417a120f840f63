//! Coverage of a fitted slice: which outward directions observations constrain, the widest
//! unobserved arc, and the arc of directions the cameras looked from.

use std::f64::consts::TAU;

use super::fit::Fit;
use super::gather::{Obs2, ObsKind};
use super::model::GRID;

/// The outward normal angle of an observation: a tangent's own, a surface sample's grid
/// angle `idx`.
fn obs_theta(o: &Obs2, idx: usize) -> f64 {
    match o.kind {
        ObsKind::Tangent { normal, .. } => normal.y.atan2(normal.x),
        ObsKind::Surface { .. } => idx as f64 * TAU / GRID as f64,
    }
}

/// Which of [`COVERAGE_BINS`] outward directions hold observations: at least 3 inlier
/// surface samples, or (with `lines`) one inlier silhouette tangent.
fn covered_bins(obs: &[Obs2], f: &Fit, lines: bool) -> [bool; COVERAGE_BINS] {
    let mut pts = [0usize; COVERAGE_BINS];
    let mut tan = [0usize; COVERAGE_BINS];
    for (i, o) in obs.iter().enumerate() {
        if f.weight[i] < 0.5 {
            continue;
        }
        let b = ((obs_theta(o, f.idx[i]).rem_euclid(TAU) / TAU * COVERAGE_BINS as f64) as usize)
            .min(COVERAGE_BINS - 1);
        if o.is_tangent() {
            tan[b] += 1;
        } else {
            pts[b] += 1;
        }
    }
    std::array::from_fn(|b| pts[b] >= 3 || (lines && tan[b] >= 1))
}

/// Directions bins of the coverage figures (5° each).
const COVERAGE_BINS: usize = 72;

/// Degrees of outward directions observed (see [`covered_bins`]).
pub(super) fn coverage(obs: &[Obs2], f: &Fit, lines: bool) -> f64 {
    let covered = covered_bins(obs, f, lines).iter().filter(|&&c| c).count();
    covered as f64 * 360.0 / COVERAGE_BINS as f64
}

/// The widest run of consecutive outward directions (degrees, wrapping around) that no
/// surface sample or tangent observed.
pub(super) fn largest_gap(obs: &[Obs2], f: &Fit) -> f64 {
    let c = covered_bins(obs, f, true);
    if !c.iter().any(|&v| v) {
        return 360.0;
    }
    let (mut best, mut run) = (0usize, 0usize);
    for i in 0..2 * COVERAGE_BINS {
        if c[i % COVERAGE_BINS] {
            run = 0;
        } else {
            run += 1;
            best = best.max(run);
        }
    }
    best.min(COVERAGE_BINS) as f64 * 360.0 / COVERAGE_BINS as f64
}

/// The arc of directions around the finger (degrees) that the contributing cameras looked
/// from: 360° minus the widest angle between neighbouring view directions in the slice
/// plane (0 with one camera position).
pub(super) fn view_span(obs: &[Obs2], f: &Fit) -> f64 {
    angular_span_deg(
        obs.iter()
            .zip(&f.weight)
            .filter(|(_, w)| **w >= 0.5)
            .map(|(o, _)| (-o.view.y).atan2(-o.view.x))
            .collect(),
    )
}

/// Degrees of the circle spanned by directions at `angles` (radians, any range): 360°
/// minus the widest empty arc between neighbouring directions; 0 with fewer than two.
pub(crate) fn angular_span_deg(mut angles: Vec<f64>) -> f64 {
    for a in angles.iter_mut() {
        *a = a.rem_euclid(TAU);
    }
    if angles.len() < 2 {
        return 0.0;
    }
    angles.sort_by(|x, y| x.total_cmp(y));
    let mut widest = TAU - (angles[angles.len() - 1] - angles[0]);
    for w in angles.windows(2) {
        widest = widest.max(w[1] - w[0]);
    }
    (TAU - widest).to_degrees()
}
