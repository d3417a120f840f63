//! Closed convex outlines in the plane (millimetres): the inner shape of a band grown from
//! a measured section to an exact perimeter, and its offsets.
//!
//! An outline is a `Vec<[f64; 2]>`, counter-clockwise, the last point joining the first.

use crate::measure::fit_geometry::support;
use std::f64::consts::PI;

/// Perimeter of a closed polyline.
pub fn perimeter(p: &[[f64; 2]]) -> f64 {
    (0..p.len())
        .map(|i| {
            let (a, b) = (p[i], p[(i + 1) % p.len()]);
            (a[0] - b[0]).hypot(a[1] - b[1])
        })
        .sum()
}

/// Twice the signed area of a closed polyline (positive: counter-clockwise).
pub fn signed_area2(p: &[[f64; 2]]) -> f64 {
    (0..p.len())
        .map(|i| {
            let (a, b) = (p[i], p[(i + 1) % p.len()]);
            a[0] * b[1] - a[1] * b[0]
        })
        .sum()
}

/// The convex region `{x : x·n(θ_k) ≤ h_k + grow}` for the support values `h` at evenly
/// spaced directions: the convex hull of the outline grown (or shrunk, `grow < 0`) by a
/// uniform distance. Computed by clipping a large square by each half-plane, so shrinking
/// is exact too (short edges vanish instead of folding over).
fn grown_hull(h: &[f64], grow: f64) -> Vec<[f64; 2]> {
    let big = h.iter().fold(0.0f64, |m, v| m.max(v.abs())) * 4.0 + grow.abs() * 4.0 + 1.0;
    let mut poly = vec![[-big, -big], [big, -big], [big, big], [-big, big]];
    let k = h.len();
    for (i, hi) in h.iter().enumerate() {
        let a = 2.0 * PI * i as f64 / k as f64;
        let (nx, ny) = (a.cos(), a.sin());
        let c = hi + grow;
        let inside = |p: &[f64; 2]| p[0] * nx + p[1] * ny - c;
        let mut out = Vec::with_capacity(poly.len() + 1);
        for j in 0..poly.len() {
            let (p, q) = (poly[j], poly[(j + 1) % poly.len()]);
            let (dp, dq) = (inside(&p), inside(&q));
            if dp <= 0.0 {
                out.push(p);
            }
            if (dp <= 0.0) != (dq <= 0.0) {
                let t = dp / (dp - dq);
                out.push([p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1])]);
            }
        }
        poly = out;
        if poly.len() < 3 {
            return poly;
        }
    }
    poly
}

/// `n` points evenly spaced by arc length along a closed polyline, starting at the point
/// closest to the `+x` direction (so every band starts its vertex rings at the same angle).
pub fn resample(p: &[[f64; 2]], n: usize) -> Vec<[f64; 2]> {
    let m = p.len();
    let start = (0..m)
        .min_by(|&a, &b| {
            let ang = |q: [f64; 2]| q[1].atan2(q[0]).abs();
            ang(p[a]).total_cmp(&ang(p[b]))
        })
        .unwrap_or(0);
    let pts: Vec<[f64; 2]> = (0..m).map(|i| p[(start + i) % m]).collect();
    let total = perimeter(&pts);
    let step = total / n as f64;
    let mut out = Vec::with_capacity(n);
    let (mut seg, mut seg_start) = (0usize, 0.0f64);
    for i in 0..n {
        let s = i as f64 * step;
        loop {
            let (a, b) = (pts[seg % m], pts[(seg + 1) % m]);
            let len = (a[0] - b[0]).hypot(a[1] - b[1]);
            if s <= seg_start + len || seg + 1 >= m {
                let t = if len > 0.0 {
                    ((s - seg_start) / len).clamp(0.0, 1.0)
                } else {
                    0.0
                };
                out.push([a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])]);
                break;
            }
            seg_start += len;
            seg += 1;
        }
    }
    out
}

/// The outline of the convex hull of `outline` grown by a uniform distance and resampled
/// to `n` points, whose polyline perimeter is `target_mm` (to 1 µm); `None` when the
/// target cannot be reached (an outline too small to shrink that far).
pub fn grown_to_perimeter(
    outline: &[[f64; 2]],
    target_mm: f64,
    n: usize,
) -> Option<(Vec<[f64; 2]>, f64)> {
    let h = support(outline);
    let at = |d: f64| {
        let g = grown_hull(&h, d);
        if g.len() < 3 {
            return None;
        }
        let r = resample(&g, n);
        let p = perimeter(&r);
        Some((r, p))
    };
    // Perimeter grows by about 2π per millimetre of offset: secant iterations from there.
    let (_, p0) = at(0.0)?;
    let mut d = (target_mm - p0) / (2.0 * PI);
    for _ in 0..30 {
        let (r, p) = at(d)?;
        let err = target_mm - p;
        if err.abs() < 1e-6 {
            return Some((r, d));
        }
        d += err / (2.0 * PI);
    }
    None
}

/// A regular `n`-gon around the origin whose perimeter is `target_mm`.
pub fn round_with_perimeter(target_mm: f64, n: usize) -> Vec<[f64; 2]> {
    let r = target_mm / (2.0 * n as f64 * (PI / n as f64).sin());
    (0..n)
        .map(|i| {
            let a = 2.0 * PI * i as f64 / n as f64;
            [r * a.cos(), r * a.sin()]
        })
        .collect()
}

/// A counter-clockwise convex polygon offset outwards by `d` along each vertex's miter:
/// every edge moves parallel to itself by exactly `d`, so two offsets of one polygon are
/// `|d1 − d2|` apart everywhere, with the same vertex count and order.
pub fn offset_miter(p: &[[f64; 2]], d: f64) -> Vec<[f64; 2]> {
    let n = p.len();
    let normal = |a: [f64; 2], b: [f64; 2]| {
        let (ex, ey) = (b[0] - a[0], b[1] - a[1]);
        let l = ex.hypot(ey).max(1e-12);
        [ey / l, -ex / l]
    };
    (0..n)
        .map(|i| {
            let prev = p[(i + n - 1) % n];
            let (cur, next) = (p[i], p[(i + 1) % n]);
            let (n1, n2) = (normal(prev, cur), normal(cur, next));
            let (sx, sy) = (n1[0] + n2[0], n1[1] + n2[1]);
            // The miter vector m satisfies m·n1 = m·n2 = 1.
            let dot = sx * n1[0] + sy * n1[1];
            let k = if dot > 1e-9 { d / dot } else { d };
            [cur[0] + sx * k, cur[1] + sy * k]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn growing_an_ellipse_hits_the_perimeter_and_offsets_keep_their_distance() {
        let e: Vec<[f64; 2]> = (0..360)
            .map(|i| {
                let t = (i as f64).to_radians();
                [10.0 * t.cos(), 7.0 * t.sin()]
            })
            .collect();
        let p0 = perimeter(&e);
        for target in [p0 - 0.3, p0, p0 + 1.0, p0 + 5.0] {
            let (r, _) = grown_to_perimeter(&e, target, 360).unwrap();
            assert!((perimeter(&r) - target).abs() < 1e-5);
            assert!(signed_area2(&r) > 0.0);
            let o = offset_miter(&r, 1.8);
            assert!((perimeter(&o) - perimeter(&r) - 2.0 * PI * 1.8).abs() < 0.01);
        }
        let c = round_with_perimeter(60.0, 100);
        assert!((perimeter(&c) - 60.0).abs() < 1e-9);
    }
}
