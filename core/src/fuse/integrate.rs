//! Projective TSDF integration of one depth frame.
//!
//! Steps: (1) filter the depth image into usable samples with a per-sample weight
//! (range, confidence, flying pixels, incidence angle, distance); (2) walk each usable
//! sample's truncation band through the block grid (exact 3D DDA) to find the touched
//! blocks, marking them in a dense per-frame grid (no hashing per pixel); (3) allocate the
//! new blocks after checking the memory cap; (4) for each touched block, project its voxels
//! incrementally into the image and update them (no per-voxel hash lookups).

use super::{
    pack_key, Block, Codec, FuseError, IntegrateStats, Packed, TsdfConfig, TsdfVolume, BLOCK_BYTES,
    BLOCK_COORD_LIMIT, BLOCK_SIDE, BLOCK_VOXELS, REFERENCE_DEPTH_M,
};
use crate::frame::{pose, DepthFrame, DepthView};
use nalgebra::{Isometry3, Matrix3, Vector3};

/// Largest dense per-frame block grid (cells); beyond it touched blocks are deduplicated
/// with a hash set.
const DENSE_GRID_MAX_CELLS: usize = 1 << 24;

/// Per-frame working buffers, kept between frames to avoid reallocating them, and wiped
/// (zeroed) when each integration ends so no depth outlives its frame.
#[derive(Debug, Clone, Default)]
pub(crate) struct Filtered {
    w: usize,
    h: usize,
    /// Usable depth per pixel (0 = not usable).
    pub(crate) depth: Vec<f32>,
    /// Sample weight per pixel.
    pub(crate) weight: Vec<f32>,
    /// Raw depth with a one-pixel border of zeros.
    pub(crate) padded: Vec<f32>,
    /// Allocation tiles (see `fill_tiles`).
    pub(crate) tiles: Vec<[f32; 4]>,
    /// Dense per-frame block marks.
    marks: Vec<bool>,
}

impl Filtered {
    fn wipe(&mut self) {
        self.depth.fill(0.0);
        self.weight.fill(0.0);
        self.padded.fill(0.0);
        self.tiles.clear();
    }
}

/// Camera data in f32 for the inner loops.
#[derive(Clone, Copy)]
struct Cam {
    fx: f32,
    fy: f32,
    cx: f32,
    cy: f32,
}

/// Fuses one checked depth image seen from `camera_to_world` (the pose is checked here: it
/// may be a tracked one, not the frame's).
pub(super) fn integrate(
    vol: &mut TsdfVolume,
    view: DepthView<'_>,
    camera_to_world: &Isometry3<f64>,
) -> Result<IntegrateStats, FuseError> {
    let mut scratch = std::mem::take(&mut vol.scratch);
    let result = integrate_with(vol, &mut scratch, view, camera_to_world);
    scratch.wipe();
    vol.scratch = scratch;
    result
}

fn integrate_with(
    vol: &mut TsdfVolume,
    filtered: &mut Filtered,
    view: DepthView<'_>,
    camera_to_world: &Isometry3<f64>,
) -> Result<IntegrateStats, FuseError> {
    let (depth, k) = (view.depth(), view.intrinsics());
    check_pose(camera_to_world)?;
    let cfg = vol.config;
    let mut stats = IntegrateStats::default();
    let cam = Cam {
        fx: k.fx as f32,
        fy: k.fy as f32,
        cx: k.cx as f32,
        cy: k.cy as f32,
    };
    filter_depth(depth, cam, &cfg, &mut stats, filtered);
    if stats.pixels_used == 0 {
        return Ok(stats);
    }
    let rot: Matrix3<f32> = camera_to_world
        .rotation
        .to_rotation_matrix()
        .matrix()
        .cast::<f32>();
    let trans: Vector3<f32> = camera_to_world.translation.vector.cast::<f32>();
    let touched = touched_blocks(filtered, cam, &rot, &trans, &cfg)?;
    stats.blocks_touched = touched.len();

    // Allocate, after checking the cap, so a failing frame changes nothing.
    let new = touched
        .iter()
        .filter(|&&key| !vol.map.contains_key(&pack_key(key)))
        .count();
    let total = vol.blocks.len() + new;
    let needed_bytes = total.saturating_mul(BLOCK_BYTES);
    if needed_bytes > cfg.memory_cap_bytes {
        return Err(FuseError::MemoryCap {
            needed_bytes,
            cap_bytes: cfg.memory_cap_bytes,
            blocks: total,
        });
    }
    stats.blocks_allocated = new;
    let first_new = vol.blocks.len();
    let mut indices = Vec::with_capacity(touched.len());
    for &key in &touched {
        let next = vol.blocks.len() as u32;
        let i = *vol.map.entry(pack_key(key)).or_insert(next);
        if i == next {
            vol.blocks.push([Packed::default(); BLOCK_VOXELS]);
            vol.keys.push(key);
            vol.bounds = Some(match vol.bounds {
                None => (key, key),
                Some((lo, hi)) => (
                    [lo[0].min(key[0]), lo[1].min(key[1]), lo[2].min(key[2])],
                    [hi[0].max(key[0]), hi[1].max(key[1]), hi[2].max(key[2])],
                ),
            });
        }
        indices.push(i as usize);
    }
    if vol.blocks.len() > first_new {
        vol.index_new_blocks(first_new);
    }

    // World-to-camera for projecting voxels.
    let rot_wc = rot.transpose();
    let trans_wc = -(rot_wc * trans);
    let upd = Updater {
        cam,
        w: filtered.w,
        h: filtered.h,
        depth: &filtered.depth,
        weight: &filtered.weight,
        rot_wc,
        trans_wc,
        voxel_size_m: cfg.voxel_size_m,
        trunc_m: cfg.truncation_m(),
        max_weight: cfg.max_weight,
        codec: vol.codec,
    };
    // Blocks are independent: update them in parallel (the result does not depend on the
    // number of threads).
    let mut key_of: Vec<Option<[i32; 3]>> = vec![None; vol.blocks.len()];
    for (key, i) in touched.iter().zip(indices) {
        if let Some(k) = key_of.get_mut(i) {
            *k = Some(*key);
        }
    }
    stats.voxels_updated = {
        use rayon::prelude::*;
        vol.blocks
            .par_iter_mut()
            .zip(key_of.par_iter())
            .with_min_len(64)
            .map(|(block, key)| key.map_or(0, |key| upd.update_block(block, key)))
            .sum()
    };
    Ok(stats)
}

/// A pose is usable if finite, within the frame module's distance limit, and its rotation is
/// a unit quaternion.
pub(crate) fn check_pose(p: &Isometry3<f64>) -> Result<(), FuseError> {
    pose::validate(p).map_err(|e| FuseError::Pose(e.to_string()))?;
    let n = p.rotation.coords.norm();
    if (n - 1.0).abs() > 1e-6 {
        return Err(FuseError::Pose(format!(
            "rotation quaternion has norm {n}, not 1 (not a rigid transform)"
        )));
    }
    Ok(())
}

/// Filters a depth frame into usable samples and their weights (into `f`).
fn filter_depth(
    depth: &DepthFrame,
    cam: Cam,
    cfg: &TsdfConfig,
    stats: &mut IntegrateStats,
    f: &mut Filtered,
) {
    let w = depth.width() as usize;
    let h = depth.height() as usize;
    let raw = depth.depth_m();
    let conf = depth.confidence();
    f.w = w;
    f.h = h;
    // The buffers are all zero here (new, or wiped after the previous frame): only a size
    // change needs new ones.
    let pw = w + 2;
    if f.depth.len() != w * h || f.padded.len() != pw * (h + 2) {
        f.depth = vec![0.0; w * h];
        f.weight = vec![0.0; w * h];
        // Zero border: neighbour reads need no bounds checks; 0 = no depth.
        f.padded = vec![0.0; pw * (h + 2)];
    }
    for (v, src) in raw.chunks_exact(w).enumerate().take(h) {
        let o = (v + 1) * pw + 1;
        if let Some(dst) = f.padded.get_mut(o..o + w) {
            dst.copy_from_slice(src);
        }
    }
    let pad = &f.padded;
    for v in 0..h {
        for u in 0..w {
            let i = v * w + u;
            let pi = (v + 1) * pw + u + 1;
            let d = pad[pi];
            if d.is_nan() || d <= 0.0 {
                continue;
            }
            stats.pixels_with_depth += 1;
            if d < cfg.min_depth_m || d > cfg.max_depth_m {
                stats.rejected_range += 1;
                continue;
            }
            let c = conf.and_then(|c| c.get(i).copied()).unwrap_or(1.0);
            if c < cfg.min_confidence {
                stats.rejected_confidence += 1;
                continue;
            }
            let thr = cfg.edge_jump_fraction * d;
            let (l, r, t, b) = (pad[pi - 1], pad[pi + 1], pad[pi - pw], pad[pi + pw]);
            let nb = [
                l,
                r,
                t,
                b,
                pad[pi - pw - 1],
                pad[pi - pw + 1],
                pad[pi + pw - 1],
                pad[pi + pw + 1],
            ];
            let mut edge = false;
            for n in nb {
                edge |= n > 0.0 && (n - d).abs() > thr;
            }
            if edge {
                stats.rejected_edge += 1;
                continue;
            }
            let grad = |a: f32, b: f32| -> f32 {
                match (a > 0.0, b > 0.0) {
                    (true, true) => 0.5 * (b - a),
                    (false, true) => b - d,
                    (true, false) => d - a,
                    (false, false) => 0.0,
                }
            };
            let ddu = grad(l, r);
            let ddv = grad(t, b);
            let x = (u as f32 - cam.cx) / cam.fx;
            let y = (v as f32 - cam.cy) / cam.fy;
            let ray = Vector3::new(x, y, 1.0);
            let pu = ray * ddu + Vector3::new(d / cam.fx, 0.0, 0.0);
            let pv = ray * ddv + Vector3::new(0.0, d / cam.fy, 0.0);
            let n = pu.cross(&pv);
            let nn = n.norm() * ray.norm();
            let cos = if nn > 0.0 {
                (n.dot(&ray) / nn).abs()
            } else {
                1.0
            };
            if cos < cfg.min_incidence_cos {
                stats.rejected_grazing += 1;
                continue;
            }
            let r = REFERENCE_DEPTH_M / d;
            f.depth[i] = d;
            f.weight[i] = c * cos * r * r;
            stats.pixels_used += 1;
        }
    }
}

/// Blocks crossed by any usable sample's truncation band, each once, in grid order.
#[inline(never)]
fn touched_blocks(
    f: &mut Filtered,
    cam: Cam,
    rot: &Matrix3<f32>,
    trans: &Vector3<f32>,
    cfg: &TsdfConfig,
) -> Result<Vec<[i32; 3]>, FuseError> {
    let block_m = cfg.voxel_size_m * BLOCK_SIDE as f32;
    let inv_b = 1.0 / block_m;
    // Voxel centres sit at integer multiples of the voxel size, so block b covers voxel
    // centres in [8b, 8b + 7]: shift by half a voxel so a point's block is that of its
    // nearest voxel centre's block cell.
    let half = 0.5 / BLOCK_SIDE as f32;
    let trunc = cfg.truncation_m();
    let c0 = rot.column(0) / cam.fx;
    let c1 = rot.column(1) / cam.fy;
    let c2: Vector3<f32> = rot.column(2).into_owned();
    // One band per 2x2 pixel tile, from its nearest depth - truncation to its farthest
    // + truncation along the tile's centre ray: rays inside a tile are within a pixel of
    // it, far less than a block.
    let mut tiles = std::mem::take(&mut f.tiles);
    fill_tiles(f, &mut tiles);
    let seg = |t: &[f32; 4]| -> ([f32; 3], [f32; 3]) {
        let dir = c0 * (t[0] - cam.cx) + c1 * (t[1] - cam.cy) + c2;
        let near = (t[2] - trunc).max(1e-3);
        let a = (trans + dir * near) * inv_b;
        let b = (trans + dir * (t[3] + trunc)) * inv_b;
        (
            [a.x + half, a.y + half, a.z + half],
            [b.x + half, b.y + half, b.z + half],
        )
    };
    // Pass 1: bounds.
    let mut lo = [f32::INFINITY; 3];
    let mut hi = [f32::NEG_INFINITY; 3];
    for t in &tiles {
        let (a, b) = seg(t);
        for j in 0..3 {
            lo[j] = lo[j].min(a[j]).min(b[j]);
            hi[j] = hi[j].max(a[j]).max(b[j]);
        }
    }
    let limit = BLOCK_COORD_LIMIT as f32;
    for j in 0..3 {
        if !(lo[j].is_finite() && hi[j].is_finite() && lo[j] > -limit && hi[j] < limit) {
            let p = if lo[j].abs() > hi[j].abs() { lo } else { hi };
            return Err(FuseError::OutOfRange([
                p[0] * block_m,
                p[1] * block_m,
                p[2] * block_m,
            ]));
        }
    }
    // Room for DDA rounding at the edges.
    let g0 = [
        lo[0].floor() as i32 - 1,
        lo[1].floor() as i32 - 1,
        lo[2].floor() as i32 - 1,
    ];
    let dims = [
        (hi[0].floor() as i32 - g0[0] + 2) as usize,
        (hi[1].floor() as i32 - g0[1] + 2) as usize,
        (hi[2].floor() as i32 - g0[2] + 2) as usize,
    ];
    let cells = dims[0].saturating_mul(dims[1]).saturating_mul(dims[2]);
    let mut out = Vec::new();
    if cells <= DENSE_GRID_MAX_CELLS {
        let mut marks = std::mem::take(&mut f.marks);
        marks.clear();
        marks.resize(cells, false);
        let mut mark = |c: [i32; 3]| {
            let x = (c[0] - g0[0]) as usize;
            let y = (c[1] - g0[1]) as usize;
            let z = (c[2] - g0[2]) as usize;
            if x < dims[0] && y < dims[1] && z < dims[2] {
                let i = x + dims[0] * (y + dims[1] * z);
                if !marks[i] {
                    marks[i] = true;
                    out.push(c);
                }
            }
        };
        walk_all(&tiles, &seg, &mut mark);
        if cells <= 1 << 20 {
            f.marks = marks;
        }
    } else {
        let mut set = super::KeyMap::<()>::default();
        let mut mark = |c: [i32; 3]| {
            if set.insert(pack_key(c), ()).is_none() {
                out.push(c);
            }
        };
        walk_all(&tiles, &seg, &mut mark);
    }
    // Grid order gives better memory locality when updating.
    f.tiles = tiles;
    out.sort_unstable_by_key(|c| (c[2], c[1], c[0]));
    Ok(out)
}

/// Allocation samples: per 2x2 pixel tile with usable depth, its centre (u, v) and its
/// nearest and farthest depth.
#[inline(never)]
fn fill_tiles(f: &Filtered, out: &mut Vec<[f32; 4]>) {
    out.clear();
    for v in (0..f.h).step_by(2) {
        for u in (0..f.w).step_by(2) {
            let mut lo = f32::INFINITY;
            let mut hi = 0.0f32;
            for (du, dv) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                let (uu, vv) = (u + du, v + dv);
                if uu < f.w && vv < f.h {
                    let d = f.depth[vv * f.w + uu];
                    if d > 0.0 {
                        lo = lo.min(d);
                        hi = hi.max(d);
                    }
                }
            }
            if hi > 0.0 {
                out.push([u as f32 + 0.5, v as f32 + 0.5, lo, hi]);
            }
        }
    }
}

#[inline(never)]
fn walk_all(
    tiles: &[[f32; 4]],
    seg: &impl Fn(&[f32; 4]) -> ([f32; 3], [f32; 3]),
    mark: &mut impl FnMut([i32; 3]),
) {
    let mut last: Option<[i32; 3]> = None;
    for t in tiles {
        let (a, b) = seg(t);
        let ca = [ifloor(a[0]), ifloor(a[1]), ifloor(a[2])];
        let cb = [ifloor(b[0]), ifloor(b[1]), ifloor(b[2])];
        if ca == cb {
            // Most bands lie inside one block; skip re-marking the same one.
            if last != Some(ca) {
                mark(ca);
                last = Some(ca);
            }
            continue;
        }
        last = None;
        dda(a, b, ca, cb, mark);
    }
}

/// Rounds `x` in `0.0..=4_194_303.0` to the nearest integer (ties to even) with the
/// float-add trick: adding 1.5 * 2^23 leaves the integer in the low mantissa bits. Pure
/// float arithmetic and a bit cast, which vectorise (a saturating `as` does not).
#[inline(always)]
pub(crate) fn round_small(x: f32) -> u32 {
    const MAGIC: f32 = 12_582_912.0;
    (x + MAGIC).to_bits().wrapping_sub(MAGIC.to_bits())
}

/// `floor` as an integer without a libm call (inputs are finite and within i32 range).
#[inline]
fn ifloor(x: f32) -> i32 {
    let i = x as i32;
    i - ((x < i as f32) as i32)
}

/// Visits every grid cell the segment a→b crosses (Amanatides–Woo).
fn dda(a: [f32; 3], b: [f32; 3], ca: [i32; 3], cb: [i32; 3], mark: &mut impl FnMut([i32; 3])) {
    let mut c = ca;
    let mut step = [0i32; 3];
    let mut t_max = [f32::INFINITY; 3];
    let mut t_delta = [f32::INFINITY; 3];
    for j in 0..3 {
        let d = b[j] - a[j];
        if d > 0.0 {
            step[j] = 1;
            t_max[j] = ((c[j] + 1) as f32 - a[j]) / d;
            t_delta[j] = 1.0 / d;
        } else if d < 0.0 {
            step[j] = -1;
            t_max[j] = (c[j] as f32 - a[j]) / d;
            t_delta[j] = -1.0 / d;
        }
    }
    mark(c);
    let n = (cb[0] - ca[0]).abs() + (cb[1] - ca[1]).abs() + (cb[2] - ca[2]).abs();
    for _ in 0..n {
        let j = if t_max[0] < t_max[1] {
            if t_max[0] < t_max[2] {
                0
            } else {
                2
            }
        } else if t_max[1] < t_max[2] {
            1
        } else {
            2
        };
        c[j] += step[j];
        t_max[j] += t_delta[j];
        mark(c);
    }
}

/// Per-frame data for updating blocks.
struct Updater<'a> {
    cam: Cam,
    w: usize,
    h: usize,
    depth: &'a [f32],
    weight: &'a [f32],
    rot_wc: Matrix3<f32>,
    trans_wc: Vector3<f32>,
    voxel_size_m: f32,
    trunc_m: f32,
    max_weight: f32,
    codec: Codec,
}

impl Updater<'_> {
    /// Projects every voxel of one block and fuses its nearest depth sample; returns the
    /// number of voxels updated. Branch-free per row of 8 voxels: a voxel without a usable
    /// sample gets weight 0, which leaves it unchanged.
    #[inline(never)]
    fn update_block(&self, block: &mut Block, key: [i32; 3]) -> usize {
        let s = BLOCK_SIDE as f32;
        let vs = self.voxel_size_m;
        let origin = Vector3::new(key[0] as f32 * s, key[1] as f32 * s, key[2] as f32 * s) * vs;
        let p0 = self.rot_wc * origin + self.trans_wc;
        let dx = self.rot_wc.column(0) * vs;
        let dy = self.rot_wc.column(1) * vs;
        let dz = self.rot_wc.column(2) * vs;
        let w = self.w as u32;
        let (u_max, v_max) = (self.w as f32 - 0.5, self.h as f32 - 0.5);
        let (u_last, v_last) = (self.w as f32 - 1.0, self.h as f32 - 1.0);
        let Cam { fx, fy, cx, cy } = self.cam;
        let trunc = self.trunc_m;
        let max_weight = self.max_weight;
        let mut updated = 0;
        let mut pz = [0.0f32; BLOCK_SIDE];
        let mut idx = [0usize; BLOCK_SIDE];
        let mut ok = [false; BLOCK_SIDE];
        let mut dn = [0.0f32; BLOCK_SIDE];
        let mut wp = [0.0f32; BLOCK_SIDE];
        for z in 0..BLOCK_SIDE {
            for y in 0..BLOCK_SIDE {
                let row = p0 + dy * y as f32 + dz * z as f32;
                for x in 0..BLOCK_SIDE {
                    let px = row.x + dx.x * x as f32;
                    let py = row.y + dx.y * x as f32;
                    let zz = row.z + dx.z * x as f32;
                    let inv = 1.0 / zz;
                    let u = fx * px * inv + cx;
                    let v = fy * py * inv + cy;
                    // Also false for NaN and points behind the camera.
                    let inside = zz > 1e-4 && u >= -0.5 && v >= -0.5 && u < u_max && v < v_max;
                    // Clamped into the image (NaN becomes 0), then rounded without a
                    // saturating float-to-int conversion, so the loop stays vectorised.
                    let ui = round_small(u.max(0.0).min(u_last));
                    let vi = round_small(v.max(0.0).min(v_last));
                    pz[x] = zz;
                    ok[x] = inside;
                    idx[x] = (vi * w + ui) as usize;
                }
                for x in 0..BLOCK_SIDE {
                    dn[x] = self.depth.get(idx[x]).copied().unwrap_or(0.0);
                    wp[x] = self.weight.get(idx[x]).copied().unwrap_or(0.0);
                }
                let base = BLOCK_SIDE * (y + BLOCK_SIDE * z);
                let row_vox = &mut block[base..base + BLOCK_SIDE];
                for x in 0..BLOCK_SIDE {
                    let sdf = dn[x] - pz[x];
                    let valid = ok[x] && dn[x] > 0.0 && sdf >= -trunc;
                    let wn = if valid { wp[x] } else { 0.0 };
                    let tsdf = sdf.min(trunc);
                    let old = self.codec.decode(row_vox[x]);
                    let wsum = old.weight + wn;
                    let f = if wsum > 0.0 { wn / wsum } else { 0.0 };
                    let sdf_new = old.sdf_m + (tsdf - old.sdf_m) * f;
                    row_vox[x] = self.codec.encode(sdf_new, wsum.min(max_weight));
                    updated += (wn > 0.0) as usize;
                }
            }
        }
        updated
    }
}
