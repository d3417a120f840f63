//! Segmenter tests on small synthetic scenes: a hand-sized plate on an arm from the top
//! border, a wall behind, a second object beside.

use super::*;
use crate::frame::{DepthFrame, Intrinsics, Landmarks};

const W: u32 = 160;
const H: u32 = 120;
const F: f64 = 150.0;

fn k() -> Intrinsics {
    Intrinsics::new(W, H, F, F, 79.5, 59.5).unwrap()
}

/// Depth of the scene: wall at 0.6 m; a plate 0.10 m wide, 0.18 m tall at 0.30 m centred at
/// (`x`, 0.02) m; an arm 0.06 m wide at 0.29 m from the plate's top to the top border.
fn scene(x: f64) -> Vec<f32> {
    let k = k();
    let mut d = vec![0.6f32; (W * H) as usize];
    for v in 0..H {
        for u in 0..W {
            let ray = k.ray(u as f64, v as f64);
            let (rx, ry) = (ray.x / ray.z, ray.y / ray.z);
            let (px, py) = (rx * 0.30, ry * 0.30);
            let i = (v * W + u) as usize;
            if (px - x).abs() <= 0.05 && (py - 0.02).abs() <= 0.09 {
                d[i] = 0.30;
            } else if (rx * 0.29 - x).abs() <= 0.03 && ry * 0.29 < -0.06 {
                d[i] = 0.29;
            }
        }
    }
    d
}

fn frame(x: f64, landmarks: Option<Landmarks>) -> ValidFrame {
    let depth = DepthFrame::from_metres(W, H, scene(x)).unwrap();
    ValidFrame::new(Frame::new(depth, k(), None, landmarks, 0.0).unwrap()).unwrap()
}

fn kept(f: &ValidFrame) -> Vec<bool> {
    f.depth.depth_m().iter().map(|&z| z > 0.0).collect()
}

fn pixel(x: f64, y: f64, z: f64) -> usize {
    let p = k().project(&Point3::new(x, y, z)).unwrap();
    p.y.round() as usize * W as usize + p.x.round() as usize
}

#[test]
fn the_first_frame_keeps_the_plate_and_cuts_the_wall_and_most_of_the_arm() {
    let mut s = Segmenter::new();
    let f = s.cut(frame(0.0, None), None, (0.1, 1.0)).unwrap();
    assert_eq!(s.last_source(), Some(MaskSource::Nearest));
    let keep = kept(&f);
    assert!(keep[pixel(0.0, 0.02, 0.30)], "plate centre");
    assert!(keep[pixel(0.0, 0.10, 0.30)], "plate's free end");
    assert!(!keep[pixel(0.2, 0.0, 0.6)], "wall");
    // The arm is cut one hand length from the plate's free end.
    let top = k().unproject(79.5, 0.0, 0.29);
    assert!(!keep[pixel(0.0, top.y + 0.005, 0.29)], "arm at the border");
    assert!(keep[pixel(0.0, -0.068, 0.29)], "arm at the plate");
    let m = s.last_mask().unwrap();
    assert_eq!(m.pixel_count(), keep.iter().filter(|&&k| k).count());
    assert!(m.contains(
        pixel(0.0, 0.02, 0.3) as u32 % W,
        pixel(0.0, 0.02, 0.3) as u32 / W
    ));
}

#[test]
fn the_ball_is_carried_to_the_next_frame_by_its_pose() {
    let mut s = Segmenter::new();
    let _ = s.cut(frame(0.0, None), None, (0.1, 1.0)).unwrap();
    s.commit(&Isometry3::identity());
    // The plate moved 4 cm to the right in the image; the camera moved 4 cm to the left.
    let pose = Isometry3::translation(-0.04, 0.0, 0.0);
    let f = s.cut(frame(0.04, None), Some(&pose), (0.1, 1.0)).unwrap();
    assert_eq!(s.last_source(), Some(MaskSource::Carried));
    let keep = kept(&f);
    assert!(keep[pixel(0.04, 0.02, 0.30)]);
    assert!(keep[pixel(0.08, 0.09, 0.30)]);
    assert!(!keep[pixel(-0.2, 0.0, 0.6)]);
    assert!(!keep[pixel(0.2, 0.0, 0.6)]);
}

#[test]
fn landmarks_keep_their_hull_on_the_hand_and_not_the_wall_between() {
    let mut s = Segmenter::new();
    // 21 landmarks spread over the plate, two of them just off its side (over the wall).
    let mut pts = Vec::new();
    for i in 0..21 {
        let (x, y) = (-0.04 + 0.004 * i as f64, -0.05 + 0.007 * i as f64);
        let p = k().project(&Point3::new(x, y, 0.30)).unwrap();
        pts.push([p.x, p.y]);
    }
    let off = k().project(&Point3::new(0.07, 0.0, 0.30)).unwrap();
    pts[20] = [off.x, off.y];
    let l = Landmarks::new(&pts).unwrap();
    let f = s.cut(frame(0.0, Some(l)), None, (0.1, 1.0)).unwrap();
    assert_eq!(s.last_source(), Some(MaskSource::Landmarks));
    let keep = kept(&f);
    assert!(keep[pixel(0.0, 0.0, 0.30)]);
    assert!(!keep[pixel(0.07, 0.0, 0.30)], "the wall inside the hull");
    assert!(
        !keep[pixel(0.0, 0.09, 0.30)],
        "plate outside the hull and margin"
    );
}

#[test]
fn a_frame_with_no_depth_in_range_keeps_nothing() {
    let mut s = Segmenter::new();
    let depth = DepthFrame::from_metres(W, H, vec![2.0; (W * H) as usize]).unwrap();
    let f = ValidFrame::new(Frame::new(depth, k(), None, None, 0.0).unwrap()).unwrap();
    let f = s.cut(f, None, (0.1, 1.0)).unwrap();
    assert_eq!(f.depth.valid_count(), 0);
    assert_eq!(s.last_source(), Some(MaskSource::Empty));
    assert!(s.last_mask().unwrap().is_empty());
}

#[test]
fn a_segmenter_without_landmarks_ignores_them() {
    let mut pts = Vec::new();
    for i in 0..21 {
        let p = k()
            .project(&Point3::new(-0.04 + 0.004 * i as f64, 0.0, 0.30))
            .unwrap();
        pts.push([p.x, p.y]);
    }
    let l = Landmarks::new(&pts).unwrap();
    let mut s = Segmenter::without_landmarks();
    let f = s.cut(frame(0.0, Some(l)), None, (0.1, 1.0)).unwrap();
    assert_eq!(s.last_source(), Some(MaskSource::Nearest));
    assert!(
        kept(&f)[pixel(0.0, 0.09, 0.30)],
        "the whole plate, not the landmarks' strip"
    );
}
