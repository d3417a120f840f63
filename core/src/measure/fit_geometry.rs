//! The fit geometry a measurement keeps for making a fitted band: the ring section's
//! outline and the knuckle's, in millimetres in a finger frame, and the clearance a band
//! needs beyond the ring circumference to pass over the knuckle.
//!
//! The finger frame has its origin at the centre of the ring section (the band's axis), `z`
//! along the finger axis (MCP towards PIP) and `x`, `y` in the section plane. Outlines are
//! closed polylines (the last point joins the first), counter-clockwise seen from `+z`.

use super::section::SectionResult;
use super::sizes::KNUCKLE_SHARE;
use nalgebra::{Point3, Vector2, Vector3};
use serde::{Deserialize, Serialize};
use std::f64::consts::PI;

/// Layout version of [`FitGeometry`]; a change to the fields is a version bump.
pub const FIT_GEOMETRY_VERSION: u32 = 1;

/// Directions at which outlines are compared through their support functions.
const SUPPORT_DIRECTIONS: usize = 720;

/// The finger frame in the scan's world coordinates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct FingerFrame {
    /// Origin: centre of the ring section (world, mm).
    pub origin_mm: [f64; 3],
    /// `x` axis (world, unit): first in-plane axis of the ring section.
    pub x_axis: [f64; 3],
    /// `y` axis (world, unit): second in-plane axis.
    pub y_axis: [f64; 3],
    /// `z` axis (world, unit): the finger axis, MCP towards PIP.
    pub z_axis: [f64; 3],
}

/// The knuckle's outline and what it asks of a band.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct KnuckleFit {
    /// Centre of the knuckle section in the finger frame (mm).
    pub centre_mm: [f64; 3],
    /// Knuckle outline in the finger frame's `x`, `y`, relative to `centre_mm` (mm).
    pub outline_mm: Vec<[f64; 2]>,
    /// Knuckle circumference (mm).
    pub circumference_mm: f64,
    /// Perimeter (mm) a band's inner outline needs beyond the ring circumference, keeping
    /// the ring section's shape, for the knuckle to pass through it; at most 0 when the
    /// knuckle passes the bare ring outline. See [`knuckle_clearance_mm`].
    pub clearance_mm: f64,
    /// Perimeter (mm) of the smallest round inner shape the knuckle passes (at least
    /// the ring circumference).
    pub round_pass_perimeter_mm: f64,
}

/// The fit geometry of a measurement (optional part of the measurement JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct FitGeometry {
    /// Layout version, [`FIT_GEOMETRY_VERSION`].
    pub version: u32,
    /// The finger frame.
    pub frame: FingerFrame,
    /// The ring point on the finger axis (halfway MCP→PIP on the refined axis), in the
    /// finger frame (mm).
    pub ring_point_mm: [f64; 3],
    /// Ring section outline in the finger frame's `x`, `y` (mm), around the origin.
    pub ring_outline_mm: Vec<[f64; 2]>,
    /// The knuckle, when its section was measured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub knuckle: Option<KnuckleFit>,
}

/// Rounds to a micrometre: the outlines are millimetres, and finer digits are noise that
/// only lengthens the JSON.
fn um(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

fn arr(v: &Vector3<f64>) -> [f64; 3] {
    [v.x, v.y, v.z]
}

impl FitGeometry {
    /// The fit geometry of a ring section, the ring point of its axis (world, metres) and
    /// the knuckle section when there is one.
    pub fn from_sections(
        ring: &SectionResult,
        ring_point: &Point3<f64>,
        knuckle: Option<&SectionResult>,
    ) -> Self {
        let (u, v, w) = (ring.plane_u, ring.plane_v, ring.axis_direction);
        let to_frame = |p: &Point3<f64>| {
            let d = (p - ring.centre) * 1000.0;
            [um(d.dot(&u)), um(d.dot(&v)), um(d.dot(&w))]
        };
        let ring_outline_mm: Vec<[f64; 2]> = ccw(ring
            .contour_2d
            .iter()
            .map(|p| [um(p.x * 1000.0), um(p.y * 1000.0)])
            .collect());
        let knuckle = knuckle.map(|k| {
            // Knuckle outline points in world, then in the ring's frame (same axis, its own
            // in-plane basis and centre).
            let outline_mm: Vec<[f64; 2]> = ccw(k
                .contour_2d
                .iter()
                .map(|p| {
                    let d = (k.plane_u * p.x + k.plane_v * p.y) * 1000.0;
                    [um(d.dot(&u)), um(d.dot(&v))]
                })
                .collect());
            let circumference_mm = k.perimeter_m * 1000.0;
            let ring_mm = ring.perimeter_m * 1000.0;
            let (clearance_mm, round_mm) =
                knuckle_clearance_mm(&ring_outline_mm, ring_mm, &outline_mm, circumference_mm);
            KnuckleFit {
                centre_mm: to_frame(&k.centre),
                outline_mm,
                circumference_mm,
                clearance_mm,
                round_pass_perimeter_mm: round_mm.max(ring_mm),
            }
        });
        Self {
            version: FIT_GEOMETRY_VERSION,
            frame: FingerFrame {
                origin_mm: arr(&(ring.centre.coords * 1000.0)),
                x_axis: arr(&u),
                y_axis: arr(&v),
                z_axis: arr(&w),
            },
            ring_point_mm: to_frame(ring_point),
            ring_outline_mm,
            knuckle,
        }
    }
}

/// A polyline turned counter-clockwise (positive signed area) if it is not.
fn ccw(mut pts: Vec<[f64; 2]>) -> Vec<[f64; 2]> {
    let n = pts.len();
    let area2: f64 = (0..n)
        .map(|i| {
            let (a, b) = (pts[i], pts[(i + 1) % n]);
            a[0] * b[1] - a[1] * b[0]
        })
        .sum();
    if area2 < 0.0 {
        pts.reverse();
    }
    pts
}

/// Support function of a point set at `SUPPORT_DIRECTIONS` evenly spaced directions.
pub(crate) fn support(points: &[[f64; 2]]) -> Vec<f64> {
    (0..SUPPORT_DIRECTIONS)
        .map(|k| {
            let n = direction(k);
            points
                .iter()
                .map(|p| p[0] * n.x + p[1] * n.y)
                .fold(f64::NEG_INFINITY, f64::max)
        })
        .collect()
}

fn direction(k: usize) -> Vector2<f64> {
    let a = 2.0 * PI * k as f64 / SUPPORT_DIRECTIONS as f64;
    Vector2::new(a.cos(), a.sin())
}

/// `min over t of max over θ of (excess(θ) + t·n(θ))`: the smallest uniform growth of one
/// convex shape that lets another (whose support function exceeds it by `excess`) through,
/// over every sideways shift `t` of the latter. The function of `t` is convex and piecewise
/// linear; the 2-D ellipsoid method finds its minimum to well under a micrometre.
pub(crate) fn min_over_shift(excess: &[f64]) -> f64 {
    let eval = |t: &Vector2<f64>| {
        let mut best = (f64::NEG_INFINITY, 0usize);
        for (k, e) in excess.iter().enumerate() {
            let v = e + t.dot(&direction(k));
            if v > best.0 {
                best = (v, k);
            }
        }
        best
    };
    let mut x = Vector2::zeros();
    // Initial ellipse: a 30 mm radius disc, far beyond any finger's off-centre shift.
    let mut p = nalgebra::Matrix2::identity() * 900.0;
    let mut best = f64::INFINITY;
    for _ in 0..300 {
        let (v, k) = eval(&x);
        best = best.min(v);
        let g = direction(k);
        let pg = p * g;
        let gpg = g.dot(&pg);
        if !(gpg > 1e-18) {
            break;
        }
        let gt = pg / gpg.sqrt();
        x -= gt / 3.0;
        p = (p - gt * gt.transpose() * (2.0 / 3.0)) * (4.0 / 3.0);
    }
    best
}

/// The perimeter (mm) a band keeping the ring section's shape needs beyond the ring
/// circumference to pass the knuckle, and the perimeter of the smallest round inner shape
/// the knuckle passes.
///
/// The knuckle's soft tissue gives as a band is pushed over it. How much is calibrated on
/// the jewellers' rule of the size recommendation ([`super::sizes::recommend`]): a round
/// band of the ring circumference plus [`KNUCKLE_SHARE`] of the knuckle's extra
/// circumference passes. The knuckle outline is taken uniformly shrunk by the depth that
/// makes exactly that round band pass it (its smallest enclosing circle), so round bands
/// follow the rule, and the fitted shape is held to the same shrunk outline: the band's
/// inner outline is the ring outline grown by a uniform offset `d` (perimeter `+ 2π·d`),
/// and the knuckle passes when its shrunk outline, shifted sideways as the band allows,
/// fits inside. A knuckle shaped like the ring section passes easily; a round knuckle
/// through a flat section may not, whatever the perimeters.
pub fn knuckle_clearance_mm(
    ring_outline_mm: &[[f64; 2]],
    ring_circumference_mm: f64,
    knuckle_outline_mm: &[[f64; 2]],
    knuckle_circumference_mm: f64,
) -> (f64, f64) {
    let gap = (knuckle_circumference_mm - ring_circumference_mm).max(0.0);
    let round_mm = ring_circumference_mm + KNUCKLE_SHARE * gap;
    let hr = support(ring_outline_mm);
    let hk = support(knuckle_outline_mm);
    let enclosing_radius_mm = min_over_shift(&hk);
    let shrink_mm = (enclosing_radius_mm - round_mm / (2.0 * PI)).max(0.0);
    let excess: Vec<f64> = hk.iter().zip(&hr).map(|(k, r)| k - shrink_mm - r).collect();
    let fitted = 2.0 * PI * min_over_shift(&excess);
    (fitted, round_mm.min(2.0 * PI * enclosing_radius_mm))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ellipse(a: f64, b: f64, cx: f64, cy: f64) -> Vec<[f64; 2]> {
        (0..360)
            .map(|i| {
                let t = (i as f64).to_radians();
                [cx + a * t.cos(), cy + b * t.sin()]
            })
            .collect()
    }

    fn perimeter(p: &[[f64; 2]]) -> f64 {
        (0..p.len())
            .map(|i| {
                let (a, b) = (p[i], p[(i + 1) % p.len()]);
                (a[0] - b[0]).hypot(a[1] - b[1])
            })
            .sum()
    }

    #[test]
    fn elliptic_knuckle_of_the_ring_shape_passes_with_less_than_the_rule() {
        let ring = ellipse(9.5, 7.6, 0.0, 0.0);
        let knuckle = ellipse(10.2, 8.2, 0.4, 0.0);
        let (pr, pk) = (perimeter(&ring), perimeter(&knuckle));
        let (fitted, round) = knuckle_clearance_mm(&ring, pr, &knuckle, pk);
        assert!((round - (pr + KNUCKLE_SHARE * (pk - pr))).abs() < 1e-9);
        assert!(fitted < KNUCKLE_SHARE * (pk - pr), "{fitted}");
    }

    #[test]
    fn circles_need_the_share_of_the_gap_whatever_the_offset() {
        let ring = ellipse(9.0, 9.0, 0.0, 0.0);
        let knuckle = ellipse(10.0, 10.0, 1.5, -0.7);
        let (pr, pk) = (perimeter(&ring), perimeter(&knuckle));
        let (fitted, round) = knuckle_clearance_mm(&ring, pr, &knuckle, pk);
        let want = KNUCKLE_SHARE * (pk - pr);
        assert!((fitted - want).abs() < 0.02, "{fitted} vs {want}");
        assert!((round - (pr + want)).abs() < 0.02, "{round}");
    }

    #[test]
    fn a_round_knuckle_through_a_flat_ring_needs_more_than_the_perimeter_gap() {
        let ring = ellipse(10.5, 7.5, 0.0, 0.0);
        let knuckle = ellipse(9.2, 9.2, 0.0, 0.0);
        let (pr, pk) = (perimeter(&ring), perimeter(&knuckle));
        let (fitted, round) = knuckle_clearance_mm(&ring, pr, &knuckle, pk);
        // Shrunk knuckle radius r (the round band of the rule), ring semi-minor 7.5:
        // d = r - 7.5.
        let r = (pr + KNUCKLE_SHARE * (pk - pr).max(0.0)) / (2.0 * PI);
        assert!((fitted - 2.0 * PI * (r - 7.5)).abs() < 0.02, "{fitted}");
        assert!(fitted > KNUCKLE_SHARE * (pk - pr) + 5.0, "{fitted}");
        assert!((round - 2.0 * PI * r).abs() < 0.02, "{round}");
    }
}
