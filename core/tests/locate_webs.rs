//! Finger webs: where the skin between adjacent long fingers ends, on the WebXR generic
//! hand mesh (`../shared/data/webxr_generic_hand`, a real hand shape) and on the virtual
//! hands (`mandrel_sim::hand`), measured the same way so the virtual webs can be checked
//! against the real shape.
//!
//! Probe: along the pair's mean MCP→PIP direction, at the midline between the two
//! fingers' axes, a ray is cast from the dorsal side and one from the palmar side towards
//! the plane of the two axes. The dorsal web line is the first share of the proximal
//! phalanx (from the MCP line) where the dorsal ray reaches past that plane (the skin
//! between the fingers has dropped below it); the palmar web line likewise from the
//! palmar side. Asserted: on the virtual hands (`HandParams::with_random_webs`) the web lines lie 10–50 % of the proximal
//! phalanx beyond the MCP with the dorsal one not beyond the palmar one, and (when the
//! WebXR data is present) the virtual webs' mean palmar line is within the range the
//! WebXR hand's three webs span ± 15 %.

mod common;
#[allow(dead_code)] // the reader's re-posing helpers are used by webxr_hand.rs only
#[path = "webxr_hand/glb.rs"]
mod glb;
#[path = "webxr_hand/load.rs"]
mod load;

use mandrel_core::hand::{Finger, Hand};
use mandrel_sim::mesh_hand::MeshHand;
use mandrel_sim::{HandModel, HandParams, Ray, Surface};
use nalgebra::{Point3, Vector3};
use rand::SeedableRng;
use rand_pcg::Pcg64;

const PAIRS: [(Finger, Finger); 3] = [
    (Finger::Index, Finger::Middle),
    (Finger::Middle, Finger::Ring),
    (Finger::Ring, Finger::Little),
];

/// (dorsal, palmar) web line as a share of the mean proximal phalanx, or `None` on a side
/// where the probe never passes the plane within the phalanx.
fn web_lines(
    surface: &dyn Surface,
    a: (Point3<f64>, Point3<f64>),
    b: (Point3<f64>, Point3<f64>),
    dorsal_hint: Vector3<f64>,
) -> (Option<f64>, Option<f64>) {
    let axis = ((a.1 - a.0).normalize() + (b.1 - b.0).normalize()).normalize();
    let (la, lb) = ((a.1 - a.0).norm(), (b.1 - b.0).norm());
    let lat = {
        let d = b.0 - a.0;
        (d - axis * d.dot(&axis)).normalize()
    };
    let mut n = axis.cross(&lat);
    if n.dot(&dorsal_hint) < 0.0 {
        n = -n;
    }
    let mut lines = [None, None];
    for k in 0..=100 {
        let s = k as f64 / 100.0;
        let m = nalgebra::center(
            &(a.0 + (a.1 - a.0).normalize() * (s * la)),
            &(b.0 + (b.1 - b.0).normalize() * (s * lb)),
        );
        for (side, dir) in [(0usize, n), (1, -n)] {
            if lines[side].is_some() {
                continue;
            }
            let Ok(ray) = Ray::new(m + dir * 0.04, -dir) else {
                continue;
            };
            // Passed the plane: no skin hit before it.
            let passed = match surface.intersect(&ray, 0.0, 0.2) {
                Some(h) => h.t > 0.04,
                None => true,
            };
            if passed {
                lines[side] = Some(s);
            }
        }
    }
    (lines[0], lines[1])
}

fn webxr_hand(side: Hand) -> Option<MeshHand> {
    load::load(side).map(|(_, hand)| hand)
}

#[test]
fn virtual_webs_end_where_real_ones_do() {
    // WebXR generic hand (one shape, both sides).
    let mut webxr_palmar = vec![];
    for side in [Hand::Left, Hand::Right] {
        let Some(hand) = webxr_hand(side) else {
            break;
        };
        for (f, g) in PAIRS {
            let (d, p) = web_lines(
                hand.mesh(),
                hand.mcp_pip(f).unwrap(),
                hand.mcp_pip(g).unwrap(),
                hand.dorsal(),
            );
            println!("WebXR {side:?} {f:?}-{g:?}: web line dorsal {d:?}, palmar {p:?}");
            webxr_palmar.extend(p);
        }
    }
    // Virtual hands.
    let mut sim_palmar = vec![];
    for seed in 0..12u64 {
        let side = if seed % 2 == 0 {
            Hand::Left
        } else {
            Hand::Right
        };
        let hand = HandModel::new(
            HandParams::random(&mut Pcg64::seed_from_u64(seed), side).with_random_webs(),
        )
        .unwrap();
        for (f, g) in PAIRS {
            let ja = hand.joints(f).points;
            let jb = hand.joints(g).points;
            let (_, _, dorsal) = hand.finger_frame(f).unwrap();
            let (d, p) = web_lines(hand.scene(), (ja[0], ja[1]), (jb[0], jb[1]), dorsal);
            println!("virtual seed {seed} {f:?}-{g:?}: web line dorsal {d:?}, palmar {p:?}");
            let (Some(d), Some(p)) = (d, p) else {
                panic!("seed {seed} {f:?}-{g:?}: a web never ends within the proximal phalanx");
            };
            assert!(
                (0.1..=0.5).contains(&d) && (0.1..=0.5).contains(&p) && d <= p + 0.02,
                "seed {seed} {f:?}-{g:?}: web lines dorsal {d:.2}, palmar {p:.2}"
            );
            sim_palmar.push(p);
        }
    }
    let mean = sim_palmar.iter().sum::<f64>() / sim_palmar.len() as f64;
    println!("virtual hands: mean palmar web line {mean:.2}");
    if !webxr_palmar.is_empty() {
        let lo = webxr_palmar.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = webxr_palmar.iter().copied().fold(0.0, f64::max);
        println!("WebXR palmar web lines {lo:.2}–{hi:.2}");
        assert!(
            mean >= lo - 0.15 && mean <= hi + 0.15,
            "virtual palmar web line {mean:.2} far from the WebXR hand's {lo:.2}–{hi:.2}"
        );
    }
}

/// The webs belong to the hand, not to a finger: every finger's ground truth is the same
/// with and without them.
#[test]
fn webs_leave_the_finger_truth_unchanged() {
    for seed in 0..3u64 {
        let p = HandParams::random(&mut Pcg64::seed_from_u64(seed), Hand::Right);
        let plain = HandModel::new(p.clone()).unwrap();
        let webbed = HandModel::new(p.with_random_webs()).unwrap();
        for f in [Finger::Index, Finger::Middle, Finger::Ring, Finger::Little] {
            assert_eq!(
                plain.finger_truth(f).unwrap(),
                webbed.finger_truth(f).unwrap(),
                "seed {seed} {f:?}"
            );
        }
    }
}
