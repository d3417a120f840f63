//! The 6-DoF Gauss–Newton terms shared by point-to-plane ICP and point-to-SDF alignment:
//! the Jacobian row of a point-to-plane residual under the increment `(ω, v)` about a
//! centre, and the upper-triangle normal equations they add to. The residuals' Huber weight
//! is [`crate::numeric::huber_weight`].
//!
//! Guarantees: sums are accumulated in `f64` in the order terms are added, so a caller that
//! adds terms in a fixed order gets the same bits on every run and thread count.

use nalgebra::{Matrix6, Point3, Vector3};

/// Jacobian row `[(p − c) × n, n]` of the residual `n · (p − q)` for a world point `p`,
/// the increment's centre `c` and the plane's unit normal `n`.
#[inline]
pub(crate) fn plane_jacobian(p: &Point3<f32>, c: &Vector3<f32>, n: &Vector3<f32>) -> [f64; 6] {
    let arm = (p.coords - c).cross(n);
    [
        arm.x as f64,
        arm.y as f64,
        arm.z as f64,
        n.x as f64,
        n.y as f64,
        n.z as f64,
    ]
}

/// Normal equations `A ξ = b` kept as A's upper triangle (21 values) and `b`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct UpperNormalEq {
    a: [f64; 21],
    b: [f64; 6],
}

impl UpperNormalEq {
    /// Empty system.
    pub(crate) fn zero() -> Self {
        Self {
            a: [0.0; 21],
            b: [0.0; 6],
        }
    }

    /// Adds one residual `r` with Jacobian row `j` and weight `w`.
    #[inline]
    pub(crate) fn add_term(&mut self, j: &[f64; 6], w: f64, r: f64) {
        let mut idx = 0;
        for r_ in 0..6 {
            let wj = w * j[r_];
            for jc in &j[r_..] {
                self.a[idx] += wj * jc;
                idx += 1;
            }
            self.b[r_] += wj * r;
        }
    }

    /// Adds another system (element-wise).
    pub(crate) fn add(&mut self, o: &UpperNormalEq) {
        for (x, y) in self.a.iter_mut().zip(&o.a) {
            *x += y;
        }
        for (x, y) in self.b.iter_mut().zip(&o.b) {
            *x += y;
        }
    }

    /// The full symmetric matrix A.
    pub(crate) fn matrix(&self) -> Matrix6<f64> {
        let mut m = Matrix6::zeros();
        let mut idx = 0;
        for r in 0..6 {
            for c in r..6 {
                m[(r, c)] = self.a[idx];
                m[(c, r)] = self.a[idx];
                idx += 1;
            }
        }
        m
    }

    /// The right-hand side b.
    pub(crate) fn rhs(&self) -> &[f64; 6] {
        &self.b
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upper_triangle_matches_the_outer_product() {
        let j = [0.1, -0.2, 0.3, 0.6, 0.0, -0.8];
        let mut eq = UpperNormalEq::zero();
        eq.add_term(&j, 0.5, 0.002);
        eq.add_term(&j, 1.0, -0.001);
        let jv = nalgebra::Vector6::from_row_slice(&j);
        let full = jv * jv.transpose() * 1.5;
        assert!((eq.matrix() - full).abs().max() < 1e-15);
        let b = jv * (0.5 * 0.002 - 0.001);
        for k in 0..6 {
            assert!((eq.rhs()[k] - b[k]).abs() < 1e-15);
        }
    }
}
