//! Simulated hand scans: a randomised [`HandModel`] filmed along a camera arc around the
//! target finger, rendered through a sensor [`NoiseModel`], with platform-like pose drift
//! and noisy 2D landmarks, plus exact ground truth ([`Truth`], the spec's `truth.json`).
//!
//! Guarantees: [`SimScan::generate`] is a pure function of `(seed, options)` (frames are
//! rendered in parallel on scoped threads, each from its own pre-drawn seed, so the result
//! does not depend on scheduling). The true poses look at the ring position from 0.2–0.35 m
//! like the shared sample scans; frames in `frames` carry the perturbed ("platform") poses
//! or none, and landmarks projected from the model's joints with pixel noise, or none.

use crate::film::{film, Footage, Subject};
use crate::hand::{FingerTruth, HandModel, HandParams};
use crate::render::NoiseModel;
use crate::shapes::{Plane, Scene};
use crate::SimError;
use mandrel_core::frame::{pose, Frame, Intrinsics};
use mandrel_core::hand::{Finger, Hand, Target};
use mandrel_core::scan::{write_scan, ScanError};
use nalgebra::{Isometry3, Point3, Rotation3, Translation3, UnitQuaternion, Vector3};
use rand::{Rng, RngExt, SeedableRng};
use rand_distr::{Distribution, StandardNormal};
use rand_pcg::Pcg64;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Which depth sensor to imitate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Sensor {
    /// Front TrueDepth camera: 640x480, σ₃₀ = 0.6 mm.
    TrueDepth,
    /// Rear LiDAR-like sensor: 256x192, σ₃₀ = 4 mm.
    Lidar,
}

impl Sensor {
    /// The sensor's default noise model.
    pub fn noise(self) -> NoiseModel {
        match self {
            Sensor::TrueDepth => NoiseModel::truedepth(),
            Sensor::Lidar => NoiseModel::lidar(),
        }
    }
    /// The `sensor` string written to `scan.json`.
    pub fn manifest_name(self) -> &'static str {
        match self {
            Sensor::TrueDepth => "synthetic-truedepth",
            Sensor::Lidar => "synthetic-lidar",
        }
    }
}

/// How far around the finger the camera travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Coverage {
    /// Most of the way around the finger (270–300°).
    Full,
    /// The back of the hand only (120–150° centred on the dorsal side).
    Dorsal,
    /// Front camera: the camera stays still and the hand turns in front of it from its
    /// back over its side to its palm, with the person's torso and face behind
    /// ([`crate::front`]). Frames never carry poses.
    Turn,
}

/// Platform tracker error model: a random walk (drift) plus per-frame jitter.
#[derive(Debug, Clone, PartialEq)]
pub struct PoseDrift {
    /// Random-walk step σ of the translation error per frame, metres.
    pub translation_m_per_frame: f64,
    /// Random-walk step σ of the rotation error per frame, degrees.
    pub rotation_deg_per_frame: f64,
    /// Independent per-frame translation jitter σ, metres.
    pub jitter_m: f64,
}

impl Default for PoseDrift {
    /// About 1–2.5 mm of accumulated error over 40 frames, like the shared sample scans.
    fn default() -> Self {
        Self {
            translation_m_per_frame: 0.00025,
            rotation_deg_per_frame: 0.02,
            jitter_m: 0.0002,
        }
    }
}

impl PoseDrift {
    /// No tracker error: the given poses are the true ones.
    pub fn none() -> Self {
        Self {
            translation_m_per_frame: 0.0,
            rotation_deg_per_frame: 0.0,
            jitter_m: 0.0,
        }
    }
}

/// Options of a simulated scan.
#[derive(Debug, Clone, PartialEq)]
pub struct SimOptions {
    /// Sensor to imitate (resolution, intrinsics, default noise).
    pub sensor: Sensor,
    /// Camera path coverage.
    pub coverage: Coverage,
    /// Number of frames (1..=2000).
    pub frames: usize,
    /// Whether frames carry (perturbed) platform poses.
    pub poses_given: bool,
    /// Tracker error applied to the given poses.
    pub pose_drift: PoseDrift,
    /// Landmark noise σ in pixels (per coordinate).
    pub landmark_noise_px: f64,
    /// Probability that a frame has no landmarks.
    pub landmark_missing_rate: f64,
    /// Which hand (`None`: drawn from the seed).
    pub hand_side: Option<Hand>,
    /// Finger to measure (index, middle, ring or little).
    pub finger: Finger,
    /// Hand shape and placement (`None`: randomised from the seed).
    pub hand: Option<HandParams>,
    /// Noise model (`None`: the sensor's default).
    pub noise: Option<NoiseModel>,
    /// A flat surface (table) behind the palm, 3–8 cm below it, as in the shared dorsal
    /// sample scan (`None`: present for dorsal coverage only).
    pub table: Option<bool>,
    /// Skin webs between the randomised hand's long fingers
    /// ([`HandParams::with_random_webs`]; ignored when `hand` is given). On by default, as
    /// on real hands; off gives the web-less hands earlier measurements were made on.
    /// See docs/tuning.md#sim for what webs do to the virtual measurements.
    pub webs: bool,
    /// Turn scenario only: the torso and face behind the hand, fixed to the camera
    /// (`None`: present).
    pub body_behind: Option<bool>,
    /// Turn scenario only: the structured-light depth model (`None`: TrueDepth-like with
    /// σ at 30 cm drawn from 0.5–0.8 mm). The orbit's `noise` is not used there.
    pub structured_light: Option<crate::structured_light::StructuredLight>,
}

impl Default for SimOptions {
    fn default() -> Self {
        Self {
            sensor: Sensor::TrueDepth,
            coverage: Coverage::Full,
            frames: 40,
            poses_given: true,
            pose_drift: PoseDrift::default(),
            landmark_noise_px: 2.0,
            landmark_missing_rate: 0.12,
            hand_side: None,
            finger: Finger::Ring,
            hand: None,
            noise: None,
            table: None,
            webs: true,
            body_behind: None,
            structured_light: None,
        }
    }
}

impl SimOptions {
    /// Checks ranges; names the offending option.
    pub fn validate(&self) -> Result<(), SimError> {
        let bad = |m: String| Err(SimError::Options(m));
        if !(1..=2000).contains(&self.frames) {
            return bad(format!("frames = {}, must be 1..=2000", self.frames));
        }
        if self.finger == Finger::Thumb {
            return bad("the thumb is not modelled for ring measurement; pick index, middle, ring or little".into());
        }
        if !self.landmark_noise_px.is_finite() || !(0.0..=100.0).contains(&self.landmark_noise_px) {
            return bad(format!(
                "landmark_noise_px = {}, must be within 0–100",
                self.landmark_noise_px
            ));
        }
        if !(0.0..=1.0).contains(&self.landmark_missing_rate) {
            return bad(format!(
                "landmark_missing_rate = {}, must be within [0, 1]",
                self.landmark_missing_rate
            ));
        }
        let d = &self.pose_drift;
        for (n, v) in [
            ("translation_m_per_frame", d.translation_m_per_frame),
            ("rotation_deg_per_frame", d.rotation_deg_per_frame),
            ("jitter_m", d.jitter_m),
        ] {
            if !v.is_finite() || !(0.0..=0.05).contains(&v) {
                return bad(format!("pose_drift.{n} = {v}, must be within 0–0.05"));
            }
        }
        if let Some(n) = &self.noise {
            n.validate()?;
        }
        if self.coverage == Coverage::Turn {
            if self.sensor != Sensor::TrueDepth {
                return bad("turn coverage is the front camera; use the truedepth sensor".into());
            }
            if self.poses_given {
                return bad("turn coverage has no platform poses; set poses_given = false".into());
            }
        }
        if let Some(m) = &self.structured_light {
            m.validate()?;
        }
        if let Some(h) = &self.hand {
            h.validate()?;
        }
        Ok(())
    }
}

/// Ground truth of a simulated scan, serialised exactly as the spec's `truth.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Truth {
    /// Ring circumference (convex hull at the MCP→PIP midpoint), mm.
    pub ring_circumference_mm: f64,
    /// Knuckle circumference (max within ±5 mm of PIP), mm.
    pub knuckle_circumference_mm: f64,
    /// MCP→PIP midpoint, world metres.
    pub ring_point: [f64; 3],
    /// Unit MCP→PIP direction.
    pub finger_axis: [f64; 3],
    /// MCP joint centre, world metres.
    pub mcp: [f64; 3],
    /// PIP joint centre, world metres.
    pub pip: [f64; 3],
    /// Thickness / width of the ring section.
    pub ellipticity: f64,
    /// Free text (seed, sensor, shape).
    pub notes: String,
    /// Depth noise σ at 30 cm, mm.
    pub depth_noise_mm_at_30cm: f64,
    /// `full`, `dorsal` or `turn`.
    pub coverage: Coverage,
    /// Whether scan.json carries poses.
    pub poses_given: bool,
    /// Exact camera-to-world pose of every frame, row-major 4x4.
    pub true_poses: Vec<Vec<f64>>,
}

/// A simulated scan with its ground truth.
#[derive(Debug, Clone)]
pub struct SimScan {
    /// Frames as a phone would deliver them (perturbed poses or none, noisy landmarks).
    pub frames: Vec<Frame>,
    /// Ground truth (`truth.json`).
    pub truth: Truth,
    /// The finger to measure.
    pub target: Target,
    /// Exact camera-to-world pose of every frame.
    pub true_poses: Vec<Isometry3<f64>>,
    /// The sensor imitated.
    pub sensor: Sensor,
    /// PNG scale used when writing (units per metre).
    pub depth_scale: f64,
    /// Ground truth in metres, as computed from the model.
    pub finger_truth: FingerTruth,
    /// The hand that was filmed.
    pub hand: HandModel,
}

fn gauss<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    StandardNormal.sample(rng)
}

fn uniform<R: Rng + ?Sized>(rng: &mut R, lo: f64, hi: f64) -> f64 {
    lo + (hi - lo) * rng.random::<f64>()
}

/// Camera-to-world pose at `eye` looking at `target`, image "up" towards `up` (OpenCV axes).
pub fn look_at(
    eye: &Point3<f64>,
    target: &Point3<f64>,
    up: &Vector3<f64>,
) -> Result<Isometry3<f64>, SimError> {
    let z = target - eye;
    if z.norm() < 1e-9 {
        return Err(SimError::Options("camera eye and target coincide".into()));
    }
    let z = z.normalize();
    let mut y = -(up - z * up.dot(&z));
    if y.norm() < 1e-9 {
        let alt = if z.x.abs() < 0.9 {
            Vector3::x()
        } else {
            Vector3::y()
        };
        y = -(alt - z * alt.dot(&z));
    }
    let y = y.normalize();
    let x = y.cross(&z);
    let rot = Rotation3::from_basis_unchecked(&[x, y, z]);
    Ok(Isometry3::from_parts(
        Translation3::from(eye.coords),
        UnitQuaternion::from_rotation_matrix(&rot),
    ))
}

fn random_rotation<R: Rng + ?Sized>(rng: &mut R) -> UnitQuaternion<f64> {
    let q = nalgebra::Quaternion::new(gauss(rng), gauss(rng), gauss(rng), gauss(rng));
    if q.norm() < 1e-9 {
        return UnitQuaternion::identity();
    }
    UnitQuaternion::from_quaternion(q)
}

pub(crate) fn intrinsics_for<R: Rng + ?Sized>(
    sensor: Sensor,
    rng: &mut R,
) -> Result<Intrinsics, SimError> {
    Ok(match sensor {
        Sensor::TrueDepth => {
            let f = uniform(rng, 580.0, 605.0);
            Intrinsics::new(
                640,
                480,
                f,
                f,
                319.5 + uniform(rng, -3.0, 3.0),
                239.5 + uniform(rng, -3.0, 3.0),
            )?
        }
        Sensor::Lidar => {
            let f = uniform(rng, 209.0, 215.0);
            Intrinsics::new(
                256,
                192,
                f,
                f,
                127.5 + uniform(rng, -2.0, 2.0),
                95.5 + uniform(rng, -2.0, 2.0),
            )?
        }
    })
}

impl SimScan {
    /// Simulates a scan of a hand (random from `seed` unless `opts.hand` is given).
    pub fn generate(seed: u64, opts: &SimOptions) -> Result<SimScan, SimError> {
        opts.validate()?;
        if opts.coverage == Coverage::Turn {
            return crate::front::generate_front(seed, opts);
        }
        let mut rng = Pcg64::seed_from_u64(seed);
        let side = opts.hand_side.unwrap_or(if rng.random::<bool>() {
            Hand::Left
        } else {
            Hand::Right
        });
        let params = match &opts.hand {
            Some(h) => h.clone(),
            None => {
                let mut p = HandParams::random(&mut rng, side);
                if opts.webs {
                    p = p.with_random_webs();
                }
                let t = Vector3::new(
                    uniform(&mut rng, -0.1, 0.1),
                    uniform(&mut rng, -0.1, 0.1),
                    uniform(&mut rng, -0.1, 0.1),
                );
                p.hand_to_world =
                    Isometry3::from_parts(Translation3::from(t), random_rotation(&mut rng));
                p
            }
        };
        let target = Target {
            hand: params.side,
            finger: opts.finger,
        };
        let hand = HandModel::new(params)?;
        let ft = hand.finger_truth(opts.finger)?;
        let (axis, side_dir, dorsal) = hand.finger_frame(opts.finger)?;
        let noise = opts.noise.clone().unwrap_or_else(|| opts.sensor.noise());
        // What the camera sees: the hand, and optionally a table behind the palm.
        let mut world = Scene::new();
        world.push(hand.scene().clone());
        if opts.table.unwrap_or(opts.coverage == Coverage::Dorsal) {
            let place = hand.params().hand_to_world;
            let back = place.rotation * Vector3::z();
            let below = uniform(&mut rng, 0.03, 0.08);
            world.push(Plane::new(place * Point3::new(0.0, 0.0, -below), back)?);
        }
        let k = intrinsics_for(opts.sensor, &mut rng)?;

        let joints = hand.landmarks_world();
        let subject = Subject {
            world: &world,
            ring_point: ft.ring_point,
            axis,
            side: side_dir,
            dorsal,
            landmarks: &joints,
        };
        let Footage { frames, true_poses } = film(&mut rng, opts, &k, &noise, &subject)?;

        let p = hand.params();
        let truth = Truth {
            ring_circumference_mm: ft.ring_circumference_m * 1000.0,
            knuckle_circumference_mm: ft.knuckle_circumference_m * 1000.0,
            ring_point: ft.ring_point.coords.into(),
            finger_axis: ft.axis.into(),
            mcp: ft.mcp.coords.into(),
            pip: ft.pip.coords.into(),
            ellipticity: ft.ellipticity,
            notes: format!(
                "mandrel sim: seed {seed}, sensor {:?}, ellipticity {:.3}, scale {:.3}, {:?} hand",
                opts.sensor, ft.ellipticity, p.scale, p.side
            ),
            depth_noise_mm_at_30cm: noise.sigma_at_30cm_m * 1000.0,
            coverage: opts.coverage,
            poses_given: opts.poses_given,
            true_poses: true_poses
                .iter()
                .map(|t| pose::to_row_major(t).to_vec())
                .collect(),
        };
        Ok(SimScan {
            frames,
            truth,
            target,
            true_poses,
            sensor: opts.sensor,
            depth_scale: 10000.0,
            finger_truth: ft,
            hand,
        })
    }
}

/// Writes `scan` as a scan folder (`scan.json`, `depth/*.png`) plus `truth.json`.
/// Returns the number of depth samples clipped by the 16-bit PNG encoding.
pub fn write_scan_with_truth(dir: impl AsRef<Path>, scan: &SimScan) -> Result<usize, ScanError> {
    let dir = dir.as_ref();
    let clipped = write_scan(
        dir,
        scan.sensor.manifest_name(),
        scan.target,
        scan.depth_scale,
        &scan.frames,
    )?;
    let path = dir.join("truth.json");
    let text = serde_json::to_string_pretty(&scan.truth).map_err(|e| ScanError::Manifest {
        path: path.clone(),
        message: e.to_string(),
    })?;
    std::fs::write(&path, text).map_err(|source| ScanError::Io { path, source })?;
    Ok(clipped)
}
