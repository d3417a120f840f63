//! A structured-light depth model for the front (TrueDepth-like) camera, independent of
//! [`crate::render::NoiseModel`]: it starts from the physics of a dot projector beside an
//! infrared camera rather than from per-pixel flying-pixel rules.
//!
//! Modelled, in this order, on a clean render ([`crate::render::CleanRender`]):
//! - **Projector shadow**: the projector sits `baseline_m` to the camera's +x; a surface
//!   point is dark (no depth) when a nearer surface to its right in the image blocks the
//!   projector's ray, i.e. when the disparity gap `f·b·(1/z_near − 1/z)` exceeds the
//!   pixel distance to that nearer surface. This makes a one-sided dark band left of
//!   every foreground edge, wider the farther the background.
//! - **Edge footprint**: a pixel whose 8-neighbourhood holds a depth step larger than
//!   `edge_step_m` (or no surface) sees both sides in its correlation window. A pixel on
//!   the far side (or seeing nothing) takes the near side's depth with probability
//!   `edge_fatten_prob` (window fattening); a pixel on either side is dropped with
//!   probability `edge_drop_prob`; a kept one is pulled across the step by a share drawn
//!   as `u²·edge_max_mix` (mostly small, sometimes large). Equal fattening and dropping
//!   leave the silhouette unshifted on average.
//! - **Weak return**: the infrared return falls with `cos θ / z²`; pixels whose relative
//!   return is below `min_return` drop out, with a linear ramp up to twice that.
//! - **Depth noise** with a floor and a disparity term, scaled by the return strength:
//!   `σ = (σ_floor + σ_disp·(z/0.3)²) / sqrt(max(cos θ, 0.2))`, plus a smooth per-frame
//!   bias field (bilinear over a coarse grid, σ `bias_share·σ`) for the window-correlation
//!   wobble of real structured light.
//! - **Disparity quantisation**: `1/z` is rounded to `inv_depth_step` (so the depth step
//!   grows as `z²`), then the working range is applied.
//!
//! Guarantees: a deterministic function of the clean render, the model and the rng state.

use crate::render::CleanRender;
use crate::SimError;
use mandrel_core::frame::DepthFrame;
use rand::{Rng, RngExt};
use rand_distr::{Distribution, StandardNormal};

/// Parameters of the structured-light model. Lengths in metres.
#[derive(Debug, Clone, PartialEq)]
pub struct StructuredLight {
    /// Projector-to-camera baseline along the camera's +x.
    pub baseline_m: f64,
    /// Noise floor σ (independent of depth).
    pub sigma_floor_m: f64,
    /// Disparity noise σ at 0.3 m (grows as z²).
    pub sigma_disparity_at_30cm_m: f64,
    /// Share of σ given to the smooth per-frame bias field.
    pub bias_share: f64,
    /// Depth step within the 3x3 window that makes a pixel an edge pixel.
    pub edge_step_m: f64,
    /// Probability that an edge pixel is dropped (either side of the step).
    pub edge_drop_prob: f64,
    /// Probability that a pixel just beside a nearer surface reports that surface's depth
    /// (window fattening; with `edge_drop_prob` equal, the silhouette has no net shift).
    pub edge_fatten_prob: f64,
    /// Largest share of the step by which a kept edge pixel is pulled to the background.
    pub edge_max_mix: f64,
    /// Relative return (`cos θ · (0.3/z)²`) below which pixels start to drop out.
    pub min_return: f64,
    /// Probability that any pixel drops out at random.
    pub dropout_rate: f64,
    /// Quantisation step of inverse depth, 1/m (`None` = continuous).
    pub inv_depth_step: Option<f64>,
    /// Nearest depth reported.
    pub min_range_m: f64,
    /// Farthest depth reported.
    pub max_range_m: f64,
}

impl StructuredLight {
    /// A front TrueDepth-like camera with total σ ≈ `sigma_at_30cm_m` at 0.3 m head-on.
    pub fn truedepth(sigma_at_30cm_m: f64) -> Self {
        Self {
            baseline_m: 0.015,
            sigma_floor_m: 0.25 * sigma_at_30cm_m,
            sigma_disparity_at_30cm_m: 0.75 * sigma_at_30cm_m,
            bias_share: 0.2,
            edge_step_m: 0.006,
            edge_drop_prob: 0.3,
            edge_fatten_prob: 0.3,
            edge_max_mix: 0.6,
            min_return: 0.12,
            dropout_rate: 0.003,
            inv_depth_step: Some(1.0e-3),
            min_range_m: 0.12,
            max_range_m: 1.5,
        }
    }

    /// Total head-on σ at 0.3 m (floor plus disparity term), metres.
    pub fn sigma_at_30cm_m(&self) -> f64 {
        self.sigma_floor_m + self.sigma_disparity_at_30cm_m
    }

    /// Checks every parameter is finite and in range; names the offending one.
    pub fn validate(&self) -> Result<(), SimError> {
        let bad = |m: String| Err(SimError::Noise(m));
        for (n, p) in [
            ("edge_drop_prob", self.edge_drop_prob),
            ("edge_fatten_prob", self.edge_fatten_prob),
            ("edge_max_mix", self.edge_max_mix),
            ("dropout_rate", self.dropout_rate),
            ("bias_share", self.bias_share),
            ("min_return", self.min_return),
        ] {
            if !(0.0..=1.0).contains(&p) {
                return bad(format!("{n} is {p}, must be within [0, 1]"));
            }
        }
        for (n, v) in [
            ("baseline_m", self.baseline_m),
            ("sigma_floor_m", self.sigma_floor_m),
            ("sigma_disparity_at_30cm_m", self.sigma_disparity_at_30cm_m),
            ("edge_step_m", self.edge_step_m),
            ("min_range_m", self.min_range_m),
        ] {
            if !v.is_finite() || v < 0.0 {
                return bad(format!("{n} is {v}, must be finite and >= 0"));
            }
        }
        if self.max_range_m.is_nan() || self.max_range_m <= self.min_range_m {
            return bad(format!(
                "max_range_m {} must exceed min_range_m {}",
                self.max_range_m, self.min_range_m
            ));
        }
        if let Some(q) = self.inv_depth_step {
            if !q.is_finite() || q <= 0.0 {
                return bad(format!("inv_depth_step is {q}, must be finite and > 0"));
            }
        }
        Ok(())
    }
}

fn gauss<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    StandardNormal.sample(rng)
}

/// Smooth bias field: unit-σ Gaussian values on a coarse grid, bilinearly interpolated.
fn bias_field<R: Rng + ?Sized>(w: usize, h: usize, cell: usize, rng: &mut R) -> Vec<f64> {
    let gw = w / cell + 2;
    let gh = h / cell + 2;
    let grid: Vec<f64> = (0..gw * gh).map(|_| gauss(rng)).collect();
    let mut out = vec![0.0; w * h];
    for v in 0..h {
        let gy = v as f64 / cell as f64;
        let (y0, fy) = (gy.floor() as usize, gy.fract());
        for u in 0..w {
            let gx = u as f64 / cell as f64;
            let (x0, fx) = (gx.floor() as usize, gx.fract());
            let g = |x: usize, y: usize| grid[y * gw + x];
            out[v * w + u] = (g(x0, y0) * (1.0 - fx) + g(x0 + 1, y0) * fx) * (1.0 - fy)
                + (g(x0, y0 + 1) * (1.0 - fx) + g(x0 + 1, y0 + 1) * fx) * fy;
        }
    }
    out
}

/// Applies the structured-light model to `clean`; `fx` is the camera's focal length in
/// pixels (for the projector shadow).
pub fn apply_structured_light<R: Rng + ?Sized>(
    clean: &CleanRender,
    model: &StructuredLight,
    fx: f64,
    rng: &mut R,
) -> Result<DepthFrame, SimError> {
    model.validate()?;
    let (w, h) = (clean.width as usize, clean.height as usize);
    let z = &clean.z_m;
    let fb = fx * model.baseline_m;
    let bias = bias_field(w, h, 40, rng);
    // Projector shadow. In the projector image a pixel sits at column u − fb/z; a pixel is
    // dark when a nearer pixel to its right reaches that projector column first.
    let mut shadow = vec![false; w * h];
    for v in 0..h {
        let row = v * w;
        let mut reach = f64::INFINITY; // min over j > u of (j − fb/z_j)
        for u in (0..w).rev() {
            let own = z[row + u];
            if own <= 0.0 {
                continue;
            }
            let here = u as f64 - fb / own;
            shadow[row + u] = reach < here - 0.5;
            reach = reach.min(here);
        }
    }
    let mut out = vec![0.0f32; w * h];
    for v in 0..h {
        let row = v * w;
        for u in 0..w {
            let i = row + u;
            let own = z[i];
            if shadow[i] {
                continue;
            }
            // Edge footprint over the 3x3 window: nearest and farthest neighbour, and
            // whether a neighbour has no surface at all.
            let (mut lo, mut hi, mut empty) = (f64::INFINITY, 0.0f64, false);
            for dv in -1i64..=1 {
                for du in -1i64..=1 {
                    let (uu, vv) = (u as i64 + du, v as i64 + dv);
                    if (du == 0 && dv == 0) || uu < 0 || vv < 0 || uu >= w as i64 || vv >= h as i64
                    {
                        continue;
                    }
                    let zj = z[vv as usize * w + uu as usize];
                    if zj > 0.0 {
                        lo = lo.min(zj);
                        hi = hi.max(zj);
                    } else {
                        empty = true;
                    }
                }
            }
            let step = model.edge_step_m;
            let mix = {
                let s: f64 = rng.random();
                s * s * model.edge_max_mix
            };
            let (d, c) = if own <= 0.0 {
                // Beside a surface the window may lock onto it (edge fattening).
                if lo.is_finite() && rng.random::<f64>() < model.edge_fatten_prob {
                    (lo, 0.5)
                } else {
                    continue;
                }
            } else if lo < own - step {
                // Background beside a nearer surface: fattened, dropped, or mixed forward.
                let r: f64 = rng.random();
                if r < model.edge_fatten_prob {
                    (lo, 0.5)
                } else if r < model.edge_fatten_prob + model.edge_drop_prob {
                    continue;
                } else {
                    (own - mix * (own - lo), clean.cos_incidence[i])
                }
            } else if hi > own + step || empty {
                // Foreground at an edge: dropped, or mixed back towards what lies behind.
                if rng.random::<f64>() < model.edge_drop_prob {
                    continue;
                }
                let behind = if hi > own + step { hi } else { own + 0.05 };
                (own + mix * (behind - own), clean.cos_incidence[i])
            } else {
                (own, clean.cos_incidence[i])
            };
            let mut d = d;
            let c = c.clamp(0.0, 1.0);
            let ret = c * (0.3 / d).powi(2);
            let p_weak = if ret >= 2.0 * model.min_return {
                0.0
            } else if ret <= model.min_return {
                1.0
            } else {
                (2.0 * model.min_return - ret) / model.min_return
            };
            let p_drop = p_weak + (1.0 - p_weak) * model.dropout_rate;
            if p_drop > 0.0 && rng.random::<f64>() < p_drop {
                continue;
            }
            let sigma = (model.sigma_floor_m + model.sigma_disparity_at_30cm_m * (d / 0.3).powi(2))
                / c.max(0.2).sqrt();
            let share = model.bias_share;
            d += sigma * ((1.0 - share * share).sqrt() * gauss(rng) + share * bias[i]);
            if let Some(q) = model.inv_depth_step {
                if d > 0.0 {
                    d = 1.0 / ((1.0 / d / q).round() * q);
                }
            }
            if d.is_finite() && d >= model.min_range_m && d <= model.max_range_m {
                out[i] = d as f32;
            }
        }
    }
    Ok(DepthFrame::from_metres(clean.width, clean.height, out)?)
}
