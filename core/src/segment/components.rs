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
        // 1. Horizontal runs: each pixel's run (`NONE` outside the range); a run is a
        // stretch of a row joined by horizontal links, so union-find only sees runs.
        let mut run_of = vec![NONE; depth.len()];
        let mut runs = 0u32;
        for v in 0..height {
            let row = &depth[v * width..(v + 1) * width];
            let out = &mut run_of[v * width..(v + 1) * width];
            let mut open = false;
            // Whether the pixel at `u` is in range (carried from the previous pixel's test
            // of its right neighbour).
            let mut here = width > 0 && ok(row[0]);
            for u in 0..width {
                let z = row[u];
                let next = u + 1 < width && ok(row[u + 1]);
                if !here {
                    open = false;
                    here = next;
                    continue;
                }
                if !open {
                    runs += 1;
                }
                out[u] = runs - 1;
                open = next && (row[u + 1] - z).abs() <= jump_m(z, f);
                here = next;
            }
        }
        // 2. Vertical links join runs (a pair just joined is not looked up again).
        let mut uf = UnionFind::new(runs as usize);
        for v in 0..height.saturating_sub(1) {
            let mut last = (NONE, NONE);
            for u in 0..width {
                let i = v * width + u;
                // In range exactly where a run was assigned.
                if run_of[i] == NONE || run_of[i + width] == NONE {
                    continue;
                }
                let (z, e) = (depth[i], depth[i + width]);
                if (e - z).abs() <= jump_m(z, f) {
                    let pair = (run_of[i], run_of[i + width]);
                    if pair != last {
                        uf.union(pair.0 as usize, pair.1 as usize);
                        last = pair;
                    }
                }
            }
        }
        // 3. Labels in raster order of each component's first pixel (runs start in raster
        // order), then per-pixel statistics in raster order.
        let mut root_label = vec![NONE; runs as usize];
        let mut run_label = vec![NONE; runs as usize];
        let mut n_labels = 0u32;
        for (r, l) in run_label.iter_mut().enumerate() {
            let root = uf.find(r);
            if root_label[root] == NONE {
                root_label[root] = n_labels;
                n_labels += 1;
            }
            *l = root_label[root];
        }
        let n = n_labels as usize;
        let mut labels = vec![NONE; depth.len()];
        let mut counts = vec![0u32; n];
        let mut areas_m2 = vec![0.0f64; n];
        let mut touches_border = vec![false; n];
        let px_area = 1.0 / (fx as f64 * fy as f64);
        for v in 0..height {
            for u in 0..width {
                let i = v * width + u;
                let r = run_of[i];
                if r == NONE {
                    continue;
                }
                let z = depth[i];
                let l = run_label[r as usize];
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

    /// Pixel-by-pixel union-find: the definition the run-based labelling must match.
    fn reference(d: &[f32], w: usize, h: usize, f: f32, range: (f32, f32)) -> Vec<u32> {
        let ok = |z: f32| z >= range.0 && z <= range.1;
        let mut uf = UnionFind::new(d.len());
        for v in 0..h {
            for u in 0..w {
                let i = v * w + u;
                if !ok(d[i]) {
                    continue;
                }
                let j = jump_m(d[i], f);
                if u + 1 < w && ok(d[i + 1]) && (d[i + 1] - d[i]).abs() <= j {
                    uf.union(i, i + 1);
                }
                if v + 1 < h && ok(d[i + w]) && (d[i + w] - d[i]).abs() <= j {
                    uf.union(i, i + w);
                }
            }
        }
        let mut root_label = vec![NONE; d.len()];
        let mut next = 0;
        (0..d.len())
            .map(|i| {
                if !ok(d[i]) {
                    return NONE;
                }
                let r = uf.find(i);
                if root_label[r] == NONE {
                    root_label[r] = next;
                    next += 1;
                }
                root_label[r]
            })
            .collect()
    }

    #[test]
    fn run_labels_match_pixel_union_find_on_random_depth() {
        // A small linear congruential generator: uniform in [0, n).
        let mut state = 14u64;
        let mut next = |n: usize| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((state >> 33) % n as u64) as usize
        };
        for _ in 0..20 {
            let (w, h) = (1 + next(40), 1 + next(30));
            // A few depths (near ones joined, far ones apart), holes and out-of-range
            // samples, with a little noise.
            let levels = [0.0f32, 0.3, 0.305, 0.32, 0.5, 0.9];
            let d: Vec<f32> = (0..w * h)
                .map(|_| levels[next(levels.len())] + next(20) as f32 * 1e-4)
                .collect();
            let c = Components::label(&d, w, h, 500.0, 520.0, (0.1, 0.6));
            assert_eq!(c.labels, reference(&d, w, h, 500.0, (0.1, 0.6)));
            for l in 0..c.len() {
                let n = c.labels.iter().filter(|&&x| x == l as u32).count();
                assert_eq!(c.counts[l] as usize, n);
            }
        }
    }
}
