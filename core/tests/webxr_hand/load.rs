//! Test support: the WebXR generic hand (`../shared/data/webxr_generic_hand`) as a
//! [`MeshHand`], its joints in MediaPipe landmark order. Shared by the tests that use the
//! real hand shape; needs the crate's `common` and `glb` modules.

use crate::{common, glb};
use mandrel_core::frame::LANDMARK_COUNT;
use mandrel_core::hand::Hand;
use mandrel_sim::mesh_hand::MeshHand;
use mandrel_sim::mesh_surface::TriangleMesh;
use nalgebra::Point3;

/// WebXR joint names in MediaPipe landmark order.
const MEDIAPIPE_JOINTS: [&str; LANDMARK_COUNT] = [
    "wrist",
    "thumb-metacarpal",
    "thumb-phalanx-proximal",
    "thumb-phalanx-distal",
    "thumb-tip",
    "index-finger-phalanx-proximal",
    "index-finger-phalanx-intermediate",
    "index-finger-phalanx-distal",
    "index-finger-tip",
    "middle-finger-phalanx-proximal",
    "middle-finger-phalanx-intermediate",
    "middle-finger-phalanx-distal",
    "middle-finger-tip",
    "ring-finger-phalanx-proximal",
    "ring-finger-phalanx-intermediate",
    "ring-finger-phalanx-distal",
    "ring-finger-tip",
    "pinky-finger-phalanx-proximal",
    "pinky-finger-phalanx-intermediate",
    "pinky-finger-phalanx-distal",
    "pinky-finger-tip",
];

pub fn load(side: Hand) -> Option<(glb::SkinnedMesh, MeshHand)> {
    let dir = common::shared_data("webxr_generic_hand")?;
    let file = match side {
        Hand::Left => "left.glb",
        Hand::Right => "right.glb",
    };
    let bytes = std::fs::read(dir.join(file)).expect("read glb");
    let skinned = glb::read_glb(&bytes).expect("parse glb");
    let hand = hand_from(&skinned, side);
    Some((skinned, hand))
}

/// The mesh hand of a (possibly re-posed) skinned mesh: joints in MediaPipe order.
pub fn hand_from(skinned: &glb::SkinnedMesh, side: Hand) -> MeshHand {
    let mut lm = [Point3::origin(); LANDMARK_COUNT];
    for (i, name) in MEDIAPIPE_JOINTS.iter().enumerate() {
        lm[i] = skinned.joint_position(name).expect("joint");
    }
    let mesh =
        TriangleMesh::new(skinned.positions.clone(), skinned.triangles.clone()).expect("mesh");
    MeshHand::new(mesh, lm, side).expect("hand")
}
