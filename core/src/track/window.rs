//! Where the model must be raycast for one live frame: per model pixel, the camera-depth
//! range of the live depth around it, widened by a margin. Projective ICP only ever pairs a
//! live point with the model pixel it projects to, so model pixels far (in the image or in
//! depth) from every live sample cannot take part and need no ray.
//!
//! Guarantees: `out` gets one `[near, far]` entry per model pixel; a pixel whose footprint,
//! dilated by `radius_px` model pixels, holds no live depth inside `[min_depth_m,
//! max_depth_m]` gets an empty window (`[0, 0]`); any other gets `[min - margin, max +
//! margin]` over the usable live depths of that dilated footprint.

use crate::frame::{DepthFrame, Intrinsics};

/// Settings of the ray windows.
#[derive(Debug, Clone, Copy)]
pub(crate) struct WindowParams {
    /// Dilation of each model pixel's footprint (model pixels).
    pub radius_px: usize,
    /// Depth margin on both sides of the live depth range (metres).
    pub margin_m: f32,
    /// Live depth outside this range is ignored (metres).
    pub min_depth_m: f32,
    /// Live depth outside this range is ignored (metres).
    pub max_depth_m: f32,
}

/// Fills `out` (and uses `tmp` as scratch) with the ray windows of a `k_model`-sized model
/// image for the live `depth` (of `k_live`'s size).
pub(crate) fn depth_windows(
    depth: &DepthFrame,
    k_live: &Intrinsics,
    k_model: &Intrinsics,
    p: &WindowParams,
    out: &mut Vec<[f32; 2]>,
    tmp: &mut Vec<[f32; 2]>,
) {
    let (lw, lh) = (k_live.width as usize, k_live.height as usize);
    let (mw, mh) = (k_model.width as usize, k_model.height as usize);
    let d = depth.depth_m();
    const EMPTY: [f32; 2] = [f32::INFINITY, 0.0];
    // 1. Min/max usable live depth over each model pixel's footprint: live pixel x belongs
    //    to model pixel floor(x * mw / lw).
    tmp.clear();
    tmp.resize(mw * mh, EMPTY);
    let col: Vec<usize> = (0..lw).map(|x| (x * mw / lw).min(mw - 1)).collect();
    for y in 0..lh.min(d.len() / lw.max(1)) {
        let my = (y * mh / lh).min(mh - 1);
        let row = &mut tmp[my * mw..(my + 1) * mw];
        for (x, &z) in d[y * lw..(y + 1) * lw].iter().enumerate() {
            // Also false for NaN.
            if z >= p.min_depth_m && z <= p.max_depth_m {
                let c = &mut row[col[x]];
                c[0] = c[0].min(z);
                c[1] = c[1].max(z);
            }
        }
    }
    // 2. Dilate by `radius_px`: separable running min/max, rows then columns.
    let r = p.radius_px;
    out.clear();
    out.resize(mw * mh, EMPTY);
    for y in 0..mh {
        let src = &tmp[y * mw..(y + 1) * mw];
        let dst = &mut out[y * mw..(y + 1) * mw];
        for (x, o) in dst.iter_mut().enumerate() {
            let lo = x.saturating_sub(r);
            let hi = (x + r).min(mw - 1);
            let mut a = EMPTY;
            for c in &src[lo..=hi] {
                a[0] = a[0].min(c[0]);
                a[1] = a[1].max(c[1]);
            }
            *o = a;
        }
    }
    std::mem::swap(out, tmp);
    out.clear();
    out.resize(mw * mh, EMPTY);
    for y in 0..mh {
        let lo = y.saturating_sub(r);
        let hi = (y + r).min(mh - 1);
        for yy in lo..=hi {
            let src = &tmp[yy * mw..(yy + 1) * mw];
            let dst = &mut out[y * mw..(y + 1) * mw];
            for (o, c) in dst.iter_mut().zip(src) {
                o[0] = o[0].min(c[0]);
                o[1] = o[1].max(c[1]);
            }
        }
    }
    // 3. Margins; no live depth = empty window.
    for o in out.iter_mut() {
        *o = if o[1] > 0.0 {
            [o[0] - p.margin_m, o[1] + p.margin_m]
        } else {
            [0.0, 0.0]
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_follow_live_depth_and_dilation() {
        let kl = Intrinsics::new(8, 8, 8.0, 8.0, 3.5, 3.5).unwrap();
        let km = kl.scaled_to(4, 4).unwrap();
        let mut d = vec![0.0f32; 64];
        d[0] = 0.30; // live pixel (0, 0) -> model pixel (0, 0)
        d[1] = 0.32; // live pixel (1, 0) -> model pixel (0, 0)
        d[7 * 8 + 7] = 0.9; // out of range: ignored
        let depth = DepthFrame::from_metres(8, 8, d).unwrap();
        let p = WindowParams {
            radius_px: 1,
            margin_m: 0.01,
            min_depth_m: 0.1,
            max_depth_m: 0.6,
        };
        let (mut out, mut tmp) = (vec![], vec![]);
        depth_windows(&depth, &kl, &km, &p, &mut out, &mut tmp);
        assert_eq!(out.len(), 16);
        for (i, w) in out.iter().enumerate() {
            let (x, y) = (i % 4, i / 4);
            if x <= 1 && y <= 1 {
                assert!((w[0] - 0.29).abs() < 1e-6 && (w[1] - 0.33).abs() < 1e-6, "{i}: {w:?}");
            } else {
                assert_eq!(*w, [0.0, 0.0], "pixel {i}");
            }
        }
    }
}
