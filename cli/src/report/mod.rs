//! The report of one measurement, for a person (a support engineer looking at a customer's
//! scan, or a developer): a folder with `result.json` (the measurement JSON), `mesh.ply`,
//! `section.png`, `overlay.png`, `profile.png` and a self-contained `report.html` that
//! embeds the pictures. Written by `mandrel measure --report DIR` and by `mandrel demo`.

mod html;

use crate::plot::{self, OverlayInput};
use anyhow::Context;
use mandrel_core::measure::profile::CircumferenceProfile;
use mandrel_core::measure::{MeasureDetail, Measurement};
use mandrel_core::mesh::{Mesh, PlyFormat};
use std::path::{Path, PathBuf};

/// What is known of the truth of a simulated scan (its `truth.json`).
#[derive(Debug, Clone, PartialEq)]
pub struct Truth {
    /// True ring circumference, mm.
    pub ring_circumference_mm: f64,
    /// True knuckle circumference, mm.
    pub knuckle_circumference_mm: Option<f64>,
    /// Thickness / width of the true ring section.
    pub ellipticity: Option<f64>,
}

impl Truth {
    /// Reads `truth.json` from a scan folder: `None` when there is none.
    pub fn read(scan_dir: &Path) -> anyhow::Result<Option<Truth>> {
        let path = scan_dir.join("truth.json");
        if !path.is_file() {
            return Ok(None);
        }
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        let v: serde_json::Value =
            serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
        let num = |k: &str| v.get(k).and_then(|x| x.as_f64()).filter(|x| x.is_finite());
        Ok(num("ring_circumference_mm").map(|ring| Truth {
            ring_circumference_mm: ring,
            knuckle_circumference_mm: num("knuckle_circumference_mm"),
            ellipticity: num("ellipticity"),
        }))
    }
}

/// Everything a report shows.
pub struct ReportInput<'a> {
    /// What was measured, for the title (a scan folder's name, or the demo's seed).
    pub title: String,
    /// The measurement.
    pub measurement: &'a Measurement,
    /// The located finger and fitted sections.
    pub detail: &'a MeasureDetail,
    /// The fused surface.
    pub mesh: &'a Mesh,
    /// The circumference along the finger (`None` when it could not be fitted).
    pub profile: Option<&'a CircumferenceProfile>,
    /// The frame the overlay shows.
    pub overlay: OverlayInput<'a>,
    /// The truth, for simulated scans.
    pub truth: Option<&'a Truth>,
    /// The CLI's own wall times (reading, meshing, drawing), in addition to the
    /// measurement's stage timings: (what, milliseconds).
    pub wall_ms: Vec<(String, f64)>,
}

/// Writes the report into `dir` (created if missing); returns the paths written.
pub fn write_report(dir: &Path, input: &ReportInput<'_>) -> anyhow::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut written = Vec::new();
    let path = dir.join("result.json");
    let json = serde_json::to_string_pretty(input.measurement)?;
    std::fs::write(&path, format!("{json}\n"))
        .with_context(|| format!("writing {}", path.display()))?;
    written.push(path);

    let path = dir.join("mesh.ply");
    let file =
        std::fs::File::create(&path).with_context(|| format!("creating {}", path.display()))?;
    input
        .mesh
        .write_ply(std::io::BufWriter::new(file), PlyFormat::Binary)
        .with_context(|| format!("writing {}", path.display()))?;
    written.push(path);

    let m = input.measurement;
    let pictures = [
        (
            "section.png",
            plot::draw_section(input.detail.ring.as_ref(), m, input.truth)?,
        ),
        ("overlay.png", plot::draw_overlay(&input.overlay)?),
        (
            "profile.png",
            plot::draw_profile(input.profile, m, input.detail)?,
        ),
    ];
    let mut embedded = Vec::new();
    for (name, img) in &pictures {
        let mut png = Vec::new();
        img.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
            .with_context(|| format!("encoding {name}"))?;
        let path = dir.join(name);
        std::fs::write(&path, &png).with_context(|| format!("writing {}", path.display()))?;
        written.push(path);
        embedded.push((*name, png));
    }

    let path = dir.join("report.html");
    std::fs::write(&path, html::page(input, &embedded))
        .with_context(|| format!("writing {}", path.display()))?;
    written.push(path);
    Ok(written)
}
