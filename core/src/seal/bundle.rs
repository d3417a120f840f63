//! `application/x-mandrel-bundle`: the plaintext that carries a measurement, a mesh and,
//! for an order of a fitted band, the band.
//!
//! Layout (all integers big-endian), version 1, and version 2 (a band order):
//!
//! ```text
//! magic    8 bytes   "MNDLBNDL"
//! version  1 byte    0x01, or 0x02 when a band part is present
//! count    1 byte    number of parts that follow (1 or 2; version 2: 2 or 3)
//! parts    repeated: tag (1 byte) || length (8 bytes, u64) || body (length bytes)
//!            tag 0x01 = measurement JSON (UTF-8), exactly once, first
//!            tag 0x02 = mesh as PLY (binary or ASCII), at most once
//!            tag 0x03 = band as binary STL (millimetres), version 2 only, exactly
//!                       once there, last
//! ```
//!
//! A version 1 bundle is byte for byte what it was before bands existed; readers that
//! know only version 1 refuse a band order with a typed error instead of misreading it.
//!
//! Guarantees: [`Bundle::parse`] accepts exactly what [`Bundle::encode`] writes: a wrong
//! magic or version, a part count that does not match, an unknown or repeated tag, a missing measurement, a length that runs
//! past the end, or trailing bytes are typed [`BundleError`]s; it never panics on input.

/// Bundle magic bytes.
pub const BUNDLE_MAGIC: &[u8; 8] = b"MNDLBNDL";
/// Bundle format version written and accepted.
pub const BUNDLE_VERSION: u8 = 1;
/// Part tag: measurement JSON.
pub const TAG_MEASUREMENT_JSON: u8 = 0x01;
/// Part tag: mesh PLY.
pub const TAG_MESH_PLY: u8 = 0x02;
/// Bundle format version of a band order (with a [`TAG_BAND_STL`] part).
pub const BUNDLE_VERSION_BAND: u8 = 2;
/// Part tag: fitted band as binary STL (version 2).
pub const TAG_BAND_STL: u8 = 0x03;

/// A measurement with an optional mesh.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bundle {
    /// The measurement as JSON text (UTF-8).
    pub measurement_json: Vec<u8>,
    /// The hand mesh as a PLY file, if included.
    pub mesh_ply: Option<Vec<u8>>,
    /// A fitted band as binary STL (a band order, version 2), if included.
    pub band_stl: Option<Vec<u8>>,
}

/// A malformed bundle.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BundleError {
    /// Shorter than magic, version and part count.
    #[error("bundle is {0} bytes, too short for the 10-byte magic, version and part count")]
    TooShort(usize),
    /// The magic is not `MNDLBNDL`.
    #[error("not a mandrel bundle: wrong magic bytes")]
    BadMagic,
    /// Unknown version byte.
    #[error("bundle version {0} is not supported (expected 1, or 2 for a band order)")]
    UnsupportedVersion(u8),
    /// The number of parts differs from the count byte.
    #[error("bundle announces {announced} parts but holds {found}")]
    PartCount {
        /// The count byte.
        announced: u8,
        /// Parts actually present.
        found: u8,
    },
    /// A part header or body runs past the end.
    #[error("bundle part at byte {offset} is truncated")]
    Truncated {
        /// Offset of the part.
        offset: usize,
    },
    /// A part tag this version does not know.
    #[error("unknown bundle part tag 0x{tag:02x} at byte {offset}")]
    UnknownTag {
        /// The tag.
        tag: u8,
        /// Offset of the part.
        offset: usize,
    },
    /// A part appears twice, or the measurement is not first.
    #[error("bundle part 0x{0:02x} is repeated or out of order")]
    MisplacedPart(u8),
    /// The measurement part is absent.
    #[error("bundle holds no measurement part")]
    MissingMeasurement,
    /// A version 2 bundle (band order) without its band part.
    #[error("bundle version 2 (band order) holds no band part")]
    MissingBand,
}

impl Bundle {
    /// Serialises the bundle (see the module doc for the layout).
    pub fn encode(&self) -> Vec<u8> {
        Self::encode_with_band(
            &self.measurement_json,
            self.mesh_ply.as_deref(),
            self.band_stl.as_deref(),
        )
    }

    /// Serialises a bundle straight from its parts (no intermediate copies).
    pub fn encode_parts(measurement_json: &[u8], mesh_ply: Option<&[u8]>) -> Vec<u8> {
        Self::encode_with_band(measurement_json, mesh_ply, None)
    }

    /// [`Bundle::encode_parts`] with a band (version 2 when `band_stl` is given, else
    /// exactly version 1).
    pub fn encode_with_band(
        measurement_json: &[u8],
        mesh_ply: Option<&[u8]>,
        band_stl: Option<&[u8]>,
    ) -> Vec<u8> {
        let mesh_len = mesh_ply.map_or(0, |m| m.len() + 9);
        let band_len = band_stl.map_or(0, |b| b.len() + 9);
        let mut out =
            Vec::with_capacity(10 + 9 + measurement_json.len() + mesh_len + band_len + 16);
        out.extend_from_slice(BUNDLE_MAGIC);
        out.push(if band_stl.is_some() {
            BUNDLE_VERSION_BAND
        } else {
            BUNDLE_VERSION
        });
        out.push(1 + u8::from(mesh_ply.is_some()) + u8::from(band_stl.is_some()));
        push_part(&mut out, TAG_MEASUREMENT_JSON, measurement_json);
        if let Some(mesh) = mesh_ply {
            push_part(&mut out, TAG_MESH_PLY, mesh);
        }
        if let Some(band) = band_stl {
            push_part(&mut out, TAG_BAND_STL, band);
        }
        out
    }

    /// Parses a bundle strictly.
    pub fn parse(bytes: &[u8]) -> Result<Bundle, BundleError> {
        if bytes.len() < 10 {
            return Err(BundleError::TooShort(bytes.len()));
        }
        if &bytes[..8] != BUNDLE_MAGIC {
            return Err(BundleError::BadMagic);
        }
        let version = bytes[8];
        if version != BUNDLE_VERSION && version != BUNDLE_VERSION_BAND {
            return Err(BundleError::UnsupportedVersion(version));
        }
        let mut measurement: Option<Vec<u8>> = None;
        let mut mesh: Option<Vec<u8>> = None;
        let mut band: Option<Vec<u8>> = None;
        let announced = bytes[9];
        let mut found = 0u8;
        let mut at = 10usize;
        while at < bytes.len() {
            if found == announced {
                return Err(BundleError::PartCount {
                    announced,
                    found: found.saturating_add(1),
                });
            }
            let offset = at;
            let head = bytes
                .get(at..at + 9)
                .ok_or(BundleError::Truncated { offset })?;
            let tag = head[0];
            let mut len_be = [0u8; 8];
            len_be.copy_from_slice(&head[1..9]);
            let len = usize::try_from(u64::from_be_bytes(len_be))
                .map_err(|_| BundleError::Truncated { offset })?;
            let start = at + 9;
            let end = start
                .checked_add(len)
                .ok_or(BundleError::Truncated { offset })?;
            let body = bytes
                .get(start..end)
                .ok_or(BundleError::Truncated { offset })?;
            match tag {
                TAG_MEASUREMENT_JSON => {
                    if measurement.is_some() || mesh.is_some() || band.is_some() {
                        return Err(BundleError::MisplacedPart(tag));
                    }
                    measurement = Some(body.to_vec());
                }
                TAG_MESH_PLY => {
                    if measurement.is_none() || mesh.is_some() || band.is_some() {
                        return Err(BundleError::MisplacedPart(tag));
                    }
                    mesh = Some(body.to_vec());
                }
                TAG_BAND_STL if version == BUNDLE_VERSION_BAND => {
                    if measurement.is_none() || band.is_some() {
                        return Err(BundleError::MisplacedPart(tag));
                    }
                    band = Some(body.to_vec());
                }
                _ => return Err(BundleError::UnknownTag { tag, offset }),
            }
            at = end;
            found += 1;
        }
        if found != announced {
            return Err(BundleError::PartCount { announced, found });
        }
        let measurement_json = measurement.ok_or(BundleError::MissingMeasurement)?;
        if version == BUNDLE_VERSION_BAND && band.is_none() {
            return Err(BundleError::MissingBand);
        }
        Ok(Bundle {
            measurement_json,
            mesh_ply: mesh,
            band_stl: band,
        })
    }
}

fn push_part(out: &mut Vec<u8>, tag: u8, body: &[u8]) {
    out.push(tag);
    out.extend_from_slice(&(body.len() as u64).to_be_bytes());
    out.extend_from_slice(body);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_strictness() {
        let b = Bundle {
            measurement_json: b"{\"a\":1}".to_vec(),
            mesh_ply: Some(b"ply\nformat ascii 1.0\nend_header\n".to_vec()),
            band_stl: None,
        };
        let bytes = b.encode();
        assert_eq!(Bundle::parse(&bytes), Ok(b.clone()));
        let no_mesh = Bundle {
            mesh_ply: None,
            ..b.clone()
        };
        assert_eq!(Bundle::parse(&no_mesh.encode()), Ok(no_mesh));
        // Every truncation is a typed error, never a panic.
        for cut in 0..bytes.len() {
            assert!(Bundle::parse(&bytes[..cut]).is_err(), "cut {cut}");
        }
        let mut trailing = bytes.clone();
        trailing.push(0);
        assert!(matches!(
            Bundle::parse(&trailing),
            Err(BundleError::PartCount { .. })
        ));
        let mut bad_tag = bytes.clone();
        bad_tag[10] = 0x07;
        assert!(matches!(
            Bundle::parse(&bad_tag),
            Err(BundleError::UnknownTag { tag: 7, .. })
        ));
        let mut huge = bytes.clone();
        huge[11..19].copy_from_slice(&u64::MAX.to_be_bytes());
        assert!(matches!(
            Bundle::parse(&huge),
            Err(BundleError::Truncated { .. })
        ));
        assert_eq!(Bundle::parse(&[b'M'; 10]), Err(BundleError::BadMagic));
        let mut v3 = bytes;
        v3[8] = 3;
        assert_eq!(Bundle::parse(&v3), Err(BundleError::UnsupportedVersion(3)));
        let only_header = [&BUNDLE_MAGIC[..], &[1, 0]].concat();
        assert_eq!(
            Bundle::parse(&only_header),
            Err(BundleError::MissingMeasurement)
        );
    }

    #[test]
    fn band_orders_are_version_2_and_strict() {
        let with_band = Bundle {
            measurement_json: b"{}".to_vec(),
            mesh_ply: None,
            band_stl: Some(vec![0u8; 84]),
        };
        let bytes = with_band.encode();
        assert_eq!(bytes[8], BUNDLE_VERSION_BAND);
        assert_eq!(Bundle::parse(&bytes), Ok(with_band.clone()));
        let all = Bundle {
            mesh_ply: Some(b"ply\n".to_vec()),
            ..with_band.clone()
        };
        assert_eq!(Bundle::parse(&all.encode()), Ok(all.clone()));
        for cut in 0..bytes.len() {
            assert!(Bundle::parse(&bytes[..cut]).is_err(), "cut {cut}");
        }
        // A band part in a version 1 bundle is an unknown tag; version 2 needs the band.
        let mut v1 = bytes.clone();
        v1[8] = BUNDLE_VERSION;
        assert!(matches!(
            Bundle::parse(&v1),
            Err(BundleError::UnknownTag {
                tag: TAG_BAND_STL,
                ..
            })
        ));
        let mut no_band = Bundle::encode_parts(b"{}", None);
        no_band[8] = BUNDLE_VERSION_BAND;
        assert_eq!(Bundle::parse(&no_band), Err(BundleError::MissingBand));
        // The mesh may not follow the band.
        let mut swapped = Bundle::encode_with_band(b"{}", Some(b"ply\n"), Some(b"stl"));
        let mesh_at = 10 + 9 + 2;
        swapped[mesh_at] = TAG_BAND_STL;
        let band_at = mesh_at + 9 + 4;
        swapped[band_at] = TAG_MESH_PLY;
        assert_eq!(
            Bundle::parse(&swapped),
            Err(BundleError::MisplacedPart(TAG_MESH_PLY))
        );
    }
}
