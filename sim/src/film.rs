//! Filming any virtual subject like a phone scan: a camera arc around a finger, platform
//! poses with drift, depth frames through a noise model, 2D landmarks with pixel noise.
//!
//! This is the subject-independent part of a simulated capture, shared by the mesh hand
//! ([`crate::mesh_hand`]); it draws from the caller's rng in exactly the order of
//! [`crate::capture::SimScan::generate`] (orbit, drift, per-frame seeds), so that the
//! parametric capture can delegate to it without changing any seeded scan.
//!
//! Guarantees: a pure function of the rng state, options and subject (frames are rendered
//! on scoped threads, each from its own pre-drawn seed, so scheduling does not matter).

use crate::capture::{look_at, Coverage, SimOptions};
use crate::render::{try_render_depth, NoiseModel};
use crate::shapes::Surface;
use crate::SimError;
use mandrel_core::frame::{Frame, Intrinsics, Landmarks, LANDMARK_COUNT};
use nalgebra::{Isometry3, Point3, Rotation3, Translation3, Unit, UnitQuaternion, Vector3};
use rand::{Rng, RngExt, SeedableRng};
use rand_distr::{Distribution, StandardNormal};
use rand_pcg::Pcg64;

/// What the camera films and where the target finger is (world frame).
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    /// Everything visible (hand, table...).
    pub world: &'a dyn Surface,
    /// Where the ring sits (the camera looks here).
    pub ring_point: Point3<f64>,
    /// Unit MCP→PIP axis of the target finger.
    pub axis: Vector3<f64>,
    /// Unit direction across the finger (perpendicular to `axis` and `dorsal`).
    pub side: Vector3<f64>,
    /// Unit direction out of the back of the finger.
    pub dorsal: Vector3<f64>,
    /// The 21 landmark positions (MediaPipe order) to project into each frame.
    pub landmarks: &'a [Point3<f64>; LANDMARK_COUNT],
}

/// A filmed scan: frames as a phone delivers them and the exact camera poses.
#[derive(Debug, Clone)]
pub struct Footage {
    /// Frames with the platform (perturbed) poses or none, and noisy landmarks or none.
    pub frames: Vec<Frame>,
    /// Exact camera-to-world pose of every frame.
    pub true_poses: Vec<Isometry3<f64>>,
}

fn gauss<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    StandardNormal.sample(rng)
}

fn uniform<R: Rng + ?Sized>(rng: &mut R, lo: f64, hi: f64) -> f64 {
    lo + (hi - lo) * rng.random::<f64>()
}

/// Camera poses along an arc around the finger (`opts.coverage`), 0.2–0.35 m away,
/// drifting along the axis, rolling, aiming with a little hand-held wobble.
pub fn orbit_poses<R: Rng + ?Sized>(
    rng: &mut R,
    opts: &SimOptions,
    s: &Subject<'_>,
) -> Result<Vec<Isometry3<f64>>, SimError> {
    let n = opts.frames;
    let dir = if rng.random::<bool>() { 1.0 } else { -1.0 };
    let (span, start) = match opts.coverage {
        Coverage::Full => {
            let span = uniform(rng, 270.0, 300.0).to_radians();
            (span, uniform(rng, -180.0, 180.0).to_radians())
        }
        Coverage::Dorsal => {
            // Centred on the back of the finger (φ = 0), ±15°.
            let span = uniform(rng, 120.0, 150.0).to_radians();
            let centre = uniform(rng, -15.0, 15.0).to_radians();
            (span, centre - dir * 0.5 * span)
        }
    };
    let (d0, d1) = (uniform(rng, 0.2, 0.32), uniform(rng, 0.2, 0.35));
    let along_sign = if rng.random::<bool>() { 1.0 } else { -1.0 };
    let (s0, s1) = (
        along_sign * uniform(rng, 0.03, 0.09),
        -along_sign * uniform(rng, 0.03, 0.09),
    );
    let roll0 = uniform(rng, -50.0, 50.0).to_radians();
    let roll_rate = uniform(rng, -20.0, 20.0).to_radians();
    let mut aim = Vector3::zeros();
    let mut poses = Vec::with_capacity(n);
    for i in 0..n {
        let f = if n > 1 {
            i as f64 / (n - 1) as f64
        } else {
            0.5
        };
        let phi = start + dir * span * f;
        let radial = s.dorsal * phi.cos() + s.side * phi.sin();
        let dist = d0 + (d1 - d0) * f + 0.01 * (f * 6.0).sin();
        let along = s0 + (s1 - s0) * f;
        // Perpendicular distance so that the total distance is `dist`.
        let perp = (dist * dist - along * along).max(0.01).sqrt();
        let eye = s.ring_point + radial * perp + s.axis * along;
        aim = aim * 0.8 + Vector3::new(gauss(rng), gauss(rng), gauss(rng)) * 0.0015;
        let look = s.ring_point + aim;
        let roll = roll0 + roll_rate * f;
        let view = (look - eye).normalize();
        let up = Rotation3::from_axis_angle(&Unit::new_normalize(view), roll) * s.axis;
        poses.push(look_at(&eye, &look, &up)?);
    }
    Ok(poses)
}

/// Platform poses: the true poses with a random-walk drift and per-frame jitter
/// (`opts.pose_drift`).
pub fn platform_poses<R: Rng + ?Sized>(
    rng: &mut R,
    opts: &SimOptions,
    true_poses: &[Isometry3<f64>],
) -> Vec<Isometry3<f64>> {
    let d = &opts.pose_drift;
    let mut walk_t = Vector3::zeros();
    let mut walk_r = Vector3::zeros();
    let mut given = Vec::with_capacity(true_poses.len());
    for t in true_poses {
        walk_t += Vector3::new(gauss(rng), gauss(rng), gauss(rng)) * d.translation_m_per_frame;
        walk_r += Vector3::new(gauss(rng), gauss(rng), gauss(rng))
            * d.rotation_deg_per_frame.to_radians();
        let jit = Vector3::new(gauss(rng), gauss(rng), gauss(rng)) * d.jitter_m;
        given.push(Isometry3::from_parts(
            Translation3::from(t.translation.vector + walk_t + jit),
            UnitQuaternion::from_scaled_axis(walk_r) * t.rotation,
        ));
    }
    given
}

/// Films `subject`: orbit, platform poses, then every frame rendered through `noise` with
/// landmarks (missing at `opts.landmark_missing_rate`, σ = `opts.landmark_noise_px`, none
/// when a landmark falls behind the camera). Frames carry platform poses if
/// `opts.poses_given`.
pub fn film<R: Rng + ?Sized>(
    rng: &mut R,
    opts: &SimOptions,
    k: &Intrinsics,
    noise: &NoiseModel,
    subject: &Subject<'_>,
) -> Result<Footage, SimError> {
    opts.validate()?;
    noise.validate()?;
    let true_poses = orbit_poses(rng, opts, subject)?;
    let given = platform_poses(rng, opts, &true_poses);
    let n = true_poses.len();
    // Per-frame seeds, drawn up front so that threads do not change the result.
    let seeds: Vec<(u64, u64)> = (0..n)
        .map(|_| (rng.random::<u64>(), rng.random::<u64>()))
        .collect();
    let render_one = |i: usize| -> Result<Frame, SimError> {
        let t = &true_poses[i];
        let mut r_depth = Pcg64::seed_from_u64(seeds[i].0);
        let mut r_lm = Pcg64::seed_from_u64(seeds[i].1);
        let depth = try_render_depth(subject.world, k, t, noise, &mut r_depth)?;
        let landmarks = if r_lm.random::<f64>() < opts.landmark_missing_rate {
            None
        } else {
            let inv = t.inverse();
            let mut pts = Vec::with_capacity(LANDMARK_COUNT);
            for p in subject.landmarks {
                match k.project(&(inv * p)) {
                    Some(px) => pts.push([
                        px.x + gauss(&mut r_lm) * opts.landmark_noise_px,
                        px.y + gauss(&mut r_lm) * opts.landmark_noise_px,
                    ]),
                    None => break,
                }
            }
            if pts.len() == LANDMARK_COUNT {
                Some(Landmarks::new(&pts)?)
            } else {
                None
            }
        };
        let pose = opts.poses_given.then_some(given[i]);
        Ok(Frame::new(depth, *k, pose, landmarks, i as f64 / 30.0)?)
    };
    let threads = std::thread::available_parallelism()
        .map_or(1, |v| v.get())
        .clamp(1, 8)
        .min(n);
    let mut slots: Vec<Option<Result<Frame, SimError>>> = (0..n).map(|_| None).collect();
    if threads <= 1 {
        for (i, s) in slots.iter_mut().enumerate() {
            *s = Some(render_one(i));
        }
    } else {
        let chunk = n.div_ceil(threads);
        std::thread::scope(|scope| {
            for (c, part) in slots.chunks_mut(chunk).enumerate() {
                let render_one = &render_one;
                scope.spawn(move || {
                    for (j, s) in part.iter_mut().enumerate() {
                        *s = Some(render_one(c * chunk + j));
                    }
                });
            }
        });
    }
    let mut frames = Vec::with_capacity(n);
    for s in slots {
        frames.push(s.ok_or_else(|| SimError::Options("a frame was not rendered".into()))??);
    }
    Ok(Footage { frames, true_poses })
}
