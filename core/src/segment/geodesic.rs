//! Trimming a component to its free end: a forearm enters the image from a border, the hand
//! hangs off it, so the hand is what lies within one hand length (along the surface) of the
//! point farthest from the border.

use super::components::{Components, JUMP_BASE_M};

/// A min-heap of `u64` keys, four children per node: pops the keys in ascending order, as
/// a binary heap would (equal keys are indistinguishable), with shallower sift-downs.
#[derive(Default)]
struct MinHeap {
    keys: Vec<u64>,
}

impl MinHeap {
    fn push(&mut self, key: u64) {
        let mut i = self.keys.len();
        self.keys.push(key);
        while i > 0 {
            let parent = (i - 1) / 4;
            let pk = self.keys[parent];
            if pk <= key {
                break;
            }
            self.keys[i] = pk;
            i = parent;
        }
        self.keys[i] = key;
    }

    fn pop(&mut self) -> Option<u64> {
        let top = *self.keys.first()?;
        let last = self.keys.pop()?;
        let n = self.keys.len();
        if n == 0 {
            return Some(top);
        }
        // Sift `last` down from the root.
        let mut i = 0;
        loop {
            let c = 4 * i + 1;
            if c >= n {
                break;
            }
            let end = (c + 4).min(n);
            let (mut m, mut mk) = (c, self.keys[c]);
            for j in c + 1..end {
                let kj = self.keys[j];
                if kj < mk {
                    m = j;
                    mk = kj;
                }
            }
            if mk >= last {
                break;
            }
            self.keys[i] = mk;
            i = m;
        }
        self.keys[i] = last;
        Some(top)
    }
}

/// Geodesic distances (metres, along the depth surface, 8-neighbour steps) from `sources`
/// over the pixels of component `comp`; `f32::INFINITY` elsewhere. Only distances up to
/// `limit_m` are final: the search stops at the first pixel farther than that (every
/// pixel within `limit_m` has then its final distance, every other pixel one above
/// `limit_m`, as every step adds a positive length).
fn distances(
    depth: &[f32],
    width: usize,
    f: f32,
    comps: &Components,
    comp: u32,
    sources: &[usize],
    limit_m: f32,
) -> Vec<f32> {
    let n = depth.len();
    let height = n / width.max(1);
    let mut dist = vec![f32::INFINITY; n];
    // Micrometres as the heap key (integer order, no float comparisons), in the high half
    // of one `u64` with the pixel index in the low half: the order of (key, index) pairs.
    let mut heap = MinHeap::default();
    for &s in sources {
        dist[s] = 0.0;
        heap.push(s as u64);
    }
    while let Some(entry) = heap.pop() {
        let (dk, i) = ((entry >> 32) as u32, (entry & 0xFFFF_FFFF) as usize);
        let d = dk as f32 * 1e-6;
        if d > limit_m {
            break;
        }
        if d > dist[i] + 1e-6 {
            continue;
        }
        let v = i / width;
        let u = i - v * width;
        // Every neighbour of an interior pixel is in the image.
        let interior = u > 0 && v > 0 && u + 1 < width && v + 1 < height;
        let z = depth[i];
        for (du, dv) in [
            (1isize, 0isize),
            (-1, 0),
            (0, 1),
            (0, -1),
            (1, 1),
            (1, -1),
            (-1, 1),
            (-1, -1),
        ] {
            let j = if interior {
                (i as isize + dv * width as isize + du) as usize
            } else {
                let (un, vn) = (u as isize + du, v as isize + dv);
                if un < 0 || vn < 0 || un as usize >= width || vn as usize >= height {
                    continue;
                }
                vn as usize * width + un as usize
            };
            if comps.labels[j] != comp {
                continue;
            }
            // A neighbour already at `d` or nearer cannot get nearer through this pixel (a
            // step adds a non-negative length, and rounding keeps `d + step >= d`).
            if dist[j] <= d {
                continue;
            }
            let e = depth[j];
            let lateral = 0.5 * (z + e) / f * if du != 0 && dv != 0 { 1.414 } else { 1.0 };
            // Depth noise would make a noisy path look longer than it is: steps up to the
            // noise level count as flat.
            let dz = ((e - z).abs() - JUMP_BASE_M).max(0.0);
            let nd = d + (lateral * lateral + dz * dz).sqrt();
            if nd < dist[j] {
                dist[j] = nd;
                heap.push((((nd * 1e6) as u32 as u64) << 32) | j as u64);
            }
        }
    }
    dist
}

/// The pixels of component `comp` kept as hand: all of it when it does not touch the image
/// border; otherwise those within `hand_length_m` along the surface of its free end (the
/// pixel farthest from the border).
pub(crate) fn free_end(
    depth: &[f32],
    width: usize,
    f: f32,
    comps: &Components,
    comp: u32,
    hand_length_m: f32,
) -> Vec<bool> {
    let n = depth.len();
    let height = n / width.max(1);
    let member = |i: usize| comps.labels[i] == comp;
    if !comps.touches_border[comp as usize] {
        return (0..n).map(member).collect();
    }
    let border: Vec<usize> = (0..n)
        .filter(|&i| {
            let (u, v) = (i % width, i / width);
            member(i) && (u == 0 || v == 0 || u + 1 == width || v + 1 == height)
        })
        .collect();
    let from_border = distances(depth, width, f, comps, comp, &border, f32::INFINITY);
    let Some(tip) = (0..n)
        .filter(|&i| from_border[i].is_finite())
        .max_by(|&a, &b| from_border[a].total_cmp(&from_border[b]))
    else {
        return vec![false; n];
    };
    let from_tip = distances(depth, width, f, comps, comp, &[tip], hand_length_m);
    from_tip.iter().map(|&d| d <= hand_length_m).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The search as first written (a binary heap, every neighbour relaxed with bounds
    /// checks): the definition `distances` must match bit for bit.
    fn reference(
        depth: &[f32],
        width: usize,
        f: f32,
        comps: &Components,
        comp: u32,
        sources: &[usize],
        limit_m: f32,
    ) -> Vec<f32> {
        use std::cmp::Reverse;
        use std::collections::BinaryHeap;
        let n = depth.len();
        let height = n / width.max(1);
        let mut dist = vec![f32::INFINITY; n];
        let mut heap = BinaryHeap::new();
        for &s in sources {
            dist[s] = 0.0;
            heap.push(Reverse(s as u64));
        }
        while let Some(Reverse(entry)) = heap.pop() {
            let (dk, i) = ((entry >> 32) as u32, (entry & 0xFFFF_FFFF) as usize);
            let d = dk as f32 * 1e-6;
            if d > limit_m {
                break;
            }
            if d > dist[i] + 1e-6 {
                continue;
            }
            let (u, v) = ((i % width) as isize, (i / width) as isize);
            let z = depth[i];
            for (du, dv) in [
                (1isize, 0isize),
                (-1, 0),
                (0, 1),
                (0, -1),
                (1, 1),
                (1, -1),
                (-1, 1),
                (-1, -1),
            ] {
                let (un, vn) = (u + du, v + dv);
                if un < 0 || vn < 0 || un as usize >= width || vn as usize >= height {
                    continue;
                }
                let j = vn as usize * width + un as usize;
                if comps.labels[j] != comp {
                    continue;
                }
                let e = depth[j];
                let lateral = 0.5 * (z + e) / f * if du != 0 && dv != 0 { 1.414 } else { 1.0 };
                let dz = ((e - z).abs() - JUMP_BASE_M).max(0.0);
                let nd = d + (lateral * lateral + dz * dz).sqrt();
                if nd < dist[j] {
                    dist[j] = nd;
                    heap.push(Reverse((((nd * 1e6) as u32 as u64) << 32) | j as u64));
                }
            }
        }
        dist
    }

    #[test]
    fn distances_match_the_plain_search_bit_for_bit() {
        let mut state = 11u64;
        let mut next = |n: usize| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((state >> 33) % n as u64) as usize
        };
        for _ in 0..30 {
            let (w, h) = (2 + next(40), 2 + next(30));
            // Rough surfaces (steps within and beyond the noise level), holes, and a far
            // patch that is another component.
            let d: Vec<f32> = (0..w * h)
                .map(|_| match next(12) {
                    0 => 0.0,
                    1 => 0.9,
                    _ => 0.4 + next(40) as f32 * 2e-4,
                })
                .collect();
            let c = Components::label(&d, w, h, 500.0, 500.0, (0.1, 1.0));
            for comp in 0..c.len() as u32 {
                let members: Vec<usize> = (0..w * h).filter(|&i| c.labels[i] == comp).collect();
                let sources = [members[next(members.len())]];
                for limit in [f32::INFINITY, 0.004] {
                    let ours = distances(&d, w, 500.0, &c, comp, &sources, limit);
                    let plain = reference(&d, w, 500.0, &c, comp, &sources, limit);
                    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                    assert_eq!(bits(&ours), bits(&plain));
                }
            }
        }
    }

    #[test]
    fn min_heap_pops_as_a_binary_heap_does() {
        use std::cmp::Reverse;
        use std::collections::BinaryHeap;
        // A small linear congruential generator; few distinct keys, so duplicates occur.
        let mut state = 5u64;
        let mut next = |n: u64| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 33) % n
        };
        let (mut ours, mut std_heap) = (MinHeap::default(), BinaryHeap::new());
        for _ in 0..5000 {
            if next(3) < 2 {
                let k = next(500);
                ours.push(k);
                std_heap.push(Reverse(k));
            } else {
                assert_eq!(ours.pop(), std_heap.pop().map(|Reverse(k)| k));
            }
        }
        while let Some(Reverse(k)) = std_heap.pop() {
            assert_eq!(ours.pop(), Some(k));
        }
        assert_eq!(ours.pop(), None);
    }

    #[test]
    fn an_arm_from_the_top_border_is_cut_one_hand_length_from_its_end() {
        // A 4-pixel-wide strip from the top border down 100 rows, 1 mm pixels at 0.5 m.
        let (w, h) = (10usize, 120usize);
        let f = 500.0;
        let mut d = vec![0.0f32; w * h];
        for v in 0..100 {
            for u in 3..7 {
                d[v * w + u] = 0.5;
            }
        }
        let c = Components::label(&d, w, h, f, f, (0.1, 1.0));
        let keep = free_end(&d, w, f, &c, 0, 0.03);
        // The free end is row 99; 30 mm back is row ~69.
        assert!(keep[99 * w + 4] && keep[75 * w + 4]);
        assert!(!keep[60 * w + 4] && !keep[5 * w + 4]);
    }
}
