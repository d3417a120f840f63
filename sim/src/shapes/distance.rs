//! Exact point–ellipse and point–ellipsoid distance, for the signed distances of the
//! elliptic primitives (D. Eberly, "Distance from a Point to an Ellipse, an Ellipsoid, or
//! a Hyperellipsoid", robust bisection form).

use nalgebra::Vector3;

/// Root of Σ (rᵢ zᵢ / (s + rᵢ))² − 1 = 0 by bisection (`r` ratios ≥ 1, last `r` = 1).
fn bisect_root(r: &[f64], z: &[f64], g0: f64) -> f64 {
    let n: Vec<f64> = r.iter().zip(z).map(|(ri, zi)| ri * zi).collect();
    let last = z.len() - 1;
    let mut s0 = z[last] - 1.0;
    let mut s1 = if g0 < 0.0 {
        0.0
    } else {
        n.iter().map(|v| v * v).sum::<f64>().sqrt() - 1.0
    };
    let mut s = 0.0;
    for _ in 0..2000 {
        s = 0.5 * (s0 + s1);
        if s == s0 || s == s1 {
            break;
        }
        let g: f64 = n
            .iter()
            .zip(r)
            .map(|(ni, ri)| {
                let q = ni / (s + ri);
                q * q
            })
            .sum::<f64>()
            - 1.0;
        if g > 0.0 {
            s0 = s;
        } else if g < 0.0 {
            s1 = s;
        } else {
            break;
        }
    }
    s
}

/// Distance from (y0, y1) (first quadrant) to the ellipse with e0 ≥ e1 > 0.
fn ellipse_distance_sorted(e0: f64, e1: f64, y0: f64, y1: f64) -> f64 {
    if y1 > 0.0 {
        if y0 > 0.0 {
            let z0 = y0 / e0;
            let z1 = y1 / e1;
            let g = z0 * z0 + z1 * z1 - 1.0;
            if g != 0.0 {
                let r0 = (e0 / e1).powi(2);
                let s = bisect_root(&[r0, 1.0], &[z0, z1], g);
                let x0 = r0 * y0 / (s + r0);
                let x1 = y1 / (s + 1.0);
                ((x0 - y0).powi(2) + (x1 - y1).powi(2)).sqrt()
            } else {
                0.0
            }
        } else {
            (y1 - e1).abs()
        }
    } else {
        let numer0 = e0 * y0;
        let denom0 = e0 * e0 - e1 * e1;
        if numer0 < denom0 {
            let xde0 = numer0 / denom0;
            let x0 = e0 * xde0;
            let x1 = e1 * (1.0 - xde0 * xde0).max(0.0).sqrt();
            ((x0 - y0).powi(2) + x1 * x1).sqrt()
        } else {
            (y0 - e0).abs()
        }
    }
}

/// Signed distance from (x, y) to the ellipse with semi-axes a (x) and b (y).
pub(super) fn ellipse_signed_distance(a: f64, b: f64, x: f64, y: f64) -> f64 {
    let (x, y) = (x.abs(), y.abs());
    let d = if a >= b {
        ellipse_distance_sorted(a, b, x, y)
    } else {
        ellipse_distance_sorted(b, a, y, x)
    };
    let inside = (x / a).powi(2) + (y / b).powi(2) < 1.0;
    if inside {
        -d
    } else {
        d
    }
}

/// Distance from y (first octant) to the ellipsoid with e0 ≥ e1 ≥ e2 > 0.
fn ellipsoid_distance_sorted(e: [f64; 3], y: [f64; 3]) -> f64 {
    let [e0, e1, e2] = e;
    let [y0, y1, y2] = y;
    if y2 > 0.0 {
        if y1 > 0.0 {
            if y0 > 0.0 {
                let z = [y0 / e0, y1 / e1, y2 / e2];
                let g = z.iter().map(|v| v * v).sum::<f64>() - 1.0;
                if g == 0.0 {
                    return 0.0;
                }
                let r = [(e0 / e2).powi(2), (e1 / e2).powi(2), 1.0];
                let s = bisect_root(&r, &z, g);
                let x = [
                    r[0] * y0 / (s + r[0]),
                    r[1] * y1 / (s + r[1]),
                    y2 / (s + 1.0),
                ];
                ((x[0] - y0).powi(2) + (x[1] - y1).powi(2) + (x[2] - y2).powi(2)).sqrt()
            } else {
                ellipse_distance_sorted(e1, e2, y1, y2)
            }
        } else if y0 > 0.0 {
            ellipse_distance_sorted(e0, e2, y0, y2)
        } else {
            (y2 - e2).abs()
        }
    } else {
        let denom0 = e0 * e0 - e2 * e2;
        let denom1 = e1 * e1 - e2 * e2;
        let numer0 = e0 * y0;
        let numer1 = e1 * y1;
        if numer0 < denom0 && numer1 < denom1 {
            let xde0 = numer0 / denom0;
            let xde1 = numer1 / denom1;
            let discr = 1.0 - xde0 * xde0 - xde1 * xde1;
            if discr > 0.0 {
                let x0 = e0 * xde0;
                let x1 = e1 * xde1;
                let x2 = e2 * discr.sqrt();
                return ((x0 - y0).powi(2) + (x1 - y1).powi(2) + x2 * x2).sqrt();
            }
        }
        ellipse_distance_sorted(e0, e1, y0, y1)
    }
}

/// Signed distance from `q` (local frame) to the axis-aligned ellipsoid with `radii`.
pub(super) fn ellipsoid_signed_distance(radii: &Vector3<f64>, q: &Vector3<f64>) -> f64 {
    let mut idx = [0usize, 1, 2];
    idx.sort_by(|&i, &j| radii[j].total_cmp(&radii[i]));
    let e = [radii[idx[0]], radii[idx[1]], radii[idx[2]]];
    let y = [q[idx[0]].abs(), q[idx[1]].abs(), q[idx[2]].abs()];
    // Equal semi-axes make denominators vanish in the y2 = 0 branch: nudge by an ulp-scale
    // amount (changes the distance by ~1e-15 m).
    let e = [
        e[0],
        if e[1] >= e[0] {
            e[0] * (1.0 - 1e-12)
        } else {
            e[1]
        },
        e[2],
    ];
    let e = [
        e[0],
        e[1],
        if e[2] >= e[1] {
            e[1] * (1.0 - 1e-12)
        } else {
            e[2]
        },
    ];
    let d = ellipsoid_distance_sorted(e, y);
    let inside = (0..3).map(|i| (y[i] / e[i]).powi(2)).sum::<f64>() < 1.0;
    if inside {
        -d
    } else {
        d
    }
}
