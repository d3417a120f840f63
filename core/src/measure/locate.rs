//! Finding the target finger's MCP and PIP joint centres in world coordinates.
//!
//! From 2D landmarks ([`from_landmarks`]): every frame with a pose and landmarks contributes
//! one back-projected ray per joint; the joint is the robust least-squares intersection of
//! those rays (iteratively reweighted, Tukey biweight on the ray distance, outliers beyond
//! three robust sigmas dropped and counted). Because a landmark marks the joint centre, not
//! the skin, the rays meet inside the finger. Depth sampled at the landmark (the skin seen
//! along the ray) is kept per view and used only as a sanity check and, when the rays do not
//! spread enough to intersect (all views nearly parallel), as a fallback along the weak
//! direction (skin depth plus a typical finger half-thickness).
//!
//! Guarantees: no panic on any input; a result always has finite coordinates, a joint
//! separation in the anatomical range [`MIN_AXIS_LENGTH_M`, `MAX_AXIS_LENGTH_M`], and a
//! 1-sigma position uncertainty computed from the residuals of the rays actually used.

pub mod geometric;

use crate::frame::{DepthFrame, Intrinsics, Landmarks, LANDMARK_COUNT};
use crate::hand::Finger;
use crate::numeric::{tukey_weight, upper_median, TUKEY_C};
use nalgebra::{Isometry3, Matrix3, Point2, Point3, SymmetricEigen, Vector3};
use serde::{Deserialize, Serialize};

/// Shortest plausible MCP→PIP distance (metres): a small child's little finger.
pub const MIN_AXIS_LENGTH_M: f64 = 0.018;
/// Longest plausible MCP→PIP distance (metres): a large adult's middle finger, with margin.
pub const MAX_AXIS_LENGTH_M: f64 = 0.075;
/// Typical distance from the skin facing the camera to a finger joint centre (metres), used
/// only by the depth fallback.
pub const TYPICAL_JOINT_DEPTH_M: f64 = 0.008;

/// Errors from finger localisation.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum LocateError {
    /// No frame carried both landmarks and a pose.
    #[error("no frame has both hand landmarks and a camera pose; cannot locate the finger from landmarks")]
    NoLandmarkViews,
    /// Too few usable views of a joint.
    #[error("{joint} joint seen in {views} usable view(s); at least {needed} are needed")]
    TooFewViews {
        /// "MCP" or "PIP".
        joint: &'static str,
        /// Views available after outlier rejection.
        views: usize,
        /// Minimum required.
        needed: usize,
    },
    /// The rays do not determine a point and no depth was available to fall back on.
    #[error("{joint} joint: views are too nearly parallel to triangulate and no depth at the landmark to fall back on")]
    Degenerate {
        /// "MCP" or "PIP".
        joint: &'static str,
    },
    /// The located joints are anatomically implausible.
    #[error("located MCP→PIP distance {length_mm:.1} mm is outside the plausible {min_mm:.0}–{max_mm:.0} mm")]
    ImplausibleAxis {
        /// Measured distance, millimetres.
        length_mm: f64,
        /// Lower bound, millimetres.
        min_mm: f64,
        /// Upper bound, millimetres.
        max_mm: f64,
    },
    /// Geometric (landmark-free) search found no finger matching the target.
    #[error("no finger found geometrically: {0}")]
    NotFound(String),
}

/// How a finger was located.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum LocateMethod {
    /// Multi-view triangulation of 2D landmarks.
    Landmarks,
    /// Landmark rays with the depth fallback along a poorly constrained direction.
    LandmarksWithDepth,
    /// Geometric detection of finger segments on the fused surface, no landmarks.
    Geometric,
}

/// One frame's contribution to landmark localisation: camera, landmarks, and the depth
/// (metres, `None` = no depth) sampled at each landmark, so the depth image itself can be
/// dropped.
#[derive(Debug, Clone, PartialEq)]
pub struct LandmarkView {
    /// Camera-to-world pose of the frame.
    pub camera_to_world: Isometry3<f64>,
    /// Intrinsics of the frame.
    pub intrinsics: Intrinsics,
    /// The 2D landmarks (pixels).
    pub landmarks: Landmarks,
    /// Depth at each landmark: median of valid samples in a 5x5 window, metres.
    pub depth_at_landmark_m: [Option<f32>; LANDMARK_COUNT],
}

impl LandmarkView {
    /// Builds a view, sampling `depth` (which must match `intrinsics`) around each landmark.
    pub fn new(
        camera_to_world: Isometry3<f64>,
        intrinsics: Intrinsics,
        landmarks: Landmarks,
        depth: Option<&DepthFrame>,
    ) -> Self {
        let mut depth_at_landmark_m = [None; LANDMARK_COUNT];
        if let Some(d) = depth {
            if d.width() == intrinsics.width && d.height() == intrinsics.height {
                for (slot, p) in depth_at_landmark_m.iter_mut().zip(landmarks.points()) {
                    *slot = median_depth(d, p, 2);
                }
            }
        }
        Self {
            camera_to_world,
            intrinsics,
            landmarks,
            depth_at_landmark_m,
        }
    }

    /// World-space ray (origin, unit direction) through landmark `index`.
    fn ray(&self, index: usize) -> Option<(Point3<f64>, Vector3<f64>)> {
        let p = self.landmarks.points().get(index)?;
        let dir_cam = self.intrinsics.ray(p.x, p.y);
        let dir = self.camera_to_world.rotation * dir_cam;
        let origin = Point3::from(self.camera_to_world.translation.vector);
        if dir.iter().all(|v| v.is_finite()) && origin.iter().all(|v| v.is_finite()) {
            Some((origin, dir))
        } else {
            None
        }
    }

    /// World-space skin point seen at landmark `index`, if depth was sampled there.
    fn skin_point(&self, index: usize) -> Option<Point3<f64>> {
        let z = (*self.depth_at_landmark_m.get(index)?)? as f64;
        let p = self.landmarks.points().get(index)?;
        Some(self.camera_to_world * self.intrinsics.unproject(p.x, p.y, z))
    }
}

/// Median of the valid depths in a `(2r+1)^2` window around `p`; `None` if the window is
/// off-image or has fewer than a third valid samples.
fn median_depth(d: &DepthFrame, p: &Point2<f64>, r: i64) -> Option<f32> {
    let (w, h) = (d.width() as i64, d.height() as i64);
    let (cu, cv) = (p.x.round(), p.y.round());
    if !cu.is_finite() || !cv.is_finite() {
        return None;
    }
    let (cu, cv) = (cu as i64, cv as i64);
    let mut vals = Vec::with_capacity(((2 * r + 1) * (2 * r + 1)) as usize);
    for v in (cv - r)..=(cv + r) {
        for u in (cu - r)..=(cu + r) {
            if u >= 0 && v >= 0 && u < w && v < h {
                let z = d.at(u as u32, v as u32);
                if z > 0.0 && z.is_finite() {
                    vals.push(z);
                }
            }
        }
    }
    let n = ((2 * r + 1) * (2 * r + 1)) as usize;
    if vals.len() * 3 < n {
        return None;
    }
    vals.sort_by(|a, b| a.total_cmp(b));
    vals.get(vals.len() / 2).copied()
}

/// Tuning of landmark localisation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LocateConfig {
    /// Fewest views of a joint to triangulate it.
    pub min_views: usize,
    /// Floor on the robust residual scale (metres): landmark noise is never assumed below it.
    pub min_sigma_m: f64,
    /// Smallest eigenvalue of the mean ray-projection matrix below which the rays are too
    /// parallel (≈ sin² of the angular spread) and the depth fallback is used.
    pub min_ray_spread: f64,
    /// IRLS iterations.
    pub iterations: usize,
}

impl Default for LocateConfig {
    fn default() -> Self {
        Self {
            min_views: 3,
            min_sigma_m: 0.0002,
            min_ray_spread: 0.004,
            iterations: 12,
        }
    }
}

/// A located joint centre.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct JointEstimate {
    /// World position, metres.
    pub position: Point3<f64>,
    /// 1-sigma position uncertainty (root of the covariance trace), metres.
    pub sigma_m: f64,
    /// Robust scale of the ray-to-point distances, metres.
    pub ray_residual_m: f64,
    /// Views used.
    pub views_used: usize,
    /// Views rejected as outliers.
    pub views_rejected: usize,
    /// Median signed distance along the rays from the skin seen at the landmark to the
    /// joint (metres; positive = joint behind the skin, as it should be). `None` without depth.
    pub depth_behind_skin_m: Option<f64>,
}

/// The target finger's joint centres.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LocatedFinger {
    /// MCP joint (thumb: MCP).
    pub mcp: JointEstimate,
    /// PIP joint (thumb: IP).
    pub pip: JointEstimate,
    /// How it was found.
    pub method: LocateMethod,
}

impl LocatedFinger {
    /// MCP→PIP distance, metres.
    pub fn axis_length_m(&self) -> f64 {
        (self.pip.position - self.mcp.position).norm()
    }
    /// Unit direction MCP→PIP.
    pub fn direction(&self) -> Vector3<f64> {
        (self.pip.position - self.mcp.position).normalize()
    }
    /// Ring position: halfway MCP→PIP.
    pub fn ring_point(&self) -> Point3<f64> {
        nalgebra::center(&self.mcp.position, &self.pip.position)
    }
    /// 1-sigma uncertainty of the axis direction, radians (from both joints' sigmas).
    pub fn direction_sigma_rad(&self) -> f64 {
        let l = self.axis_length_m().max(1e-6);
        (self.mcp.sigma_m.powi(2) + self.pip.sigma_m.powi(2)).sqrt() / l
    }
}

/// Locates `finger`'s MCP and PIP from landmark views.
pub fn from_landmarks(
    views: &[LandmarkView],
    finger: Finger,
    config: &LocateConfig,
) -> Result<LocatedFinger, LocateError> {
    if views.is_empty() {
        return Err(LocateError::NoLandmarkViews);
    }
    let (mcp_i, pip_i) = finger.mcp_pip_landmarks();
    let (mcp, m_fb) = locate_joint(views, mcp_i, "MCP", config)?;
    let (pip, p_fb) = locate_joint(views, pip_i, "PIP", config)?;
    let found = LocatedFinger {
        mcp,
        pip,
        method: if m_fb || p_fb {
            LocateMethod::LandmarksWithDepth
        } else {
            LocateMethod::Landmarks
        },
    };
    check_plausible(&found)?;
    Ok(found)
}

/// Checks the joint separation is anatomically plausible and coordinates are finite.
pub fn check_plausible(found: &LocatedFinger) -> Result<(), LocateError> {
    let l = found.axis_length_m();
    if !l.is_finite() || !(MIN_AXIS_LENGTH_M..=MAX_AXIS_LENGTH_M).contains(&l) {
        return Err(LocateError::ImplausibleAxis {
            length_mm: l * 1000.0,
            min_mm: MIN_AXIS_LENGTH_M * 1000.0,
            max_mm: MAX_AXIS_LENGTH_M * 1000.0,
        });
    }
    Ok(())
}

struct Ray {
    origin: Point3<f64>,
    dir: Vector3<f64>,
    skin: Option<Point3<f64>>,
}

fn locate_joint(
    views: &[LandmarkView],
    index: usize,
    joint: &'static str,
    config: &LocateConfig,
) -> Result<(JointEstimate, bool), LocateError> {
    let rays: Vec<Ray> = views
        .iter()
        .filter_map(|v| {
            let (origin, dir) = v.ray(index)?;
            Some(Ray {
                origin,
                dir,
                skin: v.skin_point(index),
            })
        })
        .collect();
    let needed = config.min_views.max(1);
    if rays.len() < needed {
        return Err(LocateError::TooFewViews {
            joint,
            views: rays.len(),
            needed,
        });
    }
    triangulate(&rays, joint, config)
}

/// Ray-to-point perpendicular distance.
fn ray_distance(r: &Ray, p: &Point3<f64>) -> f64 {
    let d = p - r.origin;
    (d - r.dir * d.dot(&r.dir)).norm()
}

/// Weighted normal equations: A = Σ w (I - d dᵀ), b = Σ w (I - d dᵀ) o.
fn normal_equations(rays: &[Ray], w: &[f64]) -> (Matrix3<f64>, Vector3<f64>, f64) {
    let mut a = Matrix3::zeros();
    let mut b = Vector3::zeros();
    let mut sw = 0.0;
    for (r, &wi) in rays.iter().zip(w) {
        if wi <= 0.0 {
            continue;
        }
        let m = Matrix3::identity() - r.dir * r.dir.transpose();
        a += m * wi;
        b += m * r.origin.coords * wi;
        sw += wi;
    }
    (a, b, sw)
}

/// [`upper_median`] of `v`, NaN when empty (callers check finiteness where it matters).
fn median(v: &mut [f64]) -> f64 {
    upper_median(v).unwrap_or(f64::NAN)
}

fn triangulate(
    rays: &[Ray],
    joint: &'static str,
    config: &LocateConfig,
) -> Result<(JointEstimate, bool), LocateError> {
    let n = rays.len();
    let mut used_fallback = false;
    // Robust start: the pairwise closest point with the smallest median ray distance, so a
    // few grossly wrong landmarks cannot pull the start into a wrong basin.
    let (mut p, mut sigma) = match robust_start(rays) {
        Some(p) => {
            let mut res: Vec<f64> = rays.iter().map(|r| ray_distance(r, &p)).collect();
            (p, (1.4826 * median(&mut res)).max(config.min_sigma_m))
        }
        None => {
            let w = vec![1.0; n];
            let (a, b, sw) = normal_equations(rays, &w);
            let (p, fb) = solve_with_fallback(&a, &b, sw, rays, &w, config)
                .ok_or(LocateError::Degenerate { joint })?;
            used_fallback = fb;
            let mut res: Vec<f64> = rays.iter().map(|r| ray_distance(r, &p)).collect();
            (p, (1.4826 * median(&mut res)).max(config.min_sigma_m))
        }
    };
    for _ in 0..config.iterations.max(1) {
        let w: Vec<f64> = rays
            .iter()
            .map(|r| tukey_weight(ray_distance(r, &p), TUKEY_C * sigma))
            .collect();
        let (a, b, sw) = normal_equations(rays, &w);
        if sw <= 0.0 {
            break;
        }
        let (np, fb) = solve_with_fallback(&a, &b, sw, rays, &w, config)
            .ok_or(LocateError::Degenerate { joint })?;
        used_fallback = fb;
        p = np;
        let mut res: Vec<f64> = rays.iter().map(|r| ray_distance(r, &p)).collect();
        sigma = (1.4826 * median(&mut res)).max(config.min_sigma_m);
    }
    // Final inlier set: within 3 robust sigmas.
    let inlier: Vec<bool> = rays
        .iter()
        .map(|r| ray_distance(r, &p) <= 3.0 * sigma)
        .collect();
    let used = inlier.iter().filter(|&&b| b).count();
    let needed = config.min_views.max(1);
    if used < needed {
        return Err(LocateError::TooFewViews {
            joint,
            views: used,
            needed,
        });
    }
    let w_in: Vec<f64> = inlier.iter().map(|&b| if b { 1.0 } else { 0.0 }).collect();
    let (a, b, sw) = normal_equations(rays, &w_in);
    let (p_final, fb) = solve_with_fallback(&a, &b, sw, rays, &w_in, config)
        .ok_or(LocateError::Degenerate { joint })?;
    used_fallback |= fb;
    let mut res: Vec<f64> = rays
        .iter()
        .zip(&inlier)
        .filter(|(_, &i)| i)
        .map(|(r, _)| ray_distance(r, &p_final))
        .collect();
    // Residual scale: RMS of inlier distances (each has two perpendicular components).
    let rms = (res.iter().map(|r| r * r).sum::<f64>() / (2.0 * used as f64).max(1.0)).sqrt();
    let s = rms.max(config.min_sigma_m);
    let ray_residual_m = 1.4826 * median(&mut res);
    // Covariance ≈ s² A⁻¹ (A built with unit weights over inliers).
    let sigma_m = match a.try_inverse() {
        Some(ai) if !fb => (s * s * ai.trace()).max(0.0).sqrt(),
        _ => {
            // Fallback: the weak direction is pinned by depth only; its error is dominated by
            // the unknown skin-to-joint distance (about half a finger radius).
            (s * s * 2.0 / used as f64 + (0.5 * TYPICAL_JOINT_DEPTH_M).powi(2)).sqrt()
        }
    };
    let mut behind: Vec<f64> = rays
        .iter()
        .zip(&inlier)
        .filter(|(_, &i)| i)
        .filter_map(|(r, _)| Some((p_final - r.skin?).dot(&r.dir)))
        .collect();
    let depth_behind_skin_m = if behind.is_empty() {
        None
    } else {
        Some(median(&mut behind))
    };
    if !p_final.iter().all(|v| v.is_finite()) || !sigma_m.is_finite() {
        return Err(LocateError::Degenerate { joint });
    }
    Ok((
        JointEstimate {
            position: p_final,
            sigma_m,
            ray_residual_m: if ray_residual_m.is_finite() {
                ray_residual_m
            } else {
                0.0
            },
            views_used: used,
            views_rejected: n - used,
            depth_behind_skin_m,
        },
        used_fallback,
    ))
}

/// Closest point between two rays (midpoint of the common perpendicular); `None` if the
/// rays are within ~3 degrees of parallel.
fn pair_point(a: &Ray, b: &Ray) -> Option<Point3<f64>> {
    let c = a.dir.dot(&b.dir);
    let denom = 1.0 - c * c;
    if denom < 0.003 {
        return None;
    }
    let w0 = a.origin - b.origin;
    let (d, e) = (a.dir.dot(&w0), b.dir.dot(&w0));
    let s = (c * e - d) / denom;
    let t = (e - c * d) / denom;
    let pa = a.origin + a.dir * s;
    let pb = b.origin + b.dir * t;
    Some(nalgebra::center(&pa, &pb))
}

/// Best pairwise intersection by median ray distance over all rays (at most ~400 pairs).
fn robust_start(rays: &[Ray]) -> Option<Point3<f64>> {
    let n = rays.len();
    if n < 2 {
        return None;
    }
    let stride = (n / 20).max(1);
    let mut best: Option<(f64, Point3<f64>)> = None;
    let mut res = Vec::with_capacity(n);
    for i in (0..n).step_by(stride) {
        for j in ((i + 1)..n).step_by(stride) {
            let Some(p) = pair_point(&rays[i], &rays[j]) else {
                continue;
            };
            if !p.iter().all(|v| v.is_finite()) {
                continue;
            }
            res.clear();
            res.extend(rays.iter().map(|r| ray_distance(r, &p)));
            let m = median(&mut res);
            if best.as_ref().is_none_or(|(bm, _)| m < *bm) {
                best = Some((m, p));
            }
        }
    }
    best.map(|(_, p)| p)
}

/// Solves `A p = b`; if the rays are too parallel (smallest eigenvalue of A/Σw below the
/// configured spread), pins the weak direction with the depth-based estimate (median over
/// views of skin point + typical joint depth along the ray). Returns the point and whether
/// the fallback was used; `None` if neither works.
fn solve_with_fallback(
    a: &Matrix3<f64>,
    b: &Vector3<f64>,
    sw: f64,
    rays: &[Ray],
    w: &[f64],
    config: &LocateConfig,
) -> Option<(Point3<f64>, bool)> {
    let eig = SymmetricEigen::new(a / sw);
    let (imin, lmin) = eig
        .eigenvalues
        .iter()
        .copied()
        .enumerate()
        .min_by(|x, y| x.1.total_cmp(&y.1))?;
    if lmin >= config.min_ray_spread {
        let p = a.lu().solve(b)?;
        return Some((Point3::from(p), false));
    }
    // Depth prior: per-ray candidate joint positions.
    let mut cands: Vec<Point3<f64>> = rays
        .iter()
        .zip(w)
        .filter(|(_, &wi)| wi > 0.0)
        .filter_map(|(r, _)| Some(r.skin? + r.dir * TYPICAL_JOINT_DEPTH_M))
        .collect();
    if cands.is_empty() {
        return None;
    }
    let prior = Point3::new(
        median(&mut cands.iter().map(|c| c.x).collect::<Vec<_>>()),
        median(&mut cands.iter().map(|c| c.y).collect::<Vec<_>>()),
        median(&mut cands.iter().map(|c| c.z).collect::<Vec<_>>()),
    );
    cands.clear();
    // Regularise: add a strong spring toward the prior along the weak eigenvector only.
    let v = eig.eigenvectors.column(imin).into_owned();
    let k = sw * config.min_ray_spread * 10.0;
    let a2 = a + v * v.transpose() * k;
    let b2 = b + v * v.dot(&prior.coords) * k;
    let p = a2.lu().solve(&b2)?;
    Some((Point3::from(p), true))
}

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::{Translation3, UnitQuaternion};

    fn k() -> Intrinsics {
        Intrinsics::new(640, 480, 590.0, 590.0, 319.5, 239.5).unwrap()
    }

    fn look_at(eye: Point3<f64>, target: Point3<f64>) -> Isometry3<f64> {
        // OpenCV camera: z forward, y down.
        let z = (target - eye).normalize();
        let up = Vector3::new(0.0, 0.0, 1.0);
        let x = up.cross(&z).normalize();
        let y = z.cross(&x);
        let r = nalgebra::Rotation3::from_basis_unchecked(&[x, y, z]);
        Isometry3::from_parts(
            Translation3::from(eye.coords),
            UnitQuaternion::from_rotation_matrix(&r),
        )
    }

    /// Deterministic noise in [-1, 1] (splitmix64 hash), independent across seeds.
    fn hash_noise(seed: u64) -> f64 {
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
    }

    fn views_for(mcp: Point3<f64>, pip: Point3<f64>, n: usize, noise_px: f64) -> Vec<LandmarkView> {
        let mut out = vec![];
        for i in 0..n {
            let a = i as f64 / n as f64 * 2.0;
            let eye = Point3::new(0.3 * a.cos(), 0.3 * a.sin(), 0.05);
            let pose = look_at(eye, Point3::origin());
            let inv = pose.inverse();
            let mut pts = [[0.0; 2]; LANDMARK_COUNT];
            for (j, p) in pts.iter_mut().enumerate() {
                let world = if j == 13 { mcp } else { pip };
                let c = inv * world;
                let px = k().project(&c).unwrap();
                // Deterministic pseudo-noise.
                let s = hash_noise((i * 64 + j) as u64);
                let t = hash_noise((i * 64 + j) as u64 + 10_000);
                *p = [px.x + noise_px * s, px.y + noise_px * t];
            }
            out.push(LandmarkView::new(
                pose,
                k(),
                Landmarks::new(&pts).unwrap(),
                None,
            ));
        }
        out
    }

    #[test]
    fn triangulates_exact_rays() {
        let mcp = Point3::new(0.01, -0.02, 0.0);
        let pip = Point3::new(0.02, 0.02, 0.005);
        let v = views_for(mcp, pip, 12, 0.0);
        let f = from_landmarks(&v, Finger::Ring, &LocateConfig::default()).unwrap();
        assert!((f.mcp.position - mcp).norm() < 1e-6);
        assert!((f.pip.position - pip).norm() < 1e-6);
        assert_eq!(f.method, LocateMethod::Landmarks);
    }

    #[test]
    fn rejects_outlier_views() {
        let mcp = Point3::new(0.0, -0.02, 0.0);
        let pip = Point3::new(0.0, 0.02, 0.0);
        let mut v = views_for(mcp, pip, 15, 1.0);
        // Corrupt three views grossly (30 px).
        for view in v.iter_mut().take(3) {
            let mut pts: Vec<[f64; 2]> =
                view.landmarks.points().iter().map(|p| [p.x, p.y]).collect();
            pts[13][0] += 30.0;
            pts[14][1] -= 30.0;
            view.landmarks = Landmarks::new(&pts).unwrap();
        }
        let f = from_landmarks(&v, Finger::Ring, &LocateConfig::default()).unwrap();
        assert!((f.mcp.position - mcp).norm() < 0.0008, "{:?}", f.mcp);
        assert!((f.pip.position - pip).norm() < 0.0008, "{:?}", f.pip);
        assert!(f.mcp.views_rejected >= 3 && f.pip.views_rejected >= 3);
        assert!(f.mcp.sigma_m > 0.0 && f.mcp.sigma_m < 0.002);
    }

    #[test]
    fn errors_are_typed() {
        assert_eq!(
            from_landmarks(&[], Finger::Ring, &LocateConfig::default()),
            Err(LocateError::NoLandmarkViews)
        );
        let v = views_for(Point3::origin(), Point3::new(0.0, 0.03, 0.0), 2, 0.0);
        assert!(matches!(
            from_landmarks(&v, Finger::Ring, &LocateConfig::default()),
            Err(LocateError::TooFewViews { .. })
        ));
        // Implausible: joints 1 mm apart.
        let v = views_for(Point3::origin(), Point3::new(0.0, 0.001, 0.0), 8, 0.0);
        assert!(matches!(
            from_landmarks(&v, Finger::Ring, &LocateConfig::default()),
            Err(LocateError::ImplausibleAxis { .. })
        ));
    }

    #[test]
    fn parallel_rays_without_depth_are_degenerate() {
        // All views from the same camera: rays through one point are parallel.
        let pose = look_at(Point3::new(0.3, 0.0, 0.0), Point3::origin());
        let mut pts = [[320.0, 240.0]; LANDMARK_COUNT];
        pts[14] = [320.0, 200.0];
        let v: Vec<_> = (0..5)
            .map(|_| LandmarkView::new(pose, k(), Landmarks::new(&pts).unwrap(), None))
            .collect();
        assert_eq!(
            from_landmarks(&v, Finger::Ring, &LocateConfig::default()),
            Err(LocateError::Degenerate { joint: "MCP" })
        );
    }

    #[test]
    fn parallel_rays_with_depth_use_the_fallback() {
        let pose = look_at(Point3::new(0.3, 0.0, 0.0), Point3::origin());
        let mut pts = [[319.5, 239.5]; LANDMARK_COUNT];
        pts[14] = [319.5, 179.5];
        let mut depth = vec![0.0f32; 640 * 480];
        for d in depth.iter_mut() {
            *d = 0.292;
        }
        let d = DepthFrame::from_metres(640, 480, depth).unwrap();
        let v: Vec<_> = (0..5)
            .map(|_| LandmarkView::new(pose, k(), Landmarks::new(&pts).unwrap(), Some(&d)))
            .collect();
        let f = from_landmarks(&v, Finger::Ring, &LocateConfig::default()).unwrap();
        assert_eq!(f.method, LocateMethod::LandmarksWithDepth);
        // Skin at 0.292 m along the optical axis + 8 mm → joint at the origin.
        assert!(
            (f.mcp.position - Point3::origin()).norm() < 1e-6,
            "{:?}",
            f.mcp.position
        );
        assert!(f.mcp.sigma_m >= 0.004);
    }
}
