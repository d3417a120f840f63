//! The model side of ICP: a vertex and normal map in world coordinates, seen from a known
//! camera (a TSDF raycast, or a previous depth frame), used for projective data association.
//!
//! Guarantees: `points` and `normals` have `width * height` entries; a pixel either has a
//! finite world point with a finite unit normal, or its point is NaN (no surface).

#[cfg(any(test, feature = "internals"))]
use super::live::{build_pyramid, LiveParams};
use super::TrackError;
#[cfg(any(test, feature = "internals"))]
use crate::frame::{DepthFrame, DepthView};
use crate::frame::{Intrinsics, ValidIntrinsics};
use crate::fuse::{Caster, TsdfVolume};
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
    #[cfg(any(test, feature = "internals"))]
    pub fn new(
        k: Intrinsics,
        camera_to_world: Isometry3<f64>,
        points: Vec<Point3<f32>>,
        normals: Vec<Vector3<f32>>,
    ) -> Result<Self, TrackError> {
        k.validate()?;
        crate::frame::pose::validate(&camera_to_world)?;
        Self::wrap(k, camera_to_world, points, normals)
    }

    /// [`ModelMap::new`] for intrinsics and a pose checked already (a raycast's).
    #[cfg(any(test, feature = "internals"))]
    fn wrap(
        k: Intrinsics,
        camera_to_world: Isometry3<f64>,
        points: Vec<Point3<f32>>,
        mut normals: Vec<Vector3<f32>>,
    ) -> Result<Self, TrackError> {
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
            clean(p, nrm);
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
    #[cfg(any(test, feature = "internals"))]
    pub fn from_depth(
        depth: &DepthFrame,
        k: &Intrinsics,
        camera_to_world: &Isometry3<f64>,
    ) -> Result<Self, TrackError> {
        DepthView::new(depth, k)?;
        crate::frame::pose::validate(camera_to_world)?;
        let params = LiveParams {
            min_depth_m: 0.0,
            max_depth_m: f32::INFINITY,
            edge_jump_ratio: 0.03,
            min_view_cos: 0.1,
            levels: 1,
            first_level: 0,
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
    #[cfg(any(test, feature = "internals"))]
    pub fn from_raycast(
        volume: &TsdfVolume,
        k: &Intrinsics,
        camera_to_world: &Isometry3<f64>,
    ) -> Result<Self, TrackError> {
        let img = volume.try_raycast(k, camera_to_world)?;
        Self::wrap(*k, *camera_to_world, img.points, img.normals)
    }

    /// Sets pixel `i` (cleaned as [`ModelMap::new`] does).
    fn set(&mut self, i: usize, mut p: Point3<f32>, mut n: Vector3<f32>) {
        clean(&mut p, &mut n);
        if let (Some(pp), Some(nn)) = (self.points.get_mut(i), self.normals.get_mut(i)) {
            *pp = p;
            *nn = n;
        }
    }

    /// Number of pixels with a surface.
    pub fn surface_pixels(&self) -> usize {
        self.points.iter().filter(|p| p.x.is_finite()).count()
    }

    /// The model pixel a camera-frame live point `p` projects to under `to_model` (live
    /// camera to model camera), if inside the image.
    #[inline]
    pub(crate) fn project(
        &self,
        to_model: &Isometry3<f32>,
        p: &Point3<f32>,
    ) -> Option<(usize, usize)> {
        let k = &self.k;
        let pm = to_model * p;
        if pm.z <= 0.0 {
            return None;
        }
        let u = k.fx as f32 * pm.x / pm.z + k.cx as f32 + 0.5;
        let v = k.fy as f32 * pm.y / pm.z + k.cy as f32 + 0.5;
        // floor(x) >= 0 iff x >= 0 and floor(x) < n iff x < n (n an integer); then floor is
        // truncation (no libm call). NaN fails the test.
        if !(u >= 0.0 && v >= 0.0 && u < k.width as f32 && v < k.height as f32) {
            return None;
        }
        Some((u as usize, v as usize))
    }

    /// Point and normal at pixel (u, v), if it has a surface.
    #[inline]
    pub(crate) fn at(&self, u: usize, v: usize) -> Option<(Point3<f32>, Vector3<f32>)> {
        self.at_index(v * self.k.width as usize + u)
    }

    /// Point and normal at row-major pixel index `i`, if it has a surface.
    #[inline]
    pub(crate) fn at_index(&self, i: usize) -> Option<(Point3<f32>, Vector3<f32>)> {
        let p = self.points.get(i)?;
        if p.x.is_finite() {
            Some((*p, *self.normals.get(i)?))
        } else {
            None
        }
    }
}

/// A NaN point (no surface) unless `p` is finite and `n` a usable normal (renormalised).
fn clean(p: &mut Point3<f32>, nrm: &mut Vector3<f32>) {
    if !(p.x.is_finite() && p.y.is_finite() && p.z.is_finite()) {
        *p = Point3::new(f32::NAN, f32::NAN, f32::NAN);
        return;
    }
    let l = nrm.norm();
    if l.is_finite() && l > 1e-6 {
        *nrm /= l;
    } else {
        *p = Point3::new(f32::NAN, f32::NAN, f32::NAN);
    }
}

/// A raycast model map rendered on demand: a pixel is cast the first time it is needed,
/// so the map reads exactly as a full [`ModelMap::from_raycast`] wherever it is read.
pub(crate) struct LazyModel<'a> {
    /// The map; pixels not cast yet read as "no surface".
    pub map: ModelMap,
    caster: Option<Caster<'a>>,
    /// Per pixel: cast already.
    done: Vec<bool>,
    /// Per pixel: to cast now (scratch of [`LazyModel::cast_pixels`]).
    need: Vec<bool>,
    /// Pixels cast so far.
    pub cast_count: usize,
}

impl<'a> LazyModel<'a> {
    /// A lazy raycast of `volume` from `camera_to_world` with intrinsics `k`, nothing cast
    /// yet; reuses the given buffers.
    pub fn new(
        volume: &'a TsdfVolume,
        k: ValidIntrinsics,
        camera_to_world: Isometry3<f64>,
        mut points: Vec<Point3<f32>>,
        mut normals: Vec<Vector3<f32>>,
        mut done: Vec<bool>,
    ) -> Result<Self, TrackError> {
        let caster = Caster::new(volume, k, &camera_to_world)?;
        let n = k.width as usize * k.height as usize;
        let nan = f32::NAN;
        points.clear();
        points.resize(n, Point3::new(nan, nan, nan));
        normals.clear();
        normals.resize(n, Vector3::new(nan, nan, nan));
        done.clear();
        done.resize(n, caster.is_none());
        Ok(Self {
            map: ModelMap {
                k: *k,
                camera_to_world,
                points,
                normals,
            },
            caster,
            done,
            need: Vec::new(),
            cast_count: 0,
        })
    }

    /// Gives back the buffers for reuse.
    pub fn into_buffers(self) -> (Vec<Point3<f32>>, Vec<Vector3<f32>>, Vec<bool>) {
        (self.map.points, self.map.normals, self.done)
    }

    fn cast(&mut self, i: usize) {
        if self.done.get(i) != Some(&false) {
            return;
        }
        self.done[i] = true;
        self.cast_count += 1;
        let w = self.map.k.width as usize;
        if let Some(c) = self.caster.as_mut() {
            if let Some((p, n, _)) = c.cast(i % w, i / w) {
                self.map.set(i, p, n);
            }
        }
    }

    /// Casts every pixel flagged in `mask` (one flag per pixel), rows in parallel (each
    /// pixel's result is independent of the others, so the map does not depend on threads).
    pub fn cast_mask(&mut self, mask: &[bool]) {
        use rayon::prelude::*;
        let Some(caster) = self.caster.as_ref() else {
            return;
        };
        let w = self.map.k.width as usize;
        if w == 0 || mask.len() != self.done.len() {
            return;
        }
        let counts: Vec<usize> = self
            .map
            .points
            .par_chunks_mut(w)
            .zip(self.map.normals.par_chunks_mut(w))
            .zip(self.done.par_chunks_mut(w))
            .zip(mask.par_chunks(w))
            .enumerate()
            .map(|(v, (((pts, nrm), done), m))| {
                let mut c = caster.clone();
                let mut n = 0;
                for u in 0..w {
                    if m[u] && !done[u] {
                        done[u] = true;
                        n += 1;
                        if let Some((mut p, mut q, _)) = c.cast(u, v) {
                            clean(&mut p, &mut q);
                            pts[u] = p;
                            nrm[u] = q;
                        }
                    }
                }
                n
            })
            .collect();
        self.cast_count += counts.iter().sum::<usize>();
    }

    /// Casts every pixel not cast yet (the map is then a full raycast).
    pub fn cast_all(&mut self) {
        for i in 0..self.done.len() {
            self.cast(i);
        }
    }

    /// Casts the row-major pixels listed in `pix` (entries beyond the image, such as the
    /// sentinels of [`super::icp::pair_pixels`], are ignored) that are not cast yet, in
    /// parallel rows as [`LazyModel::cast_mask`]: a pixel's result does not depend on when
    /// or by which thread it is cast.
    pub fn cast_pixels(&mut self, pix: &[u32]) {
        let n = self.done.len();
        let pending = |i: u32| (i as usize) < n && !self.done[i as usize];
        if !pix.iter().any(|&i| pending(i)) {
            return;
        }
        let mut need = std::mem::take(&mut self.need);
        need.clear();
        need.resize(self.done.len(), false);
        for &i in pix {
            if (i as usize) < n && !self.done[i as usize] {
                need[i as usize] = true;
            }
        }
        self.cast_mask(&need);
        self.need = need;
    }
}
