//! The front-camera scenario ([`Coverage::Turn`]): the phone is still, the shopper turns
//! the hand in front of it (back of the hand, side, palm) with some wobble and drift, and
//! their torso and face stay 40–60 cm from the camera, fixed in the camera frame. Frames go
//! through the [`StructuredLight`] model, not the orbit's [`crate::render::NoiseModel`].
//!
//! The world is fixed to the hand (like the shared scans' `true_poses`): the camera moves
//! around the hand in world coordinates, and the torso and face move with the camera.
//!
//! Guarantees: a pure function of `(seed, options)`; frames are rendered on scoped threads,
//! each from its own pre-drawn seed, so scheduling does not change the result.

use crate::capture::{intrinsics_for, look_at, Coverage, SimOptions, SimScan, Truth};
use crate::hand::{HandModel, HandParams};
use crate::render::render_clean;
use crate::shapes::{Ellipsoid, Scene, Surface};
use crate::structured_light::{apply_structured_light, StructuredLight};
use crate::SimError;
use mandrel_core::frame::{pose, Frame, Intrinsics, Landmarks, LANDMARK_COUNT};
use mandrel_core::hand::{Hand, Target};
use nalgebra::{Isometry3, Point3, Rotation3, Translation3, Unit, UnitQuaternion, Vector3};
use rand::{Rng, RngExt, SeedableRng};
use rand_distr::{Distribution, StandardNormal};
use rand_pcg::Pcg64;
use std::f64::consts::PI;

fn gauss<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    StandardNormal.sample(rng)
}

fn uniform<R: Rng + ?Sized>(rng: &mut R, lo: f64, hi: f64) -> f64 {
    lo + (hi - lo) * rng.random::<f64>()
}

/// The person behind the hand, in camera coordinates (OpenCV axes: x right, y down,
/// z forward): a torso and a head, each an ellipsoid.
#[derive(Debug, Clone, PartialEq)]
pub struct Body {
    /// Torso centre (camera frame, metres).
    pub torso_center: Point3<f64>,
    /// Torso semi-axes (x, y, z), metres.
    pub torso_radii: Vector3<f64>,
    /// Face centre (camera frame, metres).
    pub face_center: Point3<f64>,
    /// Face semi-axes (x, y, z), metres.
    pub face_radii: Vector3<f64>,
}

impl Body {
    /// A random person: the face's front 40–52 cm and the chest's 45–60 cm from the camera.
    pub fn random<R: Rng + ?Sized>(rng: &mut R) -> Self {
        let torso_radii = Vector3::new(
            uniform(rng, 0.15, 0.2),
            uniform(rng, 0.25, 0.32),
            uniform(rng, 0.09, 0.13),
        );
        let face_radii = Vector3::new(
            uniform(rng, 0.065, 0.08),
            uniform(rng, 0.09, 0.115),
            uniform(rng, 0.08, 0.1),
        );
        let torso_front = uniform(rng, 0.45, 0.6);
        let face_front = uniform(rng, 0.4, 0.52);
        Self {
            torso_center: Point3::new(
                uniform(rng, -0.05, 0.05),
                uniform(rng, 0.2, 0.3),
                torso_front + torso_radii.z,
            ),
            torso_radii,
            face_center: Point3::new(
                uniform(rng, -0.05, 0.05),
                uniform(rng, -0.1, -0.02),
                face_front + face_radii.z,
            ),
            face_radii,
        }
    }

    /// The two ellipsoids placed in the world for a camera at `camera_to_world`.
    pub fn surfaces(&self, camera_to_world: &Isometry3<f64>) -> Result<Scene, SimError> {
        let r = camera_to_world.rotation;
        let mut s = Scene::new();
        for (c, radii) in [
            (self.torso_center, self.torso_radii),
            (self.face_center, self.face_radii),
        ] {
            s.push(Ellipsoid::new(
                camera_to_world * c,
                r * Vector3::z(),
                r * Vector3::x(),
                radii,
            )?);
        }
        Ok(s)
    }
}

/// The still camera's poses in the hand-fixed world: the hand turns about its finger axis
/// from showing its back (φ ≈ 0) over its side to its palm (φ ≈ 180°), 20–32 cm away,
/// fingers roughly up in the image, with wobble in turn, tilt, roll and position.
fn turn_poses<R: Rng + ?Sized>(
    rng: &mut R,
    n: usize,
    ring_point: &Point3<f64>,
    (axis, side, dorsal): (Vector3<f64>, Vector3<f64>, Vector3<f64>),
) -> Result<Vec<Isometry3<f64>>, SimError> {
    let dir = if rng.random::<bool>() { 1.0 } else { -1.0 };
    let phi0 = uniform(rng, -20.0, 15.0).to_radians();
    let span = uniform(rng, 160.0, 200.0).to_radians();
    // Uneven speed: f' = f + a·sin(2πf)/(2π) stays monotone for |a| < 1.
    let pace = uniform(rng, -0.6, 0.6);
    let (d0, d1) = (uniform(rng, 0.2, 0.32), uniform(rng, 0.2, 0.32));
    let along = uniform(rng, -0.03, 0.03);
    let roll0 = uniform(rng, -30.0, 30.0).to_radians();
    // Wobble: a few sinusoids with random phase per degree of freedom.
    let mut wob = || -> (f64, f64, f64) {
        (
            uniform(rng, 0.0, 2.0 * PI),
            uniform(rng, 1.0, 3.5),
            uniform(rng, 0.5, 1.0),
        )
    };
    let (w_phi, w_tilt, w_roll, w_x, w_y, w_d) = (wob(), wob(), wob(), wob(), wob(), wob());
    let wave = |(ph, freq, amp): (f64, f64, f64), f: f64| amp * (2.0 * PI * freq * f + ph).sin();
    let mut poses = Vec::with_capacity(n);
    for i in 0..n {
        let f = if n > 1 {
            i as f64 / (n - 1) as f64
        } else {
            0.5
        };
        let fp = f + pace * (2.0 * PI * f).sin() / (2.0 * PI);
        let phi = phi0 + dir * span * fp + wave(w_phi, f) * 6f64.to_radians();
        let tilt = wave(w_tilt, f) * 8f64.to_radians();
        let radial = dorsal * phi.cos() + side * phi.sin();
        // Tilt the view out of the plane perpendicular to the finger.
        let view_out = (radial * tilt.cos() + axis * tilt.sin()).normalize();
        let dist = d0 + (d1 - d0) * f + wave(w_d, f) * 0.01;
        let lateral = radial.cross(&axis).normalize();
        let aim =
            ring_point + axis * (along + wave(w_y, f) * 0.015) + lateral * (wave(w_x, f) * 0.015);
        let eye = aim + view_out * dist;
        let view = (aim - eye).normalize();
        let roll = roll0 + wave(w_roll, f) * 5f64.to_radians();
        let up = Rotation3::from_axis_angle(&Unit::new_normalize(view), roll) * axis;
        poses.push(look_at(&eye, &aim, &up)?);
    }
    Ok(poses)
}

/// Projects the landmarks for one frame (none if missing or behind the camera).
fn project_landmarks<R: Rng + ?Sized>(
    rng: &mut R,
    opts: &SimOptions,
    k: &Intrinsics,
    camera_to_world: &Isometry3<f64>,
    joints: &[Point3<f64>; LANDMARK_COUNT],
) -> Result<Option<Landmarks>, SimError> {
    if rng.random::<f64>() < opts.landmark_missing_rate {
        return Ok(None);
    }
    let inv = camera_to_world.inverse();
    let mut pts = Vec::with_capacity(LANDMARK_COUNT);
    for p in joints {
        let Some(px) = k.project(&(inv * p)) else {
            return Ok(None);
        };
        pts.push([
            px.x + gauss(rng) * opts.landmark_noise_px,
            px.y + gauss(rng) * opts.landmark_noise_px,
        ]);
    }
    Ok(Some(Landmarks::new(&pts)?))
}

/// Simulates a front-camera scan (see the module doc). Called by [`SimScan::generate`]
/// for [`Coverage::Turn`]; frames never carry poses.
pub(crate) fn generate_front(seed: u64, opts: &SimOptions) -> Result<SimScan, SimError> {
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
            let rot = UnitQuaternion::from_quaternion(nalgebra::Quaternion::new(
                gauss(&mut rng),
                gauss(&mut rng),
                gauss(&mut rng),
                gauss(&mut rng),
            ));
            p.hand_to_world = Isometry3::from_parts(Translation3::identity(), rot);
            p
        }
    };
    let target = Target {
        hand: params.side,
        finger: opts.finger,
    };
    let hand = HandModel::new(params)?;
    let ft = hand.finger_truth(opts.finger)?;
    let frame_dirs = hand.finger_frame(opts.finger)?;
    let light = match &opts.structured_light {
        Some(m) => m.clone(),
        None => StructuredLight::truedepth(uniform(&mut rng, 0.0005, 0.0008)),
    };
    light.validate()?;
    let body = Body::random(&mut rng);
    let with_body = opts.body_behind.unwrap_or(true);
    let k = intrinsics_for(opts.sensor, &mut rng)?;
    let true_poses = turn_poses(&mut rng, opts.frames, &ft.ring_point, frame_dirs)?;
    let joints = hand.landmarks_world();
    let seeds: Vec<(u64, u64)> = (0..true_poses.len())
        .map(|_| (rng.random::<u64>(), rng.random::<u64>()))
        .collect();
    let render_one = |i: usize| -> Result<Frame, SimError> {
        let t = &true_poses[i];
        let mut world = Scene::new();
        world.push(hand.scene().clone());
        if with_body {
            world.push(body.surfaces(t)?);
        }
        let clean = render_clean(&world as &dyn Surface, &k, t)?;
        let mut r_depth = Pcg64::seed_from_u64(seeds[i].0);
        let mut r_lm = Pcg64::seed_from_u64(seeds[i].1);
        let depth = apply_structured_light(&clean, &light, k.fx, &mut r_depth)?;
        let landmarks = project_landmarks(&mut r_lm, opts, &k, t, &joints)?;
        Ok(Frame::new(depth, k, None, landmarks, i as f64 / 30.0)?)
    };
    let frames = crate::film::render_parallel(true_poses.len(), &render_one)?;
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
            "mandrel sim front turn: seed {seed}, ellipticity {:.3}, scale {:.3}, {:?} hand, body {}",
            ft.ellipticity,
            p.scale,
            p.side,
            if with_body { "behind" } else { "absent" }
        ),
        depth_noise_mm_at_30cm: light.sigma_at_30cm_m() * 1000.0,
        coverage: Coverage::Turn,
        poses_given: false,
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
