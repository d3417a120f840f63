//! A small reader for binary glTF 2.0 (`.glb`) skinned meshes, enough for the WebXR hand
//! assets: one mesh primitive (triangles), its skin's joints by name with their bind-pose
//! positions, and per-vertex joint indices and weights (for re-posing).
//!
//! Guarantees: every malformed input (bad magic, truncated chunks, accessors out of the
//! buffer, unsupported component types, a transformed mesh node) is an `Err` with a
//! message, never a panic or a silently wrong mesh.

use nalgebra::{Matrix4, Point3, Translation3, Unit, UnitQuaternion, Vector3};
use serde_json::Value;

/// A skinned triangle mesh in its bind pose (metres, glTF axes).
#[derive(Debug, Clone)]
pub struct SkinnedMesh {
    /// Vertex positions.
    pub positions: Vec<Point3<f64>>,
    /// Triangles (indices into `positions`).
    pub triangles: Vec<[u32; 3]>,
    /// Skin joint names, in skin order.
    pub joint_names: Vec<String>,
    /// Joint-to-model transforms in the bind pose (inverse of the inverse bind matrices).
    pub joint_bind: Vec<Matrix4<f64>>,
    /// Per vertex: four joint indices (into `joint_names`) and their weights.
    pub skin: Vec<([u16; 4], [f64; 4])>,
}

impl SkinnedMesh {
    /// Bind-pose position of the joint named `name`.
    pub fn joint_position(&self, name: &str) -> Result<Point3<f64>, String> {
        let i = self
            .joint_names
            .iter()
            .position(|n| n == name)
            .ok_or_else(|| format!("no joint named {name:?}"))?;
        let m = &self.joint_bind[i];
        Ok(Point3::new(m[(0, 3)], m[(1, 3)], m[(2, 3)]))
    }
}

impl SkinnedMesh {
    /// The mesh re-posed by flexing fingers: for each `(prefix, [mcp, pip, dip] degrees)`
    /// (prefix e.g. `"ring-finger"`), the joints `{prefix}-phalanx-proximal` (MCP),
    /// `-intermediate` (PIP) and `-distal` (DIP) bend towards the palm about their own local
    /// x axes (WebXR joints: -z along the bone, +y out of the back), children following;
    /// vertices by linear blend skinning with the file's weights. Joint transforms are
    /// updated the same way, so `joint_position` gives the posed joints.
    pub fn flexed(&self, fingers: &[(&str, [f64; 3])]) -> Result<SkinnedMesh, String> {
        let n = self.joint_names.len();
        let mut skin_m = vec![Matrix4::<f64>::identity(); n];
        let index = |name: &str| {
            self.joint_names
                .iter()
                .position(|j| j == name)
                .ok_or_else(|| format!("no joint named {name:?}"))
        };
        for (prefix, angles) in fingers {
            let chain = [
                index(&format!("{prefix}-phalanx-proximal"))?,
                index(&format!("{prefix}-phalanx-intermediate"))?,
                index(&format!("{prefix}-phalanx-distal"))?,
                index(&format!("{prefix}-tip"))?,
            ];
            let mut acc = Matrix4::identity();
            for (k, &j) in chain.iter().enumerate() {
                if k < 3 {
                    let m = &self.joint_bind[j];
                    let col = |c: usize| Vector3::new(m[(0, c)], m[(1, c)], m[(2, c)]);
                    let (x, y, z) = (col(0), col(1), col(2));
                    let pivot = Vector3::new(m[(0, 3)], m[(1, 3)], m[(2, 3)]);
                    // Flexion turns the bone (-z) towards the palm (-y).
                    let sign = if x.cross(&-z).dot(&y) > 0.0 {
                        -1.0
                    } else {
                        1.0
                    };
                    let rot = UnitQuaternion::from_axis_angle(
                        &Unit::new_normalize(x),
                        sign * angles[k].to_radians(),
                    );
                    let about = Translation3::from(pivot).to_homogeneous()
                        * rot.to_homogeneous()
                        * Translation3::from(-pivot).to_homogeneous();
                    acc *= about;
                }
                skin_m[j] = acc;
            }
        }
        let mut positions = Vec::with_capacity(self.positions.len());
        for (v, (js, ws)) in self.positions.iter().zip(&self.skin) {
            let total: f64 = ws.iter().sum();
            if !(total > 0.0) {
                return Err("a vertex has no skin weight".into());
            }
            let mut out = Vector3::zeros();
            for (j, w) in js.iter().zip(ws) {
                out += (skin_m[*j as usize].transform_point(v).coords) * (*w / total);
            }
            positions.push(Point3::from(out));
        }
        Ok(SkinnedMesh {
            positions,
            triangles: self.triangles.clone(),
            joint_names: self.joint_names.clone(),
            joint_bind: self
                .joint_bind
                .iter()
                .zip(&skin_m)
                .map(|(b, s)| s * b)
                .collect(),
            skin: self.skin.clone(),
        })
    }
}

fn u32_at(b: &[u8], at: usize) -> Result<u32, String> {
    b.get(at..at + 4)
        .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
        .ok_or_else(|| format!("file truncated at byte {at}"))
}

struct Accessor<'a> {
    data: &'a [u8],
    count: usize,
    comps: usize,
    ctype: u64,
    stride: usize,
    normalized: bool,
}

fn comp_size(ctype: u64) -> Result<usize, String> {
    match ctype {
        5120 | 5121 => Ok(1),
        5122 | 5123 => Ok(2),
        5125 | 5126 => Ok(4),
        t => Err(format!("unsupported accessor component type {t}")),
    }
}

impl Accessor<'_> {
    fn get(&self, i: usize, c: usize) -> Result<f64, String> {
        let size = comp_size(self.ctype)?;
        let at = i * self.stride + c * size;
        let b = self
            .data
            .get(at..at + size)
            .ok_or_else(|| format!("accessor element {i}.{c} is out of its buffer view"))?;
        let raw = match self.ctype {
            5120 => b[0] as i8 as f64,
            5121 => b[0] as f64,
            5122 => i16::from_le_bytes([b[0], b[1]]) as f64,
            5123 => u16::from_le_bytes([b[0], b[1]]) as f64,
            5125 => u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f64,
            _ => f32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f64,
        };
        Ok(if self.normalized {
            match self.ctype {
                5121 => raw / 255.0,
                5123 => raw / 65535.0,
                5120 => (raw / 127.0).max(-1.0),
                5122 => (raw / 32767.0).max(-1.0),
                _ => raw,
            }
        } else {
            raw
        })
    }
}

fn accessor<'a>(json: &Value, bin: &'a [u8], index: &Value) -> Result<Accessor<'a>, String> {
    let i = index
        .as_u64()
        .ok_or_else(|| format!("accessor index {index} is not a number"))? as usize;
    let a = &json["accessors"][i];
    if a.is_null() {
        return Err(format!("accessor {i} does not exist"));
    }
    if !a["sparse"].is_null() {
        return Err(format!("accessor {i} is sparse (not supported)"));
    }
    let count = a["count"].as_u64().ok_or("accessor without count")? as usize;
    let comps = match a["type"].as_str() {
        Some("SCALAR") => 1,
        Some("VEC2") => 2,
        Some("VEC3") => 3,
        Some("VEC4") => 4,
        Some("MAT4") => 16,
        t => return Err(format!("accessor {i}: unsupported type {t:?}")),
    };
    let ctype = a["componentType"]
        .as_u64()
        .ok_or("accessor without componentType")?;
    let size = comp_size(ctype)?;
    let bv_i = a["bufferView"]
        .as_u64()
        .ok_or("accessor without bufferView")? as usize;
    let bv = &json["bufferViews"][bv_i];
    if bv["buffer"].as_u64() != Some(0) {
        return Err(format!("buffer view {bv_i} is not in the GLB binary chunk"));
    }
    let off = bv["byteOffset"].as_u64().unwrap_or(0) as usize
        + a["byteOffset"].as_u64().unwrap_or(0) as usize;
    let len = bv["byteLength"]
        .as_u64()
        .ok_or("buffer view without byteLength")? as usize;
    let stride = bv["byteStride"]
        .as_u64()
        .map_or(comps * size, |s| s as usize);
    let start = bv["byteOffset"].as_u64().unwrap_or(0) as usize;
    let view = bin
        .get(start..start + len)
        .ok_or_else(|| format!("buffer view {bv_i} lies outside the binary chunk"))?;
    let data = view
        .get(off - start..)
        .ok_or_else(|| format!("accessor {i} starts outside its buffer view"))?;
    if count > 0 && (count - 1) * stride + comps * size > data.len() {
        return Err(format!("accessor {i} runs past its buffer view"));
    }
    Ok(Accessor {
        data,
        count,
        comps,
        ctype,
        stride,
        normalized: a["normalized"].as_bool().unwrap_or(false),
    })
}

/// Reads the first mesh primitive and the first skin of a `.glb` file.
pub fn read_glb(bytes: &[u8]) -> Result<SkinnedMesh, String> {
    if bytes.get(0..4) != Some(b"glTF") {
        return Err("not a GLB file (bad magic)".into());
    }
    if u32_at(bytes, 4)? != 2 {
        return Err("only glTF 2 binaries are supported".into());
    }
    let total = u32_at(bytes, 8)? as usize;
    if total > bytes.len() {
        return Err(format!(
            "header says {total} bytes, file has {}",
            bytes.len()
        ));
    }
    let json_len = u32_at(bytes, 12)? as usize;
    if bytes.get(16..20) != Some(b"JSON") {
        return Err("first chunk is not JSON".into());
    }
    let json_bytes = bytes.get(20..20 + json_len).ok_or("JSON chunk truncated")?;
    let json: Value = serde_json::from_slice(json_bytes).map_err(|e| format!("JSON chunk: {e}"))?;
    let bin_at = 20 + json_len;
    let bin_len = u32_at(bytes, bin_at)? as usize;
    if bytes.get(bin_at + 4..bin_at + 8) != Some(b"BIN\0") {
        return Err("second chunk is not BIN".into());
    }
    let bin = bytes
        .get(bin_at + 8..bin_at + 8 + bin_len)
        .ok_or("BIN chunk truncated")?;

    let prims = json["meshes"][0]["primitives"]
        .as_array()
        .ok_or("no mesh primitives")?;
    if prims.len() != 1 {
        return Err(format!("{} primitives; expected one", prims.len()));
    }
    let prim = &prims[0];
    if prim["mode"].as_u64().unwrap_or(4) != 4 {
        return Err("primitive is not a triangle list".into());
    }
    // The mesh must sit untransformed (skinned meshes ignore their node transform anyway,
    // but the joints' bind matrices must then be in the same frame as the positions).
    for n in json["nodes"].as_array().ok_or("no nodes")? {
        if n["mesh"].as_u64() == Some(0)
            && !(n["matrix"].is_null()
                && n["translation"].is_null()
                && n["rotation"].is_null()
                && n["scale"].is_null())
        {
            return Err("the mesh node has a transform (not supported)".into());
        }
    }
    let pos = accessor(&json, bin, &prim["attributes"]["POSITION"])?;
    if pos.comps != 3 {
        return Err("POSITION is not VEC3".into());
    }
    let mut positions = Vec::with_capacity(pos.count);
    for i in 0..pos.count {
        positions.push(Point3::new(pos.get(i, 0)?, pos.get(i, 1)?, pos.get(i, 2)?));
    }
    let idx = accessor(&json, bin, &prim["indices"])?;
    if idx.comps != 1 || idx.count % 3 != 0 {
        return Err(format!(
            "indices: {} scalars is not a triangle list",
            idx.count
        ));
    }
    let mut triangles = Vec::with_capacity(idx.count / 3);
    for t in 0..idx.count / 3 {
        let mut tri = [0u32; 3];
        for (k, v) in tri.iter_mut().enumerate() {
            *v = idx.get(3 * t + k, 0)? as u32;
        }
        triangles.push(tri);
    }
    let skin = &json["skins"][0];
    let joints = skin["joints"].as_array().ok_or("no skin joints")?;
    let mut joint_names = Vec::with_capacity(joints.len());
    for j in joints {
        let n = j.as_u64().ok_or("joint index is not a number")? as usize;
        joint_names.push(
            json["nodes"][n]["name"]
                .as_str()
                .ok_or_else(|| format!("joint node {n} has no name"))?
                .to_string(),
        );
    }
    let ibm = accessor(&json, bin, &skin["inverseBindMatrices"])?;
    if ibm.comps != 16 || ibm.count != joints.len() {
        return Err("inverseBindMatrices do not match the joints".into());
    }
    let mut joint_bind = Vec::with_capacity(ibm.count);
    for j in 0..ibm.count {
        let mut m = Matrix4::zeros();
        for c in 0..16 {
            m[(c % 4, c / 4)] = ibm.get(j, c)?; // column-major
        }
        joint_bind.push(
            m.try_inverse()
                .ok_or_else(|| format!("inverse bind matrix {j} is singular"))?,
        );
    }
    let ji = accessor(&json, bin, &prim["attributes"]["JOINTS_0"])?;
    let wi = accessor(&json, bin, &prim["attributes"]["WEIGHTS_0"])?;
    if ji.count != pos.count || wi.count != pos.count || ji.comps != 4 || wi.comps != 4 {
        return Err("JOINTS_0 / WEIGHTS_0 do not match POSITION".into());
    }
    let mut skin_w = Vec::with_capacity(pos.count);
    for i in 0..pos.count {
        let mut j = [0u16; 4];
        let mut w = [0.0f64; 4];
        for k in 0..4 {
            let jv = ji.get(i, k)?;
            if jv as usize >= joint_names.len() {
                return Err(format!(
                    "vertex {i} names joint {jv} of {}",
                    joint_names.len()
                ));
            }
            j[k] = jv as u16;
            w[k] = wi.get(i, k)?;
        }
        skin_w.push((j, w));
    }
    Ok(SkinnedMesh {
        positions,
        triangles,
        joint_names,
        joint_bind,
        skin: skin_w,
    })
}
