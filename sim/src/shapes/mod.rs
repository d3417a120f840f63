//! Analytic surfaces with exact ray intersection and (where closed-form or robustly
//! solvable) exact signed distance.
//!
//! Guarantees: every shape is built by a validating constructor (finite inputs, positive
//! radii, non-zero axes) and is immutable afterwards. [`Surface::intersect`] returns the
//! nearest hit strictly inside `(t_min, t_max)` along a unit ray, with the outward unit
//! normal, computed in closed form (quadratic roots), never by marching.
//! [`Surface::signed_distance`] is exact (negative inside) for [`Sphere`], [`Plane`],
//! [`Cylinder`], [`EllipticCylinder`] and [`Ellipsoid`] (the elliptic cases via Eberly's
//! robust bisection, accurate to floating point), and `None` where no exact distance is
//! available ([`EllipticFrustum`]). All quantities are metres, world frame, `f64`.

mod distance;
mod local;
mod primitives;
mod scene;

pub use primitives::{Cylinder, Ellipsoid, EllipticCylinder, EllipticFrustum, Plane, Sphere};
pub use scene::Scene;

use crate::SimError;
use local::{finite_point, unit, LocalFrame};
use nalgebra::{Point3, Vector3};

/// A ray with a unit direction.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ray {
    /// Start point (world, metres).
    pub origin: Point3<f64>,
    /// Unit direction.
    pub dir: Vector3<f64>,
}

impl Ray {
    /// A ray from `origin` along `dir` (normalised here). Errors on a zero or non-finite
    /// direction or a non-finite origin.
    pub fn new(origin: Point3<f64>, dir: Vector3<f64>) -> Result<Self, SimError> {
        finite_point("ray origin", &origin)?;
        let dir = unit("ray direction", &dir)?;
        Ok(Self { origin, dir })
    }

    /// The point at distance `t` along the ray.
    #[inline]
    pub fn at(&self, t: f64) -> Point3<f64> {
        self.origin + self.dir * t
    }
}

/// A ray–surface hit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hit {
    /// Distance along the (unit) ray, metres.
    pub t: f64,
    /// Outward unit surface normal at the hit (world frame).
    pub normal: Vector3<f64>,
}

/// A sphere enclosing a bounded surface (for culling).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BoundingSphere {
    /// Centre (world, metres).
    pub center: Point3<f64>,
    /// Radius, metres.
    pub radius: f64,
}

impl BoundingSphere {
    /// Entry distance of a unit ray into the sphere (0 if the origin is inside), or `None`
    /// if the ray misses it or it lies entirely behind the origin.
    #[inline]
    pub fn entry(&self, ray: &Ray) -> Option<f64> {
        let oc = ray.origin - self.center;
        let b = oc.dot(&ray.dir);
        let c = oc.norm_squared() - self.radius * self.radius;
        if c <= 0.0 {
            return Some(0.0);
        }
        let disc = b * b - c;
        if disc < 0.0 || b > 0.0 {
            return None;
        }
        Some(-b - disc.sqrt())
    }
}

/// A box with centre, unit axes and half extents along them (world frame).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OrientedBox {
    /// Centre.
    pub center: Point3<f64>,
    /// Unit axes (columns of the box rotation).
    pub axes: [Vector3<f64>; 3],
    /// Half extents along the axes, metres.
    pub half: Vector3<f64>,
}

impl OrientedBox {
    fn from_frame(f: &LocalFrame, center_local: Point3<f64>, half: Vector3<f64>) -> Self {
        Self {
            center: f.to_world_point(&center_local),
            axes: [
                f.rot.column(0).into_owned(),
                f.rot.column(1).into_owned(),
                f.rot.column(2).into_owned(),
            ],
            half,
        }
    }
    /// The eight corners.
    pub fn corners(&self) -> [Point3<f64>; 8] {
        let mut out = [self.center; 8];
        for (i, c) in out.iter_mut().enumerate() {
            for k in 0..3 {
                let sgn = if i >> k & 1 == 1 { 1.0 } else { -1.0 };
                *c += self.axes[k] * (sgn * self.half[k]);
            }
        }
        out
    }
}

/// A surface that can be ray-traced exactly.
pub trait Surface: Send + Sync + std::fmt::Debug {
    /// Nearest hit with `t_min < t < t_max` along `ray`, with the outward normal.
    fn intersect(&self, ray: &Ray, t_min: f64, t_max: f64) -> Option<Hit>;

    /// A sphere enclosing the surface; `None` for unbounded surfaces (planes, infinite
    /// cylinders).
    fn bounding_sphere(&self) -> Option<BoundingSphere>;

    /// An oriented box enclosing the surface, when tighter than the bounding sphere
    /// (elongated shapes); `None` by default.
    fn bounding_box(&self) -> Option<OrientedBox> {
        None
    }

    /// Exact signed Euclidean distance from `p` to the surface (negative inside the solid,
    /// for a plane: on the side opposite its normal); `None` if this shape has no exact
    /// distance.
    fn signed_distance(&self, p: &Point3<f64>) -> Option<f64>;

    /// Appends the primitives making up this surface (itself for a primitive). The
    /// renderer rasterises primitives one by one.
    fn primitives<'a>(&'a self, out: &mut Vec<&'a dyn Surface>) {
        out.push(self.as_dyn())
    }

    /// Calls `f` on each primitive making up this surface.
    fn for_each_primitive(&self, f: &mut dyn FnMut(&dyn Surface)) {
        let mut v = Vec::new();
        self.primitives(&mut v);
        for p in v {
            f(p)
        }
    }

    /// This surface as a trait object (implemented by every shape as `self`).
    fn as_dyn(&self) -> &dyn Surface;
}
