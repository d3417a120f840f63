//! An order of a fitted band: the measurement and the band it was made from sealed
//! together in one envelope (a version 2 [`super::Bundle`]), so the workshop receives both
//! under one consent and one authentication.
//!
//! The band is derived from the measurement alone (its fit geometry), so scope
//! `measurement` covers it; the hand mesh still needs `measurement+mesh`.

use super::envelope::{seal_with_band, Envelope, SealError, SealRequest, MAX_MESH_BYTES};
use ring::rand::SecureRandom;

/// Checks that `stl` is a binary STL whose length matches its triangle count.
fn check_band_stl(stl: &[u8]) -> Result<(), SealError> {
    if stl.len() > MAX_MESH_BYTES {
        return Err(SealError::BadBand(format!("{} bytes", stl.len())));
    }
    let Some(count) = stl.get(80..84) else {
        return Err(SealError::BadBand(format!(
            "{} bytes is shorter than the 84-byte STL header",
            stl.len()
        )));
    };
    let n = u32::from_le_bytes([count[0], count[1], count[2], count[3]]) as usize;
    if n == 0 || stl.len() != 84 + 50 * n {
        return Err(SealError::BadBand(format!(
            "{} bytes do not hold the {n} triangles the header announces",
            stl.len()
        )));
    }
    Ok(())
}

/// Seals the measurement of `request` with a fitted band (binary STL, e.g. from
/// [`crate::cad::band_stl`]) for `recipient`, with the system random source.
pub fn seal_band_order(
    recipient: &super::RecipientPublicKey,
    request: &SealRequest<'_>,
    band_stl: &[u8],
) -> Result<Envelope, SealError> {
    seal_band_order_with_rng(
        recipient,
        request,
        band_stl,
        &ring::rand::SystemRandom::new(),
    )
}

/// [`seal_band_order`] with a caller-supplied random source.
pub fn seal_band_order_with_rng(
    recipient: &super::RecipientPublicKey,
    request: &SealRequest<'_>,
    band_stl: &[u8],
    rng: &dyn SecureRandom,
) -> Result<Envelope, SealError> {
    check_band_stl(band_stl)?;
    seal_with_band(recipient, request, Some(band_stl), rng)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_well_formed_binary_stl_is_sealed() {
        assert!(check_band_stl(&[0u8; 10]).is_err());
        let mut one = vec![0u8; 84 + 50];
        one[80] = 1;
        assert!(check_band_stl(&one).is_ok());
        one.push(0);
        assert!(matches!(check_band_stl(&one), Err(SealError::BadBand(m)) if m.contains("135")));
        assert!(check_band_stl(&[0u8; 84]).is_err());
    }
}
