//! The image region of the landmarks: their convex hull grown by a margin, in pixels.

use nalgebra::Point2;

/// A convex polygon (counter-clockwise in image coordinates) grown by a margin.
#[derive(Debug, Clone)]
pub(crate) struct GrownHull {
    vertices: Vec<Point2<f64>>,
    margin_px: f64,
}

/// Cross product of `b - a` and `c - a`.
fn cross(a: &Point2<f64>, b: &Point2<f64>, c: &Point2<f64>) -> f64 {
    (b.x - a.x) * (c.y - a.y) - (b.y - a.y) * (c.x - a.x)
}

/// Distance from `p` to the segment `a`-`b`.
fn segment_distance(p: &Point2<f64>, a: &Point2<f64>, b: &Point2<f64>) -> f64 {
    let ab = b - a;
    let l2 = ab.norm_squared();
    let t = if l2 > 0.0 {
        ((p - a).dot(&ab) / l2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    (p - (a + ab * t)).norm()
}

impl GrownHull {
    /// The hull of `points` (Andrew's monotone chain) grown by `margin_px`.
    pub(crate) fn new(points: &[Point2<f64>], margin_px: f64) -> Self {
        let mut p: Vec<Point2<f64>> = points.to_vec();
        p.sort_by(|a, b| a.x.total_cmp(&b.x).then(a.y.total_cmp(&b.y)));
        p.dedup();
        let mut hull: Vec<Point2<f64>> = Vec::with_capacity(2 * p.len());
        for pass in 0..2 {
            let start = hull.len();
            let iter: Box<dyn Iterator<Item = &Point2<f64>>> = if pass == 0 {
                Box::new(p.iter())
            } else {
                Box::new(p.iter().rev())
            };
            for q in iter {
                while hull.len() >= start + 2
                    && cross(&hull[hull.len() - 2], &hull[hull.len() - 1], q) <= 0.0
                {
                    hull.pop();
                }
                hull.push(*q);
            }
            hull.pop();
        }
        if hull.is_empty() {
            hull = p;
        }
        Self {
            vertices: hull,
            margin_px,
        }
    }

    /// Whether pixel centre `p` is inside the grown hull.
    pub(crate) fn contains(&self, p: &Point2<f64>) -> bool {
        let n = self.vertices.len();
        if n >= 3 && (0..n).all(|i| cross(&self.vertices[i], &self.vertices[(i + 1) % n], p) >= 0.0)
        {
            return true;
        }
        (0..n).any(|i| {
            segment_distance(p, &self.vertices[i], &self.vertices[(i + 1) % n]) <= self.margin_px
        })
    }

    /// Per row of the grown hull's [`GrownHull::pixel_box`] in a `width`x`height` image, the
    /// run of pixel centres inside it: `(v, u_start, u_end)`, end exclusive, empty runs left
    /// out. The grown hull is convex, so each row's inside pixels are one run; its ends are
    /// found by [`GrownHull::contains`] itself, walking from the previous row's ends, so the
    /// runs hold exactly the pixels `contains` accepts without testing every pixel.
    pub(crate) fn row_runs(&self, width: u32, height: u32) -> Vec<(usize, usize, usize)> {
        let (u0, v0, u1, v1) = self.pixel_box(width, height);
        let mut runs = Vec::with_capacity(v1.saturating_sub(v0));
        let inside = |u: usize, v: usize| self.contains(&Point2::new(u as f64, v as f64));
        // The previous row's run, where the walk starts.
        let mut prev: Option<(usize, usize)> = None;
        for v in v0..v1 {
            // A pixel of this row inside the hull, if any: near the previous run first,
            // else the whole row.
            let seed = prev
                .and_then(|(a, b)| {
                    let mid = a + (b - a) / 2;
                    [mid, a, b - 1].into_iter().find(|&u| inside(u, v))
                })
                .or_else(|| (u0..u1).find(|&u| inside(u, v)));
            let Some(seed) = seed else {
                prev = None;
                continue;
            };
            // The run's ends, walked from the previous row's where those lie on the seed's
            // side (the left end at or left of the seed, the right one past it), else from
            // the seed; the walks towards the seed stop there.
            let (pa, pb) = prev.unwrap_or((seed, seed + 1));
            let (mut a, mut b) = (pa.min(seed), pb.max(seed + 1));
            if inside(a, v) {
                while a > u0 && inside(a - 1, v) {
                    a -= 1;
                }
            } else {
                while a < seed && !inside(a, v) {
                    a += 1;
                }
            }
            if inside(b - 1, v) {
                while b < u1 && inside(b, v) {
                    b += 1;
                }
            } else {
                while b > seed + 1 && !inside(b - 1, v) {
                    b -= 1;
                }
            }
            runs.push((v, a, b));
            prev = Some((a, b));
        }
        runs
    }

    /// The bounding box of the grown hull, clipped to a `width`x`height` image: `(u0, v0,
    /// u1, v1)`, ends exclusive.
    pub(crate) fn pixel_box(&self, width: u32, height: u32) -> (usize, usize, usize, usize) {
        let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
        for v in &self.vertices {
            x0 = x0.min(v.x);
            y0 = y0.min(v.y);
            x1 = x1.max(v.x);
            y1 = y1.max(v.y);
        }
        let m = self.margin_px;
        let clip = |x: f64, hi: u32| x.clamp(0.0, hi as f64) as usize;
        (
            clip((x0 - m).floor(), width),
            clip((y0 - m).floor(), height),
            clip((x1 + m).ceil() + 1.0, width),
            clip((y1 + m).ceil() + 1.0, height),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_grown_square_contains_its_inside_and_margin_only() {
        let pts = [
            Point2::new(10.0, 10.0),
            Point2::new(20.0, 10.0),
            Point2::new(20.0, 20.0),
            Point2::new(10.0, 20.0),
            Point2::new(15.0, 15.0),
        ];
        let h = GrownHull::new(&pts, 3.0);
        assert!(h.contains(&Point2::new(15.0, 12.0)));
        assert!(h.contains(&Point2::new(22.5, 15.0)));
        assert!(!h.contains(&Point2::new(23.5, 15.0)));
        assert!(!h.contains(&Point2::new(5.0, 5.0)));
        assert_eq!(h.pixel_box(100, 100), (7, 7, 24, 24));
    }

    #[test]
    fn row_runs_hold_exactly_the_pixels_contains_accepts() {
        // A small linear congruential generator: uniform in [0, 1).
        let mut state = 1414u64;
        let mut next = || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let (w, h) = (64u32, 48u32);
        for case in 0..200 {
            // 1 to 21 points (collinear and single-point hulls included), some off the image;
            // every third case a thin slanted capsule, whose runs in consecutive rows need
            // not overlap.
            let n = 1 + case % 21;
            let pts: Vec<Point2<f64>> = if case % 3 == 0 {
                let (x, y) = (next() * 20.0, next() * 48.0);
                vec![
                    Point2::new(x, y),
                    Point2::new(x + 40.0 + next() * 20.0, y + next() * 6.0),
                ]
            } else {
                (0..n)
                    .map(|_| Point2::new(next() * 90.0 - 13.0, next() * 70.0 - 11.0))
                    .collect()
            };
            let margin = if case % 3 == 0 {
                next() * 1.5
            } else {
                next() * 8.0
            };
            let hull = GrownHull::new(&pts, margin);
            let mut by_runs = vec![false; (w * h) as usize];
            for (v, a, b) in hull.row_runs(w, h) {
                assert!(a < b);
                for u in a..b {
                    by_runs[v * w as usize + u] = true;
                }
            }
            for v in 0..h as usize {
                for u in 0..w as usize {
                    assert_eq!(
                        by_runs[v * w as usize + u],
                        hull.contains(&Point2::new(u as f64, v as f64)),
                        "case {case}, pixel ({u}, {v})"
                    );
                }
            }
        }
    }
}
