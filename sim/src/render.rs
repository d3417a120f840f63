//! Rendering analytic scenes into depth frames through a sensor noise model.
//!
//! Guarantees: with [`NoiseModel::none`] every pixel whose centre ray hits the scene holds
//! the exact camera-frame depth `z` of the nearest hit (not the ray length), to `f32`
//! precision; other pixels are `0.0`. With noise, the output is a deterministic function
//! of the scene, camera, model and the rng state (use a seeded `rand_pcg` generator).
//!
//! The noise model covers, in this order: dropouts at grazing incidence (probability
//! rising linearly between two angles) and at random; flying pixels at depth
//! discontinuities (a depth between the foreground and the background, on both sides of
//! the edge); Gaussian depth noise with σ(z) = σ₃₀ · (z / 0.3 m)²; quantisation of depth;
//! a fixed, image-locked share of that noise that is the same in every frame (optional,
//! [`NoiseModel::fixed_pattern_share`]); the sensor's working range. It does not model lateral (x/y) edge blur, multipath, or
//! per-pixel confidence.
//!
//! Speed: primitives are rasterised one by one over the screen rectangle of their bounding
//! sphere (exact perspective bounds), so rays are only cast where a primitive may be.

use crate::shapes::{BoundingSphere, OrientedBox, Ray, Surface};
use mandrel_core::frame::{DepthFrame, Intrinsics};
use nalgebra::{Isometry3, Point3, Vector3};
use rand::{Rng, RngExt};
use rand_distr::{Distribution, StandardNormal};

use crate::SimError;
use rand::SeedableRng;
use rand_pcg::Pcg64;

/// Total σ at 0.3 m of [`NoiseModel::truedepth_fitted`] (z² scaling gives its value at 0.2 m).
const FITTED_SIGMA_AT_30CM_M: f64 = 0.00066;
/// Fixed (image-locked) share of the variance of [`NoiseModel::truedepth_fitted`].
const FITTED_FIXED_SHARE: f64 = 0.7;
/// Blotch size of [`NoiseModel::truedepth_fitted`]'s fixed pattern, pixels.
const FITTED_FIXED_CELL_PX: f64 = 8.0;

/// A depth sensor's noise characteristics. All lengths in metres, angles in degrees.
#[derive(Debug, Clone, PartialEq)]
pub struct NoiseModel {
    /// Depth noise σ at 0.3 m; σ(z) = σ₃₀ · (z / 0.3)².
    pub sigma_at_30cm_m: f64,
    /// Probability that a pixel next to a depth discontinuity becomes a flying pixel.
    pub flying_pixel_prob: f64,
    /// Depth step between 4-neighbours that counts as a discontinuity.
    pub discontinuity_m: f64,
    /// Where there is no background behind an edge, flying pixels spread up to this far
    /// behind the foreground.
    pub flying_trail_m: f64,
    /// Incidence angle (between ray and normal) above which dropouts start.
    pub grazing_start_deg: f64,
    /// Incidence angle at and above which every pixel drops out.
    pub grazing_full_deg: f64,
    /// Probability that any valid pixel drops out at random.
    pub dropout_rate: f64,
    /// Depth quantisation step (`None` = continuous).
    pub quantisation_m: Option<f64>,
    /// Nearest depth the sensor reports.
    pub min_range_m: f64,
    /// Farthest depth the sensor reports.
    pub max_range_m: f64,
    /// Share of the depth-noise variance that is fixed to the image (the same in every
    /// frame, so averaging frames does not reduce it), as real TrueDepth boards show;
    /// `0` = all noise is drawn afresh per frame.
    pub fixed_pattern_share: f64,
    /// Size of the fixed pattern's blotches, pixels (a smooth field of this cell size);
    /// below 1, the fixed pattern is independent per pixel.
    pub fixed_pattern_cell_px: f64,
    /// Seed of the fixed pattern: one seed is one device.
    pub fixed_pattern_seed: u64,
}

impl NoiseModel {
    /// A perfect sensor: exact depth everywhere the scene is hit, unlimited range.
    pub fn none() -> Self {
        Self {
            sigma_at_30cm_m: 0.0,
            flying_pixel_prob: 0.0,
            discontinuity_m: 0.01,
            flying_trail_m: 0.0,
            grazing_start_deg: 90.0,
            grazing_full_deg: 90.0,
            dropout_rate: 0.0,
            quantisation_m: None,
            min_range_m: 0.0,
            max_range_m: f64::INFINITY,
            fixed_pattern_share: 0.0,
            fixed_pattern_cell_px: 0.0,
            fixed_pattern_seed: 0,
        }
    }

    /// A TrueDepth-like front camera: σ₃₀ = 0.6 mm, frequent flying pixels at edges,
    /// dropouts beyond ~75° incidence, 0.1 mm quantisation, range 0.1–1.2 m.
    pub fn truedepth() -> Self {
        Self {
            sigma_at_30cm_m: 0.0006,
            flying_pixel_prob: 0.35,
            discontinuity_m: 0.008,
            flying_trail_m: 0.03,
            grazing_start_deg: 72.0,
            grazing_full_deg: 86.0,
            dropout_rate: 0.002,
            quantisation_m: Some(0.0001),
            min_range_m: 0.1,
            max_range_m: 1.2,
            fixed_pattern_share: 0.0,
            fixed_pattern_cell_px: 0.0,
            fixed_pattern_seed: 0,
        }
    }

    /// [`NoiseModel::truedepth`] fitted to real TrueDepth frames of a flat board at 0.2 m
    /// (docs/accuracy.md, "TrueDepth noise model"): a smaller frame-to-frame σ plus a
    /// fixed, image-locked pattern of small blotches, the same total σ.
    pub fn truedepth_fitted() -> Self {
        Self {
            sigma_at_30cm_m: FITTED_SIGMA_AT_30CM_M,
            fixed_pattern_share: FITTED_FIXED_SHARE,
            fixed_pattern_cell_px: FITTED_FIXED_CELL_PX,
            fixed_pattern_seed: 1,
            ..Self::truedepth()
        }
    }

    /// A LiDAR-like rear sensor: σ₃₀ = 4 mm, heavy flying pixels, earlier grazing
    /// dropouts, 1 mm quantisation, range 0.15–5 m.
    pub fn lidar() -> Self {
        Self {
            sigma_at_30cm_m: 0.004,
            flying_pixel_prob: 0.6,
            discontinuity_m: 0.01,
            flying_trail_m: 0.05,
            grazing_start_deg: 65.0,
            grazing_full_deg: 84.0,
            dropout_rate: 0.01,
            quantisation_m: Some(0.001),
            min_range_m: 0.15,
            max_range_m: 5.0,
            fixed_pattern_share: 0.0,
            fixed_pattern_cell_px: 0.0,
            fixed_pattern_seed: 0,
        }
    }

    /// Depth noise σ (metres) at depth `z_m`.
    pub fn sigma_at(&self, z_m: f64) -> f64 {
        self.sigma_at_30cm_m * (z_m / 0.3).powi(2)
    }

    /// Checks that every parameter is finite and in range.
    pub fn validate(&self) -> Result<(), SimError> {
        let bad = |m: String| Err(SimError::Noise(m));
        let probs = [
            ("flying_pixel_prob", self.flying_pixel_prob),
            ("dropout_rate", self.dropout_rate),
            ("fixed_pattern_share", self.fixed_pattern_share),
        ];
        for (n, p) in probs {
            if !(0.0..=1.0).contains(&p) {
                return bad(format!("{n} is {p}, must be within [0, 1]"));
            }
        }
        for (n, v) in [
            ("sigma_at_30cm_m", self.sigma_at_30cm_m),
            ("discontinuity_m", self.discontinuity_m),
            ("flying_trail_m", self.flying_trail_m),
            ("min_range_m", self.min_range_m),
            ("fixed_pattern_cell_px", self.fixed_pattern_cell_px),
        ] {
            if !v.is_finite() || v < 0.0 {
                return bad(format!("{n} is {v}, must be finite and >= 0"));
            }
        }
        if self.fixed_pattern_cell_px > 1000.0 {
            return bad(format!(
                "fixed_pattern_cell_px is {}, must be at most 1000",
                self.fixed_pattern_cell_px
            ));
        }
        if self.max_range_m.is_nan() || self.max_range_m <= self.min_range_m {
            return bad(format!(
                "max_range_m {} must exceed min_range_m {}",
                self.max_range_m, self.min_range_m
            ));
        }
        if !(0.0..=90.0).contains(&self.grazing_start_deg)
            || !(self.grazing_start_deg..=90.0).contains(&self.grazing_full_deg)
        {
            return bad(format!(
                "grazing angles {}..{} must satisfy 0 <= start <= full <= 90",
                self.grazing_start_deg, self.grazing_full_deg
            ));
        }
        if let Some(q) = self.quantisation_m {
            if !q.is_finite() || q <= 0.0 {
                return bad(format!("quantisation_m is {q}, must be finite and > 0"));
            }
        }
        Ok(())
    }
}

/// The clean (noise-free) rendering of a scene: per pixel camera depth and incidence.
#[derive(Debug, Clone)]
pub struct CleanRender {
    /// Image width.
    pub width: u32,
    /// Image height.
    pub height: u32,
    /// Camera-frame depth z (metres) of the nearest hit, `0.0` where nothing is hit.
    pub z_m: Vec<f64>,
    /// |cos| of the angle between the pixel ray and the surface normal (0 where no hit).
    pub cos_incidence: Vec<f64>,
}

/// Projected pixel rectangle `[u0, u1) x [v0, v1)` that contains the image of a sphere
/// given in camera coordinates; `None` if it is entirely behind the camera or off-screen.
fn screen_rect(k: &Intrinsics, b: &BoundingSphere) -> Option<(u32, u32, u32, u32)> {
    let (w, h) = (k.width as i64, k.height as i64);
    let c = b.center;
    let r = b.radius;
    if c.z + r <= 1e-9 {
        return None;
    }
    let full = Some((0, k.width, 0, k.height));
    if c.z - r <= 1e-6 {
        return full;
    }
    // Extreme values of x/z over the sphere: tangents from the origin in the x–z plane.
    let range = |a: f64| -> Option<(f64, f64)> {
        let l2 = a * a + c.z * c.z - r * r;
        if l2 <= 0.0 {
            return None;
        }
        let den = c.z * c.z - r * r;
        let s = r * l2.sqrt();
        Some(((a * c.z - s) / den, (a * c.z + s) / den))
    };
    let (Some((x0, x1)), Some((y0, y1))) = (range(c.x), range(c.y)) else {
        return full;
    };
    let u0 = (k.fx * x0 + k.cx).floor() as i64 - 1;
    let u1 = (k.fx * x1 + k.cx).ceil() as i64 + 2;
    let v0 = (k.fy * y0 + k.cy).floor() as i64 - 1;
    let v1 = (k.fy * y1 + k.cy).ceil() as i64 + 2;
    let (u0, u1, v0, v1) = (
        u0.clamp(0, w),
        u1.clamp(0, w),
        v0.clamp(0, h),
        v1.clamp(0, h),
    );
    (u0 < u1 && v0 < v1).then_some((u0 as u32, u1 as u32, v0 as u32, v1 as u32))
}

/// Pixel rectangle containing the projection of an oriented box (world frame), or `None`
/// if a corner lies behind or too near the camera (then the sphere bound is used).
fn box_rect(
    k: &Intrinsics,
    world_to_camera: &Isometry3<f64>,
    obb: &OrientedBox,
) -> Option<(u32, u32, u32, u32)> {
    let (mut u0, mut u1, mut v0, mut v1) = (
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
    );
    for c in obb.corners() {
        let p = world_to_camera * c;
        if p.z <= 1e-4 {
            return None;
        }
        let (u, v) = (k.fx * p.x / p.z + k.cx, k.fy * p.y / p.z + k.cy);
        u0 = u0.min(u);
        u1 = u1.max(u);
        v0 = v0.min(v);
        v1 = v1.max(v);
    }
    let (w, h) = (k.width as f64, k.height as f64);
    let r = (
        (u0.floor() - 1.0).clamp(0.0, w) as u32,
        (u1.ceil() + 2.0).clamp(0.0, w) as u32,
        (v0.floor() - 1.0).clamp(0.0, h) as u32,
        (v1.ceil() + 2.0).clamp(0.0, h) as u32,
    );
    Some(r)
}

/// Renders the exact depth and incidence of `scene` seen from `camera_to_world`.
pub fn render_clean(
    scene: &dyn Surface,
    k: &Intrinsics,
    camera_to_world: &Isometry3<f64>,
) -> Result<CleanRender, SimError> {
    k.validate()?;
    mandrel_core::frame::pose::validate(camera_to_world)?;
    let (w, h) = (k.width as usize, k.height as usize);
    let n = w * h;
    let mut t_best = vec![f64::INFINITY; n];
    let mut z_m = vec![0.0f64; n];
    let mut cos_incidence = vec![0.0f64; n];
    let origin = Point3::from(camera_to_world.translation.vector);
    let rot = camera_to_world.rotation.to_rotation_matrix();
    let world_to_camera = camera_to_world.inverse();
    let (ifx, ify) = (1.0 / k.fx, 1.0 / k.fy);
    let xs: Vec<f64> = (0..w).map(|u| (u as f64 - k.cx) * ifx).collect();
    // Primitives with their camera-frame bounding spheres, nearest first, so that pixels
    // already covered by something nearer skip farther primitives.
    let mut prims: Vec<&dyn Surface> = Vec::new();
    scene.primitives(&mut prims);
    let mut jobs: Vec<(&dyn Surface, Option<BoundingSphere>, f64)> = prims
        .into_iter()
        .map(|p| {
            let bs = p.bounding_sphere().map(|b| BoundingSphere {
                center: world_to_camera * b.center,
                radius: b.radius,
            });
            let near = bs.map_or(0.0, |b| (b.center.coords.norm() - b.radius).max(0.0));
            (p, bs, near)
        })
        .collect();
    jobs.sort_by(|a, b| a.2.total_cmp(&b.2));
    for (prim, bs_cam, _) in jobs {
        let rect = match &bs_cam {
            Some(b) => screen_rect(k, b),
            None => Some((0, k.width, 0, k.height)),
        };
        // Tighten with the projected oriented box when it lies in front of the camera.
        let rect = match (rect, prim.bounding_box()) {
            (Some(r), Some(obb)) => box_rect(k, &world_to_camera, &obb).map_or(Some(r), |b| {
                let t = (r.0.max(b.0), r.1.min(b.1), r.2.max(b.2), r.3.min(b.3));
                (t.0 < t.1 && t.2 < t.3).then_some(t)
            }),
            (r, _) => r,
        };
        let Some((u0, u1, v0, v1)) = rect else {
            continue;
        };
        let bs = bs_cam.map(|b| {
            (
                b.center.coords,
                b.center.coords.norm_squared() - b.radius * b.radius,
            )
        });
        for v in v0..v1 {
            let yc = (v as f64 - k.cy) * ify;
            let row = v as usize * w;
            for u in u0..u1 {
                let i = row + u as usize;
                let xc = xs[u as usize];
                let inv_len = 1.0 / (xc * xc + yc * yc + 1.0).sqrt();
                let d_cam = Vector3::new(xc * inv_len, yc * inv_len, inv_len);
                if let Some((c, c2)) = &bs {
                    // Exact ray–bounding-sphere test in the camera frame (origin = camera).
                    let b = c.dot(&d_cam);
                    let disc = b * b - c2;
                    if disc < 0.0 {
                        continue;
                    }
                    let sq = disc.sqrt();
                    if b + sq <= 0.0 || (*c2 > 0.0 && b - sq >= t_best[i]) {
                        continue;
                    }
                }
                let ray = Ray {
                    origin,
                    dir: rot * d_cam,
                };
                if let Some(hit) = prim.intersect(&ray, 0.0, t_best[i]) {
                    t_best[i] = hit.t;
                    z_m[i] = hit.t * d_cam.z;
                    cos_incidence[i] = hit.normal.dot(&ray.dir).abs();
                }
            }
        }
    }
    Ok(CleanRender {
        width: k.width,
        height: k.height,
        z_m,
        cos_incidence,
    })
}

/// Applies `noise` to a clean render (see the module doc for what is modelled).
pub fn apply_noise<R: Rng + ?Sized>(
    clean: &CleanRender,
    noise: &NoiseModel,
    rng: &mut R,
) -> Result<DepthFrame, SimError> {
    noise.validate()?;
    let (w, h) = (clean.width as usize, clean.height as usize);
    let z = &clean.z_m;
    let mut out: Vec<f64> = z.clone();
    let cos_start = noise.grazing_start_deg.to_radians().cos();
    let cos_full = noise.grazing_full_deg.to_radians().cos();
    let jump = noise.discontinuity_m;
    for v in 0..h {
        for u in 0..w {
            let i = v * w + u;
            let own = z[i];
            // Flying pixels from the clean image's discontinuities.
            if noise.flying_pixel_prob > 0.0 {
                let mut near = f64::INFINITY; // nearest valid neighbour
                let mut far = 0.0f64; // farthest valid neighbour
                let mut missing = false;
                let mut visit = |j: usize| {
                    let zj = z[j];
                    if zj > 0.0 {
                        near = near.min(zj);
                        far = far.max(zj);
                    } else {
                        missing = true;
                    }
                };
                if u > 0 {
                    visit(i - 1);
                }
                if u + 1 < w {
                    visit(i + 1);
                }
                if v > 0 {
                    visit(i - w);
                }
                if v + 1 < h {
                    visit(i + w);
                }
                let edge = if own > 0.0 {
                    if far > own + jump {
                        Some((own, far))
                    } else if missing {
                        Some((own, own + noise.flying_trail_m))
                    } else {
                        None
                    }
                } else if near.is_finite() {
                    Some((near, near + noise.flying_trail_m))
                } else {
                    None
                };
                let edge = edge.or_else(|| (own > 0.0 && near < own - jump).then_some((near, own)));
                if let Some((fg, bg)) = edge {
                    if rng.random::<f64>() < noise.flying_pixel_prob {
                        let s: f64 = rng.random();
                        out[i] = fg + s * (bg - fg);
                        continue;
                    }
                }
            }
            if own <= 0.0 {
                continue;
            }
            // Grazing and random dropouts.
            let c = clean.cos_incidence[i];
            let p_graze = if c >= cos_start {
                0.0
            } else if c <= cos_full || cos_start <= cos_full {
                1.0
            } else {
                (cos_start - c) / (cos_start - cos_full)
            };
            let p_drop = p_graze + (1.0 - p_graze) * noise.dropout_rate;
            if p_drop > 0.0 && rng.random::<f64>() < p_drop {
                out[i] = 0.0;
            }
        }
    }
    let share = noise.fixed_pattern_share;
    let fixed = (share > 0.0 && noise.sigma_at_30cm_m > 0.0)
        .then(|| fixed_pattern(w, h, noise.fixed_pattern_cell_px, noise.fixed_pattern_seed));
    let (k_temporal, k_fixed) = ((1.0 - share).sqrt(), share.sqrt());
    for (i, d) in out.iter_mut().enumerate() {
        if *d <= 0.0 {
            continue;
        }
        let sigma = noise.sigma_at(*d);
        if sigma > 0.0 {
            let g: f64 = StandardNormal.sample(rng);
            let f = fixed.as_ref().map_or(0.0, |p| p[i]);
            *d += sigma * (k_temporal * g + k_fixed * f);
        }
        if let Some(q) = noise.quantisation_m {
            *d = (*d / q).round() * q;
        }
        if *d < noise.min_range_m || *d > noise.max_range_m || *d <= 0.0 {
            *d = 0.0;
        }
    }
    let depth: Vec<f32> = out.into_iter().map(|d| d as f32).collect();
    Ok(DepthFrame::from_metres(clean.width, clean.height, depth)?)
}

/// The image-locked fixed pattern: a unit-variance field, a deterministic function of the
/// image size, the cell size and the seed. Per-pixel Gaussian when `cell_px < 1`, otherwise
/// Gaussian values on a grid of `cell_px` spacing, bilinearly interpolated and rescaled to
/// unit variance.
pub fn fixed_pattern(w: usize, h: usize, cell_px: f64, seed: u64) -> Vec<f64> {
    let mut rng = Pcg64::seed_from_u64(seed);
    let mut g = || -> f64 { StandardNormal.sample(&mut rng) };
    if cell_px < 1.0 {
        return (0..w * h).map(|_| g()).collect();
    }
    let gw = (w as f64 / cell_px).ceil() as usize + 2;
    let gh = (h as f64 / cell_px).ceil() as usize + 2;
    let grid: Vec<f64> = (0..gw * gh).map(|_| g()).collect();
    // Bilinear interpolation of unit-variance nodes has mean variance (2/3)² over a cell.
    let norm = 1.5;
    let mut out = vec![0.0; w * h];
    for v in 0..h {
        let gy = v as f64 / cell_px;
        let (y0, fy) = (gy.floor() as usize, gy.fract());
        for u in 0..w {
            let gx = u as f64 / cell_px;
            let (x0, fx) = (gx.floor() as usize, gx.fract());
            let at = |x: usize, y: usize| grid[y * gw + x];
            out[v * w + u] = norm
                * ((at(x0, y0) * (1.0 - fx) + at(x0 + 1, y0) * fx) * (1.0 - fy)
                    + (at(x0, y0 + 1) * (1.0 - fx) + at(x0 + 1, y0 + 1) * fx) * fy);
        }
    }
    out
}

/// Renders `scene` as a depth frame seen by a camera with intrinsics `k` at
/// `camera_to_world`, through `noise`, drawing randomness from `rng`.
///
/// Invalid intrinsics, pose or noise parameters cannot produce an image: the result is
/// then a frame of `k`'s size with no depth, or a 1x1 empty frame if the size itself is
/// unusable. Use [`try_render_depth`] to get the error instead.
pub fn render_depth<R: Rng + ?Sized>(
    scene: &dyn Surface,
    k: &Intrinsics,
    camera_to_world: &Isometry3<f64>,
    noise: &NoiseModel,
    rng: &mut R,
) -> DepthFrame {
    match try_render_depth(scene, k, camera_to_world, noise, rng) {
        Ok(f) => f,
        Err(_) => {
            let (w, h) = match mandrel_core::frame::check_size(k.width, k.height) {
                Ok(()) => (k.width, k.height),
                Err(_) => (1, 1),
            };
            DepthFrame::from_metres(w, h, vec![0.0; w as usize * h as usize])
                .unwrap_or_else(|_| unreachable!("size checked above"))
        }
    }
}

/// [`render_depth`] with its errors: invalid intrinsics, pose or noise model.
pub fn try_render_depth<R: Rng + ?Sized>(
    scene: &dyn Surface,
    k: &Intrinsics,
    camera_to_world: &Isometry3<f64>,
    noise: &NoiseModel,
    rng: &mut R,
) -> Result<DepthFrame, SimError> {
    noise.validate()?;
    let clean = render_clean(scene, k, camera_to_world)?;
    apply_noise(&clean, noise, rng)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shapes::Plane;
    use rand_pcg::Pcg64;

    /// RMS over the image of the per-pixel mean of `n` noisy frames of a plane at 0.3 m.
    fn mean_rms(noise: &NoiseModel, n: usize) -> f64 {
        let k = Intrinsics::new(64, 48, 60.0, 60.0, 31.5, 23.5).expect("intrinsics");
        let plane = Plane::new(Point3::new(0.0, 0.0, 0.3), -Vector3::z()).expect("plane");
        let clean = render_clean(&plane, &k, &Isometry3::identity()).expect("render");
        let mut rng = Pcg64::seed_from_u64(3);
        let mut sum = vec![0.0; 64 * 48];
        for _ in 0..n {
            let f = apply_noise(&clean, noise, &mut rng).expect("noise");
            for (s, d) in sum.iter_mut().zip(f.depth_m()) {
                *s += *d as f64 - 0.3;
            }
        }
        (sum.iter().map(|s| (s / n as f64).powi(2)).sum::<f64>() / sum.len() as f64).sqrt()
    }

    #[test]
    fn the_fixed_share_survives_averaging_and_the_rest_does_not() {
        let base = NoiseModel {
            sigma_at_30cm_m: 0.001,
            quantisation_m: None,
            dropout_rate: 0.0,
            ..NoiseModel::truedepth()
        };
        let fixed = NoiseModel {
            fixed_pattern_share: 0.7,
            fixed_pattern_cell_px: 0.0,
            ..base.clone()
        };
        // 16 frames: white noise falls to σ/4, the fixed share stays at σ·√0.7.
        let white = mean_rms(&base, 16);
        let with_fixed = mean_rms(&fixed, 16);
        assert!((white - 0.00025).abs() < 0.00003, "{white}");
        let expect = 0.001 * (0.7f64 + 0.3 / 16.0).sqrt();
        assert!(
            (with_fixed - expect).abs() < 0.1 * expect,
            "{with_fixed} vs {expect}"
        );
        // One frame keeps the total σ either way.
        assert!((mean_rms(&fixed, 1) - 0.001).abs() < 0.0001);
    }

    #[test]
    fn the_smooth_pattern_has_unit_variance_and_a_bad_share_is_refused() {
        let p = fixed_pattern(200, 160, 8.0, 5);
        let var = p.iter().map(|x| x * x).sum::<f64>() / p.len() as f64;
        assert!((var - 1.0).abs() < 0.3, "{var}");
        assert_eq!(p, fixed_pattern(200, 160, 8.0, 5));
        let bad = NoiseModel {
            fixed_pattern_share: 1.5,
            ..NoiseModel::truedepth()
        };
        assert!(bad.validate().is_err());
    }
}
