//! `mandrel cad MEASUREMENT.json --width 4 --thickness 1.8 [--comfort] [--fit snug|standard|loose]
//! [--inner fitted|round] -o OUT`: a fitted ring band from a measurement, as STL and 3MF
//! (the mesh) and DXF and SVG (the inner contour, millimetres, origin at the ring axis),
//! with the checks of the mesh and the knuckle verdict printed.

use crate::BadInput;
use anyhow::Context;
use mandrel_core::cad::{self, Band, BandFit, BandOptions, BandReport, InnerShape};
use mandrel_core::measure::Measurement;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Arguments of `mandrel cad`.
#[derive(clap::Args)]
pub struct Args {
    /// Measurement JSON (`mandrel measure --json` output).
    pub measurement: PathBuf,
    /// Band width along the finger (mm).
    #[arg(long, default_value_t = 4.0)]
    pub width: f64,
    /// Least wall thickness (mm).
    #[arg(long, default_value_t = 1.8)]
    pub thickness: f64,
    /// Comfort fit: domed inside, crowned outside.
    #[arg(long)]
    pub comfort: bool,
    /// Room around the finger: snug (the measured circumference), standard (+0.5 mm) or
    /// loose (+1.0 mm).
    #[arg(long, default_value = "standard")]
    pub fit: String,
    /// Inner shape: fitted (the measured section) or round (passes the knuckle).
    #[arg(long, default_value = "fitted")]
    pub inner: String,
    /// Output path without extension: writes OUT.stl, OUT.3mf, OUT.dxf and OUT.svg
    /// (an extension given is dropped).
    #[arg(short, long)]
    pub out: PathBuf,
    /// Print the band report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Runs `mandrel cad`.
pub fn run(a: Args) -> crate::Outcome {
    let text = std::fs::read(&a.measurement)
        .with_context(|| format!("cannot read {}", a.measurement.display()))?;
    let m: Measurement = serde_json::from_slice(&text).map_err(|e| {
        BadInput(format!(
            "{} is not a measurement JSON: {e}",
            a.measurement.display()
        ))
    })?;
    let options = BandOptions {
        width_mm: a.width,
        thickness_mm: a.thickness,
        comfort: a.comfort,
        fit: BandFit::parse(&a.fit).map_err(|e| BadInput(e.to_string()))?,
        inner: match a.inner.as_str() {
            "fitted" => InnerShape::Fitted,
            "round" => InnerShape::Round,
            other => {
                return Err(BadInput(format!("--inner {other:?} is not fitted or round")).into())
            }
        },
        ..BandOptions::default()
    };
    let band = cad::build_band(&m, &options).map_err(|e| BadInput(e.to_string()))?;
    let report = cad::check_band(&band);
    let base = a.out.with_extension("");
    if let Some(dir) = base.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let paths = write_all(&band, &base)?;
    let circ = m.ring_circumference_mm.unwrap_or(f64::NAN);
    if a.json {
        let out = serde_json::json!({
            "ring_circumference_mm": circ,
            "clearance_mm": band.clearance_mm,
            "target_perimeter_mm": band.target_perimeter_mm,
            "inner_perimeter_mm": report.inner_perimeter_mm,
            "inner_perimeter_error_mm": report.inner_perimeter_mm - band.target_perimeter_mm,
            "min_wall_mm": report.min_wall_mm,
            "thickness_mm": options.thickness_mm,
            "closed_manifold": report.closed_manifold,
            "volume_mm3": report.volume_mm3,
            "triangles": band.triangles.len(),
            "knuckle_passes": band.knuckle.as_ref().map(|k| k.passes),
            "knuckle_needed_clearance_mm": band.knuckle.as_ref().map(|k| k.needed_clearance_mm),
            "round_pass_perimeter_mm": band.knuckle.as_ref().map(|k| k.round_perimeter_mm),
            "notes": band.notes,
            "files": paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        print_report(&band, &report, circ, &paths);
    }
    if !report.passes(&band, 0.05) {
        anyhow::bail!("the band failed its checks: {report:?}");
    }
    Ok(ExitCode::SUCCESS)
}

/// Writes OUT.stl, OUT.3mf, OUT.dxf and OUT.svg; returns their paths.
pub fn write_all(band: &Band, base: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let stl = base.with_extension("stl");
    std::fs::write(&stl, cad::band_stl(band)?)
        .with_context(|| format!("writing {}", stl.display()))?;
    let three = base.with_extension("3mf");
    write_3mf(band, &three).with_context(|| format!("writing {}", three.display()))?;
    let dxf = base.with_extension("dxf");
    write_dxf(&band.inner_contour_mm, &dxf)
        .with_context(|| format!("writing {}", dxf.display()))?;
    let svg = base.with_extension("svg");
    std::fs::write(&svg, svg_text(band)).with_context(|| format!("writing {}", svg.display()))?;
    Ok(vec![stl, three, dxf, svg])
}

/// The inner contour as SVG with the perimeter in its title.
pub fn svg_text(band: &Band) -> String {
    cad::contour_svg(
        &band.inner_contour_mm,
        &format!(
            "mandrel band inner contour, perimeter {:.2} mm, millimetres, origin at the ring axis",
            band.inner_perimeter_mm
        ),
    )
}

fn print_report(band: &Band, r: &BandReport, circ: f64, paths: &[PathBuf]) {
    let o = &band.options;
    println!(
        "Band {:.1} mm wide, wall {:.2} mm{}, {:?} fit, {:?} inner shape",
        o.width_mm,
        o.thickness_mm,
        if o.comfort { ", comfort fit" } else { "" },
        o.fit,
        o.inner
    );
    println!(
        "  inner perimeter {:.3} mm = ring {:.2} mm + clearance {:.2} mm (error {:+.4} mm)",
        r.inner_perimeter_mm,
        circ,
        band.target_perimeter_mm - circ,
        r.inner_perimeter_mm - band.target_perimeter_mm
    );
    println!(
        "  thinnest wall {:.3} mm; mesh {} triangles, {}, volume {:.1} mm³",
        r.min_wall_mm,
        band.triangles.len(),
        if r.closed_manifold && r.volume_mm3 > 0.0 {
            "closed, 2-manifold, outward normals"
        } else {
            "NOT closed / manifold / outward"
        },
        r.volume_mm3
    );
    for n in &band.notes {
        println!("  {n}");
    }
    for p in paths {
        println!("  wrote {}", p.display());
    }
}

/// 3MF (millimetres) with `threemf`.
fn write_3mf(band: &Band, path: &Path) -> anyhow::Result<()> {
    use threemf::model::{Mesh, Triangle, Triangles, Vertex, Vertices};
    let mesh = Mesh {
        vertices: Vertices {
            vertex: band
                .vertices_mm
                .iter()
                .map(|p| Vertex {
                    x: p[0],
                    y: p[1],
                    z: p[2],
                })
                .collect(),
        },
        triangles: Triangles {
            triangle: band
                .triangles
                .iter()
                .map(|t| Triangle {
                    v1: t[0] as usize,
                    v2: t[1] as usize,
                    v3: t[2] as usize,
                })
                .collect(),
        },
    };
    let file = std::fs::File::create(path)?;
    threemf::write(std::io::BufWriter::new(file), mesh)?;
    Ok(())
}

/// DXF (millimetres, `$INSUNITS` = mm) of a closed contour as one closed LWPOLYLINE, with
/// `dxf`.
pub fn write_dxf(contour: &[[f64; 2]], path: &Path) -> anyhow::Result<()> {
    use dxf::entities::{Entity, EntityType, LwPolyline};
    use dxf::LwPolylineVertex;
    let mut drawing = dxf::Drawing::new();
    drawing.header.version = dxf::enums::AcadVersion::R2000;
    drawing.header.default_drawing_units = dxf::enums::Units::Millimeters;
    let mut poly = LwPolyline::default();
    poly.set_is_closed(true);
    poly.vertices = contour
        .iter()
        .map(|p| LwPolylineVertex {
            x: p[0],
            y: p[1],
            ..Default::default()
        })
        .collect();
    drawing.add_entity(Entity::new(EntityType::LwPolyline(poly)));
    drawing.save_file(path)?;
    Ok(())
}
