//! Triangle meshes from the fused volume: marching cubes ([`extract`]), clean-up of small
//! fragments, topology checks, and PLY (binary / ASCII) and OBJ writers.
//!
//! Guarantees: vertices are in world coordinates in metres (as the volume), with unit
//! normals pointing towards free space; triangles wind counter-clockwise seen from outside.
//! Writers only write to the `Write` they are given and report I/O failures as
//! [`MeshError::Io`].

mod marching;

pub use marching::extract;

use crate::numeric::UnionFind;

use nalgebra::{Point3, Vector3};
use std::collections::HashMap;
use std::io::Write;

/// Errors writing a mesh.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MeshError {
    /// The writer failed.
    #[error("writing mesh: {0}")]
    Io(#[from] std::io::Error),
    /// The mesh has more vertices than a 32-bit index can address in the file.
    #[error("mesh has {0} vertices; too many for 32-bit indices")]
    TooLarge(usize),
}

/// PLY encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PlyFormat {
    /// `binary_little_endian 1.0`.
    Binary,
    /// `ascii 1.0`.
    Ascii,
}

/// An indexed triangle mesh with per-vertex normals.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Mesh {
    /// Vertex positions, world metres.
    pub vertices: Vec<Point3<f32>>,
    /// Unit vertex normals (towards free space), one per vertex.
    pub normals: Vec<Vector3<f32>>,
    /// Triangles as vertex indices, counter-clockwise seen from outside.
    pub triangles: Vec<[u32; 3]>,
}

/// Edge statistics of a mesh (see [`Mesh::topology`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Topology {
    /// Connected components (by shared vertices).
    pub components: usize,
    /// Edges used by exactly one triangle (holes / open borders).
    pub boundary_edges: usize,
    /// Edges used by more than two triangles.
    pub non_manifold_edges: usize,
    /// Distinct edges.
    pub edges: usize,
}

impl Mesh {
    /// True when the mesh has no triangles.
    pub fn is_empty(&self) -> bool {
        self.triangles.is_empty()
    }

    /// Component label of each triangle (labels 0..n) and the number of components.
    pub fn triangle_components(&self) -> (Vec<u32>, usize) {
        let mut sets = UnionFind::new(self.vertices.len());
        for t in &self.triangles {
            for &v in &t[1..] {
                // The root of `v`'s set goes under the root of the triangle's first vertex.
                sets.union(v as usize, t[0] as usize);
            }
        }
        let mut label: HashMap<usize, u32> = HashMap::new();
        let labels = self
            .triangles
            .iter()
            .map(|t| {
                let r = sets.find(t[0] as usize);
                let n = label.len() as u32;
                *label.entry(r).or_insert(n)
            })
            .collect();
        (labels, label.len())
    }

    /// Removes connected components with fewer than `min_triangles` triangles (and the
    /// vertices only they used). Returns the number of triangles removed.
    pub fn remove_small_components(&mut self, min_triangles: usize) -> usize {
        let (labels, n) = self.triangle_components();
        let mut sizes = vec![0usize; n];
        for &l in &labels {
            sizes[l as usize] += 1;
        }
        let keep: Vec<bool> = labels
            .iter()
            .map(|&l| sizes[l as usize] >= min_triangles)
            .collect();
        self.retain_triangles(&keep)
    }

    /// Keeps only the largest connected component. Returns the number of triangles removed.
    pub fn keep_largest_component(&mut self) -> usize {
        let (labels, n) = self.triangle_components();
        let mut sizes = vec![0usize; n];
        for &l in &labels {
            sizes[l as usize] += 1;
        }
        let Some(best) = (0..n).max_by_key(|&i| sizes[i]) else {
            return 0;
        };
        let keep: Vec<bool> = labels.iter().map(|&l| l as usize == best).collect();
        self.retain_triangles(&keep)
    }

    fn retain_triangles(&mut self, keep: &[bool]) -> usize {
        let before = self.triangles.len();
        let mut remap = vec![u32::MAX; self.vertices.len()];
        let mut vertices = Vec::new();
        let mut normals = Vec::new();
        let mut triangles = Vec::new();
        for (t, &k) in self.triangles.iter().zip(keep) {
            if !k {
                continue;
            }
            let mut nt = [0u32; 3];
            for (j, &v) in t.iter().enumerate() {
                let v = v as usize;
                if remap[v] == u32::MAX {
                    remap[v] = vertices.len() as u32;
                    vertices.push(self.vertices[v]);
                    normals.push(self.normals.get(v).copied().unwrap_or_else(Vector3::z));
                }
                nt[j] = remap[v];
            }
            triangles.push(nt);
        }
        self.vertices = vertices;
        self.normals = normals;
        self.triangles = triangles;
        before - self.triangles.len()
    }

    /// Components, boundary edges and non-manifold edges. A closed (watertight) surface has
    /// no boundary and no non-manifold edges.
    pub fn topology(&self) -> Topology {
        let mut count: HashMap<(u32, u32), u32> = HashMap::with_capacity(self.triangles.len() * 2);
        for t in &self.triangles {
            for i in 0..3 {
                let (a, b) = (t[i], t[(i + 1) % 3]);
                *count.entry((a.min(b), a.max(b))).or_insert(0) += 1;
            }
        }
        Topology {
            components: self.triangle_components().1,
            boundary_edges: count.values().filter(|&&c| c == 1).count(),
            non_manifold_edges: count.values().filter(|&&c| c > 2).count(),
            edges: count.len(),
        }
    }

    /// Total surface area, square metres.
    pub fn area_m2(&self) -> f64 {
        self.triangles
            .iter()
            .map(|t| {
                let [a, b, c] = t.map(|i| self.vertices[i as usize].cast::<f64>());
                0.5 * (b - a).cross(&(c - a)).norm()
            })
            .sum()
    }

    /// Writes PLY with vertex positions (metres), normals and triangle faces.
    pub fn write_ply(&self, mut w: impl Write, format: PlyFormat) -> Result<(), MeshError> {
        if self.vertices.len() > u32::MAX as usize {
            return Err(MeshError::TooLarge(self.vertices.len()));
        }
        let enc = match format {
            PlyFormat::Binary => "binary_little_endian",
            PlyFormat::Ascii => "ascii",
        };
        write!(
            w,
            "ply\nformat {enc} 1.0\ncomment mandrel mesh, units: metres\n\
             element vertex {}\nproperty float x\nproperty float y\nproperty float z\n\
             property float nx\nproperty float ny\nproperty float nz\n\
             element face {}\nproperty list uchar uint vertex_indices\nend_header\n",
            self.vertices.len(),
            self.triangles.len()
        )?;
        let normal = |i: usize| self.normals.get(i).copied().unwrap_or_else(Vector3::zeros);
        match format {
            PlyFormat::Binary => {
                let mut buf =
                    Vec::with_capacity(self.vertices.len() * 24 + self.triangles.len() * 13);
                for (i, p) in self.vertices.iter().enumerate() {
                    let n = normal(i);
                    for x in [p.x, p.y, p.z, n.x, n.y, n.z] {
                        buf.extend_from_slice(&x.to_le_bytes());
                    }
                }
                for t in &self.triangles {
                    buf.push(3);
                    for i in t {
                        buf.extend_from_slice(&i.to_le_bytes());
                    }
                }
                w.write_all(&buf)?;
            }
            PlyFormat::Ascii => {
                let mut w = std::io::BufWriter::new(w);
                for (i, p) in self.vertices.iter().enumerate() {
                    let n = normal(i);
                    writeln!(w, "{} {} {} {} {} {}", p.x, p.y, p.z, n.x, n.y, n.z)?;
                }
                for t in &self.triangles {
                    writeln!(w, "3 {} {} {}", t[0], t[1], t[2])?;
                }
                w.flush()?;
            }
        }
        Ok(())
    }

    /// Writes Wavefront OBJ with positions (metres), normals and faces.
    pub fn write_obj(&self, w: impl Write) -> Result<(), MeshError> {
        let mut w = std::io::BufWriter::new(w);
        writeln!(w, "# mandrel mesh, units: metres")?;
        for p in &self.vertices {
            writeln!(w, "v {} {} {}", p.x, p.y, p.z)?;
        }
        for i in 0..self.vertices.len() {
            let n = self.normals.get(i).copied().unwrap_or_else(Vector3::zeros);
            writeln!(w, "vn {} {} {}", n.x, n.y, n.z)?;
        }
        for t in &self.triangles {
            let [a, b, c] = t.map(|i| i + 1);
            writeln!(w, "f {a}//{a} {b}//{b} {c}//{c}")?;
        }
        w.flush()?;
        Ok(())
    }
}
