//! The model side of ICP: a vertex and normal map in world coordinates, seen from a known
//! camera (a TSDF raycast, or a previous depth frame), used for projective data association.
//!
//! Guarantees: `points` and `normals` have `width * height` entries; a pixel either has a
//! finite world point with a finite unit normal, or its point is NaN (no surface).

use super::live::{build_pyramid, LiveParams};
use super::TrackError;
use crate::frame::{DepthFrame, Intrinsics};
use crate::fuse::TsdfVolume;
use nalgebra::{Isometry3, Point3, Vector3};

/// A model vertex/normal map in world coordinates, rendered from `camera_to_world` with `k`.
#[derive(Debug, Clone)]
pub struct ModelMap {
    /// Intrinsics of the rendering camera (also the map size).
    pub k: Intrinsics,
    /// Pose of the rendering camera (camera-to-world).
    pub camera_to_world: Isometry3<f64>,
    /// World points, row-major; NaN = no surface.
    pub points: Vec<Point3<f32>>,
    /// World unit normals, row-major (meaningless where the point is NaN).
    pub normals: Vec<Vector3<f32>>,
}

impl ModelMap {
    /// Wraps a rendered vertex/normal map, checking sizes and that every point with a
    /// surface also has a finite non-zero normal (which is renormalised).
    pub fn new(
        k: Intrinsics,
        camera_to_world: Isometry3<f64>,
        points: Vec<Point3<f32>>,
        mut normals: Vec<Vector3<f32>>,
    ) -> Result<Self, TrackError> {
        k.validate()?;
        crate::frame::pose::validate(&camera_to_world)?;
        let n = k.width as usize * k.height as usize;
        if points.len() != n || normals.len() != n {
            return Err(TrackError::ModelSize {
                points: points.len(),
                normals: normals.len(),
                width: k.width,
                height: k.height,
            });
        }
        let mut points = points;
        for (p, nrm) in points.iter_mut().zip(normals.iter_mut()) {
            if !(p.x.is_finite() && p.y.is_finite() && p.z.is_finite()) {
                *p = Point3::new(f32::NAN, f32::NAN, f32::NAN);
                continue;
            }
            let l = nrm.norm();
            if l.is_finite() && l > 1e-6 {
                *nrm /= l;
            } else {
                *p = Point3::new(f32::NAN, f32::NAN, f32::NAN);
            }
        }
        Ok(Self {
            k,
            camera_to_world,
            points,
            normals,
        })
    }

    /// A model map from one depth frame at a known pose (frame-to-frame tracking, tests):
    /// points and normals as the live pyramid computes them, edges and grazing pixels removed.
    pub fn from_depth(
        depth: &DepthFrame,
        k: &Intrinsics,
        camera_to_world: &Isometry3<f64>,
    ) -> Result<Self, TrackError> {
        k.validate()?;
        depth.check_matches(k)?;
        crate::frame::pose::validate(camera_to_world)?;
        let params = LiveParams {
            min_depth_m: 0.0,
            max_depth_m: f32::INFINITY,
            edge_jump_ratio: 0.03,
            min_view_cos: 0.1,
            levels: 1,
        };
        let n = k.width as usize * k.height as usize;
        let mut points = vec![Point3::new(f32::NAN, f32::NAN, f32::NAN); n];
        let mut normals = vec![Vector3::zeros(); n];
        let iso: Isometry3<f32> = nalgebra::convert(*camera_to_world);
        let pyr = build_pyramid(depth, k, &params);
        if let Some(level) = pyr.first() {
            for (p, nrm) in &level.points {
                let u = (p.x * k.fx as f32 / p.z + k.cx as f32).round();
                let v = (p.y * k.fy as f32 / p.z + k.cy as f32).round();
                if u >= 0.0 && v >= 0.0 && (u as u32) < k.width && (v as u32) < k.height {
                    let i = v as usize * k.width as usize + u as usize;
                    points[i] = iso * p;
                    normals[i] = iso * nrm;
                }
            }
        }
        Ok(Self {
            k: *k,
            camera_to_world: *camera_to_world,
            points,
            normals,
        })
    }

    /// The fused model as seen from `camera_to_world` (a TSDF raycast with intrinsics `k`).
    pub fn from_raycast(
        volume: &TsdfVolume,
        k: &Intrinsics,
        camera_to_world: &Isometry3<f64>,
    ) -> Result<Self, TrackError> {
        let img = volume.try_raycast(k, camera_to_world)?;
        Self::new(*k, *camera_to_world, img.points, img.normals)
    }

    /// Number of pixels with a surface.
    pub fn surface_pixels(&self) -> usize {
        self.points.iter().filter(|p| p.x.is_finite()).count()
    }

    /// Point and normal at pixel (u, v), if it has a surface.
    #[inline]
    pub(crate) fn at(&self, u: usize, v: usize) -> Option<(Point3<f32>, Vector3<f32>)> {
        let i = v * self.k.width as usize + u;
        let p = self.points.get(i)?;
        if p.x.is_finite() {
            Some((*p, *self.normals.get(i)?))
        } else {
            None
        }
    }
}
