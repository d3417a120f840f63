//! Where the model must be raycast for one live frame. Projective ICP only pairs a live
//! point with the model pixel it projects to, which (for a pose near the initial guess) lies
//! near the live point's own pixel: model pixels far from every live depth sample are never
//! looked at, and are left for on-demand casting ([`super::model::LazyModel`]).
//!
//! Guarantees: `out` gets one flag per model pixel, set exactly when the pixel's footprint in
//! the live image, dilated by `radius_px` model pixels, holds a live depth inside
//! `[min_depth_m, max_depth_m]`.

use crate::frame::{DepthFrame, Intrinsics};

/// Marks (in `out`, with `tmp` as scratch) the model pixels of a `k_model`-sized image near
/// usable live depth of `depth` (of `k_live`'s size).
pub(crate) fn live_mask(
    depth: &DepthFrame,
    k_live: &Intrinsics,
    k_model: &Intrinsics,
    radius_px: usize,
    depth_range_m: (f32, f32),
    out: &mut Vec<bool>,
    tmp: &mut Vec<bool>,
) {
    let (lw, lh) = (k_live.width as usize, k_live.height as usize);
    let (mw, mh) = (k_model.width as usize, k_model.height as usize);
    let d = depth.depth_m();
    let (lo, hi) = depth_range_m;
    // 1. Footprints with usable depth: live pixel x belongs to model pixel floor(x * mw / lw).
    tmp.clear();
    tmp.resize(mw * mh, false);
    if lw == 0 || mw == 0 || mh == 0 {
        out.clear();
        out.resize(mw * mh, false);
        return;
    }
    let col: Vec<usize> = (0..lw).map(|x| (x * mw / lw).min(mw - 1)).collect();
    for y in 0..lh.min(d.len() / lw) {
        let my = (y * mh / lh).min(mh - 1);
        let row = &mut tmp[my * mw..(my + 1) * mw];
        for (x, &z) in d[y * lw..(y + 1) * lw].iter().enumerate() {
            // Also false for NaN.
            if z >= lo && z <= hi {
                row[col[x]] = true;
            }
        }
    }
    // 2. Dilate by `radius_px`: rows (into `out`), then columns (back into `tmp`).
    let r = radius_px;
    out.clear();
    out.resize(mw * mh, false);
    for y in 0..mh {
        let src = &tmp[y * mw..(y + 1) * mw];
        let dst = &mut out[y * mw..(y + 1) * mw];
        // Running count of set flags in [x - r, x + r].
        let mut count = src.iter().take(r.min(mw)).filter(|&&b| b).count();
        for x in 0..mw {
            if x + r < mw && src[x + r] {
                count += 1;
            }
            if x > r && src[x - r - 1] {
                count -= 1;
            }
            dst[x] = count > 0;
        }
    }
    tmp.iter_mut().for_each(|b| *b = false);
    for y in 0..mh {
        for yy in y.saturating_sub(r)..=(y + r).min(mh - 1) {
            let src = &out[yy * mw..(yy + 1) * mw];
            let dst = &mut tmp[y * mw..(y + 1) * mw];
            for (o, &c) in dst.iter_mut().zip(src) {
                *o |= c;
            }
        }
    }
    std::mem::swap(out, tmp);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mask_follows_live_depth_and_dilation() {
        let kl = Intrinsics::new(16, 16, 16.0, 16.0, 7.5, 7.5).unwrap();
        let km = kl.scaled_to(8, 8).unwrap();
        let mut d = vec![0.0f32; 256];
        d[0] = 0.30; // live pixel (0, 0) -> model pixel (0, 0)
        d[15 * 16 + 15] = 0.9; // out of range: ignored
        d[6 * 16 + 9] = f32::NAN; // no depth
        let depth = DepthFrame::from_metres(16, 16, d).unwrap();
        let (mut out, mut tmp) = (vec![], vec![]);
        live_mask(&depth, &kl, &km, 1, (0.1, 0.6), &mut out, &mut tmp);
        assert_eq!(out.len(), 64);
        for (i, &m) in out.iter().enumerate() {
            let (x, y) = (i % 8, i / 8);
            assert_eq!(m, x <= 1 && y <= 1, "pixel ({x}, {y})");
        }
    }
}
