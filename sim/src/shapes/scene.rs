//! The scene: a union of surfaces, ray-traced as the nearest hit over its members.

use super::{BoundingSphere, Hit, Ray, Surface};
use nalgebra::Point3;
use std::sync::Arc;

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
