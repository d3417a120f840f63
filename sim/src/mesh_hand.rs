//! A hand given as a triangle mesh with its joints (e.g. the WebXR generic hand), its
//! ground truth per `scan-format.md` computed from the mesh itself, and simulated scans of
//! it filmed like [`crate::capture`]'s parametric hand.
//!
//! Guarantees: ground truth comes only from slicing the mesh that is rendered (the joints
//! fix the axis and the ring point); a finger whose section cannot be defined on this mesh
//! (no closed loop around the axis, or the plane cuts beyond the finger into the palm web)
//! is an error, not a number. [`MeshHand::capture`] is a pure function of `(seed, options)`.
//! The core takes plain vertices, triangles and joint positions: loading a file format
//! (glTF) is the caller's business.

use crate::capture::{intrinsics_for, Coverage, SimOptions, Truth};
use crate::film::{film, Subject};
use crate::hand::{FingerFrame, FingerTruth};
use crate::mesh_surface::{MeshSection, TriangleMesh};
use crate::shapes::{Plane, Scene};
use crate::SimError;
use mandrel_core::frame::{pose, Frame, LANDMARK_COUNT};
use mandrel_core::hand::{Finger, Hand, Target};
use nalgebra::{Isometry3, Point3, Vector3};
use rand::{Rng, RngExt, SeedableRng};
use rand_pcg::Pcg64;
use std::sync::Arc;

/// Knuckle search: half-range along the axis around PIP and step (metres).
const KNUCKLE_RANGE_M: f64 = 0.005;
const KNUCKLE_STEP_M: f64 = 0.00025;

/// A section whose loop reaches farther from the axis than this fraction of the MCP→PIP
/// length is not a finger section (the plane cuts the web or the palm).
const MAX_SECTION_RADIUS_FRACTION: f64 = 0.5;

/// A hand mesh with its 21 joints in MediaPipe order (world frame, metres).
#[derive(Debug, Clone)]
pub struct MeshHand {
    mesh: Arc<TriangleMesh>,
    landmarks: [Point3<f64>; LANDMARK_COUNT],
    side: Hand,
}

/// A simulated scan of a [`MeshHand`] with its ground truth.
#[derive(Debug, Clone)]
pub struct MeshScan {
    /// Frames as a phone would deliver them.
    pub frames: Vec<Frame>,
    /// Ground truth (`truth.json` fields).
    pub truth: Truth,
    /// The finger to measure.
    pub target: Target,
    /// Exact camera-to-world pose of every frame.
    pub true_poses: Vec<Isometry3<f64>>,
    /// Ground truth in metres, from the mesh.
    pub finger_truth: FingerTruth,
}

fn finger_slot(finger: Finger) -> Result<usize, SimError> {
    match finger {
        Finger::Thumb => Err(SimError::Options(
            "the thumb has no MCP→PIP ring section; pick index, middle, ring or little".into(),
        )),
        Finger::Index => Ok(1),
        Finger::Middle => Ok(2),
        Finger::Ring => Ok(3),
        Finger::Little => Ok(4),
    }
}

impl MeshHand {
    /// A hand from its mesh, its joints in MediaPipe order (0 wrist, then per finger from
    /// the thumb: CMC/MCP, MCP/PIP, IP/DIP, tip) and its side.
    pub fn new(
        mesh: TriangleMesh,
        landmarks: [Point3<f64>; LANDMARK_COUNT],
        side: Hand,
    ) -> Result<Self, SimError> {
        if let Some((i, p)) = landmarks
            .iter()
            .enumerate()
            .find(|(_, p)| !p.coords.iter().all(|c| c.is_finite()))
        {
            return Err(SimError::Shape(format!("joint {i} {p:?} is not finite")));
        }
        let hand = Self {
            mesh: Arc::new(mesh),
            landmarks,
            side,
        };
        if hand.dorsal_raw().norm() < 1e-9 {
            return Err(SimError::Shape(
                "wrist, index MCP and little MCP are collinear: no palm plane".into(),
            ));
        }
        Ok(hand)
    }

    /// The same hand moved rigidly by `iso`.
    pub fn transformed(&self, iso: &Isometry3<f64>) -> Result<Self, SimError> {
        Self::new(
            self.mesh.transformed(iso)?,
            self.landmarks.map(|p| iso * p),
            self.side,
        )
    }

    /// The same hand with its mesh smoothed by `levels` steps of Loop subdivision (joints
    /// unchanged).
    pub fn smoothed(&self, levels: usize) -> Result<Self, SimError> {
        let mut mesh = (*self.mesh).clone();
        for _ in 0..levels {
            mesh = mesh.loop_subdivided()?;
        }
        Self::new(mesh, self.landmarks, self.side)
    }

    /// The mesh (render this).
    pub fn mesh(&self) -> &TriangleMesh {
        &self.mesh
    }

    /// Which hand.
    pub fn side(&self) -> Hand {
        self.side
    }

    /// The 21 joint positions in MediaPipe order.
    pub fn landmarks_world(&self) -> [Point3<f64>; LANDMARK_COUNT] {
        self.landmarks
    }

    fn dorsal_raw(&self) -> Vector3<f64> {
        let w = self.landmarks[0];
        let (a, b) = (self.landmarks[5] - w, self.landmarks[17] - w);
        // For a left hand (index → little counter-clockwise seen from the back) a × b
        // points out of the back; a right hand is its mirror image.
        match self.side {
            Hand::Left => a.cross(&b),
            Hand::Right => b.cross(&a),
        }
    }

    /// Unit normal of the palm plane (wrist, index MCP, little MCP), out of the back.
    pub fn dorsal(&self) -> Vector3<f64> {
        self.dorsal_raw().normalize()
    }

    /// MCP and PIP joint centres of `finger`.
    pub fn mcp_pip(&self, finger: Finger) -> Result<(Point3<f64>, Point3<f64>), SimError> {
        let s = finger_slot(finger)?;
        Ok((self.landmarks[4 * s + 1], self.landmarks[4 * s + 2]))
    }

    /// Unit (MCP→PIP axis, side, dorsal) directions of `finger` (dorsal: the palm normal
    /// made perpendicular to the axis; side = dorsal × axis).
    pub fn finger_frame(&self, finger: Finger) -> Result<FingerFrame, SimError> {
        let (mcp, pip) = self.mcp_pip(finger)?;
        let axis = pip - mcp;
        if axis.norm() < 1e-6 {
            return Err(SimError::Shape(format!("{finger:?} MCP and PIP coincide")));
        }
        let axis = axis.normalize();
        let d = self.dorsal();
        let dorsal = d - axis * d.dot(&axis);
        if dorsal.norm() < 1e-6 {
            return Err(SimError::Shape(format!(
                "{finger:?} axis is normal to the palm: no dorsal direction"
            )));
        }
        let dorsal = dorsal.normalize();
        Ok((axis, dorsal.cross(&axis), dorsal))
    }

    /// The spec's section of `finger` at `offset_m` along the axis from `from`.
    fn section_at(
        &self,
        finger: Finger,
        from: &Point3<f64>,
        offset_m: f64,
    ) -> Result<MeshSection, SimError> {
        let (mcp, pip) = self.mcp_pip(finger)?;
        let (axis, side, _) = self.finger_frame(finger)?;
        let centre = from + axis * offset_m;
        let s = self.mesh.ring_section(&centre, &axis, &side)?;
        let limit = MAX_SECTION_RADIUS_FRACTION * (pip - mcp).norm();
        if s.max_radius_m > limit {
            return Err(SimError::Shape(format!(
                "the {finger:?} section at {centre:?} reaches {:.1} mm from the axis (> {:.1} mm): \
                 the plane cuts beyond the finger (web or palm)",
                s.max_radius_m * 1e3,
                limit * 1e3
            )));
        }
        Ok(s)
    }

    /// The ring section (plane at the MCP→PIP midpoint) of `finger`.
    pub fn ring_section(&self, finger: Finger) -> Result<MeshSection, SimError> {
        let (mcp, pip) = self.mcp_pip(finger)?;
        self.section_at(finger, &nalgebra::center(&mcp, &pip), 0.0)
    }

    /// Ground truth of `finger` per `scan-format.md`, from the mesh: ring = hull perimeter
    /// at the MCP→PIP midpoint; knuckle = largest hull perimeter within ±5 mm of PIP
    /// (sampled every 0.25 mm; planes that cut beyond the finger are skipped, and if any
    /// is, the knuckle is an error because the maximum may be among them).
    pub fn finger_truth(&self, finger: Finger) -> Result<FingerTruth, SimError> {
        let (mcp, pip) = self.mcp_pip(finger)?;
        let (axis, _, _) = self.finger_frame(finger)?;
        let ring_point = nalgebra::center(&mcp, &pip);
        let ring = self.ring_section(finger)?;
        let steps = (KNUCKLE_RANGE_M / KNUCKLE_STEP_M).round() as i64;
        let mut best = (f64::NEG_INFINITY, 0.0);
        for k in -steps..=steps {
            let off = k as f64 * KNUCKLE_STEP_M;
            let s = self.section_at(finger, &pip, off)?;
            if s.hull_perimeter_m > best.0 {
                best = (s.hull_perimeter_m, off);
            }
        }
        let extent = |f: &dyn Fn(&nalgebra::Point2<f64>) -> f64| {
            let (lo, hi) = ring
                .hull
                .iter()
                .map(f)
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| {
                    (l.min(v), h.max(v))
                });
            hi - lo
        };
        // Plane basis is (side, axis × side) = (side, dorsal-ish): thickness / width.
        let ellipticity = extent(&|p| p.y) / extent(&|p| p.x);
        Ok(FingerTruth {
            mcp,
            pip,
            ring_point,
            axis,
            ring_circumference_m: ring.hull_perimeter_m,
            knuckle_circumference_m: best.0,
            knuckle_offset_m: best.1,
            ellipticity,
        })
    }

    /// Simulates a scan of `opts.finger` filmed like the parametric hand (camera arc,
    /// sensor noise, platform pose drift, noisy landmarks projected from the joints).
    /// `opts.hand` and `opts.hand_side` must be `None` or match: the mesh fixes the hand.
    pub fn capture(&self, seed: u64, opts: &SimOptions) -> Result<MeshScan, SimError> {
        opts.validate()?;
        if opts.hand.is_some() {
            return Err(SimError::Options(
                "a mesh hand has no parametric shape: leave `hand` unset".into(),
            ));
        }
        if opts.hand_side.is_some_and(|s| s != self.side) {
            return Err(SimError::Options(format!(
                "hand_side {:?} asked of a {:?} hand mesh",
                opts.hand_side, self.side
            )));
        }
        let mut rng = Pcg64::seed_from_u64(seed);
        let ft = self.finger_truth(opts.finger)?;
        let (axis, side, dorsal) = self.finger_frame(opts.finger)?;
        let noise = opts.noise.clone().unwrap_or_else(|| opts.sensor.noise());
        let mut world = Scene::new();
        world.push_shared(self.mesh.clone());
        if opts.table.unwrap_or(opts.coverage == Coverage::Dorsal) {
            // A table under the palm, 1–4 cm below the lowest point of the hand.
            let d = self.dorsal();
            let lowest = self
                .mesh
                .vertices()
                .iter()
                .map(|v| v.coords.dot(&d))
                .fold(f64::INFINITY, f64::min);
            let below = 0.01 + 0.03 * rng.random::<f64>();
            let at = ft.ring_point + d * (lowest - ft.ring_point.coords.dot(&d) - below);
            world.push(Plane::new(at, d)?);
        }
        let k = intrinsics_for(opts.sensor, &mut rng)?;
        let landmarks = self.landmarks;
        let subject = Subject {
            world: &world,
            ring_point: ft.ring_point,
            axis,
            side,
            dorsal,
            landmarks: &landmarks,
        };
        let footage = film(&mut rng, opts, &k, &noise, &subject)?;
        let truth = Truth {
            ring_circumference_mm: ft.ring_circumference_m * 1000.0,
            knuckle_circumference_mm: ft.knuckle_circumference_m * 1000.0,
            ring_point: ft.ring_point.coords.into(),
            finger_axis: ft.axis.into(),
            mcp: ft.mcp.coords.into(),
            pip: ft.pip.coords.into(),
            ellipticity: ft.ellipticity,
            notes: format!(
                "mandrel sim: mesh hand ({} triangles), seed {seed}, sensor {:?}, {:?} hand",
                self.mesh.triangles().len(),
                opts.sensor,
                self.side
            ),
            depth_noise_mm_at_30cm: noise.sigma_at_30cm_m * 1000.0,
            coverage: opts.coverage,
            poses_given: opts.poses_given,
            true_poses: footage
                .true_poses
                .iter()
                .map(|t| pose::to_row_major(t).to_vec())
                .collect(),
        };
        Ok(MeshScan {
            frames: footage.frames,
            truth,
            target: Target {
                hand: self.side,
                finger: opts.finger,
            },
            true_poses: footage.true_poses,
            finger_truth: ft,
        })
    }
}

/// A random rigid placement (uniform rotation, translation within ±`reach_m` per axis),
/// for putting a mesh hand anywhere in the world.
pub fn random_placement<R: Rng + ?Sized>(rng: &mut R, reach_m: f64) -> Isometry3<f64> {
    use rand_distr::{Distribution, StandardNormal};
    let mut g = || -> f64 { StandardNormal.sample(&mut *rng) };
    let q = nalgebra::Quaternion::new(g(), g(), g(), g());
    let rot = if q.norm() < 1e-9 {
        nalgebra::UnitQuaternion::identity()
    } else {
        nalgebra::UnitQuaternion::from_quaternion(q)
    };
    let t = Vector3::new(
        reach_m * (2.0 * rng.random::<f64>() - 1.0),
        reach_m * (2.0 * rng.random::<f64>() - 1.0),
        reach_m * (2.0 * rng.random::<f64>() - 1.0),
    );
    Isometry3::from_parts(nalgebra::Translation3::from(t), rot)
}
