//! A fitted ring band from a measurement: its STL bytes for a workshop, and the fit
//! geometry the measurement carries for it (section outlines in a finger frame).
//!
//! Guarantees: `cad_band` makes a band only from an `Ok` measurement with fit geometry;
//! every refusal is a typed error naming the limit and the value; no panic crosses.

use crate::error::{guard, MandrelError};
use mandrel_core::cad::{self, CadError};
use mandrel_core::measure as core;

impl From<CadError> for MandrelError {
    fn from(e: CadError) -> Self {
        let msg = e.to_string();
        match e {
            CadError::NotOk | CadError::NoFitGeometry => MandrelError::NotEnoughData(msg),
            CadError::Options(_) | CadError::BadGeometry(_) => MandrelError::InvalidConfig(msg),
            _ => MandrelError::Internal(msg),
        }
    }
}

/// A point or direction in space (millimetres for points, unit length for directions).
#[derive(Debug, Clone, Copy, PartialEq, uniffi::Record)]
pub struct Vector3Mm {
    /// x.
    pub x: f64,
    /// y.
    pub y: f64,
    /// z.
    pub z: f64,
}

/// A point of an outline in the section plane, millimetres.
#[derive(Debug, Clone, Copy, PartialEq, uniffi::Record)]
pub struct OutlinePoint {
    /// Along the finger frame's x axis.
    pub x_mm: f64,
    /// Along the finger frame's y axis.
    pub y_mm: f64,
}

/// The finger frame in the scan's world coordinates: origin at the ring section's centre,
/// `z` along the finger (MCP towards PIP).
#[derive(Debug, Clone, Copy, PartialEq, uniffi::Record)]
pub struct FingerFrame {
    /// Origin (world, mm).
    pub origin_mm: Vector3Mm,
    /// x axis (world, unit).
    pub x_axis: Vector3Mm,
    /// y axis (world, unit).
    pub y_axis: Vector3Mm,
    /// z axis, the finger axis (world, unit).
    pub z_axis: Vector3Mm,
}

/// The knuckle's outline and what it asks of a band.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct KnuckleFit {
    /// Centre of the knuckle section in the finger frame (mm).
    pub centre_mm: Vector3Mm,
    /// Outline around that centre (mm).
    pub outline: Vec<OutlinePoint>,
    /// Knuckle circumference (mm).
    pub circumference_mm: f64,
    /// Perimeter a fitted band needs beyond the ring circumference to pass the knuckle.
    pub clearance_mm: f64,
    /// Perimeter of the smallest round band that passes the knuckle.
    pub round_pass_perimeter_mm: f64,
}

/// What a measurement keeps for making a fitted band.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct FitGeometry {
    /// Layout version.
    pub version: u32,
    /// The finger frame.
    pub frame: FingerFrame,
    /// The ring point on the finger axis, in the finger frame (mm).
    pub ring_point_mm: Vector3Mm,
    /// The ring section's outline around the frame origin (mm).
    pub ring_outline: Vec<OutlinePoint>,
    /// The knuckle, when measured.
    pub knuckle: Option<KnuckleFit>,
}

fn v3(a: [f64; 3]) -> Vector3Mm {
    Vector3Mm {
        x: a[0],
        y: a[1],
        z: a[2],
    }
}

fn a3(v: Vector3Mm) -> [f64; 3] {
    [v.x, v.y, v.z]
}

fn pts(p: Vec<[f64; 2]>) -> Vec<OutlinePoint> {
    p.into_iter()
        .map(|q| OutlinePoint {
            x_mm: q[0],
            y_mm: q[1],
        })
        .collect()
}

fn arrs(p: Vec<OutlinePoint>) -> Vec<[f64; 2]> {
    p.into_iter().map(|q| [q.x_mm, q.y_mm]).collect()
}

impl From<core::FitGeometry> for FitGeometry {
    fn from(g: core::FitGeometry) -> Self {
        Self {
            version: g.version,
            frame: FingerFrame {
                origin_mm: v3(g.frame.origin_mm),
                x_axis: v3(g.frame.x_axis),
                y_axis: v3(g.frame.y_axis),
                z_axis: v3(g.frame.z_axis),
            },
            ring_point_mm: v3(g.ring_point_mm),
            ring_outline: pts(g.ring_outline_mm),
            knuckle: g.knuckle.map(|k| KnuckleFit {
                centre_mm: v3(k.centre_mm),
                outline: pts(k.outline_mm),
                circumference_mm: k.circumference_mm,
                clearance_mm: k.clearance_mm,
                round_pass_perimeter_mm: k.round_pass_perimeter_mm,
            }),
        }
    }
}

impl From<FitGeometry> for core::FitGeometry {
    fn from(g: FitGeometry) -> Self {
        Self {
            version: g.version,
            frame: core::FingerFrame {
                origin_mm: a3(g.frame.origin_mm),
                x_axis: a3(g.frame.x_axis),
                y_axis: a3(g.frame.y_axis),
                z_axis: a3(g.frame.z_axis),
            },
            ring_point_mm: a3(g.ring_point_mm),
            ring_outline_mm: arrs(g.ring_outline),
            knuckle: g.knuckle.map(|k| core::KnuckleFit {
                centre_mm: a3(k.centre_mm),
                outline_mm: arrs(k.outline),
                circumference_mm: k.circumference_mm,
                clearance_mm: k.clearance_mm,
                round_pass_perimeter_mm: k.round_pass_perimeter_mm,
            }),
        }
    }
}

/// Room the band leaves around the finger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum BandFit {
    /// The measured circumference exactly.
    Snug,
    /// The comfort ease of the size recommendation (0.5 mm).
    Standard,
    /// Twice the standard ease.
    Loose,
}

/// Shape of the band's inner surface.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum BandInnerShape {
    /// The measured section grown by the fit clearance.
    Fitted,
    /// A circle that passes the knuckle.
    Round,
}

/// What band to make.
#[derive(Debug, Clone, Copy, PartialEq, uniffi::Record)]
pub struct BandOptions {
    /// Width along the finger (mm, 1 to 25).
    pub width_mm: f64,
    /// Least wall thickness (mm, 0.6 to 6).
    pub thickness_mm: f64,
    /// Comfort fit: domed inside, crowned outside.
    pub comfort: bool,
    /// Room around the finger.
    pub fit: BandFit,
    /// Fitted or round inner surface.
    pub inner: BandInnerShape,
}

/// The default band: 4 mm wide, 1.8 mm wall, standard fit, fitted, not comfort.
#[uniffi::export]
pub fn band_options_defaults() -> BandOptions {
    let d = cad::BandOptions::default();
    BandOptions {
        width_mm: d.width_mm,
        thickness_mm: d.thickness_mm,
        comfort: d.comfort,
        fit: BandFit::Standard,
        inner: BandInnerShape::Fitted,
    }
}

pub(crate) fn core_options(o: &BandOptions) -> cad::BandOptions {
    cad::BandOptions {
        width_mm: o.width_mm,
        thickness_mm: o.thickness_mm,
        comfort: o.comfort,
        fit: match o.fit {
            BandFit::Snug => cad::BandFit::Snug,
            BandFit::Standard => cad::BandFit::Standard,
            BandFit::Loose => cad::BandFit::Loose,
        },
        inner: match o.inner {
            BandInnerShape::Fitted => cad::InnerShape::Fitted,
            BandInnerShape::Round => cad::InnerShape::Round,
        },
        ..cad::BandOptions::default()
    }
}

/// The band's STL bytes (binary, millimetres, finger frame) for `measurement`. Throws
/// `NotEnoughData` when the measurement is not `Ok` or has no fit geometry,
/// `InvalidConfig` for options out of range.
#[uniffi::export]
pub fn cad_band(
    measurement: crate::measurement::RingMeasurement,
    options: BandOptions,
) -> Result<Vec<u8>, MandrelError> {
    guard("cad_band", || {
        let m = core::Measurement::from(measurement);
        let band = cad::build_band(&m, &core_options(&options))?;
        Ok(cad::band_stl(&band)?)
    })
}

/// "Order a fitted band": makes the band for `measurement` (as [`cad_band`]) and seals it
/// together with the measurement in one envelope for `recipient_public_key` (base64url
/// X25519, the workshop's) under `scan_id`. Returns the envelope JSON to upload. Scope
/// `Measurement` suffices (the band is made from the measurement alone). Throws
/// `ConsentRequired` without a valid consent, `NotEnoughData` when the measurement is not
/// `Ok` or has no fit geometry, `InvalidConfig` for options out of range.
#[uniffi::export]
pub fn seal_fitted_band_order(
    measurement: crate::measurement::RingMeasurement,
    options: BandOptions,
    consent: Option<crate::seal::Consent>,
    recipient_public_key: String,
    scan_id: String,
) -> Result<String, MandrelError> {
    guard("seal_fitted_band_order", || {
        let consent = crate::seal::core_consent(consent.as_ref())?;
        let recipient =
            mandrel_core::seal::RecipientPublicKey::from_base64url(recipient_public_key.trim())?;
        let m = core::Measurement::from(measurement.clone());
        let band = cad::build_band(&m, &core_options(&options))?;
        let stl = cad::band_stl(&band)?;
        let value = crate::seal::measurement_value(measurement)?;
        let request = mandrel_core::seal::SealRequest {
            scan_id: &scan_id,
            measurement: &value,
            mesh_ply: None,
            consent: Some(&consent),
            created_at: None,
        };
        Ok(mandrel_core::seal::seal_band_order(&recipient, &request, &stl)?.to_json())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measurement::RingMeasurement;
    use mandrel_core::hand::{Finger, Hand};

    fn measurement(status: core::Status) -> RingMeasurement {
        let outline: Vec<[f64; 2]> = (0..360)
            .map(|i| {
                let t = (i as f64).to_radians();
                [9.5 * t.cos(), 7.8 * t.sin()]
            })
            .collect();
        let circ = cad::outline::perimeter(&outline);
        core::Measurement {
            format: core::MEASUREMENT_FORMAT.to_string(),
            version: core::MEASUREMENT_VERSION,
            status,
            reasons: vec![],
            hand: Hand::Right,
            finger: Finger::Ring,
            ring_circumference_mm: Some(circ),
            knuckle_circumference_mm: None,
            uncertainty_mm: Some(0.2),
            sizes: None,
            recommended: None,
            coverage_deg: 330.0,
            frames_used: 9,
            locate_method: None,
            timings_ms: core::Timings::default(),
            fit_geometry: Some(core::FitGeometry {
                version: 1,
                frame: core::FingerFrame {
                    origin_mm: [1.0, 2.0, 300.0],
                    x_axis: [1.0, 0.0, 0.0],
                    y_axis: [0.0, 1.0, 0.0],
                    z_axis: [0.0, 0.0, 1.0],
                },
                ring_point_mm: [0.0; 3],
                ring_outline_mm: outline,
                knuckle: None,
            }),
            duplicate_frames: core::Duplicates::default(),
        }
        .into()
    }

    #[test]
    fn cad_band_returns_a_binary_stl_and_typed_refusals() {
        let stl = cad_band(measurement(core::Status::Ok), band_options_defaults()).unwrap();
        assert!(stl.len() > 84 && (stl.len() - 84).is_multiple_of(50));
        let n = u32::from_le_bytes([stl[80], stl[81], stl[82], stl[83]]) as usize;
        assert_eq!(stl.len(), 84 + 50 * n);
        let err = cad_band(
            measurement(core::Status::NeedsRescan),
            band_options_defaults(),
        );
        assert!(
            matches!(err, Err(MandrelError::NotEnoughData(_))),
            "{err:?}"
        );
        let bad = BandOptions {
            thickness_mm: 9.0,
            ..band_options_defaults()
        };
        let err = cad_band(measurement(core::Status::Ok), bad);
        assert!(
            matches!(&err, Err(MandrelError::InvalidConfig(m)) if m.contains('9')),
            "{err:?}"
        );
    }

    #[test]
    fn a_band_order_seals_measurement_and_band_together() {
        use crate::seal::{Consent, ConsentScope};
        // Any 32 bytes are an X25519 public key; the envelope's shape is what is checked
        // here (opening is the core's seal tests' business).
        let pk = "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA";
        let consent = Consent {
            purpose: "fitted band order 1".into(),
            scope: ConsentScope::Measurement,
            policy_version: "1".into(),
            granted_at: "2026-01-01T00:00:00Z".into(),
        };
        let env = seal_fitted_band_order(
            measurement(core::Status::Ok),
            band_options_defaults(),
            Some(consent.clone()),
            pk.into(),
            "order-1".into(),
        )
        .unwrap();
        let parsed = mandrel_core::seal::Envelope::parse(env.as_bytes()).unwrap();
        let header = parsed.parsed_header().unwrap();
        assert_eq!(header.content_type, "application/x-mandrel-bundle");
        let none = seal_fitted_band_order(
            measurement(core::Status::Ok),
            band_options_defaults(),
            None,
            pk.into(),
            "order-1".into(),
        );
        assert!(matches!(none, Err(MandrelError::ConsentRequired(_))));
        let rescan = seal_fitted_band_order(
            measurement(core::Status::NeedsRescan),
            band_options_defaults(),
            Some(consent),
            pk.into(),
            "order-1".into(),
        );
        assert!(matches!(rescan, Err(MandrelError::NotEnoughData(_))));
    }

    #[test]
    fn fit_geometry_survives_the_record_round_trip() {
        let m = measurement(core::Status::Ok);
        let back = core::Measurement::from(m.clone());
        assert_eq!(RingMeasurement::from(back), m);
    }
}
