//! Marching cubes over the voxel blocks of a [`TsdfVolume`].
//!
//! Guarantees: a cube is polygonised only when all 8 corner voxels are observed. The
//! triangulation table is generated (not transcribed): on each cube face the crossing
//! points are paired by a rule that depends on that face's corner signs alone (inside
//! corners are separated), so the two cubes sharing a face always produce the same
//! segments there: the surface has no cracks, also across block borders. Each vertex is keyed
//! by its global voxel edge, so a vertex shared by cubes of different blocks exists once.
//! Triangles wind counter-clockwise seen from free space (positive distance); vertex
//! normals are the normalised SDF gradient.

use super::Mesh;
use crate::fuse::{TsdfVolume, Voxel, BLOCK_SIDE};
use crate::numeric::CellHasher;
use nalgebra::{Point3, Vector3};
use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::sync::OnceLock;

/// Corner offsets, corner index = x + 2y + 4z.
const CORNER: [[usize; 3]; 8] = [
    [0, 0, 0],
    [1, 0, 0],
    [0, 1, 0],
    [1, 1, 0],
    [0, 0, 1],
    [1, 0, 1],
    [0, 1, 1],
    [1, 1, 1],
];

/// Edges as (lower corner, upper corner, axis); edge index = 4 * axis + j.
const EDGES: [(usize, usize, usize); 12] = [
    (0, 1, 0),
    (2, 3, 0),
    (4, 5, 0),
    (6, 7, 0),
    (0, 2, 1),
    (1, 3, 1),
    (4, 6, 1),
    (5, 7, 1),
    (0, 4, 2),
    (1, 5, 2),
    (2, 6, 2),
    (3, 7, 2),
];

/// Faces' corners, counter-clockwise seen from outside the cube.
const FACES: [[usize; 4]; 6] = [
    [0, 4, 6, 2],
    [1, 3, 7, 5],
    [0, 1, 5, 4],
    [2, 6, 7, 3],
    [0, 2, 3, 1],
    [4, 5, 7, 6],
];

fn edge_between(a: usize, b: usize) -> usize {
    EDGES
        .iter()
        .position(|&(p, q, _)| (p == a && q == b) || (p == b && q == a))
        .unwrap_or(0)
}

/// True when cube edges `a` and `b` lie on a common face.
fn share_face(a: u8, b: u8) -> bool {
    FACES.iter().any(|f| {
        let on = |e: u8| (0..4).any(|i| edge_between(f[i], f[(i + 1) % 4]) == e as usize);
        on(a) && on(b)
    })
}

/// Triangles (as cube edge indices) for each of the 256 inside/outside corner patterns
/// (bit i set = corner i inside, i.e. negative distance).
pub(crate) fn table() -> &'static [Vec<[u8; 3]>; 256] {
    static TABLE: OnceLock<[Vec<[u8; 3]>; 256]> = OnceLock::new();
    TABLE.get_or_init(|| std::array::from_fn(|mask| case_triangles(mask as u8)))
}

fn case_triangles(mask: u8) -> Vec<[u8; 3]> {
    let inside = |c: usize| mask & (1 << c) != 0;
    // next[e] = the crossing that follows crossing e along the surface's boundary loop.
    let mut next = [usize::MAX; 12];
    for face in FACES {
        // (edge, is_enter) in counter-clockwise order.
        let mut xs: Vec<(usize, bool)> = Vec::with_capacity(4);
        for i in 0..4 {
            let (a, b) = (face[i], face[(i + 1) % 4]);
            if inside(a) != inside(b) {
                xs.push((edge_between(a, b), inside(b)));
            }
        }
        for (i, &(e, enter)) in xs.iter().enumerate() {
            if enter {
                // Pair with the next exit in cyclic order: separates inside corners.
                if let Some(&(x, _)) = (1..xs.len())
                    .map(|j| &xs[(i + j) % xs.len()])
                    .find(|(_, en)| !en)
                {
                    next[e] = x;
                }
            }
        }
    }
    let mut tris = Vec::new();
    let mut seen = [false; 12];
    for start in 0..12 {
        if next[start] == usize::MAX || seen[start] {
            continue;
        }
        let mut lp = Vec::new();
        let mut e = start;
        while !seen[e] && e != usize::MAX {
            seen[e] = true;
            lp.push(e as u8);
            e = next[e];
        }
        // Fan from a vertex whose diagonals all cross the cube's interior: a diagonal lying
        // on a face could be drawn by the neighbouring cube too (an edge of 4 triangles).
        let n = lp.len();
        let start = (0..n)
            .find(|&s| (2..n.saturating_sub(1)).all(|j| !share_face(lp[s], lp[(s + j) % n])))
            .unwrap_or(0);
        lp.rotate_left(start);
        for i in 1..n.saturating_sub(1) {
            tris.push([lp[0], lp[i], lp[i + 1]]);
        }
    }
    tris
}

/// Global voxel edge key: lower corner voxel and axis.
fn edge_key(g: [i32; 3], axis: usize) -> u128 {
    let f = |c: i32| ((c as i64 + (1 << 30)) as u128) & 0xFFFF_FFFF;
    f(g[0]) | (f(g[1]) << 32) | (f(g[2]) << 64) | ((axis as u128) << 96)
}

/// Local padded grid of one block: voxels -1..=8 on each axis (10 per side).
const P: usize = BLOCK_SIDE + 3; // -1 ..= 9
#[inline]
fn pidx(x: usize, y: usize, z: usize) -> usize {
    x + P * (y + P * z)
}

/// Extracts the zero level set of `vol` as a triangle mesh.
pub fn extract(vol: &TsdfVolume) -> Mesh {
    let table = table();
    let vs = vol.config().voxel_size_m;
    let s = BLOCK_SIDE as i32;
    let mut mesh = Mesh::default();
    let mut verts: HashMap<u128, u32, BuildHasherDefault<CellHasher>> = HashMap::default();
    let mut grid = vec![Voxel::default(); P * P * P];
    for &key in vol.block_keys() {
        // Gather voxels -1..=9 around the block from it and its 26 neighbours.
        for nz in -1..=1 {
            for ny in -1..=1 {
                for nx in -1..=1 {
                    let nb = vol.block_at([key[0] + nx, key[1] + ny, key[2] + nz]);
                    let range = |n: i32| -> std::ops::Range<i32> {
                        match n {
                            -1 => -1..0,
                            0 => 0..s,
                            _ => s..s + 2,
                        }
                    };
                    for z in range(nz) {
                        for y in range(ny) {
                            for x in range(nx) {
                                let v = nb
                                    .map(|b| {
                                        vol.decode(
                                            b[crate::fuse::voxel_index(
                                                x.rem_euclid(s) as usize,
                                                y.rem_euclid(s) as usize,
                                                z.rem_euclid(s) as usize,
                                            )],
                                        )
                                    })
                                    .unwrap_or_default();
                                grid[pidx((x + 1) as usize, (y + 1) as usize, (z + 1) as usize)] =
                                    v;
                            }
                        }
                    }
                }
            }
        }
        let g0 = [key[0] * s, key[1] * s, key[2] * s];
        for z in 0..BLOCK_SIDE {
            for y in 0..BLOCK_SIDE {
                for x in 0..BLOCK_SIDE {
                    let mut mask = 0u8;
                    let mut val = [0.0f32; 8];
                    let mut ok = true;
                    for (c, off) in CORNER.iter().enumerate() {
                        let v = grid[pidx(x + 1 + off[0], y + 1 + off[1], z + 1 + off[2])];
                        if v.weight <= 0.0 {
                            ok = false;
                            break;
                        }
                        val[c] = v.sdf_m;
                        if v.sdf_m < 0.0 {
                            mask |= 1 << c;
                        }
                    }
                    if !ok || mask == 0 || mask == 255 {
                        continue;
                    }
                    for tri in &table[mask as usize] {
                        let mut ids = [0u32; 3];
                        for (k, &e) in tri.iter().enumerate() {
                            let (a, b, axis) = EDGES[e as usize];
                            let ca = CORNER[a];
                            let ga = [
                                g0[0] + (x + ca[0]) as i32,
                                g0[1] + (y + ca[1]) as i32,
                                g0[2] + (z + ca[2]) as i32,
                            ];
                            let id = *verts.entry(edge_key(ga, axis)).or_insert_with(|| {
                                let (sa, sb) = (val[a], val[b]);
                                let t = if sa != sb { sa / (sa - sb) } else { 0.5 };
                                let mut p = Vector3::new(ga[0] as f32, ga[1] as f32, ga[2] as f32);
                                p[axis] += t;
                                let la = [x + 1 + ca[0], y + 1 + ca[1], z + 1 + ca[2]];
                                let cb = CORNER[b];
                                let lb = [x + 1 + cb[0], y + 1 + cb[1], z + 1 + cb[2]];
                                let na = grad(&grid, la);
                                let nb = grad(&grid, lb);
                                let n = na * (1.0 - t) + nb * t;
                                let n = if n.norm() > 0.0 { n.normalize() } else { n };
                                mesh.vertices.push(Point3::from(p * vs));
                                mesh.normals.push(n);
                                (mesh.vertices.len() - 1) as u32
                            });
                            ids[k] = id;
                        }
                        mesh.triangles.push(ids);
                    }
                }
            }
        }
    }
    fix_degenerate_normals(&mut mesh);
    mesh
}

/// Central-difference SDF gradient at padded-grid voxel `l` (one-sided where a neighbour is
/// unobserved). `l` components are in 1..=9.
fn grad(grid: &[Voxel], l: [usize; 3]) -> Vector3<f32> {
    let at = |x: usize, y: usize, z: usize| {
        let v = grid[pidx(x, y, z)];
        (v.weight > 0.0).then_some(v.sdf_m)
    };
    let c = at(l[0], l[1], l[2]).unwrap_or(0.0);
    let mut g = Vector3::zeros();
    for j in 0..3 {
        let mut lo = l;
        let mut hi = l;
        lo[j] -= 1;
        hi[j] += 1;
        let a = if hi[j] < P {
            at(hi[0], hi[1], hi[2])
        } else {
            None
        };
        let b = at(lo[0], lo[1], lo[2]);
        g[j] = match (a, b) {
            (Some(a), Some(b)) => 0.5 * (a - b),
            (Some(a), None) => a - c,
            (None, Some(b)) => c - b,
            (None, None) => 0.0,
        };
    }
    g
}

/// Vertices whose SDF gradient vanished get the mean of their triangles' normals.
fn fix_degenerate_normals(mesh: &mut Mesh) {
    let bad: Vec<bool> = mesh.normals.iter().map(|n| !(n.norm() > 0.5)).collect();
    if !bad.iter().any(|&b| b) {
        return;
    }
    let mut acc = vec![Vector3::<f32>::zeros(); mesh.vertices.len()];
    for t in &mesh.triangles {
        let [a, b, c] = t.map(|i| mesh.vertices[i as usize]);
        let n = (b - a).cross(&(c - a));
        for &i in t {
            if bad[i as usize] {
                acc[i as usize] += n;
            }
        }
    }
    for (i, n) in acc.into_iter().enumerate() {
        if bad[i] {
            mesh.normals[i] = if n.norm() > 0.0 {
                n.normalize()
            } else {
                Vector3::z()
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_has_expected_shape() {
        let t = table();
        assert!(t[0].is_empty() && t[255].is_empty());
        assert_eq!(t[1].len(), 1);
        // Complementary single-corner cases have one triangle each.
        assert_eq!(t[254].len(), 1);
        // Every case: at most 12 crossing points, each used by a loop.
        for (m, tris) in t.iter().enumerate() {
            let crossings = EDGES
                .iter()
                .filter(|&&(a, b, _)| ((m >> a) & 1) != ((m >> b) & 1))
                .count();
            let used: std::collections::HashSet<u8> = tris.iter().flatten().copied().collect();
            assert_eq!(used.len(), crossings, "case {m}");
            // Every triangle edge between two vertices on one face must be a boundary
            // segment (used once in this cube), never an interior fan diagonal.
            let mut count = std::collections::HashMap::new();
            for t in tris {
                for i in 0..3 {
                    let (a, b) = (t[i], t[(i + 1) % 3]);
                    *count.entry((a.min(b), a.max(b))).or_insert(0) += 1;
                }
            }
            for (&(a, b), &c) in &count {
                if share_face(a, b) {
                    assert_eq!(c, 1, "case {m}: face-lying edge {a}-{b} used {c} times");
                }
            }
        }
    }
}
