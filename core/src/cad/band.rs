//! A fitted ring band: its inner surface follows the measured ring section grown by the fit
//! clearance, its outer surface is the inner outline offset by the wall thickness, and a
//! comfort-fit band is domed inside (edges eased away from the finger) and crowned outside.
//!
//! The band is built in the finger frame, millimetres: the origin on the band's axis (the
//! centre of the ring section), `z` along the finger, the band spanning `z` in
//! `±width/2`. Its mesh is closed, 2-manifold and wound with outward normals (checked by
//! [`super::checks`]).

use super::outline::{grown_to_perimeter, offset_miter, perimeter, round_with_perimeter};
use super::CadError;
use crate::measure::{Measurement, Status};

/// How much room the band leaves around the finger (added to the ring circumference).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum BandFit {
    /// The measured circumference exactly.
    Snug,
    /// The comfort ease of the size recommendation
    /// ([`crate::measure::sizes::COMFORT_EASE_MM`]).
    #[default]
    Standard,
    /// Twice the standard ease.
    Loose,
}

impl BandFit {
    /// Perimeter (mm) the band's inner outline adds to the ring circumference.
    pub fn clearance_mm(self) -> f64 {
        let ease = crate::measure::sizes::COMFORT_EASE_MM;
        match self {
            BandFit::Snug => 0.0,
            BandFit::Standard => ease,
            BandFit::Loose => 2.0 * ease,
        }
    }

    /// Parses `snug`, `standard` or `loose`.
    pub fn parse(s: &str) -> Result<Self, CadError> {
        match s {
            "snug" => Ok(BandFit::Snug),
            "standard" => Ok(BandFit::Standard),
            "loose" => Ok(BandFit::Loose),
            other => Err(CadError::Options(format!(
                "fit {other:?} is not one of snug, standard, loose"
            ))),
        }
    }
}

/// The shape of the band's inner surface.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum InnerShape {
    /// The measured ring section grown by the clearance.
    #[default]
    Fitted,
    /// A circle that passes the knuckle (and is at least the fitted perimeter).
    Round,
}

/// What to make.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BandOptions {
    /// Band width along the finger (mm).
    pub width_mm: f64,
    /// Least wall thickness (mm).
    pub thickness_mm: f64,
    /// Comfort fit: domed inside, crowned outside.
    pub comfort: bool,
    /// Room around the finger.
    pub fit: BandFit,
    /// Fitted or round inner shape.
    pub inner: InnerShape,
    /// Vertices around the band (per ring of vertices).
    pub segments: usize,
}

impl Default for BandOptions {
    fn default() -> Self {
        Self {
            width_mm: 4.0,
            thickness_mm: 1.8,
            comfort: false,
            fit: BandFit::Standard,
            inner: InnerShape::Fitted,
            segments: 360,
        }
    }
}

/// Band width limits (mm).
pub const WIDTH_RANGE_MM: (f64, f64) = (1.0, 25.0);
/// Wall thickness limits (mm).
pub const THICKNESS_RANGE_MM: (f64, f64) = (0.6, 6.0);
/// Vertex count limits around the band.
pub const SEGMENT_RANGE: (usize, usize) = (64, 4096);
/// Depth of a comfort-fit dome inside and crown outside, as a share of the thickness.
pub const COMFORT_DOME_SHARE: f64 = 0.2;
/// Vertex rings across the width of a comfort-fit band (odd: one at mid-width).
const COMFORT_STATIONS: usize = 11;

impl BandOptions {
    fn validate(&self) -> Result<(), CadError> {
        let within = |v: f64, (lo, hi): (f64, f64)| v.is_finite() && v >= lo && v <= hi;
        if !within(self.width_mm, WIDTH_RANGE_MM) {
            return Err(CadError::Options(format!(
                "width {} mm is outside {}..={} mm",
                self.width_mm, WIDTH_RANGE_MM.0, WIDTH_RANGE_MM.1
            )));
        }
        if !within(self.thickness_mm, THICKNESS_RANGE_MM) {
            return Err(CadError::Options(format!(
                "thickness {} mm is outside {}..={} mm",
                self.thickness_mm, THICKNESS_RANGE_MM.0, THICKNESS_RANGE_MM.1
            )));
        }
        if !(SEGMENT_RANGE.0..=SEGMENT_RANGE.1).contains(&self.segments) {
            return Err(CadError::Options(format!(
                "segments {} is outside {}..={}",
                self.segments, SEGMENT_RANGE.0, SEGMENT_RANGE.1
            )));
        }
        Ok(())
    }
}

/// Whether the knuckle passes the band, and the two standard answers when it does not.
#[derive(Debug, Clone, PartialEq)]
pub struct KnucklePassage {
    /// Perimeter (mm) beyond the ring circumference the fitted shape needs to pass the
    /// knuckle.
    pub needed_clearance_mm: f64,
    /// The fit clearance (mm) is at least the needed clearance (or the band is round and
    /// passes).
    pub passes: bool,
    /// Inner perimeter (mm) of the round band that passes the knuckle.
    pub round_perimeter_mm: f64,
}

/// Which faces a triangle belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Face {
    /// Against the finger.
    Inner,
    /// Outside.
    Outer,
    /// The two flat sides.
    Side,
}

/// A band mesh and what it was made to.
#[derive(Debug, Clone, PartialEq)]
pub struct Band {
    /// Vertices in the finger frame (mm).
    pub vertices_mm: Vec<[f64; 3]>,
    /// Triangles, counter-clockwise seen from outside.
    pub triangles: Vec<[u32; 3]>,
    /// The face each triangle belongs to.
    pub faces: Vec<Face>,
    /// The inner outline where it is narrowest (mid-width), mm, around the band's axis.
    pub inner_contour_mm: Vec<[f64; 2]>,
    /// Its perimeter (mm).
    pub inner_perimeter_mm: f64,
    /// The measured ring circumference plus the fit clearance (mm).
    pub target_perimeter_mm: f64,
    /// The fit clearance used (mm of perimeter).
    pub clearance_mm: f64,
    /// The knuckle, when the measurement has it.
    pub knuckle: Option<KnucklePassage>,
    /// Notes for the workshop (knuckle passage, hinge or sizing beads).
    pub notes: Vec<String>,
    /// Options it was made with.
    pub options: BandOptions,
}

/// Makes a band for a measurement with status `ok` and fit geometry.
pub fn build_band(m: &Measurement, options: &BandOptions) -> Result<Band, CadError> {
    options.validate()?;
    if m.status != Status::Ok {
        return Err(CadError::NotOk);
    }
    let geometry = m.fit_geometry.as_ref().ok_or(CadError::NoFitGeometry)?;
    let circumference = m
        .ring_circumference_mm
        .filter(|c| c.is_finite() && *c > 0.0)
        .ok_or(CadError::NoFitGeometry)?;
    if geometry.ring_outline_mm.len() < 8 {
        return Err(CadError::BadGeometry(format!(
            "the ring outline has {} points (need 8 or more)",
            geometry.ring_outline_mm.len()
        )));
    }
    if !geometry
        .ring_outline_mm
        .iter()
        .all(|p| p[0].is_finite() && p[1].is_finite())
    {
        return Err(CadError::BadGeometry(
            "the ring outline holds a non-finite point".into(),
        ));
    }
    let clearance = options.fit.clearance_mm();
    let fitted_target = circumference + clearance;
    let n = options.segments;
    let knuckle = geometry.knuckle.as_ref().map(|k| KnucklePassage {
        needed_clearance_mm: k.clearance_mm,
        passes: match options.inner {
            InnerShape::Fitted => clearance >= k.clearance_mm,
            InnerShape::Round => true,
        },
        round_perimeter_mm: k.round_pass_perimeter_mm.max(fitted_target),
    });
    let (inner, target) = match options.inner {
        InnerShape::Fitted => {
            let (q, _) = grown_to_perimeter(&geometry.ring_outline_mm, fitted_target, n)
                .ok_or_else(|| {
                    CadError::BadGeometry(format!(
                        "the ring outline cannot be grown to {fitted_target:.2} mm"
                    ))
                })?;
            (q, fitted_target)
        }
        InnerShape::Round => {
            let t = knuckle
                .as_ref()
                .map_or(fitted_target, |k| k.round_perimeter_mm);
            (round_with_perimeter(t, n), t)
        }
    };
    let mut notes = Vec::new();
    if let Some(k) = &knuckle {
        if k.passes {
            notes.push(format!(
                "The knuckle passes: it needs {:.2} mm of perimeter beyond the finger base, the band leaves {:.2} mm.",
                k.needed_clearance_mm,
                target - circumference
            ));
        } else {
            notes.push(format!(
                "The knuckle does not pass this fitted shape: it needs {:.2} mm of perimeter beyond the finger base, the {:?} fit leaves {:.2} mm. Either make a round inner shape that passes it (inner perimeter {:.2} mm, `--inner round`), or keep the fitted shape with a hinged shank or sizing beads.",
                k.needed_clearance_mm,
                options.fit,
                clearance,
                k.round_perimeter_mm
            ));
            notes.push("Hinge or sizing beads: this fitted band must open (hinged shank) or be sized to pass the knuckle and held in place by sizing beads.".into());
        }
    } else {
        notes.push("No knuckle section was measured: check the band passes the knuckle.".into());
    }
    let (vertices_mm, triangles, faces) = mesh(&inner, options);
    let inner_perimeter_mm = perimeter(&inner);
    Ok(Band {
        vertices_mm,
        triangles,
        faces,
        inner_contour_mm: inner,
        inner_perimeter_mm,
        target_perimeter_mm: target,
        clearance_mm: clearance,
        knuckle,
        notes,
        options: *options,
    })
}

/// The vertex rings across the width: `(z, inner offset, outer offset)` per station, the
/// offsets measured outwards from the mid-width inner outline.
fn stations(o: &BandOptions) -> Vec<(f64, f64, f64)> {
    let (w, t) = (o.width_mm, o.thickness_mm);
    if !o.comfort {
        return vec![(-w / 2.0, 0.0, t), (w / 2.0, 0.0, t)];
    }
    let dome = COMFORT_DOME_SHARE * t;
    (0..COMFORT_STATIONS)
        .map(|j| {
            let s = -1.0 + 2.0 * j as f64 / (COMFORT_STATIONS - 1) as f64;
            let inner = dome * s * s;
            // Wall = t + dome·(1 − s²) + dome·(1 − s²) ≥ t, equal to t at the edges.
            let outer = t + dome + dome * (1.0 - s * s);
            (s * w / 2.0, inner, outer)
        })
        .collect()
}

type MeshParts = (Vec<[f64; 3]>, Vec<[u32; 3]>, Vec<Face>);

fn mesh(inner: &[[f64; 2]], o: &BandOptions) -> MeshParts {
    let st = stations(o);
    let (n, m) = (inner.len(), st.len());
    let mut v = Vec::with_capacity(2 * n * m);
    for &(z, off, _) in &st {
        v.extend(
            offset_miter(inner, off)
                .into_iter()
                .map(|p| [p[0], p[1], z]),
        );
    }
    for &(z, _, off) in &st {
        v.extend(
            offset_miter(inner, off)
                .into_iter()
                .map(|p| [p[0], p[1], z]),
        );
    }
    let iv = |j: usize, i: usize| (j * n + i % n) as u32;
    let ov = |j: usize, i: usize| (m * n + j * n + i % n) as u32;
    let mut t = Vec::with_capacity(4 * n * m);
    let mut f = Vec::with_capacity(4 * n * m);
    for j in 0..m - 1 {
        for i in 0..n {
            t.push([ov(j, i), ov(j, i + 1), ov(j + 1, i + 1)]);
            t.push([ov(j, i), ov(j + 1, i + 1), ov(j + 1, i)]);
            f.extend([Face::Outer, Face::Outer]);
            t.push([iv(j, i), iv(j + 1, i + 1), iv(j, i + 1)]);
            t.push([iv(j, i), iv(j + 1, i), iv(j + 1, i + 1)]);
            f.extend([Face::Inner, Face::Inner]);
        }
    }
    let top = m - 1;
    for i in 0..n {
        t.push([iv(top, i), ov(top, i), ov(top, i + 1)]);
        t.push([iv(top, i), ov(top, i + 1), iv(top, i + 1)]);
        t.push([iv(0, i), ov(0, i + 1), ov(0, i)]);
        t.push([iv(0, i), iv(0, i + 1), ov(0, i + 1)]);
        f.extend([Face::Side; 4]);
    }
    (v, t, f)
}
