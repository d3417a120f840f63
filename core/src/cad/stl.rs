//! The band as binary STL bytes (millimetres), written with `stl_io`.

use super::band::Band;
use super::CadError;

/// Binary STL of the band: one facet per triangle with its unit outward normal.
pub fn band_stl(band: &Band) -> Result<Vec<u8>, CadError> {
    let v = &band.vertices_mm;
    let facets: Vec<stl_io::Triangle> = band
        .triangles
        .iter()
        .map(|t| {
            let [a, b, c] = t.map(|i| v[i as usize]);
            let (e1, e2) = (sub(b, a), sub(c, a));
            let n = [
                e1[1] * e2[2] - e1[2] * e2[1],
                e1[2] * e2[0] - e1[0] * e2[2],
                e1[0] * e2[1] - e1[1] * e2[0],
            ];
            let l = (n[0] * n[0] + n[1] * n[1] + n[2] * n[2]).sqrt().max(1e-30);
            stl_io::Triangle {
                normal: stl_io::Vector::new(n.map(|x| (x / l) as f32)),
                vertices: [a, b, c].map(|p| stl_io::Vector::new(p.map(|x| x as f32))),
            }
        })
        .collect();
    let mut out = Vec::with_capacity(84 + 50 * facets.len());
    stl_io::write_stl(&mut out, facets.iter()).map_err(|e| CadError::Write(e.to_string()))?;
    Ok(out)
}

fn sub(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}
