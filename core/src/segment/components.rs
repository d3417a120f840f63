//! Depth-continuous connected components: pixels joined when they are 4-neighbours whose
//! depths differ by less than a jump that grows with the pixel footprint, so a hand and the
//! torso behind it (tens of centimetres apart) never share a component.

use crate::numeric::UnionFind;

/// Fixed part of the largest depth step between neighbours of one surface (metres): a few
/// noise sigmas of a phone depth sensor at hand range.
pub(crate) const JUMP_BASE_M: f32 = 0.003;
/// Pixel footprints (depth / focal length) a surface may step between neighbours: a surface
/// seen at up to about 84° incidence.
const JUMP_FOOTPRINTS: f32 = 10.0;

/// The largest depth step (metres) between neighbouring pixels of one surface at depth `z`
/// with focal length `f` (pixels).
pub(crate) fn jump_m(z: f32, f: f32) -> f32 {
    JUMP_BASE_M + JUMP_FOOTPRINTS * z / f
}

/// Component labels of a depth image and what is known of each component.
#[derive(Debug, Clone)]
pub(crate) struct Components {
    /// Per pixel: the component index, or `NONE` for pixels outside the depth range.
    pub labels: Vec<u32>,
    /// Per component: pixel count.
    pub counts: Vec<u32>,
    /// Per component: surface area (square metres, each pixel's footprint z²/(fx fy)).
    pub areas_m2: Vec<f64>,
    /// Per component: whether it touches the image border.
    pub touches_border: Vec<bool>,
}

/// Label of a pixel outside every component.
pub(crate) const NONE: u32 = u32::MAX;

impl Components {
    /// Labels the pixels of `depth` (`width`x`height`, metres) within `range` into
    /// depth-continuous components (`fx`, `fy`: focal lengths in pixels).
    pub(crate) fn label(
        depth: &[f32],
        width: usize,
        height: usize,
        fx: f32,
        fy: f32,
        range: (f32, f32),
    ) -> Self {
        let ok = |z: f32| z >= range.0 && z <= range.1;
        let f = fx.min(fy);
        let mut uf = UnionFind::new(depth.len());
        for v in 0..height {
            for u in 0..width {
                let i = v * width + u;
                let z = depth[i];
                if !ok(z) {
                    continue;
                }
                let j = jump_m(z, f);
                if u + 1 < width {
                    let e = depth[i + 1];
                    if ok(e) && (e - z).abs() <= j {
                        uf.union(i, i + 1);
                    }
                }
                if v + 1 < height {
                    let e = depth[i + width];
                    if ok(e) && (e - z).abs() <= j {
                        uf.union(i, i + width);
                    }
                }
            }
        }
        let mut labels = vec![NONE; depth.len()];
        let mut root_label = vec![NONE; depth.len()];
        let mut counts = Vec::new();
        let mut areas_m2 = Vec::new();
        let mut touches_border = Vec::new();
        let px_area = 1.0 / (fx as f64 * fy as f64);
        for v in 0..height {
            for u in 0..width {
                let i = v * width + u;
                let z = depth[i];
                if !ok(z) {
                    continue;
                }
                let r = uf.find(i);
                if root_label[r] == NONE {
                    root_label[r] = counts.len() as u32;
                    counts.push(0);
                    areas_m2.push(0.0);
                    touches_border.push(false);
                }
                let l = root_label[r];
                labels[i] = l;
                let l = l as usize;
                counts[l] += 1;
                areas_m2[l] += (z as f64) * (z as f64) * px_area;
                if u == 0 || v == 0 || u + 1 == width || v + 1 == height {
                    touches_border[l] = true;
                }
            }
        }
        Self {
            labels,
            counts,
            areas_m2,
            touches_border,
        }
    }

    /// Number of components.
    pub(crate) fn len(&self) -> usize {
        self.counts.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_near_patch_and_the_wall_behind_it_are_two_components() {
        let (w, h) = (20usize, 10usize);
        let mut d = vec![0.6f32; w * h];
        for v in 3..7 {
            for u in 5..12 {
                d[v * w + u] = 0.3;
            }
        }
        d[0] = 0.0;
        let c = Components::label(&d, w, h, 500.0, 500.0, (0.1, 1.0));
        assert_eq!(c.len(), 2);
        let patch = c.labels[4 * w + 6] as usize;
        assert_eq!(c.counts[patch], 28);
        assert!(!c.touches_border[patch]);
        assert!(c.touches_border[c.labels[1] as usize]);
        assert_eq!(c.labels[0], NONE);
        assert!((c.areas_m2[patch] - 28.0 * 0.09 / 250_000.0).abs() < 1e-9);
    }
}
