//! Mesh writers parse back (with an independent minimal PLY / OBJ reader written here),
//! and component clean-up keeps what it should.

use mandrel_core::mesh::{Mesh, PlyFormat};
use nalgebra::{Point3, Vector3};

/// A closed octahedron of "radius" r centred at c (8 triangles, outward winding).
fn octahedron(c: Vector3<f32>, r: f32) -> Mesh {
    let v = [
        Vector3::x(),
        -Vector3::x(),
        Vector3::y(),
        -Vector3::y(),
        Vector3::z(),
        -Vector3::z(),
    ];
    let vertices = v.iter().map(|d| Point3::from(c + d * r)).collect();
    let normals = v.to_vec();
    let triangles = vec![
        [0, 2, 4],
        [2, 1, 4],
        [1, 3, 4],
        [3, 0, 4],
        [2, 0, 5],
        [1, 2, 5],
        [3, 1, 5],
        [0, 3, 5],
    ];
    Mesh {
        vertices,
        normals,
        triangles,
    }
}

fn merge(a: &Mesh, b: &Mesh) -> Mesh {
    let mut m = a.clone();
    let off = m.vertices.len() as u32;
    m.vertices.extend(&b.vertices);
    m.normals.extend(&b.normals);
    m.triangles
        .extend(b.triangles.iter().map(|t| t.map(|i| i + off)));
    m
}

struct Parsed {
    vertices: Vec<[f32; 6]>,
    faces: Vec<Vec<u32>>,
}

/// Minimal PLY reader for `x y z nx ny nz` float vertices and `uchar uint` face lists.
fn read_ply(bytes: &[u8]) -> Parsed {
    let end = b"end_header\n";
    let hdr_len = bytes
        .windows(end.len())
        .position(|w| w == end)
        .expect("end_header")
        + end.len();
    let header = std::str::from_utf8(&bytes[..hdr_len]).unwrap();
    let mut lines = header.lines();
    assert_eq!(lines.next(), Some("ply"));
    let format = lines.next().unwrap().to_string();
    let count = |el: &str| -> usize {
        header
            .lines()
            .find_map(|l| l.strip_prefix(&format!("element {el} ")))
            .unwrap()
            .parse()
            .unwrap()
    };
    let (nv, nf) = (count("vertex"), count("face"));
    let props: Vec<&str> = header
        .lines()
        .filter(|l| l.starts_with("property float"))
        .collect();
    assert_eq!(props.len(), 6, "{header}");
    let body = &bytes[hdr_len..];
    let mut vertices = Vec::new();
    let mut faces = Vec::new();
    if format == "format binary_little_endian 1.0" {
        let f32_at = |o: usize| f32::from_le_bytes(body[o..o + 4].try_into().unwrap());
        let u32_at = |o: usize| u32::from_le_bytes(body[o..o + 4].try_into().unwrap());
        let mut o = 0;
        for _ in 0..nv {
            vertices.push(std::array::from_fn(|j| f32_at(o + 4 * j)));
            o += 24;
        }
        for _ in 0..nf {
            let n = body[o] as usize;
            o += 1;
            faces.push((0..n).map(|j| u32_at(o + 4 * j)).collect());
            o += 4 * n;
        }
        assert_eq!(o, body.len(), "trailing bytes");
    } else {
        assert_eq!(format, "format ascii 1.0");
        let text = std::str::from_utf8(body).unwrap();
        let mut it = text.lines();
        for _ in 0..nv {
            let v: Vec<f32> = it
                .next()
                .unwrap()
                .split(' ')
                .map(|x| x.parse().unwrap())
                .collect();
            vertices.push(v.try_into().unwrap());
        }
        for _ in 0..nf {
            let f: Vec<u32> = it
                .next()
                .unwrap()
                .split(' ')
                .map(|x| x.parse().unwrap())
                .collect();
            assert_eq!(f[0] as usize, f.len() - 1);
            faces.push(f[1..].to_vec());
        }
        assert!(it.next().is_none());
    }
    Parsed { vertices, faces }
}

fn check_same(m: &Mesh, p: &Parsed) {
    assert_eq!(p.vertices.len(), m.vertices.len());
    for (i, v) in p.vertices.iter().enumerate() {
        let q = m.vertices[i];
        let n = m.normals[i];
        assert_eq!(*v, [q.x, q.y, q.z, n.x, n.y, n.z]);
    }
    let faces: Vec<Vec<u32>> = m.triangles.iter().map(|t| t.to_vec()).collect();
    assert_eq!(p.faces, faces);
}

#[test]
fn ply_binary_and_ascii_round_trip() {
    let m = octahedron(Vector3::new(0.1, -0.2, 0.3), 0.0123456);
    for fmt in [PlyFormat::Binary, PlyFormat::Ascii] {
        let mut buf = Vec::new();
        m.write_ply(&mut buf, fmt).unwrap();
        check_same(&m, &read_ply(&buf));
    }
}

#[test]
fn obj_round_trips() {
    let m = octahedron(Vector3::new(0.1, -0.2, 0.3), 0.02);
    let mut buf = Vec::new();
    m.write_obj(&mut buf).unwrap();
    let text = String::from_utf8(buf).unwrap();
    let mut v = Vec::new();
    let mut vn = Vec::new();
    let mut f = Vec::new();
    for l in text.lines() {
        let mut it = l.split(' ');
        match it.next() {
            Some("v") => v.push(it.map(|x| x.parse::<f32>().unwrap()).collect::<Vec<_>>()),
            Some("vn") => vn.push(it.map(|x| x.parse::<f32>().unwrap()).collect::<Vec<_>>()),
            Some("f") => f.push(
                it.map(|x| {
                    let (a, b) = x.split_once("//").unwrap();
                    assert_eq!(a, b);
                    a.parse::<u32>().unwrap() - 1
                })
                .collect::<Vec<_>>(),
            ),
            _ => assert!(l.starts_with('#')),
        }
    }
    assert_eq!(v.len(), 6);
    assert_eq!(vn.len(), 6);
    for (i, p) in m.vertices.iter().enumerate() {
        assert_eq!(v[i], vec![p.x, p.y, p.z]);
    }
    assert_eq!(
        f,
        m.triangles.iter().map(|t| t.to_vec()).collect::<Vec<_>>()
    );
}

#[test]
fn write_errors_are_reported() {
    struct Broken;
    impl std::io::Write for Broken {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::Error::other("disk full"))
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let m = octahedron(Vector3::zeros(), 0.01);
    let e = m.write_ply(Broken, PlyFormat::Binary).unwrap_err();
    assert!(e.to_string().contains("disk full"), "{e}");
    assert!(m.write_ply(Broken, PlyFormat::Ascii).is_err());
    assert!(m.write_obj(Broken).is_err());
}

#[test]
fn small_components_are_removed() {
    let big = merge(
        &octahedron(Vector3::zeros(), 0.01),
        &octahedron(Vector3::new(0.005, 0.0, 0.0), 0.01),
    );
    let small = octahedron(Vector3::new(0.1, 0.0, 0.0), 0.001);
    let mut m = merge(&big, &small);
    // The two big octahedra share no vertex: three components of 8 triangles.
    assert_eq!(m.topology().components, 3);
    assert_eq!(m.topology().boundary_edges, 0);
    assert_eq!(m.remove_small_components(9), 24);
    assert!(m.is_empty());

    let mut m = merge(&big, &small);
    // Join the first two by a triangle sharing vertices of both: one component of 17.
    m.triangles.push([0, 6, 2]);
    assert_eq!(m.topology().components, 2);
    assert_eq!(m.remove_small_components(9), 8);
    assert_eq!(m.triangles.len(), 17);
    assert_eq!(m.vertices.len(), 12);
    assert!(m
        .triangles
        .iter()
        .flatten()
        .all(|&i| (i as usize) < m.vertices.len()));
    let mut m2 = merge(&m, &small);
    assert_eq!(m2.keep_largest_component(), 8);
    assert_eq!(m2, m);
}
