//! Raycasting the fused surface from a camera pose: per pixel the first front-facing zero
//! crossing of the TSDF (world point, camera depth) and the unit SDF gradient there.
//!
//! Guarantees: every pixel gets either a hit (finite point, unit normal pointing towards
//! free space, depth within the volume's working range) or a miss (NaN point and normal,
//! depth 0). Back faces (crossings from inside to outside) are never reported as hits.

use super::{block_of, iround, FuseError, Sampler, TsdfVolume, BLOCK_SIDE};
use crate::frame::{Intrinsics, ValidIntrinsics};
use nalgebra::{Isometry3, Point3, Vector3};

/// What the fused model looks like from one camera pose.
#[derive(Debug, Clone, PartialEq)]
pub struct RaycastImage {
    /// Image width in pixels.
    pub width: u32,
    /// Image height in pixels.
    pub height: u32,
    /// World surface point per pixel (row-major); NaN = no hit.
    pub points: Vec<Point3<f32>>,
    /// World unit normal per pixel (towards free space); NaN = no hit.
    pub normals: Vec<Vector3<f32>>,
    /// Camera-frame depth (z) per pixel in metres; 0 = no hit.
    pub depth_m: Vec<f32>,
}

impl Default for RaycastImage {
    /// A 0x0 image (a buffer to render into).
    fn default() -> Self {
        Self::empty(0, 0)
    }
}

impl RaycastImage {
    fn empty(width: u32, height: u32) -> Self {
        let mut img = Self {
            width: 0,
            height: 0,
            points: Vec::new(),
            normals: Vec::new(),
            depth_m: Vec::new(),
        };
        img.reset(width, height);
        img
    }

    /// Resizes to `width` x `height` with no hits, keeping the buffers' capacity.
    fn reset(&mut self, width: u32, height: u32) {
        let n = width as usize * height as usize;
        let nan = f32::NAN;
        self.width = width;
        self.height = height;
        self.points.clear();
        self.points.resize(n, Point3::new(nan, nan, nan));
        self.normals.clear();
        self.normals.resize(n, Vector3::new(nan, nan, nan));
        self.depth_m.clear();
        self.depth_m.resize(n, 0.0);
    }

    /// Number of pixels with a hit.
    pub fn hit_count(&self) -> usize {
        self.depth_m.iter().filter(|&&d| d > 0.0).count()
    }
}

impl TsdfVolume {
    /// Raycasts the fused surface from `camera_to_world` with intrinsics `k`.
    /// Invalid intrinsics or pose give an image with no hits (of size 0x0 if the size
    /// itself is invalid); use [`TsdfVolume::try_raycast`] to get the error instead.
    pub fn raycast(&self, k: &Intrinsics, camera_to_world: &Isometry3<f64>) -> RaycastImage {
        match self.try_raycast(k, camera_to_world) {
            Ok(img) => img,
            Err(_) => {
                if crate::frame::check_size(k.width, k.height).is_ok() {
                    RaycastImage::empty(k.width, k.height)
                } else {
                    RaycastImage::empty(0, 0)
                }
            }
        }
    }

    /// Raycasts the fused surface; fails on invalid intrinsics or pose.
    pub fn try_raycast(
        &self,
        k: &Intrinsics,
        camera_to_world: &Isometry3<f64>,
    ) -> Result<RaycastImage, FuseError> {
        let mut img = RaycastImage::empty(0, 0);
        self.cast_into(ValidIntrinsics::new(*k)?, camera_to_world, &mut img)?;
        Ok(img)
    }

    fn cast_into(
        &self,
        k: ValidIntrinsics,
        camera_to_world: &Isometry3<f64>,
        img: &mut RaycastImage,
    ) -> Result<(), FuseError> {
        let caster = Caster::new(self, k, camera_to_world)?;
        img.reset(k.width, k.height);
        let Some(mut caster) = caster else {
            return Ok(());
        };
        let w = k.width as usize;
        for v in 0..k.height as usize {
            for u in 0..w {
                if let Some((p, n, z)) = caster.cast(u, v) {
                    let i = v * w + u;
                    img.points[i] = p;
                    img.normals[i] = n;
                    img.depth_m[i] = z;
                }
            }
        }
        Ok(())
    }

    /// First + to − crossing along the ray in [t0, t1], refined with trilinear distances.
    fn march(
        &self,
        cur: &mut Sampler<'_>,
        o: &Vector3<f32>,
        dir: &Vector3<f32>,
        t0: f32,
        t1: f32,
        trunc: f32,
    ) -> Option<f32> {
        let vs = self.config.voxel_size_m;
        let bs = vs * BLOCK_SIDE as f32;
        let mut t = t0;
        let mut prev: Option<(f32, f32)> = None; // (t, sdf) of the last observed sample
        while t <= t1 {
            let p = o + dir * t;
            let gf = p / vs;
            let g = [iround(gf.x), iround(gf.y), iround(gf.z)];
            match cur.voxel(g) {
                None => {
                    // Unallocated block: jump to where the ray leaves it.
                    let key = block_of(g);
                    let mut t_exit = f32::INFINITY;
                    for j in 0..3 {
                        if dir[j].abs() < 1e-9 {
                            continue;
                        }
                        // Block covers voxel centres 8k..8k+7, i.e. [8k-0.5, 8k+7.5) voxels.
                        let lo = (key[j] as f32 * BLOCK_SIDE as f32 - 0.5) * vs;
                        let hi = lo + bs;
                        let edge = if dir[j] > 0.0 { hi } else { lo };
                        t_exit = t_exit.min((edge - o[j]) / dir[j]);
                    }
                    t = t_exit.max(t) + 0.1 * vs;
                    prev = None;
                }
                Some(vox) if vox.weight <= 0.0 => {
                    t += vs;
                    prev = None;
                }
                Some(vox) => {
                    // Trilinear distance where all 8 neighbours are observed, else the
                    // nearest voxel's.
                    // (At `p`'s grid coordinates, computed above: `cur.sdf(&p)`.)
                    let (s, exact) = match cur.sdf_grid([gf.x, gf.y, gf.z]) {
                        Some(s) => (s, true),
                        None => (vox.sdf_m, false),
                    };
                    if s < 0.0 {
                        if let Some((tp, sp)) = prev {
                            if sp >= 0.0 {
                                return Some(refine(cur, o, dir, tp, sp, t, s));
                            }
                        }
                        prev = Some((t, s));
                        t += vs;
                    } else {
                        prev = Some((t, s));
                        // Distances are truncated and projective: step conservatively.
                        let step = if exact { 0.8 * s } else { 0.5 * s };
                        t += step.clamp(0.5 * vs, trunc);
                    }
                }
            }
        }
        None
    }

    /// Unit SDF gradient at `p` by central differences; `None` if not observed around `p`.
    pub fn gradient(&self, p: &Point3<f32>) -> Option<Vector3<f32>> {
        Sampler::new(self).gradient(p)
    }
}

/// Casts single rays of one camera into one volume (what [`TsdfVolume::try_raycast`] does
/// for every pixel), so a caller can render only the pixels it needs; a pixel's result does
/// not depend on which other pixels were cast (nor on which clone of a caster casts it).
#[derive(Clone)]
pub(crate) struct Caster<'a> {
    vol: &'a TsdfVolume,
    sampler: Sampler<'a>,
    box_lo: Vector3<f32>,
    box_hi: Vector3<f32>,
    rot: nalgebra::Matrix3<f32>,
    origin: Vector3<f32>,
    cam: [f32; 4],
    trunc: f32,
}

impl<'a> Caster<'a> {
    /// A caster for camera `k` at `camera_to_world`; `None` when the volume is empty.
    /// Fails on an invalid pose (checked here: callers pass predicted or tracked poses).
    pub(crate) fn new(
        vol: &'a TsdfVolume,
        k: ValidIntrinsics,
        camera_to_world: &Isometry3<f64>,
    ) -> Result<Option<Self>, FuseError> {
        super::integrate::check_pose(camera_to_world)?;
        let Some((lo, hi)) = vol.bounds else {
            return Ok(None);
        };
        let vs = vol.config.voxel_size_m;
        let bs = vs * BLOCK_SIDE as f32;
        // World box of allocated voxel centres, padded by a voxel.
        let box_lo =
            Vector3::new(lo[0] as f32, lo[1] as f32, lo[2] as f32) * bs - Vector3::repeat(vs);
        let box_hi = Vector3::new((hi[0] + 1) as f32, (hi[1] + 1) as f32, (hi[2] + 1) as f32) * bs;
        let rot = camera_to_world
            .rotation
            .to_rotation_matrix()
            .matrix()
            .cast::<f32>();
        Ok(Some(Self {
            vol,
            sampler: Sampler::new(vol),
            box_lo,
            box_hi,
            rot,
            origin: camera_to_world.translation.vector.cast::<f32>(),
            cam: [k.fx as f32, k.fy as f32, k.cx as f32, k.cy as f32],
            trunc: vol.config.truncation_m(),
        }))
    }

    /// The hit of pixel (u, v): world point, unit normal towards free space, camera depth.
    pub(crate) fn cast(&mut self, u: usize, v: usize) -> Option<(Point3<f32>, Vector3<f32>, f32)> {
        let cfg = &self.vol.config;
        let [fx, fy, cx, cy] = self.cam;
        let origin = self.origin;
        let ray_c = Vector3::new((u as f32 - cx) / fx, (v as f32 - cy) / fy, 1.0);
        let len = ray_c.norm();
        let dir = self.rot * (ray_c / len);
        // Working range along z, as a distance along the unit ray.
        let mut t0 = cfg.min_depth_m * len;
        let mut t1 = cfg.max_depth_m * len;
        // Clip to the volume's box (slab test).
        for j in 0..3 {
            if dir[j].abs() < 1e-9 {
                if origin[j] < self.box_lo[j] || origin[j] > self.box_hi[j] {
                    t1 = -1.0;
                }
                continue;
            }
            let a = (self.box_lo[j] - origin[j]) / dir[j];
            let b = (self.box_hi[j] - origin[j]) / dir[j];
            t0 = t0.max(a.min(b));
            t1 = t1.min(a.max(b));
        }
        if t0 >= t1 {
            return None;
        }
        let t_hit = self
            .vol
            .march(&mut self.sampler, &origin, &dir, t0, t1, self.trunc)?;
        let p = Point3::from(origin + dir * t_hit);
        let n = self.sampler.gradient(&p)?;
        Some((p, n, t_hit / len))
    }
}

/// Zero crossing between (ta, sa ≥ 0) and (tb, sb < 0) from trilinear distances when
/// available, nearest-voxel ones otherwise. `sa` and `sb` are the march's samples at `ta`
/// and `tb`, taken at the same points with the same rule (trilinear where all 8 corners
/// are observed), so they are not sampled again.
fn refine(
    cur: &mut Sampler<'_>,
    o: &Vector3<f32>,
    dir: &Vector3<f32>,
    ta: f32,
    sa: f32,
    tb: f32,
    sb: f32,
) -> f32 {
    let mut at = |t: f32| cur.sdf(&Point3::from(o + dir * t));
    let (mut ta, mut tb, mut sa, mut sb) = (ta, tb, sa, sb);
    // A few secant steps on the trilinear field.
    for _ in 0..3 {
        if !(sa >= 0.0 && sb < 0.0) {
            break;
        }
        let tm = ta + (tb - ta) * sa / (sa - sb);
        match at(tm) {
            Some(sm) if sm >= 0.0 => {
                ta = tm;
                sa = sm;
            }
            Some(sm) => {
                tb = tm;
                sb = sm;
            }
            None => break,
        }
    }
    if sa - sb > 0.0 {
        ta + (tb - ta) * (sa / (sa - sb)).clamp(0.0, 1.0)
    } else {
        0.5 * (ta + tb)
    }
}
