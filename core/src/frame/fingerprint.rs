//! Recognising a replayed frame: a depth map that repeats an earlier one bit for bit (with
//! the same intrinsics and pose) is not a new view of the hand, and counting it as one
//! would shrink the reported uncertainty. Real sensors never return the same depth map
//! twice, so an exact repeat is a replay (a manifest listing a file again, or a copy).

use super::Frame;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};

/// A 64-bit digest of a frame's depth samples, intrinsics and pose.
pub fn fingerprint(frame: &Frame) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    frame.depth.width().hash(&mut h);
    frame.depth.height().hash(&mut h);
    for d in frame.depth.depth_m() {
        d.to_bits().hash(&mut h);
    }
    let k = &frame.intrinsics;
    for v in [k.fx, k.fy, k.cx, k.cy] {
        v.to_bits().hash(&mut h);
    }
    if let Some(p) = &frame.pose {
        for v in p.to_homogeneous().iter() {
            v.to_bits().hash(&mut h);
        }
    }
    h.finish()
}

/// Remembers the frames seen so far (8 bytes each) and names the earlier frame a new one
/// repeats.
#[derive(Debug, Default, Clone)]
pub struct ReplayDetector {
    seen: HashMap<u64, usize>,
}

impl ReplayDetector {
    /// A detector that has seen nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records frame `index`; returns the index of the earlier frame it repeats, if any.
    pub fn check(&mut self, index: usize, frame: &Frame) -> Option<usize> {
        let f = fingerprint(frame);
        match self.seen.get(&f) {
            Some(&earlier) => Some(earlier),
            None => {
                self.seen.insert(f, index);
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::{DepthFrame, Intrinsics};

    fn frame(d: f32) -> Frame {
        let k = Intrinsics::new(4, 3, 4.0, 4.0, 1.5, 1.0).unwrap();
        Frame::new(
            DepthFrame::from_metres(4, 3, vec![d; 12]).unwrap(),
            k,
            None,
            None,
            0.0,
        )
        .unwrap()
    }

    #[test]
    fn repeats_are_named_and_new_frames_are_not() {
        let mut r = ReplayDetector::new();
        assert_eq!(r.check(0, &frame(0.3)), None);
        assert_eq!(r.check(1, &frame(0.31)), None);
        assert_eq!(r.check(2, &frame(0.3)), Some(0));
        let mut later = frame(0.3);
        later.timestamp = 5.0;
        assert_eq!(
            r.check(3, &later),
            Some(0),
            "the timestamp is not part of a view"
        );
    }
}
