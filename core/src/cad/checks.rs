//! Checks of a band mesh, from its triangles alone: closed and 2-manifold with consistent
//! outward winding, the inner perimeter where the finger meets it, and the thinnest wall.

use super::band::{Band, Face};
use rayon::prelude::*;
use std::collections::HashMap;

/// What the checks found.
#[derive(Debug, Clone, PartialEq)]
pub struct BandReport {
    /// Every edge has exactly two triangles, traversing it in opposite directions, and
    /// every vertex's triangles form one fan (closed, 2-manifold, consistently wound).
    pub closed_manifold: bool,
    /// Edges used other than once in each direction.
    pub bad_edges: usize,
    /// Vertices whose triangles do not form one closed fan.
    pub bad_vertices: usize,
    /// Enclosed volume (mm³) by the divergence theorem: positive when the normals point
    /// outwards.
    pub volume_mm3: f64,
    /// Euler characteristic `V − E + F` (0 for a band, a torus).
    pub euler: i64,
    /// Smallest perimeter (mm) of the inner loop where planes across the band cut it.
    pub inner_perimeter_mm: f64,
    /// Smallest distance (mm) between the inner and the outer surface (at most
    /// `2·thickness + 1`: thicker walls are not measured further).
    pub min_wall_mm: f64,
}

impl BandReport {
    /// Closed, 2-manifold, outward, and within `tol_mm` of the target perimeter and of the
    /// requested wall (the checks of the issue, 0.05 mm).
    pub fn passes(&self, band: &Band, tol_mm: f64) -> bool {
        self.closed_manifold
            && self.volume_mm3 > 0.0
            && self.euler == 0
            && (self.inner_perimeter_mm - band.target_perimeter_mm).abs() <= tol_mm
            && self.min_wall_mm >= band.options.thickness_mm - tol_mm
    }
}

/// Runs every check on a band.
pub fn check_band(band: &Band) -> BandReport {
    let v = &band.vertices_mm;
    let t = &band.triangles;
    let mut directed: HashMap<(u32, u32), usize> = HashMap::new();
    for tri in t {
        for k in 0..3 {
            *directed.entry((tri[k], tri[(k + 1) % 3])).or_default() += 1;
        }
    }
    let bad_edges = directed
        .iter()
        .filter(|(&(a, b), &c)| c != 1 || directed.get(&(b, a)) != Some(&1))
        .count();
    let edges = directed.len() / 2;
    // Around each vertex, the opposite edges of its triangles must chain into one cycle.
    let mut link: HashMap<u32, HashMap<u32, u32>> = HashMap::new();
    for tri in t {
        for k in 0..3 {
            let (a, b, c) = (tri[k], tri[(k + 1) % 3], tri[(k + 2) % 3]);
            link.entry(a).or_default().insert(b, c);
        }
    }
    let bad_vertices = link
        .values()
        .filter(|next| {
            let Some((&start, _)) = next.iter().next() else {
                return true;
            };
            let (mut at, mut steps) = (start, 0usize);
            loop {
                match next.get(&at) {
                    Some(&n) => at = n,
                    None => return true,
                }
                steps += 1;
                if at == start {
                    return steps != next.len();
                }
                if steps > next.len() {
                    return true;
                }
            }
        })
        .count()
        + (v.len() - link.len());
    let volume_mm3 = t
        .iter()
        .map(|tri| {
            let [a, b, c] = tri.map(|i| v[i as usize]);
            (a[0] * (b[1] * c[2] - b[2] * c[1]) - a[1] * (b[0] * c[2] - b[2] * c[0])
                + a[2] * (b[0] * c[1] - b[1] * c[0]))
                / 6.0
        })
        .sum();
    let euler = v.len() as i64 - edges as i64 + t.len() as i64;
    BandReport {
        closed_manifold: bad_edges == 0 && bad_vertices == 0,
        bad_edges,
        bad_vertices,
        volume_mm3,
        euler,
        inner_perimeter_mm: min_inner_perimeter(band),
        min_wall_mm: min_wall(band),
    }
}

/// The smallest inner-loop perimeter over planes across the band (between its sides):
/// each plane cuts the inner faces into segments whose lengths add up to the loop.
fn min_inner_perimeter(band: &Band) -> f64 {
    let w = band.options.width_mm;
    let planes = 41;
    (0..planes)
        .map(|k| {
            // Off the vertex rings (which sit at rational fractions of the width).
            let z = -w / 2.0 + w * (k as f64 + 0.5 + 1e-4) / planes as f64;
            band.triangles
                .iter()
                .zip(&band.faces)
                .filter(|(_, f)| **f == Face::Inner)
                .map(|(tri, _)| cut_length(tri.map(|i| band.vertices_mm[i as usize]), z))
                .sum::<f64>()
        })
        .fold(f64::INFINITY, f64::min)
}

/// Length of the segment a plane `z` cuts from a triangle.
fn cut_length(p: [[f64; 3]; 3], z: f64) -> f64 {
    let mut pts = Vec::with_capacity(2);
    for k in 0..3 {
        let (a, b) = (p[k], p[(k + 1) % 3]);
        let (da, db) = (a[2] - z, b[2] - z);
        if (da < 0.0) != (db < 0.0) {
            let s = da / (da - db);
            pts.push([a[0] + s * (b[0] - a[0]), a[1] + s * (b[1] - a[1])]);
        }
    }
    if pts.len() == 2 {
        (pts[0][0] - pts[1][0]).hypot(pts[0][1] - pts[1][1])
    } else {
        0.0
    }
}

/// The smallest distance from a vertex of either surface to a triangle of the other.
fn min_wall(band: &Band) -> f64 {
    let v = &band.vertices_mm;
    let group = |face: Face| -> (Vec<[[f64; 3]; 3]>, Vec<usize>) {
        let tris: Vec<[[f64; 3]; 3]> = band
            .triangles
            .iter()
            .zip(&band.faces)
            .filter(|(_, f)| **f == face)
            .map(|(t, _)| t.map(|i| v[i as usize]))
            .collect();
        let mut verts: Vec<usize> = band
            .triangles
            .iter()
            .zip(&band.faces)
            .filter(|(_, f)| **f == face)
            .flat_map(|(t, _)| t.map(|i| i as usize))
            .collect();
        verts.sort_unstable();
        verts.dedup();
        (tris, verts)
    };
    let (inner_t, inner_v) = group(Face::Inner);
    let (outer_t, outer_v) = group(Face::Outer);
    // Triangles are found through a grid over the section plane, searched in growing
    // square rings until a ring lies farther than the nearest triangle found; a wall
    // thicker than `reach` reports `reach` (enough to pass the check).
    let reach = 2.0 * band.options.thickness_mm + 1.0;
    let size = 0.5;
    let one_way = |verts: &[usize], tris: &[[[f64; 3]; 3]]| {
        let cell = |x: f64| (x / size).floor() as i64;
        let mut grid: HashMap<(i64, i64), Vec<usize>> = HashMap::new();
        for (k, t) in tris.iter().enumerate() {
            let lo = [0, 1].map(|d| t.iter().map(|p| p[d]).fold(f64::INFINITY, f64::min));
            let hi = [0, 1].map(|d| t.iter().map(|p| p[d]).fold(f64::NEG_INFINITY, f64::max));
            for i in cell(lo[0])..=cell(hi[0]) {
                for j in cell(lo[1])..=cell(hi[1]) {
                    grid.entry((i, j)).or_default().push(k);
                }
            }
        }
        let rings = (reach / size).ceil() as i64 + 1;
        verts
            .par_iter()
            .map(|&i| {
                let p = v[i];
                let (ci, cj) = (cell(p[0]), cell(p[1]));
                let mut best = reach;
                for k in 0..=rings {
                    // Every cell of ring k is at least (k − 1)·size from p in the plane.
                    if (k - 1) as f64 * size > best {
                        break;
                    }
                    for di in -k..=k {
                        for dj in -k..=k {
                            if di.abs() != k && dj.abs() != k {
                                continue;
                            }
                            for &t in grid.get(&(ci + di, cj + dj)).into_iter().flatten() {
                                best = best.min(point_triangle(&p, &tris[t]));
                            }
                        }
                    }
                }
                best
            })
            .reduce(|| f64::INFINITY, f64::min)
    };
    one_way(&outer_v, &inner_t).min(one_way(&inner_v, &outer_t))
}

/// Distance from a point to a triangle (Ericson, Real-Time Collision Detection, 5.1.5).
fn point_triangle(p: &[f64; 3], t: &[[f64; 3]; 3]) -> f64 {
    use nalgebra::Vector3;
    let v = |a: &[f64; 3]| Vector3::new(a[0], a[1], a[2]);
    let (p, a, b, c) = (v(p), v(&t[0]), v(&t[1]), v(&t[2]));
    let (ab, ac, ap) = (b - a, c - a, p - a);
    let (d1, d2) = (ab.dot(&ap), ac.dot(&ap));
    if d1 <= 0.0 && d2 <= 0.0 {
        return (p - a).norm();
    }
    let bp = p - b;
    let (d3, d4) = (ab.dot(&bp), ac.dot(&bp));
    if d3 >= 0.0 && d4 <= d3 {
        return (p - b).norm();
    }
    let vc = d1 * d4 - d3 * d2;
    if vc <= 0.0 && d1 >= 0.0 && d3 <= 0.0 {
        let s = d1 / (d1 - d3);
        return (p - (a + ab * s)).norm();
    }
    let cp = p - c;
    let (d5, d6) = (ab.dot(&cp), ac.dot(&cp));
    if d6 >= 0.0 && d5 <= d6 {
        return (p - c).norm();
    }
    let vb = d5 * d2 - d1 * d6;
    if vb <= 0.0 && d2 >= 0.0 && d6 <= 0.0 {
        let s = d2 / (d2 - d6);
        return (p - (a + ac * s)).norm();
    }
    let va = d3 * d6 - d5 * d4;
    if va <= 0.0 && (d4 - d3) >= 0.0 && (d5 - d6) >= 0.0 {
        let s = (d4 - d3) / ((d4 - d3) + (d5 - d6));
        return (p - (b + (c - b) * s)).norm();
    }
    let denom = 1.0 / (va + vb + vc);
    let (s, u) = (vb * denom, vc * denom);
    (p - (a + ab * s + ac * u)).norm()
}
