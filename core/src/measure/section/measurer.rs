//! The measurer: gathers a finger's observations once, then fits and reports the ring
//! section, the knuckle section or a section anywhere along the axis.

use std::f64::consts::TAU;

use nalgebra::{Point2, Point3, Unit, Vector2, Vector3};
use rayon::prelude::*;

use super::coverage::{coverage, largest_gap, view_span};
use super::fit::{fit_slice, Fit, MAX_MEASURED_POINTS, MAX_SLICE_POINTS};
use super::gather::{Cloud, Obs2, ObsKind, Plane};
use super::model::{eval_dh, frame_shift, ParamLayout, Table, GRID};
use super::refine::refined_perimeter;
use super::types::{
    FingerAxis, RefinedAxis, SectionConfig, SectionError, SectionResult, SigmaParts, TangentLine2,
};
use super::uncertainty::{jackknife_sigma, pose_depth_sigma, unobserved_sigma};
use crate::measure::observe::FrameObservations;

/// Measures cross-sections of one finger from per-frame observations.
#[derive(Clone)]
pub struct SectionMeasurer {
    /// Observations gathered around the axis.
    cloud: Cloud,
    /// The given axis.
    pub(super) axis: FingerAxis,
    /// Settings (knuckle slab).
    pub(super) cfg: SectionConfig,
    /// `cfg` with the ring slab (ring section and axis refinement).
    pub(super) ring_cfg: SectionConfig,
    /// Model basis on the angle grid.
    tab: Table,
    /// 1-sigma of the given axis's direction, radians per tilt component.
    pub(super) axis_sigma_rad: f64,
    /// Least and greatest position along the given axis (from MCP, metres) of each block of
    /// the cloud's surface samples, so that a slice looks only at the blocks that can reach
    /// its slab.
    block_span_m: Vec<(f64, f64)>,
}

impl SectionMeasurer {
    /// Gathers the observations around `axis` (once) for measuring it.
    pub fn new(
        obs: &[FrameObservations],
        axis: &FingerAxis,
        cfg: &SectionConfig,
    ) -> Result<Self, SectionError> {
        cfg.validate()?;
        axis.validate()?;
        if obs.is_empty() {
            return Err(SectionError::NoObservations);
        }
        // Tilts up to max_tilt move the slab's far edge sideways; gather generously.
        let cloud = Cloud::gather(
            obs,
            &axis.mcp,
            &axis.pip,
            cfg.max_radius_m + 0.006,
            cfg.knuckle_half_range_m + 0.008,
            cfg,
        );
        let dir = axis.direction().into_inner();
        let block_span_m = cloud.point_block_spans_m(&axis.mcp, &dir);
        Ok(Self {
            block_span_m,
            cloud,
            axis: *axis,
            cfg: cfg.clone(),
            ring_cfg: SectionConfig {
                slab_half_width_m: cfg.ring_slab_half_width_m,
                ..cfg.clone()
            },
            tab: Table::new(cfg.harmonics),
            axis_sigma_rad: cfg.axis_prior_sigma_deg.to_radians(),
        })
    }

    /// Sets the 1-sigma of the given axis's direction (radians, per tilt component), e.g.
    /// [`crate::measure::locate::LocatedFinger::direction_sigma_rad`]; ignored unless finite
    /// and positive. Default: [`SectionConfig::axis_prior_sigma_deg`].
    pub fn with_axis_sigma_rad(mut self, sigma_rad: f64) -> Self {
        if sigma_rad.is_finite() && sigma_rad > 0.0 {
            self.axis_sigma_rad = sigma_rad;
        }
        self
    }

    /// Surface samples and tangents gathered around the axis.
    #[cfg(any(test, feature = "internals"))]
    pub fn gathered(&self) -> (usize, usize) {
        self.cloud.len()
    }

    /// Which blocks of the cloud can hold samples of the slab around `plane` with `cfg`: a
    /// sample of the slab (within the slab half width `w` of the plane and the radius `R` of
    /// its origin) lies within `w·|cos α| + R·sin α` of the origin along the given axis, at
    /// an angle `α` between the axis and the plane's normal.
    fn blocks_for(&self, plane: &Plane, cfg: &SectionConfig) -> Vec<bool> {
        let dir = self.axis.direction().into_inner();
        let cos = plane.n.dot(&dir).abs().min(1.0);
        let sin = (1.0 - cos * cos).max(0.0).sqrt();
        // The margin covers rounding in the positions (far below a micrometre).
        let reach = cfg.slab_half_width_m * cos + cfg.max_radius_m * sin + 1e-6;
        let t0 = (plane.origin - self.axis.mcp).dot(&dir);
        self.block_span_m
            .iter()
            .map(|&(lo, hi)| hi >= t0 - reach && lo <= t0 + reach)
            .collect()
    }

    /// Fits the slice through `point` perpendicular to `direction`; with `recentre`, fits it
    /// again through the fitted centre with all its samples (the measured section).
    pub(super) fn slice(
        &self,
        point: &Point3<f64>,
        direction: &Unit<Vector3<f64>>,
        position_m: f64,
        recentre: bool,
        cfg: &SectionConfig,
    ) -> Result<Slice, SectionError> {
        if !point.iter().chain(direction.iter()).all(|c| c.is_finite()) {
            return Err(SectionError::InvalidAxis(
                "non-finite slice position".into(),
            ));
        }
        let plane = Plane::new(*point, direction.into_inner());
        let (obs, fit) = fit_slice(
            &self.cloud,
            &plane,
            cfg,
            &self.tab,
            position_m,
            MAX_SLICE_POINTS,
            &self.blocks_for(&plane, cfg),
        )?;
        if recentre {
            // Re-centre on the fitted centre (the radius cut then follows the finger) and
            // fit the measured section with all its samples.
            let centre = steiner_world(&plane, &fit);
            for p in [Plane::new(centre, direction.into_inner()), plane] {
                if let Ok((obs, fit)) = fit_slice(
                    &self.cloud,
                    &p,
                    cfg,
                    &self.tab,
                    position_m,
                    MAX_MEASURED_POINTS,
                    &self.blocks_for(&p, cfg),
                ) {
                    return Ok(Slice {
                        plane: p,
                        obs,
                        fit,
                        position_m,
                    });
                }
            }
        }
        Ok(Slice {
            plane,
            obs,
            fit,
            position_m,
        })
    }

    /// Measures the section through `point` perpendicular to `direction` (re-centred on the
    /// finger), with the ring slab ([`SectionConfig::ring_slab_half_width_m`]). `position_m` is
    /// only reported (position relative to the ring position).
    pub fn measure_at(
        &self,
        point: &Point3<f64>,
        direction: &Unit<Vector3<f64>>,
        position_m: f64,
    ) -> Result<SectionResult, SectionError> {
        let s = self.slice(point, direction, position_m, true, &self.ring_cfg)?;
        Ok(finish(
            &s,
            &self.ring_cfg,
            &self.tab,
            self.correction_deg(direction),
        ))
    }

    /// The model perimeter (`2π·a0`, metres) of the section [`SectionMeasurer::measure_at`]
    /// fits at the same place, and the part of its sigma that is independent between nearby
    /// sections (metres): the fit's posterior and the floor, [`SigmaParts::fit_m`] and
    /// [`SigmaParts::floor_m`] in quadrature. What a taper estimate needs, without the frame
    /// jackknife, the refined perimeter and the coverage figures a reported section carries.
    pub fn model_perimeter_at(
        &self,
        point: &Point3<f64>,
        direction: &Unit<Vector3<f64>>,
        position_m: f64,
    ) -> Result<(f64, f64), SectionError> {
        let s = self.slice(point, direction, position_m, true, &self.ring_cfg)?;
        let a0 = ParamLayout::A0;
        let sigma_fit = TAU * s.fit.cov[(a0, a0)].max(0.0).sqrt();
        Ok((
            TAU * s.fit.x[a0],
            sigma_fit.hypot(self.ring_cfg.sigma_floor_m),
        ))
    }

    /// The ring section: at the MCP→PIP midpoint, perpendicular to the (refined) axis.
    #[cfg(any(test, feature = "internals"))]
    pub fn ring(&self) -> Result<(SectionResult, RefinedAxis), SectionError> {
        let ax = self.ring_axis();
        let r = self.measure_at(&ax.ring_point, &ax.direction, 0.0)?;
        Ok((r, ax))
    }

    /// The knuckle section: the largest perimeter within ±`knuckle_half_range_m` of PIP
    /// along `axis` (a refined axis from [`SectionMeasurer::ring`], or the given one).
    pub fn knuckle(&self, axis: Option<&RefinedAxis>) -> Result<SectionResult, SectionError> {
        let (p0, dir) = match axis {
            Some(a) => (a.ring_point, a.direction),
            None => (self.axis.midpoint(), self.axis.direction()),
        };
        let to_pip = (self.axis.pip - p0).dot(&dir);
        let n = (self.cfg.knuckle_half_range_m / self.cfg.knuckle_step_m).floor() as i64;
        let mut best: Option<Slice> = None;
        let mut last_err = None;
        // The slices are independent: fitted in parallel, then compared in order.
        let slices: Vec<Result<Slice, SectionError>> = (-n..=n)
            .into_par_iter()
            .map(|j| {
                let t = to_pip + j as f64 * self.cfg.knuckle_step_m;
                self.slice(&(p0 + dir.into_inner() * t), &dir, t, false, &self.cfg)
            })
            .collect();
        for slice in slices {
            match slice {
                Ok(s) => {
                    let a0 = ParamLayout::A0;
                    if best.as_ref().is_none_or(|b| s.fit.x[a0] > b.fit.x[a0]) {
                        best = Some(s);
                    }
                }
                Err(e) => last_err = Some(e),
            }
        }
        match best {
            Some(b) => {
                // Re-centre the largest slice on the finger before reporting it.
                let s = self
                    .slice(&b.plane.origin, &dir, b.position_m, true, &self.cfg)
                    .unwrap_or(b);
                Ok(finish(&s, &self.cfg, &self.tab, self.correction_deg(&dir)))
            }
            None => Err(last_err.unwrap_or(SectionError::NoObservations)),
        }
    }
}

/// The section centre (Steiner point) of a fitted slice in world coordinates.
pub(super) fn steiner_world(plane: &Plane, f: &Fit) -> Point3<f64> {
    let (cx, cy) = (ParamLayout::CENTRE_X, ParamLayout::CENTRE_Y);
    plane.origin + plane.e1 * f.x[cx] + plane.e2 * f.x[cy]
}

/// A fitted slice before its uncertainty is worked out.
pub(super) struct Slice {
    /// The slice plane.
    pub(super) plane: Plane,
    /// Its observations.
    pub(super) obs: Vec<Obs2>,
    /// The fit.
    pub(super) fit: Fit,
    /// Position relative to the ring position (reported), metres.
    pub(super) position_m: f64,
}

/// Full result with jackknife uncertainty for a fitted slice.
fn finish(s: &Slice, cfg: &SectionConfig, tab: &Table, axis_correction_deg: f64) -> SectionResult {
    let (plane, obs, f) = (&s.plane, &s.obs, &s.fit);
    let lay = f.layout();
    let (a0, cx, cy) = (
        ParamLayout::A0,
        ParamLayout::CENTRE_X,
        ParamLayout::CENTRE_Y,
    );
    let perimeter = refined_perimeter(obs, f);
    let sigma_fit = TAU * f.cov[(a0, a0)].max(0.0).sqrt();
    let sigma_frames = jackknife_sigma(obs, f, cfg, tab);
    let sigma_unobserved = unobserved_sigma(obs, f, cfg, tab).min(sigma_fit);
    let sigma_pose = pose_depth_sigma(obs, f).hypot(TAU * cfg.pose_drift_sigma_m);
    let sigma =
        (sigma_fit.powi(2) + sigma_frames.powi(2) + sigma_pose.powi(2) + cfg.sigma_floor_m.powi(2))
            .sqrt();
    let centre_off = Vector2::new(f.x[cx], f.x[cy]);
    let centre = steiner_world(plane, f);
    let mut points_2d = Vec::new();
    let mut tangents_2d = Vec::new();
    let mut used_frames: Vec<u32> = Vec::new();
    let (mut rss, mut wsum) = (0.0, 0.0);
    for (i, o) in obs.iter().enumerate() {
        if f.weight[i] < 0.5 {
            continue;
        }
        used_frames.push(o.frame);
        let d = frame_shift(&f.x, lay, o);
        match o.kind {
            ObsKind::Tangent {
                normal,
                offset_m,
                bias_unit,
            } => {
                tangents_2d.push(TangentLine2 {
                    normal: normal.cast(),
                    offset_m: (offset_m + bias_unit * f.x[lay.edge_bias()] + normal.dot(&d)
                        - normal.dot(&centre_off)) as f32,
                });
            }
            ObsKind::Surface { at, .. } => {
                points_2d.push(Point2::from((at + d - centre_off).cast::<f32>()));
                rss += f.weight[i] * f.resid[i].powi(2);
                wsum += f.weight[i];
            }
        }
    }
    used_frames.sort_unstable();
    used_frames.dedup();
    let contour_2d = (0..GRID)
        .map(|i| {
            let t = i as f64 * TAU / GRID as f64;
            let (h, d1, _) = eval_dh(&f.x, f.k, t);
            let (sn, cs) = t.sin_cos();
            Point2::new(h * cs - d1 * sn - f.x[cx], h * sn + d1 * cs - f.x[cy])
        })
        .collect();
    let count = |line: bool| {
        obs.iter()
            .zip(&f.weight)
            .filter(|(o, w)| o.is_tangent() == line && **w >= 0.5)
            .count()
    };
    SectionResult {
        perimeter_m: perimeter,
        model_perimeter_m: TAU * f.x[a0],
        sigma_m: sigma,
        sigma_parts: SigmaParts {
            fit_m: sigma_fit,
            frames_m: sigma_frames,
            pose_m: sigma_pose,
            floor_m: cfg.sigma_floor_m,
            unobserved_m: sigma_unobserved,
        },
        coverage_deg: coverage(obs, f, true),
        largest_gap_deg: largest_gap(obs, f),
        view_span_deg: view_span(obs, f),
        surface_coverage_deg: coverage(obs, f, false),
        centre,
        axis_direction: plane.n,
        plane_u: plane.e1,
        plane_v: plane.e2,
        position_m: s.position_m,
        points_2d,
        tangents_2d,
        contour_2d,
        frames_used: used_frames.len(),
        points_used: count(false),
        tangents_used: count(true),
        residual_rms_m: if wsum > 0.0 { (rss / wsum).sqrt() } else { 0.0 },
        edge_bias_px: f.x[lay.edge_bias()],
        frame_shift_rms_m: {
            let nf = f.nf.max(1) as f64;
            (f.x.iter()
                .skip(lay.shifts_start())
                .map(|v| v * v)
                .sum::<f64>()
                / nf)
                .sqrt()
        },
        axis_correction_deg,
    }
}

/// Convenience: the ring section of `axis` from observations with `cfg`.
#[cfg(any(test, feature = "internals"))]
pub fn ring_section(
    obs: &[FrameObservations],
    axis: &FingerAxis,
    cfg: &SectionConfig,
) -> Result<SectionResult, SectionError> {
    SectionMeasurer::new(obs, axis, cfg)?.ring().map(|r| r.0)
}

/// Length of a closed polyline (e.g. [`SectionResult::contour_2d`]), metres.
#[cfg(any(test, feature = "internals"))]
pub fn contour_length(contour: &[Point2<f64>]) -> f64 {
    let n = contour.len();
    (0..n)
        .map(|i| (contour[(i + 1) % n] - contour[i]).norm())
        .sum()
}
