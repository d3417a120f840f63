//! The analytic primitives: sphere, plane, elliptic and circular cylinders, ellipsoid and
//! elliptic frustum, each with a closed-form ray hit and, where one exists, an exact
//! signed distance.

use super::distance::{ellipse_signed_distance, ellipsoid_signed_distance};
use super::local::{finite_point, frame_from, positive, quadratic_roots, unit, LocalFrame};
use super::{BoundingSphere, Hit, OrientedBox, Ray, Surface};
use crate::SimError;
use nalgebra::{Isometry3, Point3, Vector2, Vector3};

// ---------------------------------------------------------------------------------------
// Sphere

/// A sphere.
#[derive(Debug, Clone, PartialEq)]
pub struct Sphere {
    center: Point3<f64>,
    radius: f64,
}

impl Sphere {
    /// A sphere of `radius` metres around `center`.
    pub fn new(center: Point3<f64>, radius: f64) -> Result<Self, SimError> {
        finite_point("sphere centre", &center)?;
        Ok(Self {
            center,
            radius: positive("sphere radius", radius)?,
        })
    }
    /// Centre.
    pub fn center(&self) -> Point3<f64> {
        self.center
    }
    /// Radius, metres.
    pub fn radius(&self) -> f64 {
        self.radius
    }
}

impl Surface for Sphere {
    fn intersect(&self, ray: &Ray, t_min: f64, t_max: f64) -> Option<Hit> {
        let oc = ray.origin - self.center;
        let b = oc.dot(&ray.dir);
        let c = oc.norm_squared() - self.radius * self.radius;
        let (t0, t1) = quadratic_roots(1.0, b, c)?;
        for t in [t0, t1] {
            if t > t_min && t < t_max {
                let n = (ray.at(t) - self.center) / self.radius;
                return Some(Hit {
                    t,
                    normal: n.normalize(),
                });
            }
        }
        None
    }
    fn bounding_sphere(&self) -> Option<BoundingSphere> {
        Some(BoundingSphere {
            center: self.center,
            radius: self.radius,
        })
    }
    fn signed_distance(&self, p: &Point3<f64>) -> Option<f64> {
        Some((p - self.center).norm() - self.radius)
    }
    fn as_dyn(&self) -> &dyn Surface {
        self
    }
}

// ---------------------------------------------------------------------------------------
// Plane

/// An infinite plane through `point` with unit `normal` (the "outside" side).
#[derive(Debug, Clone, PartialEq)]
pub struct Plane {
    point: Point3<f64>,
    normal: Vector3<f64>,
}

impl Plane {
    /// The plane through `point` with normal `normal` (normalised here).
    pub fn new(point: Point3<f64>, normal: Vector3<f64>) -> Result<Self, SimError> {
        finite_point("plane point", &point)?;
        Ok(Self {
            point,
            normal: unit("plane normal", &normal)?,
        })
    }
    /// Unit normal.
    pub fn normal(&self) -> Vector3<f64> {
        self.normal
    }
}

impl Surface for Plane {
    fn intersect(&self, ray: &Ray, t_min: f64, t_max: f64) -> Option<Hit> {
        let denom = self.normal.dot(&ray.dir);
        if denom.abs() < 1e-15 {
            return None;
        }
        let t = (self.point - ray.origin).dot(&self.normal) / denom;
        (t > t_min && t < t_max).then_some(Hit {
            t,
            normal: self.normal,
        })
    }
    fn bounding_sphere(&self) -> Option<BoundingSphere> {
        None
    }
    fn signed_distance(&self, p: &Point3<f64>) -> Option<f64> {
        Some((p - self.point).dot(&self.normal))
    }
    fn as_dyn(&self) -> &dyn Surface {
        self
    }
}

// ---------------------------------------------------------------------------------------
// Elliptic cylinder (and the circular cylinder built on it)

/// A cylinder with an elliptic cross-section (semi-axes `a` along the local x direction,
/// `b` along local y), infinite or finite with flat caps at `±half_length` from its centre.
#[derive(Debug, Clone, PartialEq)]
pub struct EllipticCylinder {
    local_to_world: LocalFrame,
    a: f64,
    b: f64,
    half_length: Option<f64>,
}

impl EllipticCylinder {
    /// An elliptic cylinder centred on `center` along `axis`; semi-axis `a` lies along
    /// `a_dir` (projected perpendicular to the axis), `b` perpendicular to both.
    /// `half_length = None` makes it infinite.
    pub fn new(
        center: Point3<f64>,
        axis: Vector3<f64>,
        a_dir: Vector3<f64>,
        a: f64,
        b: f64,
        half_length: Option<f64>,
    ) -> Result<Self, SimError> {
        let local_to_world = LocalFrame::new(frame_from(&center, &axis, Some(&a_dir))?);
        let half_length = half_length
            .map(|h| positive("cylinder half-length", h))
            .transpose()?;
        Ok(Self {
            local_to_world,
            a: positive("semi-axis a", a)?,
            b: positive("semi-axis b", b)?,
            half_length,
        })
    }
    /// Semi-axes (a, b), metres.
    pub fn semi_axes(&self) -> (f64, f64) {
        (self.a, self.b)
    }
    /// Local-to-world frame (local z = axis, local x = direction of `a`).
    pub fn frame(&self) -> &Isometry3<f64> {
        &self.local_to_world.iso
    }
}

impl Surface for EllipticCylinder {
    fn intersect(&self, ray: &Ray, t_min: f64, t_max: f64) -> Option<Hit> {
        let o = self.local_to_world.to_local_point(&ray.origin);
        let d = self.local_to_world.to_local_vector(&ray.dir);
        let (ia, ib) = (1.0 / self.a, 1.0 / self.b);
        let (ox, oy, dx, dy) = (o.x * ia, o.y * ib, d.x * ia, d.y * ib);
        let mut best: Option<(f64, Vector3<f64>)> = None;
        let mut consider = |t: f64, n: Vector3<f64>| {
            if t > t_min && t < t_max && best.is_none_or(|(bt, _)| t < bt) {
                best = Some((t, n));
            }
        };
        let qa = dx * dx + dy * dy;
        if qa > 1e-300 {
            let qb = ox * dx + oy * dy;
            let qc = ox * ox + oy * oy - 1.0;
            if let Some((t0, t1)) = quadratic_roots(qa, qb, qc) {
                for t in [t0, t1] {
                    let z = o.z + t * d.z;
                    if self.half_length.is_none_or(|h| z.abs() <= h) {
                        let (x, y) = (o.x + t * d.x, o.y + t * d.y);
                        consider(t, Vector3::new(x * ia * ia, y * ib * ib, 0.0));
                    }
                }
            }
        }
        if let Some(h) = self.half_length {
            if d.z.abs() > 1e-300 {
                for zc in [-h, h] {
                    let t = (zc - o.z) / d.z;
                    let (x, y) = ((o.x + t * d.x) * ia, (o.y + t * d.y) * ib);
                    if x * x + y * y <= 1.0 {
                        consider(t, Vector3::new(0.0, 0.0, zc.signum()));
                    }
                }
            }
        }
        best.map(|(t, n)| Hit {
            t,
            normal: self.local_to_world.to_world_vector(&n).normalize(),
        })
    }
    fn bounding_sphere(&self) -> Option<BoundingSphere> {
        self.half_length.map(|h| BoundingSphere {
            center: self.local_to_world.origin_point(),
            radius: (h * h + self.a.max(self.b).powi(2)).sqrt(),
        })
    }
    fn bounding_box(&self) -> Option<OrientedBox> {
        self.half_length.map(|h| {
            OrientedBox::from_frame(
                &self.local_to_world,
                Point3::origin(),
                Vector3::new(self.a, self.b, h),
            )
        })
    }
    fn signed_distance(&self, p: &Point3<f64>) -> Option<f64> {
        let q = self.local_to_world.to_local_point(p);
        let de = ellipse_signed_distance(self.a, self.b, q.x, q.y);
        Some(match self.half_length {
            None => de,
            Some(h) => capped(de, q.z.abs() - h),
        })
    }
    fn as_dyn(&self) -> &dyn Surface {
        self
    }
}

/// Signed distance of a convex prism from the cross-section distance `de` and the
/// axial distance `dz` (both signed): exact for straight prisms with convex sections.
#[inline]
fn capped(de: f64, dz: f64) -> f64 {
    let inside = de.max(dz).min(0.0);
    let outside = Vector2::new(de.max(0.0), dz.max(0.0)).norm();
    inside + outside
}

/// A circular cylinder: infinite, or finite with flat caps.
#[derive(Debug, Clone, PartialEq)]
pub struct Cylinder {
    inner: EllipticCylinder,
    radius: f64,
}

impl Cylinder {
    /// An infinite cylinder of `radius` around the line through `point` along `axis`.
    pub fn infinite(point: Point3<f64>, axis: Vector3<f64>, radius: f64) -> Result<Self, SimError> {
        Ok(Self {
            inner: EllipticCylinder::new(point, axis, Vector3::x(), radius, radius, None)?,
            radius,
        })
    }
    /// A finite capped cylinder centred on `center`, along `axis`, `half_length` each way.
    pub fn finite(
        center: Point3<f64>,
        axis: Vector3<f64>,
        radius: f64,
        half_length: f64,
    ) -> Result<Self, SimError> {
        Ok(Self {
            inner: EllipticCylinder::new(
                center,
                axis,
                Vector3::x(),
                radius,
                radius,
                Some(half_length),
            )?,
            radius,
        })
    }
    /// A finite capped cylinder whose axis runs from `p0` to `p1`.
    pub fn between(p0: Point3<f64>, p1: Point3<f64>, radius: f64) -> Result<Self, SimError> {
        let axis = p1 - p0;
        Self::finite(p0 + axis * 0.5, axis, radius, axis.norm() * 0.5)
    }
    /// Radius, metres.
    pub fn radius(&self) -> f64 {
        self.radius
    }
}

impl Surface for Cylinder {
    fn intersect(&self, ray: &Ray, t_min: f64, t_max: f64) -> Option<Hit> {
        self.inner.intersect(ray, t_min, t_max)
    }
    fn bounding_sphere(&self) -> Option<BoundingSphere> {
        self.inner.bounding_sphere()
    }
    fn bounding_box(&self) -> Option<OrientedBox> {
        self.inner.bounding_box()
    }
    fn signed_distance(&self, p: &Point3<f64>) -> Option<f64> {
        let q = self.inner.local_to_world.to_local_point(p);
        let de = (q.x * q.x + q.y * q.y).sqrt() - self.radius;
        Some(match self.inner.half_length {
            None => de,
            Some(h) => capped(de, q.z.abs() - h),
        })
    }
    fn as_dyn(&self) -> &dyn Surface {
        self
    }
}

// ---------------------------------------------------------------------------------------
// Ellipsoid

/// An ellipsoid with semi-axes `radii` along its local x, y, z axes.
#[derive(Debug, Clone, PartialEq)]
pub struct Ellipsoid {
    local_to_world: LocalFrame,
    radii: Vector3<f64>,
}

impl Ellipsoid {
    /// An ellipsoid centred on `center`; `radii.z` lies along `z_axis`, `radii.x` along
    /// `x_dir` (projected perpendicular to `z_axis`), `radii.y` perpendicular to both.
    pub fn new(
        center: Point3<f64>,
        z_axis: Vector3<f64>,
        x_dir: Vector3<f64>,
        radii: Vector3<f64>,
    ) -> Result<Self, SimError> {
        let local_to_world = LocalFrame::new(frame_from(&center, &z_axis, Some(&x_dir))?);
        for r in radii.iter() {
            positive("ellipsoid semi-axis", *r)?;
        }
        Ok(Self {
            local_to_world,
            radii,
        })
    }
    /// Semi-axes (local x, y, z), metres.
    pub fn radii(&self) -> Vector3<f64> {
        self.radii
    }
}

impl Surface for Ellipsoid {
    fn intersect(&self, ray: &Ray, t_min: f64, t_max: f64) -> Option<Hit> {
        let o = self
            .local_to_world
            .to_local_point(&ray.origin)
            .coords
            .component_div(&self.radii);
        let d = self
            .local_to_world
            .to_local_vector(&ray.dir)
            .component_div(&self.radii);
        let (t0, t1) = quadratic_roots(d.norm_squared(), o.dot(&d), o.norm_squared() - 1.0)?;
        for t in [t0, t1] {
            if t > t_min && t < t_max {
                let p = o + d * t; // on the unit sphere, scaled coordinates
                let n = p.component_div(&self.radii);
                return Some(Hit {
                    t,
                    normal: self.local_to_world.to_world_vector(&n).normalize(),
                });
            }
        }
        None
    }
    fn bounding_sphere(&self) -> Option<BoundingSphere> {
        Some(BoundingSphere {
            center: self.local_to_world.origin_point(),
            radius: self.radii.max(),
        })
    }
    fn bounding_box(&self) -> Option<OrientedBox> {
        Some(OrientedBox::from_frame(
            &self.local_to_world,
            Point3::origin(),
            self.radii,
        ))
    }
    fn signed_distance(&self, p: &Point3<f64>) -> Option<f64> {
        let q = self.local_to_world.to_local_point(p);
        Some(ellipsoid_signed_distance(&self.radii, &q.coords))
    }
    fn as_dyn(&self) -> &dyn Surface {
        self
    }
}

// ---------------------------------------------------------------------------------------
// Elliptic frustum (tapered elliptic cylinder = truncated elliptic cone)

/// A truncated elliptic cone: the cross-section at distance `s` along the axis from
/// `start` has semi-axes `(a0, b0) · (1 + (taper − 1) s / length)`, closed by flat caps.
/// (Proportional taper keeps it a quadric, so ray hits are exact.)
#[derive(Debug, Clone, PartialEq)]
pub struct EllipticFrustum {
    local_to_world: LocalFrame,
    a0: f64,
    b0: f64,
    taper: f64,
    length: f64,
}

impl EllipticFrustum {
    /// A frustum from `start` to `end`; semi-axis `a0` at `start` lies along `a_dir`
    /// (projected perpendicular to the axis); at `end` the semi-axes are scaled by `taper`.
    pub fn new(
        start: Point3<f64>,
        end: Point3<f64>,
        a_dir: Vector3<f64>,
        a0: f64,
        b0: f64,
        taper: f64,
    ) -> Result<Self, SimError> {
        finite_point("frustum end", &end)?;
        let axis = end - start;
        let local_to_world = LocalFrame::new(frame_from(&start, &axis, Some(&a_dir))?);
        Ok(Self {
            local_to_world,
            a0: positive("frustum semi-axis a", a0)?,
            b0: positive("frustum semi-axis b", b0)?,
            taper: positive("frustum taper", taper)?,
            length: positive("frustum length", axis.norm())?,
        })
    }

    /// Semi-axes at distance `s` (metres) from the start along the axis.
    pub fn semi_axes_at(&self, s: f64) -> (f64, f64) {
        let k = 1.0 + (self.taper - 1.0) * s / self.length;
        (self.a0 * k, self.b0 * k)
    }
}

impl Surface for EllipticFrustum {
    fn intersect(&self, ray: &Ray, t_min: f64, t_max: f64) -> Option<Hit> {
        let o = self.local_to_world.to_local_point(&ray.origin);
        let d = self.local_to_world.to_local_vector(&ray.dir);
        let (ia, ib) = (1.0 / self.a0, 1.0 / self.b0);
        let s = (self.taper - 1.0) / self.length;
        let (ox, oy, dx, dy) = (o.x * ia, o.y * ib, d.x * ia, d.y * ib);
        let (w0, w1) = (1.0 + s * o.z, s * d.z);
        let mut best: Option<(f64, Vector3<f64>)> = None;
        let mut consider = |t: f64, n: Vector3<f64>| {
            if t > t_min && t < t_max && best.is_none_or(|(bt, _)| t < bt) {
                best = Some((t, n));
            }
        };
        let qa = dx * dx + dy * dy - w1 * w1;
        let qb = ox * dx + oy * dy - w0 * w1;
        let qc = ox * ox + oy * oy - w0 * w0;
        if let Some((t0, t1)) = quadratic_roots(qa, qb, qc) {
            for t in [t0, t1] {
                let z = o.z + t * d.z;
                let w = w0 + t * w1;
                if (0.0..=self.length).contains(&z) && w > 0.0 {
                    let (x, y) = (o.x + t * d.x, o.y + t * d.y);
                    consider(t, Vector3::new(x * ia * ia, y * ib * ib, -s * w));
                }
            }
        }
        if d.z.abs() > 1e-300 {
            for (zc, k, nz) in [(0.0, 1.0, -1.0), (self.length, self.taper, 1.0)] {
                let t = (zc - o.z) / d.z;
                let (x, y) = ((o.x + t * d.x) * ia, (o.y + t * d.y) * ib);
                if x * x + y * y <= k * k {
                    consider(t, Vector3::new(0.0, 0.0, nz));
                }
            }
        }
        best.map(|(t, n)| Hit {
            t,
            normal: self.local_to_world.to_world_vector(&n).normalize(),
        })
    }
    fn bounding_sphere(&self) -> Option<BoundingSphere> {
        let r = self.a0.max(self.b0) * self.taper.max(1.0);
        Some(BoundingSphere {
            center: self
                .local_to_world
                .to_world_point(&Point3::new(0.0, 0.0, self.length * 0.5)),
            radius: ((self.length * 0.5).powi(2) + r * r).sqrt(),
        })
    }
    fn bounding_box(&self) -> Option<OrientedBox> {
        let k = self.taper.max(1.0);
        Some(OrientedBox::from_frame(
            &self.local_to_world,
            Point3::new(0.0, 0.0, 0.5 * self.length),
            Vector3::new(self.a0 * k, self.b0 * k, 0.5 * self.length),
        ))
    }
    fn signed_distance(&self, _p: &Point3<f64>) -> Option<f64> {
        None
    }
    fn as_dyn(&self) -> &dyn Surface {
        self
    }
}
