//! `application/x-mandrel-bundle`: the plaintext that carries a measurement and a mesh.
//!
//! Layout (all integers big-endian), version 1:
//!
//! ```text
//! magic    8 bytes   "MNDLBNDL"
//! version  1 byte    0x01
//! count    1 byte    number of parts that follow (1 or 2)
//! parts    repeated: tag (1 byte) || length (8 bytes, u64) || body (length bytes)
//!            tag 0x01 = measurement JSON (UTF-8), exactly once, first
//!            tag 0x02 = mesh as PLY (binary or ASCII), at most once
//! ```
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

/// A measurement with an optional mesh.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bundle {
    /// The measurement as JSON text (UTF-8).
    pub measurement_json: Vec<u8>,
    /// The hand mesh as a PLY file, if included.
    pub mesh_ply: Option<Vec<u8>>,
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
    #[error("bundle version {0} is not supported (expected 1)")]
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
}

impl Bundle {
    /// Serialises the bundle (see the module doc for the layout).
    pub fn encode(&self) -> Vec<u8> {
        Self::encode_parts(&self.measurement_json, self.mesh_ply.as_deref())
    }

    /// Serialises a bundle straight from its parts (no intermediate copies).
    pub fn encode_parts(measurement_json: &[u8], mesh_ply: Option<&[u8]>) -> Vec<u8> {
        let mesh_len = mesh_ply.map_or(0, |m| m.len() + 9);
        let mut out = Vec::with_capacity(10 + 9 + measurement_json.len() + mesh_len + 16);
        out.extend_from_slice(BUNDLE_MAGIC);
        out.push(BUNDLE_VERSION);
        out.push(if mesh_ply.is_some() { 2 } else { 1 });
        push_part(&mut out, TAG_MEASUREMENT_JSON, measurement_json);
        if let Some(mesh) = mesh_ply {
            push_part(&mut out, TAG_MESH_PLY, mesh);
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
        if bytes[8] != BUNDLE_VERSION {
            return Err(BundleError::UnsupportedVersion(bytes[8]));
        }
        let mut measurement: Option<Vec<u8>> = None;
        let mut mesh: Option<Vec<u8>> = None;
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
                    if measurement.is_some() || mesh.is_some() {
                        return Err(BundleError::MisplacedPart(tag));
                    }
                    measurement = Some(body.to_vec());
                }
                TAG_MESH_PLY => {
                    if measurement.is_none() || mesh.is_some() {
                        return Err(BundleError::MisplacedPart(tag));
                    }
                    mesh = Some(body.to_vec());
                }
                _ => return Err(BundleError::UnknownTag { tag, offset }),
            }
            at = end;
            found += 1;
        }
        if found != announced {
            return Err(BundleError::PartCount { announced, found });
        }
        Ok(Bundle {
            measurement_json: measurement.ok_or(BundleError::MissingMeasurement)?,
            mesh_ply: mesh,
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
        let mut v2 = bytes;
        v2[8] = 2;
        assert_eq!(Bundle::parse(&v2), Err(BundleError::UnsupportedVersion(2)));
        let only_header = [&BUNDLE_MAGIC[..], &[1, 0]].concat();
        assert_eq!(
            Bundle::parse(&only_header),
            Err(BundleError::MissingMeasurement)
        );
    }
}
