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

use crate::SimError;
use nalgebra::{
    Isometry3, Matrix3, Point3, Rotation3, Translation3, UnitQuaternion, Vector2, Vector3,
};
use std::sync::Arc;

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

fn finite_point(what: &'static str, p: &Point3<f64>) -> Result<(), SimError> {
    if p.coords.iter().all(|c| c.is_finite()) {
        Ok(())
    } else {
        Err(SimError::Shape(format!("{what} {p:?} is not finite")))
    }
}

fn positive(what: &'static str, v: f64) -> Result<f64, SimError> {
    if v.is_finite() && v > 0.0 {
        Ok(v)
    } else {
        Err(SimError::Shape(format!(
            "{what} is {v}, must be finite and > 0"
        )))
    }
}

fn unit(what: &'static str, v: &Vector3<f64>) -> Result<Vector3<f64>, SimError> {
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
fn frame_from(
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
struct LocalFrame {
    iso: Isometry3<f64>,
    rot: Matrix3<f64>,
    rot_t: Matrix3<f64>,
    origin: Vector3<f64>,
}

impl LocalFrame {
    fn new(iso: Isometry3<f64>) -> Self {
        let rot = *iso.rotation.to_rotation_matrix().matrix();
        Self {
            iso,
            rot,
            rot_t: rot.transpose(),
            origin: iso.translation.vector,
        }
    }
    #[inline]
    fn to_local_point(&self, p: &Point3<f64>) -> Point3<f64> {
        Point3::from(self.rot_t * (p.coords - self.origin))
    }
    #[inline]
    fn to_local_vector(&self, v: &Vector3<f64>) -> Vector3<f64> {
        self.rot_t * v
    }
    #[inline]
    fn to_world_vector(&self, v: &Vector3<f64>) -> Vector3<f64> {
        self.rot * v
    }
    #[inline]
    fn to_world_point(&self, p: &Point3<f64>) -> Point3<f64> {
        Point3::from(self.rot * p.coords + self.origin)
    }
    #[inline]
    fn origin_point(&self) -> Point3<f64> {
        Point3::from(self.origin)
    }
}

/// Smallest root of `a t² + 2 b t + c = 0` accepted by `ok`, in increasing order.
#[inline]
fn quadratic_roots(a: f64, b: f64, c: f64) -> Option<(f64, f64)> {
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

// ---------------------------------------------------------------------------------------
// Scene: a union of surfaces

/// A union of surfaces: the ray hits the nearest member. Members with a bounding sphere
/// are culled by it.
#[derive(Debug, Default, Clone)]
pub struct Scene {
    parts: Vec<(Arc<dyn Surface>, Option<BoundingSphere>)>,
}

impl Scene {
    /// An empty scene.
    pub fn new() -> Self {
        Self::default()
    }
    /// Adds a surface.
    pub fn push(&mut self, s: impl Surface + 'static) {
        let b = s.bounding_sphere();
        self.parts.push((Arc::new(s), b));
    }
    /// Adds a boxed surface.
    pub fn push_boxed(&mut self, s: Box<dyn Surface>) {
        self.push_shared(Arc::from(s));
    }
    /// Adds a shared surface (the same primitive may belong to several scenes).
    pub fn push_shared(&mut self, s: Arc<dyn Surface>) {
        let b = s.bounding_sphere();
        self.parts.push((s, b));
    }
    /// The members, in insertion order.
    pub fn members(&self) -> impl Iterator<Item = &Arc<dyn Surface>> {
        self.parts.iter().map(|(s, _)| s)
    }
    /// Builder form of [`Scene::push`].
    pub fn with(mut self, s: impl Surface + 'static) -> Self {
        self.push(s);
        self
    }
    /// Number of direct members.
    pub fn len(&self) -> usize {
        self.parts.len()
    }
    /// True if the scene has no members.
    pub fn is_empty(&self) -> bool {
        self.parts.is_empty()
    }
}

impl Surface for Scene {
    fn intersect(&self, ray: &Ray, t_min: f64, t_max: f64) -> Option<Hit> {
        let mut best: Option<Hit> = None;
        let mut t_far = t_max;
        for (s, b) in &self.parts {
            if let Some(b) = b {
                match b.entry(ray) {
                    Some(t) if t < t_far => {}
                    _ => continue,
                }
            }
            if let Some(h) = s.intersect(ray, t_min, t_far) {
                t_far = h.t;
                best = Some(h);
            }
        }
        best
    }
    fn bounding_sphere(&self) -> Option<BoundingSphere> {
        let bs: Option<Vec<BoundingSphere>> = self.parts.iter().map(|(_, b)| *b).collect();
        let bs = bs?;
        let first = bs.first()?;
        // Grow a sphere around the members (Ritter-style, conservative).
        let mut c = first.center;
        let mut r = first.radius;
        for b in &bs[1..] {
            let d = (b.center - c).norm();
            if d + b.radius <= r {
                continue;
            }
            if d + r <= b.radius {
                c = b.center;
                r = b.radius;
                continue;
            }
            let nr = (d + r + b.radius) * 0.5;
            c += (b.center - c) * ((nr - r) / d);
            r = nr;
        }
        Some(BoundingSphere {
            center: c,
            radius: r * (1.0 + 1e-9),
        })
    }
    /// Minimum over the members: exact outside the union, a bound inside it when members
    /// overlap; `None` if any member has no exact distance.
    fn signed_distance(&self, p: &Point3<f64>) -> Option<f64> {
        let mut best: Option<f64> = None;
        for (s, _) in &self.parts {
            let d = s.signed_distance(p)?;
            best = Some(best.map_or(d, |b: f64| b.min(d)));
        }
        best
    }
    fn primitives<'a>(&'a self, out: &mut Vec<&'a dyn Surface>) {
        for (s, _) in &self.parts {
            s.primitives(out);
        }
    }
    fn as_dyn(&self) -> &dyn Surface {
        self
    }
}

// ---------------------------------------------------------------------------------------
// Point–ellipse and point–ellipsoid distance (D. Eberly, "Distance from a Point to an
// Ellipse, an Ellipsoid, or a Hyperellipsoid", robust bisection form).

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
pub(crate) fn ellipse_signed_distance(a: f64, b: f64, x: f64, y: f64) -> f64 {
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
pub(crate) fn ellipsoid_signed_distance(radii: &Vector3<f64>, q: &Vector3<f64>) -> f64 {
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
