//! [`HandMask`]: which pixels of a frame belong to the hand, as row runs (a few hundred
//! bytes for a hand, not a copy of the depth image).

use serde::{Deserialize, Serialize};

/// One horizontal run of hand pixels: row `v`, columns `u0..u1` (end exclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MaskRun {
    /// Image row.
    pub v: u32,
    /// First column of the run.
    pub u0: u32,
    /// One past the last column of the run.
    pub u1: u32,
}

/// The pixels of one frame kept as hand, as row runs sorted by row then column. What the
/// debug overlay draws; the depth outside it never reaches tracking, fusion or observation.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct HandMask {
    width: u32,
    height: u32,
    runs: Vec<MaskRun>,
}

impl HandMask {
    /// The mask of the set pixels of a row-major `width`x`height` flag image.
    pub(crate) fn from_flags(width: u32, height: u32, flags: &[bool]) -> Self {
        let w = width as usize;
        let mut runs = Vec::new();
        for (v, row) in flags.chunks(w.max(1)).enumerate() {
            let mut u = 0;
            while u < row.len() {
                if !row[u] {
                    u += 1;
                    continue;
                }
                let start = u;
                while u < row.len() && row[u] {
                    u += 1;
                }
                runs.push(MaskRun {
                    v: v as u32,
                    u0: start as u32,
                    u1: u as u32,
                });
            }
        }
        Self {
            width,
            height,
            runs,
        }
    }

    /// Image width the mask refers to.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Image height the mask refers to.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// The runs, sorted by row then column.
    pub fn runs(&self) -> &[MaskRun] {
        &self.runs
    }

    /// Pixels in the mask.
    pub fn pixel_count(&self) -> usize {
        self.runs.iter().map(|r| (r.u1 - r.u0) as usize).sum()
    }

    /// Whether no pixel is kept.
    pub fn is_empty(&self) -> bool {
        self.runs.is_empty()
    }

    /// Whether pixel (`u`, `v`) is kept.
    pub fn contains(&self, u: u32, v: u32) -> bool {
        let i = self.runs.partition_point(|r| (r.v, r.u1) <= (v, u));
        self.runs
            .get(i)
            .is_some_and(|r| r.v == v && r.u0 <= u && u < r.u1)
    }

    /// The bounding box `(u0, v0, u1, v1)` (ends exclusive), `None` when empty.
    pub fn bounding_box(&self) -> Option<(u32, u32, u32, u32)> {
        let first = self.runs.first()?;
        let last = self.runs.last()?;
        let u0 = self.runs.iter().map(|r| r.u0).min()?;
        let u1 = self.runs.iter().map(|r| r.u1).max()?;
        Some((u0, first.v, u1, last.v + 1))
    }

    /// The mask as a row-major flag image.
    pub fn to_flags(&self) -> Vec<bool> {
        let mut f = vec![false; self.width as usize * self.height as usize];
        for r in &self.runs {
            let base = r.v as usize * self.width as usize;
            f[base + r.u0 as usize..base + r.u1 as usize].fill(true);
        }
        f
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_round_trip_and_answer_membership() {
        let (w, h) = (7u32, 3u32);
        let mut flags = vec![false; 21];
        for i in [1, 2, 3, 6, 7, 15, 16, 20] {
            flags[i] = true;
        }
        let m = HandMask::from_flags(w, h, &flags);
        assert_eq!(m.pixel_count(), 8);
        assert_eq!(m.runs().len(), 5);
        assert_eq!(m.to_flags(), flags);
        for (i, &f) in flags.iter().enumerate() {
            assert_eq!(m.contains(i as u32 % w, i as u32 / w), f, "pixel {i}");
        }
        assert_eq!(m.bounding_box(), Some((0, 0, 7, 3)));
        assert!(HandMask::from_flags(w, h, &[false; 21]).is_empty());
    }
}
