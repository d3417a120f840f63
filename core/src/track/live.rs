//! The live frame as ICP sees it: a coarse-to-fine pyramid of camera-frame vertex and normal
//! maps built from one depth frame.
//!
//! Guarantees: every vertex kept has finite depth inside the working range, four valid
//! neighbours with no depth jump larger than the edge threshold (so flying pixels at depth
//! discontinuities never become ICP points), and a unit normal facing the camera that is not
//! grazing. Level `l` has `ceil(w / 2^l) x ceil(h / 2^l)` pixels and matching intrinsics.

use crate::frame::{DepthFrame, Intrinsics};
use nalgebra::{Point3, Vector3};

/// One block of rows: its (point, normal) pairs and their spreads, in row order.
type RowBlock = (Vec<(Point3<f32>, Vector3<f32>)>, Vec<f32>);

/// Smoothing radius (pixels) of the depth used for normals, per level (finest first).
const SMOOTH_RADIUS: [usize; 4] = [3, 2, 1, 1];

/// One pyramid level: camera-frame points and normals; `None` where unusable.
#[derive(Debug, Clone)]
pub struct LiveLevel {
    /// Intrinsics of this level.
    pub k: Intrinsics,
    /// Usable points with their normals (camera frame, metres), in row-major pixel order.
    pub points: Vec<(Point3<f32>, Vector3<f32>)>,
    /// Number of pixels with depth inside the working range at this level.
    pub valid_pixels: usize,
    /// Depth noise estimated from the frame itself: median spread of depth in the
    /// smoothing window around kept points (metres; includes a little surface curvature).
    pub noise_m: f32,
}

/// Parameters of the live pyramid.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LiveParams {
    pub min_depth_m: f32,
    pub max_depth_m: f32,
    /// A neighbour whose depth differs by more than this fraction of the depth is an edge.
    pub edge_jump_ratio: f32,
    /// Smallest |cos| between normal and viewing ray.
    pub min_view_cos: f32,
    pub levels: usize,
    /// Levels below this one keep no points (their depth is only downsampled on).
    pub first_level: usize,
}

/// Buffers of [`build_pyramid_into`], kept between frames so that building a pyramid does
/// not allocate (and page-fault) fresh full-size images every frame. Holds no depth that
/// matters between calls (overwritten by every call).
#[derive(Debug, Clone, Default)]
pub(crate) struct PyramidScratch {
    /// Working-range depth per level (0 = unusable).
    depth: Vec<Vec<f32>>,
    /// Smoothing buffers: horizontal sums, squared sums, counts; mean and spread.
    hs: Vec<f32>,
    hs2: Vec<f32>,
    hc: Vec<f32>,
    mean: Vec<f32>,
    std: Vec<f32>,
    /// Per row block of [`level_from_depth`]: its points and their window spreads (cleared
    /// by every call, so no push regrows them and no fresh memory is paged in per frame).
    blocks: Vec<RowBlock>,
    /// All points' window spreads, for the level's noise (cleared by every call).
    spreads: Vec<f32>,
}

/// Builds the pyramid, finest level first.
pub(crate) fn build_pyramid(depth: &DepthFrame, k: &Intrinsics, p: &LiveParams) -> Vec<LiveLevel> {
    let mut out = Vec::new();
    build_pyramid_into(depth, k, p, &mut PyramidScratch::default(), &mut out);
    out
}

/// [`build_pyramid`] into `out` (whose levels' buffers are reused), with `scratch` buffers.
pub(crate) fn build_pyramid_into(
    depth: &DepthFrame,
    k: &Intrinsics,
    p: &LiveParams,
    scratch: &mut PyramidScratch,
    out: &mut Vec<LiveLevel>,
) {
    let levels = p.levels.max(1);
    if scratch.depth.len() < levels {
        scratch.depth.resize(levels, Vec::new());
    }
    let mut w = depth.width() as usize;
    let mut h = depth.height() as usize;
    {
        let d0 = &mut scratch.depth[0];
        d0.clear();
        d0.extend(depth.depth_m().iter().map(|&z| {
            if z.is_finite() && z >= p.min_depth_m && z <= p.max_depth_m {
                z
            } else {
                0.0
            }
        }));
    }
    let mut kl = *k;
    let mut built = 0;
    for level in 0..levels {
        if level > 0 {
            if w < 8 || h < 8 {
                break;
            }
            let (done, rest) = scratch.depth.split_at_mut(level);
            let (nw, nh) = downsample(&done[level - 1], w, h, p.edge_jump_ratio, &mut rest[0]);
            // Pixel centres: coarse pixel i covers fine pixels 2i, 2i+1.
            kl = Intrinsics {
                width: nw as u32,
                height: nh as u32,
                fx: kl.fx * 0.5,
                fy: kl.fy * 0.5,
                cx: (kl.cx + 0.5) * 0.5 - 0.5,
                cy: (kl.cy + 0.5) * 0.5 - 0.5,
            };
            w = nw;
            h = nh;
        }
        let radius = SMOOTH_RADIUS.get(level).copied().unwrap_or(1);
        if out.len() <= level {
            out.push(LiveLevel {
                k: kl,
                points: Vec::new(),
                valid_pixels: 0,
                noise_m: 0.0,
            });
        }
        let PyramidScratch {
            depth: dl,
            hs,
            hs2,
            hc,
            mean,
            std,
            blocks,
            spreads,
        } = scratch;
        if level < p.first_level {
            let l = &mut out[level];
            l.k = kl;
            l.points.clear();
            l.valid_pixels = dl[level].iter().filter(|&&z| z > 0.0).count();
            l.noise_m = 0.0;
        } else {
            smooth(&dl[level], w, h, radius, [hs, hs2, hc], mean, std);
            level_from_depth(
                &dl[level],
                w,
                h,
                &kl,
                p,
                (mean, std),
                (blocks, spreads),
                &mut out[level],
            );
        }
        built += 1;
    }
    out.truncate(built);
}

/// 2x2 block average over the samples close to the nearest one (no mixing across edges),
/// into `out`; returns the new size.
fn downsample(d: &[f32], w: usize, h: usize, jump: f32, out: &mut Vec<f32>) -> (usize, usize) {
    let nw = w.div_ceil(2);
    let nh = h.div_ceil(2);
    out.clear();
    out.resize(nw * nh, 0.0);
    for y in 0..nh {
        for x in 0..nw {
            let mut zmin = f32::INFINITY;
            let mut s = [0.0f32; 4];
            let mut n = 0;
            for dy in 0..2 {
                for dx in 0..2 {
                    let (xx, yy) = (2 * x + dx, 2 * y + dy);
                    if xx < w && yy < h {
                        let z = d[yy * w + xx];
                        if z > 0.0 {
                            s[n] = z;
                            n += 1;
                            zmin = zmin.min(z);
                        }
                    }
                }
            }
            if n == 0 {
                continue;
            }
            let mut sum = 0.0;
            let mut cnt = 0.0;
            for &z in &s[..n] {
                if z - zmin <= jump * zmin {
                    sum += z;
                    cnt += 1.0;
                }
            }
            out[y * nw + x] = sum / cnt;
        }
    }
    (nw, nh)
}

/// Box-filtered depth over a `(2r+1)²` window of valid samples (into `mean`), with the
/// window's standard deviation (into `std`, infinite where the window is empty); used for
/// normals only (vertices keep the raw depth). Separable running sums; the vertical pass
/// runs over whole rows at once (each column's sums in the same order as one column at a
/// time).
fn smooth(
    d: &[f32],
    w: usize,
    h: usize,
    r: usize,
    [hs, hs2, hc]: [&mut Vec<f32>; 3],
    mean: &mut Vec<f32>,
    std: &mut Vec<f32>,
) {
    use rayon::prelude::*;
    let n = w * h;
    for b in [&mut *hs, &mut *hs2, &mut *hc] {
        b.clear();
        b.resize(n, 0.0);
    }
    mean.clear();
    mean.resize(n, 0.0);
    std.clear();
    std.resize(n, f32::INFINITY);
    if w == 0 {
        return;
    }
    // Only the box of valid depth (grown by the radius) can get a mean: outside it every
    // window is empty. Sums start where the box does (with every sum before it exactly
    // zero), so the values are those of passes over the whole image.
    let Some((xmin, xmax, ymin, ymax)) = valid_box(d, w, h) else {
        return;
    };
    let (x0, x1) = (xmin.saturating_sub(r), (xmax + r + 1).min(w));
    let (y0, y1) = (ymin.saturating_sub(r), (ymax + r + 1).min(h));
    hs.par_chunks_mut(w)
        .zip(hs2.par_chunks_mut(w))
        .zip(hc.par_chunks_mut(w))
        .zip(d.par_chunks(w))
        .enumerate()
        .filter(|(y, _)| (ymin..=ymax).contains(y))
        .for_each(|(_, (((ohs, ohs2), ohc), row))| {
            let (mut s, mut s2, mut c) = (0.0f32, 0.0f32, 0.0f32);
            // Window [x - r, x + r], clipped to the row.
            if x0 == 0 {
                for &z in row.iter().take(r.min(w)) {
                    if z > 0.0 {
                        s += z;
                        s2 += z * z;
                        c += 1.0;
                    }
                }
            }
            // Branch-free: an invalid sample adds (or removes) exact zeros, which leaves
            // the sums bit-for-bit unchanged (they are never -0).
            let take = |z: f32| if z > 0.0 { (z, 1.0f32) } else { (0.0, 0.0) };
            for x in x0..x1 {
                if x + r < w {
                    let (z, one) = take(row[x + r]);
                    s += z;
                    s2 += z * z;
                    c += one;
                }
                if x > r {
                    let (z, one) = take(row[x - r - 1]);
                    s -= z;
                    s2 -= z * z;
                    c -= one;
                }
                ohs[x] = s;
                ohs2[x] = s2;
                ohc[x] = c;
            }
        });
    let mut s = vec![0.0f32; w];
    let mut s2 = vec![0.0f32; w];
    let mut c = vec![0.0f32; w];
    let (mut m_row, mut sd_row) = (vec![0.0f32; w], vec![0.0f32; w]);
    if y0 == 0 {
        for y in 0..r.min(h) {
            let i = y * w;
            for x in x0..x1 {
                s[x] += hs[i + x];
                s2[x] += hs2[i + x];
                c[x] += hc[i + x];
            }
        }
    }
    for y in y0..y1 {
        if y + r < h {
            let i = (y + r) * w;
            for x in x0..x1 {
                s[x] += hs[i + x];
                s2[x] += hs2[i + x];
                c[x] += hc[i + x];
            }
        }
        if y > r {
            let i = (y - r - 1) * w;
            for x in x0..x1 {
                s[x] -= hs[i + x];
                s2[x] -= hs2[i + x];
                c[x] -= hc[i + x];
            }
        }
        let row = y * w;
        // Every column's mean and spread first (no branch: vectorises), then kept only
        // where the window has samples (elsewhere the buffers keep their 0 and infinity).
        for ((((om, os), &sx), &s2x), &cx) in m_row[x0..x1]
            .iter_mut()
            .zip(&mut sd_row[x0..x1])
            .zip(&s[x0..x1])
            .zip(&s2[x0..x1])
            .zip(&c[x0..x1])
        {
            let m = sx / cx;
            *om = m;
            *os = (s2x / cx - m * m).max(0.0).sqrt();
        }
        for x in x0..x1 {
            if c[x] >= 0.5 {
                mean[row + x] = m_row[x];
                std[row + x] = sd_row[x];
            }
        }
    }
}

/// Smallest box (first and last column, first and last row) holding every valid (> 0)
/// depth of a `w`-wide image; `None` when there is none.
fn valid_box(d: &[f32], w: usize, h: usize) -> Option<(usize, usize, usize, usize)> {
    let mut b: Option<(usize, usize, usize, usize)> = None;
    for (y, row) in d.chunks_exact(w).take(h).enumerate() {
        let Some(first) = row.iter().position(|&z| z > 0.0) else {
            continue;
        };
        let last = row.iter().rposition(|&z| z > 0.0).unwrap_or(first);
        b = Some(match b {
            None => (first, last, y, y),
            Some((a, bb, c, _)) => (a.min(first), bb.max(last), c, y),
        });
    }
    b
}

/// Rows per parallel task of [`level_from_depth`].
const ROWS_PER_TASK: usize = 16;

#[allow(clippy::too_many_arguments)]
fn level_from_depth(
    d: &[f32],
    w: usize,
    h: usize,
    k: &Intrinsics,
    p: &LiveParams,
    (sm, sd): (&[f32], &[f32]),
    (blocks, spreads): (&mut Vec<RowBlock>, &mut Vec<f32>),
    out: &mut LiveLevel,
) {
    use rayon::prelude::*;
    let valid_pixels = d.iter().filter(|&&z| z > 0.0).count();
    let (fx, fy, cx, cy) = (k.fx as f32, k.fy as f32, k.cx as f32, k.cy as f32);
    let unproject = |x: usize, y: usize, z: f32| {
        Point3::new((x as f32 - cx) * z / fx, (y as f32 - cy) * z / fy, z)
    };
    // One row's usable points (with their window spreads), in pixel order.
    let row_points = |y: usize, pts: &mut Vec<(Point3<f32>, Vector3<f32>)>, spr: &mut Vec<f32>| {
        let row = y * w;
        for x in 1..w - 1 {
            let z = d[row + x];
            if z <= 0.0 {
                continue;
            }
            let zl = d[row + x - 1];
            let zr = d[row + x + 1];
            let zu = d[row - w + x];
            let zd = d[row + w + x];
            let lim = p.edge_jump_ratio * z;
            if zl <= 0.0
                || zr <= 0.0
                || zu <= 0.0
                || zd <= 0.0
                || (zl - z).abs() > lim
                || (zr - z).abs() > lim
                || (zu - z).abs() > lim
                || (zd - z).abs() > lim
            {
                continue;
            }
            // Normals from the smoothed depth; a window straddling an edge (large spread)
            // gives no normal.
            let lim_sd = p.edge_jump_ratio * 0.5 * z;
            let (zs, zsl, zsr, zsu, zsd) = (
                sm[row + x],
                sm[row + x - 1],
                sm[row + x + 1],
                sm[row - w + x],
                sm[row + w + x],
            );
            if sd[row + x] > lim_sd
                || sd[row + x - 1] > lim_sd
                || sd[row + x + 1] > lim_sd
                || sd[row - w + x] > lim_sd
                || sd[row + w + x] > lim_sd
                || zs <= 0.0
            {
                continue;
            }
            let pc = unproject(x, y, z);
            let dx = unproject(x + 1, y, zsr) - unproject(x - 1, y, zsl);
            let dy = unproject(x, y + 1, zsd) - unproject(x, y - 1, zsu);
            let n = dy.cross(&dx);
            let norm = n.norm();
            if norm.is_nan() || norm <= 0.0 {
                continue;
            }
            let mut n = n / norm;
            let view = pc.coords / pc.coords.norm();
            let c = n.dot(&view);
            if c > 0.0 {
                n = -n;
            }
            if c.abs() < p.min_view_cos {
                continue;
            }
            pts.push((pc, n));
            spr.push(sd[row + x]);
        }
    };
    out.k = *k;
    out.points.clear();
    out.valid_pixels = valid_pixels;
    spreads.clear();
    if w >= 3 && h >= 3 {
        // Row blocks in parallel, concatenated in row order (the same points in the same
        // order as one pass over the rows).
        let n_blocks = (h - 2).div_ceil(ROWS_PER_TASK);
        if blocks.len() < n_blocks {
            blocks.resize_with(n_blocks, Default::default);
        }
        let parts = &mut blocks[..n_blocks];
        parts
            .par_iter_mut()
            .enumerate()
            .for_each(|(b, (pts, spr))| {
                pts.clear();
                spr.clear();
                let y0 = 1 + b * ROWS_PER_TASK;
                for y in y0..(y0 + ROWS_PER_TASK).min(h - 1) {
                    row_points(y, pts, spr);
                }
            });
        let total: usize = parts.iter().map(|(p, _)| p.len()).sum();
        out.points.reserve(total);
        spreads.reserve(total);
        for (pts, spr) in parts.iter() {
            out.points.extend_from_slice(pts);
            spreads.extend_from_slice(spr);
        }
    }
    out.noise_m = if spreads.is_empty() {
        0.0
    } else {
        let mid = spreads.len() / 2;
        *spreads.select_nth_unstable_by(mid, f32::total_cmp).1
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> LiveParams {
        LiveParams {
            min_depth_m: 0.1,
            max_depth_m: 0.6,
            edge_jump_ratio: 0.03,
            min_view_cos: 0.2,
            levels: 3,
            first_level: 0,
        }
    }

    #[test]
    fn plane_facing_camera_gives_normals_toward_camera() {
        let k = Intrinsics::new(64, 48, 60.0, 60.0, 31.5, 23.5).unwrap();
        let depth = DepthFrame::from_metres(64, 48, vec![0.3; 64 * 48]).unwrap();
        let pyr = build_pyramid(&depth, &k, &params());
        assert_eq!(pyr.len(), 3);
        assert_eq!(pyr[0].points.len(), 62 * 46);
        assert_eq!((pyr[1].k.width, pyr[1].k.height), (32, 24));
        for lvl in &pyr {
            for (p, n) in &lvl.points {
                assert!((p.z - 0.3).abs() < 1e-6);
                assert!((n.z + 1.0).abs() < 1e-5, "normal {n:?}");
            }
        }
    }

    #[test]
    fn depth_edges_and_out_of_range_are_dropped() {
        let k = Intrinsics::new(40, 30, 40.0, 40.0, 19.5, 14.5).unwrap();
        let mut d = vec![0.3f32; 40 * 30];
        for y in 0..30 {
            for x in 20..40 {
                d[y * 40 + x] = 0.5; // step edge at x = 20
            }
        }
        d[5 * 40 + 5] = 0.9; // outside the working range
        let depth = DepthFrame::from_metres(40, 30, d).unwrap();
        let pyr = build_pyramid(&depth, &k, &params());
        let kept: Vec<_> = pyr[0].points.iter().map(|(p, _)| p).collect();
        // Columns 19 and 20 border the step and must be gone, as must the 4-neighbourhood
        // of the out-of-range pixel.
        for p in kept {
            let u = (p.x * 40.0 / p.z + 19.5).round() as i32;
            let v = (p.y * 40.0 / p.z + 14.5).round() as i32;
            assert!(u != 19 && u != 20, "edge pixel kept at u={u}");
            assert!((u - 5).abs() + (v - 5).abs() > 1, "pixel next to hole kept");
        }
        assert_eq!(pyr[0].valid_pixels, 40 * 30 - 1);
    }
}
