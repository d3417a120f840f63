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
}
