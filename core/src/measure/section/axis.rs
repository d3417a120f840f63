//! Re-aiming the finger axis through the centres of slices between the ring position and
//! PIP, combined with the given axis by their direction uncertainties.

use nalgebra::{Unit, Vector3};
use rayon::prelude::*;

use super::gather::Plane;
use super::measurer::SectionMeasurer;
use super::model::ParamLayout;
use super::types::RefinedAxis;
use crate::numeric::weighted_line;

/// Passes of [`SectionMeasurer::refine_axis`] (the second at the first's direction).
pub(crate) const AXIS_PASSES: usize = 2;

impl SectionMeasurer {
    /// Angle between `direction` and the given axis, degrees.
    pub(super) fn correction_deg(&self, direction: &Unit<Vector3<f64>>) -> f64 {
        direction
            .dot(&self.axis.direction())
            .clamp(-1.0, 1.0)
            .acos()
            .to_degrees()
    }

    /// Re-aims the axis: a continuous, uncertainty-weighted combination of the given axis's
    /// direction (prior 1-sigma [`SectionMeasurer::with_axis_sigma_rad`], per tilt
    /// component) and the direction of the line through the centres (Steiner points) of five
    /// slices from the ring position towards PIP (two passes, the second at the first's
    /// direction). Proximal slices are not used: within a few millimetres of the ring
    /// position some hands reach the web between the fingers, whose section centre is pulled
    /// towards the palm (a bias of the line, not noise). The line is a weighted least-squares
    /// fit per in-plane component with each centre's posterior variance (plus
    /// [`SectionConfig::axis_centre_floor_m`]), its slope variance scaled up by the reduced
    /// χ² when the centres scatter more than their sigmas say. No threshold: a correction is
    /// never accepted or refused whole. With fewer than two slices the given axis is kept.
    pub fn refine_axis(&self) -> RefinedAxis {
        let keep = self.given_axis();
        let mut ax = keep;
        for _ in 0..AXIS_PASSES {
            match self.refine_axis_pass(&ax) {
                Some(a) => ax = a,
                None => return keep,
            }
        }
        ax
    }

    /// The given axis as a [`RefinedAxis`] (no correction, the prior's sigma).
    pub(crate) fn given_axis(&self) -> RefinedAxis {
        RefinedAxis {
            ring_point: self.axis.midpoint(),
            direction: self.axis.direction(),
            correction_deg: 0.0,
            direction_sigma_rad: self.axis_sigma_rad,
        }
    }

    /// One pass of [`SectionMeasurer::refine_axis`] from the axis `from` (the given one, or
    /// the previous pass's); `None` when the pass keeps the given axis (fewer than two
    /// slices fitted, or a degenerate line).
    pub(crate) fn refine_axis_pass(&self, from: &RefinedAxis) -> Option<RefinedAxis> {
        let d0 = self.axis.direction();
        let mid = self.axis.midpoint();
        let prior_var = self.axis_sigma_rad.powi(2);
        let span = (0.3 * self.axis.length_m()).clamp(0.004, 0.008);
        let floor_var = self.cfg.axis_centre_floor_m.powi(2);
        let (point, dir) = (from.ring_point, from.direction);
        // (t, x, y, var x, var y) per slice, in the current direction's plane basis (the
        // same for every slice: it depends on the direction only). The five slices are
        // independent: fitted in parallel, kept in order.
        let plane = Plane::new(point, dir.into_inner());
        let rows: Vec<[f64; 5]> = (0..=4)
            .into_par_iter()
            .map(|j| {
                let t = span * j as f64 / 4.0;
                let s = self
                    .slice(
                        &(point + dir.into_inner() * t),
                        &dir,
                        t,
                        false,
                        &self.ring_cfg,
                    )
                    .ok()?;
                let (cx, cy) = (ParamLayout::CENTRE_X, ParamLayout::CENTRE_Y);
                let (vx, vy) = (s.fit.cov[(cx, cx)], s.fit.cov[(cy, cy)]);
                let row = [t, s.fit.x[cx], s.fit.x[cy], vx + floor_var, vy + floor_var];
                (row.iter().all(|v| v.is_finite()) && vx >= 0.0 && vy >= 0.0).then_some(row)
            })
            .collect::<Vec<_>>()
            .into_iter()
            .flatten()
            .collect();
        if rows.len() < 2 {
            return None;
        }
        let denom = d0.dot(&dir);
        if denom <= 0.0 {
            return None;
        }
        let mut offset = Vector3::zeros();
        let mut slope = [0.0; 2];
        let mut post_var = [0.0; 2];
        for (c, e) in [(0usize, plane.e1), (1usize, plane.e2)] {
            let pts: Vec<(f64, f64, f64)> =
                rows.iter().map(|r| (r[0], r[1 + c], r[3 + c])).collect();
            let line = weighted_line(&pts)?;
            let (mean_t, mean_c, b, var_b) = (line.mean_t, line.mean_c, line.slope, line.slope_var);
            // The given axis's slope in this basis.
            let p = d0.dot(&e) / denom;
            let w = 1.0 / var_b + 1.0 / prior_var;
            slope[c] = (b / var_b + p / prior_var) / w;
            post_var[c] = 1.0 / w;
            offset += e * (mean_c - slope[c] * mean_t);
        }
        let nd = Unit::new_normalize(dir.into_inner() + plane.e1 * slope[0] + plane.e2 * slope[1]);
        let on_line = point + offset;
        Some(RefinedAxis {
            ring_point: on_line + nd.into_inner() * (mid - on_line).dot(&nd),
            direction: nd,
            correction_deg: self.correction_deg(&nd),
            direction_sigma_rad: (0.5 * (post_var[0] + post_var[1])).sqrt(),
        })
    }

    /// The axis [`SectionMeasurer::ring`] measures on: refined
    /// ([`SectionMeasurer::refine_axis`]) when the config says so, else the given one.
    pub fn ring_axis(&self) -> RefinedAxis {
        if self.cfg.refine_axis {
            self.refine_axis()
        } else {
            self.given_axis()
        }
    }
}
