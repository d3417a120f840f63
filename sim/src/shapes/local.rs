//! Helpers shared by the primitives: input validation (every constructor rejects
//! non-finite or degenerate input with a typed error), the local frame a shape is
//! defined in, and the stable quadratic solver behind every exact ray hit.

use crate::SimError;
use nalgebra::{Isometry3, Matrix3, Point3, Rotation3, Translation3, UnitQuaternion, Vector3};

pub(super) fn finite_point(what: &'static str, p: &Point3<f64>) -> Result<(), SimError> {
    if p.coords.iter().all(|c| c.is_finite()) {
        Ok(())
    } else {
        Err(SimError::Shape(format!("{what} {p:?} is not finite")))
    }
}

pub(super) fn positive(what: &'static str, v: f64) -> Result<f64, SimError> {
    if v.is_finite() && v > 0.0 {
        Ok(v)
    } else {
        Err(SimError::Shape(format!(
            "{what} is {v}, must be finite and > 0"
        )))
    }
}

pub(super) fn unit(what: &'static str, v: &Vector3<f64>) -> Result<Vector3<f64>, SimError> {
    let n = v.norm();
    if !n.is_finite() || n < 1e-12 {
        return Err(SimError::Shape(format!(
            "{what} {v:?} is zero or not finite"
        )));
    }
    Ok(v / n)
}

/// A local frame (local → world) whose z axis is `axis` and x axis is `x_hint`
/// orthogonalised against it (any perpendicular if `x_hint` is parallel to `axis`).
pub(super) fn frame_from(
    origin: &Point3<f64>,
    axis: &Vector3<f64>,
    x_hint: Option<&Vector3<f64>>,
) -> Result<Isometry3<f64>, SimError> {
    finite_point("origin", origin)?;
    let z = unit("axis", axis)?;
    let mut x = match x_hint {
        Some(h) => {
            let h = unit("cross-section direction", h)?;
            h - z * h.dot(&z)
        }
        None => Vector3::zeros(),
    };
    if x.norm() < 1e-6 {
        let pick = if z.x.abs() < 0.9 {
            Vector3::x()
        } else {
            Vector3::y()
        };
        x = pick - z * pick.dot(&z);
    }
    let x = x.normalize();
    let y = z.cross(&x);
    let rot = Rotation3::from_basis_unchecked(&[x, y, z]);
    Ok(Isometry3::from_parts(
        Translation3::from(origin.coords),
        UnitQuaternion::from_rotation_matrix(&rot),
    ))
}

/// A local frame with its rotation cached as a matrix (faster than quaternions per ray).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct LocalFrame {
    pub(super) iso: Isometry3<f64>,
    pub(super) rot: Matrix3<f64>,
    rot_t: Matrix3<f64>,
    origin: Vector3<f64>,
}

impl LocalFrame {
    pub(super) fn new(iso: Isometry3<f64>) -> Self {
        let rot = *iso.rotation.to_rotation_matrix().matrix();
        Self {
            iso,
            rot,
            rot_t: rot.transpose(),
            origin: iso.translation.vector,
        }
    }
    #[inline]
    pub(super) fn to_local_point(&self, p: &Point3<f64>) -> Point3<f64> {
        Point3::from(self.rot_t * (p.coords - self.origin))
    }
    #[inline]
    pub(super) fn to_local_vector(&self, v: &Vector3<f64>) -> Vector3<f64> {
        self.rot_t * v
    }
    #[inline]
    pub(super) fn to_world_vector(&self, v: &Vector3<f64>) -> Vector3<f64> {
        self.rot * v
    }
    #[inline]
    pub(super) fn to_world_point(&self, p: &Point3<f64>) -> Point3<f64> {
        Point3::from(self.rot * p.coords + self.origin)
    }
    #[inline]
    pub(super) fn origin_point(&self) -> Point3<f64> {
        Point3::from(self.origin)
    }
}

/// Smallest root of `a t² + 2 b t + c = 0` accepted by `ok`, in increasing order.
#[inline]
pub(super) fn quadratic_roots(a: f64, b: f64, c: f64) -> Option<(f64, f64)> {
    if a.abs() < 1e-300 {
        if b.abs() < 1e-300 {
            return None;
        }
        let t = -c / (2.0 * b);
        return Some((t, t));
    }
    let disc = b * b - a * c;
    if disc < 0.0 {
        return None;
    }
    // Numerically stable form.
    let q = -(b + b.signum() * disc.sqrt());
    let (t0, t1) = if q == 0.0 { (0.0, 0.0) } else { (q / a, c / q) };
    Some(if t0 <= t1 { (t0, t1) } else { (t1, t0) })
}
