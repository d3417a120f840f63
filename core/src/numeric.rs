//! Small numeric helpers shared by the measurement code: robust weights, the median, a
//! union-find, a basis perpendicular to a direction, a weighted line fit and a hasher for
//! grid-cell keys.
//!
//! Each helper keeps the exact arithmetic of the copies it replaced, so moving a call site
//! here changes no result bit; where two copies differed, both are kept under clear names.

use nalgebra::Vector3;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// Tuning constant of the Tukey biweight for 95% efficiency under Gaussian noise.
pub(crate) const TUKEY_C: f64 = 4.685;

/// Tuning constant of the Huber weight for 95% efficiency under Gaussian noise.
pub(crate) const HUBER_C: f64 = 1.5;

/// Tukey biweight of residual `r` with cut-off `c` (same units): `(1 − (r/c)²)²` inside
/// `|r| < c`, 0 beyond, so gross outliers get no weight at all.
#[inline]
pub(crate) fn tukey_weight(r: f64, c: f64) -> f64 {
    let a = r.abs();
    if a >= c {
        0.0
    } else {
        let t = 1.0 - (a / c).powi(2);
        t * t
    }
}

/// Huber weight of residual `r` with threshold `c` (same units): 1 inside `|r| ≤ c`,
/// `c / |r|` beyond, so large residuals count linearly instead of quadratically.
#[inline]
pub(crate) fn huber_weight(r: f64, c: f64) -> f64 {
    let a = r.abs();
    if a <= c {
        1.0
    } else {
        c / a
    }
}

/// The element of rank `len / 2` in the total order of `f64` (for an even count the upper
/// of the two middle values, not their mean); `None` when `v` is empty. Reorders `v`.
pub(crate) fn upper_median(v: &mut [f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    let mid = v.len() / 2;
    Some(*v.select_nth_unstable_by(mid, |a, b| a.total_cmp(b)).1)
}

/// Disjoint sets over `0..n` (union-find with path halving), for grouping linked items.
pub(crate) struct UnionFind {
    parent: Vec<usize>,
}

impl UnionFind {
    /// `n` singleton sets.
    pub(crate) fn new(n: usize) -> Self {
        Self {
            parent: (0..n).collect(),
        }
    }

    /// The representative (root) of `i`'s set; halves the path on the way.
    pub(crate) fn find(&mut self, mut i: usize) -> usize {
        while self.parent[i] != i {
            self.parent[i] = self.parent[self.parent[i]];
            i = self.parent[i];
        }
        i
    }

    /// Merges the sets of `a` and `b`, the root of `a`'s set going under the root of `b`'s
    /// (which root stays decides the labels callers derive from roots); returns whether
    /// they were separate.
    pub(crate) fn union(&mut self, a: usize, b: usize) -> bool {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            self.parent[ra] = rb;
        }
        ra != rb
    }
}

/// Two unit vectors `(e1, e2)` that with `n` form a right-handed orthonormal basis, by
/// Gram–Schmidt of the x axis (the y axis when `n` is within ~25° of x). `n` is normalised
/// first and returned as the third vector.
pub(crate) fn orthonormal_basis(n: &Vector3<f64>) -> (Vector3<f64>, Vector3<f64>, Vector3<f64>) {
    let n = n.normalize();
    let seed = if n.x.abs() < 0.9 {
        Vector3::x()
    } else {
        Vector3::y()
    };
    let e1 = (seed - n * seed.dot(&n)).normalize();
    let e2 = n.cross(&e1);
    (n, e1, e2)
}

/// Two vectors perpendicular to the unit direction `d` by cross products with `helper`:
/// `u = (d × helper)/|d × helper|`, `v = d × u`. `helper` must not be parallel to `d`.
pub(crate) fn cross_basis(d: &Vector3<f64>, helper: &Vector3<f64>) -> (Vector3<f64>, Vector3<f64>) {
    let u = d.cross(helper).normalize();
    let v = d.cross(&u);
    (u, v)
}

/// A weighted least-squares line `c = a + b·t` (see [`weighted_line`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct LineFit {
    /// Weighted mean of `t`.
    pub(crate) mean_t: f64,
    /// Weighted mean of `c`.
    pub(crate) mean_c: f64,
    /// Slope `b`.
    pub(crate) slope: f64,
    /// Variance of the slope, scaled by the reduced χ² when above 1.
    pub(crate) slope_var: f64,
}

/// Weighted least-squares line `c = a + b·t` through `(t, c, variance of c)` triples, with
/// weights 1/variance; the slope variance is scaled by the reduced χ² when above 1 (scatter
/// beyond the stated variances). `None` when the positions do not spread.
pub(crate) fn weighted_line(rows: &[(f64, f64, f64)]) -> Option<LineFit> {
    let w: Vec<f64> = rows.iter().map(|r| 1.0 / r.2.max(1e-18)).collect();
    let sw: f64 = w.iter().sum();
    let mt = rows.iter().zip(&w).map(|(r, w)| w * r.0).sum::<f64>() / sw;
    let mc = rows.iter().zip(&w).map(|(r, w)| w * r.1).sum::<f64>() / sw;
    let stt: f64 = rows
        .iter()
        .zip(&w)
        .map(|(r, w)| w * (r.0 - mt).powi(2))
        .sum();
    if !(stt > 0.0) || !stt.is_finite() {
        return None;
    }
    let stc: f64 = rows
        .iter()
        .zip(&w)
        .map(|(r, w)| w * (r.0 - mt) * (r.1 - mc))
        .sum();
    let b = stc / stt;
    let mut var_b = 1.0 / stt;
    if rows.len() > 2 {
        let chi2: f64 = rows
            .iter()
            .zip(&w)
            .map(|(r, w)| w * (r.1 - mc - b * (r.0 - mt)).powi(2))
            .sum();
        var_b *= (chi2 / (rows.len() - 2) as f64).max(1.0);
    }
    Some(LineFit {
        mean_t: mt,
        mean_c: mc,
        slope: b,
        slope_var: var_b,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn robust_weights() {
        assert_eq!(tukey_weight(0.0, TUKEY_C), 1.0);
        assert_eq!(tukey_weight(TUKEY_C, TUKEY_C), 0.0);
        assert_eq!(tukey_weight(-10.0, TUKEY_C), 0.0);
        let half = tukey_weight(-0.5 * TUKEY_C, TUKEY_C);
        assert!((half - 0.5625).abs() < 1e-15);
        assert_eq!(half, tukey_weight(0.5 * TUKEY_C, TUKEY_C));
        assert_eq!(huber_weight(0.5, 1.0), 1.0);
        assert_eq!(huber_weight(-4.0, 1.0), 0.25);
        assert_eq!(huber_weight(3.0, HUBER_C), 0.5);
    }

    #[test]
    fn upper_median_takes_the_upper_middle() {
        assert_eq!(upper_median(&mut []), None);
        assert_eq!(upper_median(&mut [3.0]), Some(3.0));
        assert_eq!(upper_median(&mut [4.0, 1.0, 3.0, 2.0]), Some(3.0));
        assert_eq!(upper_median(&mut [5.0, -1.0, 2.0]), Some(2.0));
    }

    #[test]
    fn union_find_groups_and_keeps_the_second_root() {
        let mut uf = UnionFind::new(5);
        assert!(uf.union(0, 1));
        assert!(uf.union(3, 4));
        assert!(!uf.union(1, 0));
        assert_eq!(uf.find(0), 1);
        assert!(uf.union(0, 4));
        assert_eq!(uf.find(1), 4);
        assert_eq!(uf.find(3), 4);
        assert_eq!(uf.find(2), 2);
    }

    #[test]
    fn bases_are_orthonormal() {
        for d in [
            Vector3::new(0.0, 0.0, 1.0),
            Vector3::new(1.0, 0.05, 0.0),
            Vector3::new(0.3, -0.7, 0.2),
        ] {
            let (n, e1, e2) = orthonormal_basis(&d);
            assert!((n.norm() - 1.0).abs() < 1e-12);
            assert!(n.dot(&e1).abs() < 1e-12 && n.dot(&e2).abs() < 1e-12);
            assert!(e1.dot(&e2).abs() < 1e-12 && (e2.norm() - 1.0).abs() < 1e-12);
            assert!((e1.cross(&e2) - n).norm() < 1e-12);
            let (u, v) = cross_basis(&n, &Vector3::y());
            assert!(u.dot(&n).abs() < 1e-12 && v.dot(&n).abs() < 1e-12);
            assert!((u.norm() - 1.0).abs() < 1e-12 && (v.norm() - 1.0).abs() < 1e-12);
        }
    }

    #[test]
    fn weighted_line_recovers_a_line_and_scales_by_scatter() {
        let rows: Vec<_> = (0..5)
            .map(|i| (i as f64, 2.0 + 0.5 * i as f64, 1.0))
            .collect();
        let exact = weighted_line(&rows).unwrap();
        assert!((exact.slope - 0.5).abs() < 1e-12);
        assert!((exact.mean_t - 2.0).abs() < 1e-12 && (exact.mean_c - 3.0).abs() < 1e-12);
        assert!((exact.slope_var - 0.1).abs() < 1e-12);
        let rows: Vec<_> = (0..5)
            .map(|i| (i as f64, if i % 2 == 0 { 10.0 } else { -10.0 }, 1.0))
            .collect();
        let noisy = weighted_line(&rows).unwrap();
        assert!(noisy.slope_var > 0.1);
        assert!(weighted_line(&[(1.0, 2.0, 1.0), (1.0, 3.0, 1.0)]).is_none());
    }
}

/// Hasher for small integer keys (grid cells `[i64; 3]`, packed block keys `u64`, voxel edge
/// keys `u128`): a 64-bit mix per 8 bytes. Maps keyed with it find exactly the entries std's
/// SipHash maps find (keys are compared in full); only the cost of hashing differs, which
/// dominates lookups of such small keys.
#[derive(Default, Clone, Copy)]
pub(crate) struct CellHasher(u64);

impl Hasher for CellHasher {
    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut b = [0u8; 8];
            b.copy_from_slice(c);
            self.write_u64(u64::from_le_bytes(b));
        }
        for &b in chunks.remainder() {
            self.write_u64(b as u64);
        }
    }
    #[inline]
    fn write_u64(&mut self, i: u64) {
        let mut h = (self.0 ^ i).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        h ^= h >> 29;
        h = h.wrapping_mul(0xBF58_476D_1CE4_E5B9);
        h ^= h >> 32;
        self.0 = h;
    }
    #[inline]
    fn write_u128(&mut self, i: u128) {
        self.write_u64(i as u64);
        self.write_u64((i >> 64) as u64);
    }
    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.write_u64(i as u64);
    }
}

/// A hash map keyed by grid cells, hashed with [`CellHasher`].
pub(crate) type CellMap<V> = HashMap<[i64; 3], V, BuildHasherDefault<CellHasher>>;
