//! A parametric hand built from analytic primitives, with exact ground truth.
//!
//! Guarantees: the hand is a union of quadric primitives (ellipsoids and tapered elliptic
//! frusta), so it renders with exact ray hits. Each finger (index, middle, ring, little)
//! is a chain MCP → PIP → DIP → tip of elliptic segments (dorsal–palmar thickness 0.8–0.95
//! of the side-to-side width, tapering towards the tip), with a knuckle bulge at PIP and DIP
//! and a palmar pad on the proximal phalanx that makes its section not exactly an ellipse.
//! Adjacent fingers are close (gaps of ~0.5–2 mm at the base), so their facing flanks are
//! hidden from most viewpoints, as in real scans. Optionally
//! ([`HandParams::with_random_webs`]) adjacent long fingers are joined by a skin web
//! (interdigital commissure) from the MCP to a web line some 25–45 % of the proximal
//! phalanx beyond it (never past 45 % of either finger's own), lower on the dorsal side
//! than on the palmar side
//! ([`HandParams::web_shares`]); the web belongs to the hand, not to a finger's truth.
//!
//! Ground truth ([`HandModel::finger_truth`]) follows `scan-format.md`: the ring
//! circumference is the convex-hull perimeter of the finger's cross-section in the plane
//! perpendicular to the MCP→PIP axis at its midpoint; the knuckle circumference is the
//! largest such perimeter within ±5 mm of PIP. Both are computed numerically from the
//! primitives themselves (ray casting in the section plane, then a convex hull), not from
//! the ellipse formula, so they cannot share a bug with a measurer's model.

use crate::shapes::{Ellipsoid, EllipticFrustum, Ray, Scene};
use crate::SimError;
use mandrel_core::hand::{Finger, Hand};
use nalgebra::{Isometry3, Point2, Point3, Rotation3, Unit, Vector3};
use rand::{Rng, RngExt, SeedableRng};
use rand_pcg::Pcg64;

/// Furthest a skin web reaches beyond a finger's MCP, as a share of that finger's proximal
/// phalanx: short of the ring plane at half of it.
const MAX_WEB_SHARE: f64 = 0.45;

/// Number of directions sampled around the axis for a ground-truth section.
const SECTION_RAYS: usize = 2048;
/// Knuckle search: half-range along the axis and step (metres).
const KNUCKLE_RANGE_M: f64 = 0.005;
const KNUCKLE_STEP_M: f64 = 0.00025;

/// Shape parameters of one long finger (index, middle, ring, little). Metres, radians.
#[derive(Debug, Clone, PartialEq)]
pub struct FingerParams {
    /// Side-to-side semi-axis at the MCP→PIP midpoint.
    pub half_width_m: f64,
    /// Dorsal–palmar thickness over side-to-side width at the midpoint (0.8–0.95 typical).
    pub thickness_ratio: f64,
    /// Section scale at PIP relative to the midpoint (taper of the proximal phalanx).
    pub proximal_taper: f64,
    /// Knuckle bulge at PIP (section scale of the joint relative to the ring section).
    pub pip_bulge: f64,
    /// Palmar pad size (0 = none, 1 = large): flattens the section's palmar side.
    pub palmar_pad: f64,
    /// Phalanx lengths MCP→PIP, PIP→DIP, DIP→tip.
    pub lengths_m: [f64; 3],
    /// Flexion at MCP, PIP, DIP (towards the palm).
    pub flexion_rad: [f64; 3],
    /// Spread angle of the finger in the palm plane (positive towards the little finger).
    pub spread_rad: f64,
}

/// Parameters of a whole hand.
#[derive(Debug, Clone, PartialEq)]
pub struct HandParams {
    /// Which hand.
    pub side: Hand,
    /// Index, middle, ring, little.
    pub fingers: [FingerParams; 4],
    /// Gaps between adjacent fingers' flanks at the MCP level (index–middle, middle–ring,
    /// ring–little).
    pub gaps_m: [f64; 3],
    /// Skin webs between adjacent long fingers (index–middle, middle–ring, ring–little):
    /// how far the web reaches beyond the MCP line as a share of the two fingers' mean
    /// proximal phalanx length, `(dorsal, palmar)`, never past 45 % of either finger's own
    /// phalanx beyond its own MCP. 0 = no web ([`HandParams::random`]
    /// has none; [`HandParams::with_random_webs`] adds them). The normal commissure slopes
    /// from dorsal-proximal to palmar-distal, its palmar edge near the middle of the
    /// proximal phalanx and its dorsal edge lower (hand-surgery descriptions of the normal
    /// web for syndactyly release, e.g. Green's Operative Hand Surgery, "Syndactyly"; the
    /// WebXR generic hand mesh in `../shared/data` shows the same slope).
    pub web_shares: [(f64, f64); 3],
    /// Overall scale of palm and thumb.
    pub scale: f64,
    /// Placement of the hand frame in the world (x: thumb → little finger for a right
    /// hand, y: wrist → fingers, z: out of the back of the hand).
    pub hand_to_world: Isometry3<f64>,
}

/// Unit (MCP→PIP axis, side, dorsal) directions of a finger's proximal phalanx.
pub type FingerFrame = (Vector3<f64>, Vector3<f64>, Vector3<f64>);

/// Ground truth for one finger (world frame, metres).
#[derive(Debug, Clone, PartialEq)]
pub struct FingerTruth {
    /// MCP joint centre.
    pub mcp: Point3<f64>,
    /// PIP joint centre.
    pub pip: Point3<f64>,
    /// MCP→PIP midpoint, where the ring sits.
    pub ring_point: Point3<f64>,
    /// Unit MCP→PIP direction.
    pub axis: Vector3<f64>,
    /// Ring circumference (convex hull perimeter at the midpoint), metres.
    pub ring_circumference_m: f64,
    /// Knuckle circumference (max within ±5 mm of PIP), metres.
    pub knuckle_circumference_m: f64,
    /// Where along the axis (signed, from PIP, metres) the knuckle maximum lies.
    pub knuckle_offset_m: f64,
    /// Thickness / width of the ring section (from the same section points).
    pub ellipticity: f64,
}

/// Joint centres of one finger (world frame).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FingerJoints {
    /// MCP (thumb: CMC), PIP (thumb: MCP), DIP (thumb: IP), tip.
    pub points: [Point3<f64>; 4],
}

/// A built hand: the primitives per part, joints, and landmark positions.
#[derive(Debug, Clone)]
pub struct HandModel {
    params: HandParams,
    /// Scene holding every primitive of the hand.
    scene: Scene,
    /// Primitives of each long finger (index, middle, ring, little), for ground truth.
    finger_parts: [Scene; 4],
    /// Frame of each long finger's proximal phalanx.
    finger_frames: [SegFrame; 4],
    /// Joints: thumb, index, middle, ring, little.
    joints: [FingerJoints; 5],
    wrist: Point3<f64>,
}

fn uniform<R: Rng + ?Sized>(rng: &mut R, lo: f64, hi: f64) -> f64 {
    lo + (hi - lo) * rng.random::<f64>()
}

impl HandParams {
    /// A randomised adult hand: ring circumference 48–72 mm, ellipticity 0.80–0.95, varied
    /// taper, knuckles, pads, gaps, curl; placed at the origin (identity placement).
    pub fn random<R: Rng + ?Sized>(rng: &mut R, side: Hand) -> Self {
        let ring_circ = uniform(rng, 0.048, 0.072);
        let ratio = uniform(rng, 0.80, 0.95);
        // Ramanujan's ellipse perimeter for a = 1, b = ratio (only used to pick a size;
        // the truth is measured numerically).
        let h = ((1.0 - ratio) / (1.0 + ratio)).powi(2);
        let p1 = std::f64::consts::PI
            * (1.0 + ratio)
            * (1.0 + 3.0 * h / (10.0 + (4.0 - 3.0 * h).sqrt()));
        let ring_a = ring_circ / p1;
        let scale = ring_circ / 0.058;
        let rel = [1.0, 1.06, 1.0, 0.86];
        let len = [
            [0.042, 0.025, 0.021],
            [0.046, 0.029, 0.023],
            [0.043, 0.028, 0.023],
            [0.034, 0.020, 0.020],
        ];
        let mut fingers: Vec<FingerParams> = Vec::with_capacity(4);
        for i in 0..4 {
            let jitter = uniform(rng, 0.96, 1.04);
            let a = if i == 2 {
                ring_a
            } else {
                ring_a * rel[i] * jitter
            };
            fingers.push(FingerParams {
                half_width_m: a,
                thickness_ratio: if i == 2 {
                    ratio
                } else {
                    (ratio + uniform(rng, -0.03, 0.03)).clamp(0.78, 0.97)
                },
                proximal_taper: uniform(rng, 0.88, 0.98),
                pip_bulge: uniform(rng, 1.04, 1.14),
                palmar_pad: uniform(rng, 0.0, 1.0),
                lengths_m: [
                    len[i][0] * scale * uniform(rng, 0.95, 1.05),
                    len[i][1] * scale * uniform(rng, 0.95, 1.05),
                    len[i][2] * scale * uniform(rng, 0.95, 1.05),
                ],
                flexion_rad: [
                    uniform(rng, 0.0, 12f64.to_radians()),
                    uniform(rng, 0.0, 18f64.to_radians()),
                    uniform(rng, 0.0, 12f64.to_radians()),
                ],
                spread_rad: [-4.0f64, -1.0, 1.5, 5.0][i].to_radians()
                    + uniform(rng, -1.5, 1.5).to_radians(),
            });
        }
        let fingers: [FingerParams; 4] = [
            fingers[0].clone(),
            fingers[1].clone(),
            fingers[2].clone(),
            fingers[3].clone(),
        ];
        let gaps_m = [
            uniform(rng, 0.0005, 0.002),
            uniform(rng, 0.0005, 0.002),
            uniform(rng, 0.0005, 0.002),
        ];
        Self {
            side,
            fingers,
            gaps_m,
            web_shares: [(0.0, 0.0); 3],
            scale,
            hand_to_world: Isometry3::identity(),
        }
    }

    /// The same hand with skin webs between its long fingers ([`HandParams::web_shares`]):
    /// dorsal web line 25–34 %, palmar 36–45 % of the proximal phalanx beyond the MCP, never
    /// reaching a ring plane (`locate_webs.rs` compares these webs with the WebXR generic
    /// hand's, which end at 40–47 %). The shares are
    /// drawn from a generator seeded by the hand's gaps, so a seeded hand keeps every
    /// other parameter and the caller's random stream is untouched.
    pub fn with_random_webs(mut self) -> Self {
        let g = self.gaps_m;
        let mut rng = Pcg64::seed_from_u64(
            g[0].to_bits() ^ g[1].to_bits().rotate_left(21) ^ g[2].to_bits().rotate_left(42),
        );
        self.web_shares =
            [0; 3].map(|_| (uniform(&mut rng, 0.25, 0.34), uniform(&mut rng, 0.36, 0.45)));
        self
    }

    /// Checks every parameter is finite and anatomically plausible.
    pub fn validate(&self) -> Result<(), SimError> {
        let bad = |m: String| Err(SimError::Options(m));
        for (i, f) in self.fingers.iter().enumerate() {
            let vals = [
                f.half_width_m,
                f.thickness_ratio,
                f.proximal_taper,
                f.pip_bulge,
                f.palmar_pad,
                f.spread_rad,
            ];
            if vals
                .iter()
                .chain(&f.lengths_m)
                .chain(&f.flexion_rad)
                .any(|v| !v.is_finite())
            {
                return bad(format!("finger {i}: parameters must be finite"));
            }
            if !(0.004..=0.02).contains(&f.half_width_m) {
                return bad(format!(
                    "finger {i}: half width {} m outside 4–20 mm",
                    f.half_width_m
                ));
            }
            if !(0.5..=1.0).contains(&f.thickness_ratio) {
                return bad(format!(
                    "finger {i}: thickness ratio {} outside 0.5–1",
                    f.thickness_ratio
                ));
            }
            if !(0.7..=1.1).contains(&f.proximal_taper) || !(1.0..=1.3).contains(&f.pip_bulge) {
                return bad(format!(
                    "finger {i}: taper {} or bulge {} out of range",
                    f.proximal_taper, f.pip_bulge
                ));
            }
            if !(0.0..=1.0).contains(&f.palmar_pad) {
                return bad(format!(
                    "finger {i}: palmar pad {} outside 0–1",
                    f.palmar_pad
                ));
            }
            if f.lengths_m.iter().any(|l| !(0.01..=0.08).contains(l)) {
                return bad(format!(
                    "finger {i}: phalanx lengths {:?} m outside 10–80 mm",
                    f.lengths_m
                ));
            }
            if f.flexion_rad.iter().any(|a| !(-0.3..=1.2).contains(a)) || f.spread_rad.abs() > 0.5 {
                return bad(format!("finger {i}: joint angles out of range"));
            }
        }
        if self
            .gaps_m
            .iter()
            .any(|g| !g.is_finite() || !(0.0..=0.01).contains(g))
        {
            return bad(format!("finger gaps {:?} m outside 0–10 mm", self.gaps_m));
        }
        if self
            .web_shares
            .iter()
            .any(|&(d, p)| !(d.is_finite() && p.is_finite() && 0.0 <= d && d <= p && p <= 0.48))
        {
            return bad(format!(
                "web shares {:?} must satisfy 0 <= dorsal <= palmar <= 0.48",
                self.web_shares
            ));
        }
        if !self.scale.is_finite() || !(0.6..=1.5).contains(&self.scale) {
            return bad(format!("hand scale {} outside 0.6–1.5", self.scale));
        }
        mandrel_core::frame::pose::validate(&self.hand_to_world)?;
        Ok(())
    }
}

/// Frame of a finger segment: unit axis, side direction (towards the little finger for a
/// right hand in the hand frame), dorsal direction.
#[derive(Debug, Clone, Copy)]
struct SegFrame {
    axis: Vector3<f64>,
    side: Vector3<f64>,
    dorsal: Vector3<f64>,
}

impl SegFrame {
    fn rotated_about_side(&self, angle: f64) -> Self {
        // Positive flexion turns the axis towards the palm (−dorsal).
        let rot = Rotation3::from_axis_angle(&Unit::new_normalize(self.side), angle);
        Self {
            axis: rot * self.axis,
            side: self.side,
            dorsal: rot * self.dorsal,
        }
    }
}

impl HandModel {
    /// Builds the hand's primitives and joints from `params`.
    pub fn new(params: HandParams) -> Result<Self, SimError> {
        params.validate()?;
        let m = if params.side == Hand::Left { -1.0 } else { 1.0 };
        let place = params.hand_to_world;
        let p = |x: f64, y: f64, z: f64| place * Point3::new(m * x, y, z);
        let v = |x: f64, y: f64, z: f64| place * Vector3::new(m * x, y, z);
        let s = params.scale;
        let mut scene = Scene::new();
        let mut finger_parts: [Scene; 4] = Default::default();
        let mut finger_frames = [SegFrame {
            axis: Vector3::y(),
            side: Vector3::x(),
            dorsal: Vector3::z(),
        }; 4];
        let mut joints = [FingerJoints {
            points: [Point3::origin(); 4],
        }; 5];
        // Per long finger: MCP, proximal phalanx frame, ring-section dorsal semi-axis.
        let mut web_anchor: Vec<(Point3<f64>, SegFrame, f64)> = Vec::with_capacity(4);

        // MCP x positions: ring at 0, others packed with the given gaps.
        let a: Vec<f64> = params
            .fingers
            .iter()
            .map(|f| f.half_width_m * 1.06)
            .collect();
        let x_ring = 0.0;
        let x_mid = x_ring - (a[2] + params.gaps_m[1] + a[1]);
        let x_idx = x_mid - (a[1] + params.gaps_m[0] + a[0]);
        let x_lit = x_ring + (a[2] + params.gaps_m[2] + a[3]);
        let xs = [x_idx, x_mid, x_ring, x_lit];
        let ys = [0.0, 0.004 * s, 0.0, -0.010 * s];

        for (i, f) in params.fingers.iter().enumerate() {
            let mcp = p(xs[i], ys[i], 0.0);
            let base = SegFrame {
                axis: v(f.spread_rad.sin(), f.spread_rad.cos(), 0.0).normalize(),
                side: v(f.spread_rad.cos(), -f.spread_rad.sin(), 0.0).normalize(),
                dorsal: v(0.0, 0.0, 1.0),
            };
            // The side vector must keep the frame right-handed for the rotation sign:
            // flexion rotates the axis towards −dorsal about (dorsal × axis).
            let side_axis = base.dorsal.cross(&base.axis).normalize();
            let base = SegFrame {
                side: side_axis,
                ..base
            };
            let f0 = base.rotated_about_side(f.flexion_rad[0]);
            let pip = mcp + f0.axis * f.lengths_m[0];
            let (a_mid, b_mid) = (f.half_width_m, f.half_width_m * f.thickness_ratio);
            // Proximal frustum from 6 mm behind MCP to PIP; section at the midpoint (a_mid, b_mid).
            let back = 0.006 * s;
            let l_tot = f.lengths_m[0] + back;
            let s_mid = back + 0.5 * f.lengths_m[0];
            // k(s) = 1 + (t − 1) s / L with k(L) / k(s_mid) = proximal_taper.
            let tp = f.proximal_taper;
            let t_end = {
                // Solve t / (1 + (t − 1) s_mid / L) = tp for t.
                let r = s_mid / l_tot;
                tp * (1.0 - r) / (1.0 - tp * r)
            };
            let k_mid = 1.0 + (t_end - 1.0) * s_mid / l_tot;
            let (a0, b0) = (a_mid / k_mid, b_mid / k_mid);
            let start = mcp - f0.axis * back;
            let mut parts = Scene::new();
            parts.push(EllipticFrustum::new(start, pip, f0.side, a0, b0, t_end)?);
            if f.palmar_pad > 0.02 {
                // A fleshy pad on the palmar side: a narrower frustum shifted palmar-wards.
                let shift = -f0.dorsal * (b_mid * 0.22 * f.palmar_pad);
                parts.push(EllipticFrustum::new(
                    start + shift,
                    pip + shift,
                    f0.side,
                    a0 * 0.84,
                    b0 * 0.86,
                    t_end,
                )?);
            }
            // Knuckle bulge at PIP, slightly dorsal; its section is `pip_bulge` times the
            // ring section, so the knuckle exceeds the ring circumference as on real hands.
            let (a_pip, b_pip) = (a0 * t_end, b0 * t_end);
            parts.push(Ellipsoid::new(
                pip + f0.dorsal * (0.08 * b_pip),
                f0.axis,
                f0.side,
                Vector3::new(a_mid * f.pip_bulge, b_mid * f.pip_bulge, 0.0075 * s),
            )?);
            // Middle phalanx.
            let f1 = f0.rotated_about_side(f.flexion_rad[1]);
            let dip = pip + f1.axis * f.lengths_m[1];
            parts.push(EllipticFrustum::new(
                pip,
                dip,
                f1.side,
                a_pip * 0.97,
                b_pip * 0.97,
                0.9,
            )?);
            let (a_dip, b_dip) = (a_pip * 0.97 * 0.9, b_pip * 0.97 * 0.9);
            parts.push(Ellipsoid::new(
                dip + f1.dorsal * (0.06 * b_dip),
                f1.axis,
                f1.side,
                Vector3::new(a_dip * 1.05, b_dip * 1.05, 0.006 * s),
            )?);
            // Distal phalanx and the rounded tip.
            let f2 = f1.rotated_about_side(f.flexion_rad[2]);
            let tip = dip + f2.axis * f.lengths_m[2];
            let tip_r = a_dip * 0.85;
            let tip_centre = tip - f2.axis * tip_r;
            parts.push(EllipticFrustum::new(
                dip,
                tip_centre,
                f2.side,
                a_dip * 0.98,
                b_dip * 0.95,
                0.88,
            )?);
            parts.push(Ellipsoid::new(
                tip_centre,
                f2.axis,
                f2.side,
                Vector3::new(a_dip * 0.98 * 0.88, b_dip * 0.95 * 0.88, tip_r),
            )?);
            // MCP knuckle: part of the hand, not of the finger's truth section.
            scene.push(Ellipsoid::new(
                mcp + base.dorsal * (0.1 * b_mid),
                base.axis,
                base.side,
                Vector3::new(a_mid * 1.12, b_mid * 1.2, 0.009 * s),
            )?);
            joints[i + 1] = FingerJoints {
                points: [mcp, pip, dip, tip],
            };
            web_anchor.push((mcp, f0, b_mid));
            finger_parts[i] = parts;
            finger_frames[i] = f0;
        }

        // Webs: per adjacent pair, two ellipsoids centred between the MCPs, spanning from
        // one finger's axis to the other's and reaching the web line along the mean
        // proximal-phalanx direction: a palmar one (further) and a dorsal one (lower).
        for (k, &(w_dorsal, w_palmar)) in params.web_shares.iter().enumerate() {
            let (Some(&(m0, f0, b0)), Some(&(m1, f1, b1))) =
                (web_anchor.get(k), web_anchor.get(k + 1))
            else {
                continue;
            };
            let axis = (f0.axis + f1.axis).normalize();
            let lat = (m1 - m0) - axis * (m1 - m0).dot(&axis);
            let half_span = 0.5 * lat.norm();
            let lat = lat.normalize();
            let dorsal = f0.dorsal + f1.dorsal;
            let dorsal = (dorsal - axis * dorsal.dot(&axis) - lat * dorsal.dot(&lat)).normalize();
            let (len0, len1) = (
                params.fingers[k].lengths_m[0],
                params.fingers[k + 1].lengths_m[0],
            );
            let b = 0.5 * (b0 + b1);
            let mid = nalgebra::center(&m0, &m1);
            // The web reaches a share of the pair's mean proximal phalanx beyond `mid`, but
            // never past [`MAX_WEB_SHARE`] of either finger's own phalanx beyond its own MCP
            // (a little finger's MCP sits lower and its phalanx is shorter, so the pair's
            // mean alone would carry the web past its ring plane).
            let reach = |share: f64| {
                (share * 0.5 * (len0 + len1))
                    .min(MAX_WEB_SHARE * len0 - (mid - m0).dot(&axis))
                    .min(MAX_WEB_SHARE * len1 - (mid - m1).dot(&axis))
            };
            // At the MCP line the web is flush with the fingers' dorsal and palmar skin, so
            // the finger only stands free beyond the web line.
            for (share, lift) in [(w_palmar, -0.35), (w_dorsal, 0.3)] {
                let reach_m = reach(share);
                if reach_m < 0.002 {
                    continue;
                }
                scene.push(Ellipsoid::new(
                    mid + dorsal * (lift * b),
                    axis,
                    lat,
                    Vector3::new(half_span, 0.68 * b, reach_m),
                )?);
            }
        }

        // Palm: a flattened ellipsoid behind the MCP line, and the wrist/forearm.
        let x_c = 0.5 * (x_idx + x_lit);
        let half_w = 0.5 * (x_lit - x_idx) + a[0].max(a[3]) + 0.004 * s;
        let palm_len = 0.052 * s;
        let palm_c = p(x_c, -0.046 * s, -0.003 * s);
        scene.push(Ellipsoid::new(
            palm_c,
            v(0.0, 0.0, 1.0),
            v(1.0, 0.0, 0.0),
            Vector3::new(half_w, palm_len, 0.015 * s),
        )?);
        let wrist = p(x_c, -0.095 * s, -0.002 * s);
        scene.push(EllipticFrustum::new(
            wrist + v(0.0, 0.012 * s, 0.0),
            wrist - v(0.0, 0.09 * s, 0.0),
            v(1.0, 0.0, 0.0),
            half_w * 0.72,
            0.018 * s,
            1.12,
        )?);

        // Thumb: CMC near the wrist on the thumb side, pointing out and forward.
        let cmc = p(x_idx - 0.008 * s, -0.075 * s, -0.006 * s);
        let dir0 = v(-0.62, 0.72, -0.30).normalize();
        let dir1 = v(-0.45, 0.86, -0.24).normalize();
        let t_mcp = cmc + dir0 * (0.042 * s);
        let t_ip = t_mcp + dir1 * (0.032 * s);
        let t_tip = t_ip + dir1 * (0.029 * s);
        let r_t = 0.0105 * s;
        let up = v(0.0, 0.0, 1.0);
        scene.push(EllipticFrustum::new(
            cmc,
            t_mcp,
            up.cross(&dir0),
            r_t * 1.5,
            r_t * 1.2,
            0.78,
        )?);
        scene.push(Ellipsoid::new(
            t_mcp,
            dir1,
            up.cross(&dir1),
            Vector3::new(r_t * 1.1, r_t * 1.0, r_t * 1.2),
        )?);
        scene.push(EllipticFrustum::new(
            t_mcp,
            t_ip,
            up.cross(&dir1),
            r_t,
            r_t * 0.85,
            0.95,
        )?);
        scene.push(Ellipsoid::new(
            t_ip,
            dir1,
            up.cross(&dir1),
            Vector3::new(r_t * 1.0, r_t * 0.88, r_t * 1.0),
        )?);
        scene.push(EllipticFrustum::new(
            t_ip,
            t_tip - dir1 * (r_t * 0.8),
            up.cross(&dir1),
            r_t * 0.95,
            r_t * 0.8,
            0.9,
        )?);
        scene.push(Ellipsoid::new(
            t_tip - dir1 * (r_t * 0.8),
            dir1,
            up.cross(&dir1),
            Vector3::new(r_t * 0.86, r_t * 0.72, r_t * 0.8),
        )?);
        joints[0] = FingerJoints {
            points: [cmc, t_mcp, t_ip, t_tip],
        };

        for parts in &finger_parts {
            for m in parts.members() {
                scene.push_shared(m.clone());
            }
        }
        Ok(Self {
            params,
            scene,
            finger_parts,
            finger_frames,
            joints,
            wrist,
        })
    }

    /// The whole hand as one surface (render this).
    pub fn scene(&self) -> &Scene {
        &self.scene
    }

    /// Unit (MCP→PIP axis, side, dorsal) directions of `finger`'s proximal phalanx (world);
    /// "side" points towards the little finger on a right hand, "dorsal" out of the back.
    pub fn finger_frame(&self, finger: Finger) -> Result<FingerFrame, SimError> {
        match finger_index(finger) {
            0 => Err(SimError::Options(
                "the thumb has no modelled ring section".into(),
            )),
            i => {
                let f = self.finger_frames[i - 1];
                Ok((f.axis, f.side, f.dorsal))
            }
        }
    }

    /// The parameters the hand was built from.
    pub fn params(&self) -> &HandParams {
        &self.params
    }

    /// Joint centres of `finger` (thumb: CMC, MCP, IP, tip).
    pub fn joints(&self, finger: Finger) -> FingerJoints {
        self.joints[finger_index(finger)]
    }

    /// The 21 landmark positions in MediaPipe order (world frame): wrist, then per finger
    /// from the thumb its four joints.
    pub fn landmarks_world(&self) -> [Point3<f64>; mandrel_core::frame::LANDMARK_COUNT] {
        let mut out = [self.wrist; mandrel_core::frame::LANDMARK_COUNT];
        for (f, j) in self.joints.iter().enumerate() {
            for (k, p) in j.points.iter().enumerate() {
                out[1 + 4 * f + k] = *p;
            }
        }
        out
    }

    /// Convex-hull perimeter (metres) of `finger`'s cross-section in the plane through
    /// `centre` perpendicular to `axis`, from `rays` in-plane rays, with the hull points
    /// (in the plane basis `(side, dorsal)` of the proximal phalanx when available).
    pub fn section(
        &self,
        finger: Finger,
        centre: &Point3<f64>,
        axis: &Vector3<f64>,
        rays: usize,
    ) -> Result<(f64, Vec<Point2<f64>>), SimError> {
        let i = finger_index(finger);
        if i == 0 {
            return Err(SimError::Options(
                "ground-truth sections are modelled for index, middle, ring and little fingers"
                    .into(),
            ));
        }
        let parts = &self.finger_parts[i - 1];
        let n = axis.normalize();
        let fr = self.finger_frames[i - 1];
        let mut u = fr.side - n * fr.side.dot(&n);
        if u.norm() < 1e-6 {
            u = n.cross(&Vector3::x());
        }
        let u = u.normalize();
        let w = n.cross(&u);
        let mut pts: Vec<Point2<f64>> = Vec::with_capacity(rays * 2);
        for m in parts.members() {
            if let Some(b) = m.bounding_sphere() {
                if (b.center - centre).dot(&n).abs() > b.radius {
                    continue;
                }
            }
            for j in 0..rays {
                let th = std::f64::consts::TAU * j as f64 / rays as f64;
                let dir = u * th.cos() + w * th.sin();
                let ray = Ray {
                    origin: *centre,
                    dir,
                };
                let mut t0 = 0.0;
                for _ in 0..4 {
                    match m.intersect(&ray, t0, f64::INFINITY) {
                        Some(h) => {
                            let q = ray.at(h.t) - centre;
                            pts.push(Point2::new(q.dot(&u), q.dot(&w)));
                            t0 = h.t + 1e-9;
                        }
                        None => break,
                    }
                }
            }
        }
        let hull = convex_hull(pts);
        if hull.len() < 3 {
            return Err(SimError::Options(format!(
                "the {finger:?} finger does not cross the section plane at {centre:?}"
            )));
        }
        Ok((perimeter(&hull), hull))
    }

    /// Exact ground truth for `finger` per `scan-format.md` (see the module doc).
    pub fn finger_truth(&self, finger: Finger) -> Result<FingerTruth, SimError> {
        let j = self.joints(finger);
        let (mcp, pip) = (j.points[0], j.points[1]);
        let axis = (pip - mcp).normalize();
        let ring_point = mcp + (pip - mcp) * 0.5;
        let (ring, hull) = self.section(finger, &ring_point, &axis, SECTION_RAYS)?;
        // Width / thickness of the ring section along the plane basis (side, dorsal).
        let ext = |f: &dyn Fn(&Point2<f64>) -> f64| {
            let (lo, hi) = hull
                .iter()
                .map(f)
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| {
                    (l.min(v), h.max(v))
                });
            hi - lo
        };
        let ellipticity = ext(&|p| p.y) / ext(&|p| p.x);
        // Knuckle: coarse scan, then refine around the best offset.
        let steps = (KNUCKLE_RANGE_M / KNUCKLE_STEP_M).round() as i64;
        let mut best = (f64::NEG_INFINITY, 0.0);
        for k in -steps..=steps {
            let off = k as f64 * KNUCKLE_STEP_M;
            let (perim, _) = self.section(finger, &(pip + axis * off), &axis, 512)?;
            if perim > best.0 {
                best = (perim, off);
            }
        }
        let mut fine = (f64::NEG_INFINITY, best.1);
        for k in -4..=4 {
            let off =
                (best.1 + k as f64 * KNUCKLE_STEP_M / 4.0).clamp(-KNUCKLE_RANGE_M, KNUCKLE_RANGE_M);
            let (perim, _) = self.section(finger, &(pip + axis * off), &axis, SECTION_RAYS)?;
            if perim > fine.0 {
                fine = (perim, off);
            }
        }
        Ok(FingerTruth {
            mcp,
            pip,
            ring_point,
            axis,
            ring_circumference_m: ring,
            knuckle_circumference_m: fine.0,
            knuckle_offset_m: fine.1,
            ellipticity,
        })
    }
}

fn finger_index(f: Finger) -> usize {
    match f {
        Finger::Thumb => 0,
        Finger::Index => 1,
        Finger::Middle => 2,
        Finger::Ring => 3,
        Finger::Little => 4,
    }
}

/// Convex hull (Andrew's monotone chain), counter-clockwise, no repeated end point.
pub(crate) fn convex_hull(mut pts: Vec<Point2<f64>>) -> Vec<Point2<f64>> {
    pts.retain(|p| p.x.is_finite() && p.y.is_finite());
    pts.sort_by(|a, b| a.x.total_cmp(&b.x).then(a.y.total_cmp(&b.y)));
    pts.dedup();
    if pts.len() < 3 {
        return pts;
    }
    let cross = |o: &Point2<f64>, a: &Point2<f64>, b: &Point2<f64>| {
        (a.x - o.x) * (b.y - o.y) - (a.y - o.y) * (b.x - o.x)
    };
    let mut lower: Vec<Point2<f64>> = Vec::new();
    for p in &pts {
        while lower.len() >= 2 && cross(&lower[lower.len() - 2], &lower[lower.len() - 1], p) <= 0.0
        {
            lower.pop();
        }
        lower.push(*p);
    }
    let mut upper: Vec<Point2<f64>> = Vec::new();
    for p in pts.iter().rev() {
        while upper.len() >= 2 && cross(&upper[upper.len() - 2], &upper[upper.len() - 1], p) <= 0.0
        {
            upper.pop();
        }
        upper.push(*p);
    }
    lower.pop();
    upper.pop();
    lower.extend(upper);
    lower
}

/// Perimeter of a closed polygon.
pub(crate) fn perimeter(poly: &[Point2<f64>]) -> f64 {
    let n = poly.len();
    (0..n).map(|i| (poly[(i + 1) % n] - poly[i]).norm()).sum()
}
