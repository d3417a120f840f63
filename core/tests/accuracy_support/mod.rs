//! The accuracy harness's scan set and its summary, shared by the `accuracy` bench (the
//! full randomised set) and the fixed-seed bias test (a CI-sized subset).
//!
//! A case is drawn from `(seed, index)` alone, so any prefix of a set is itself a set.
//! Families: parametric hands (`param`), the same with the target finger flexed
//! (`param-flexed`), the WebXR generic hand as shipped (`webxr-faceted`), Loop-smoothed
//! twice (`webxr-smooth`), and smoothed with the target finger flexed (`webxr-flexed`).
//! Two sensor edge models: the simulator's own (`sim`: flying pixels, grazing dropouts)
//! and `eroded`, which on top drops or pushes back the foreground's silhouette pixels, as
//! real depth sensors do at depth edges.
#![allow(dead_code)]

use crate::load::{hand_from, load};
use mandrel_core::frame::{DepthFrame, Frame};
use mandrel_core::hand::{Finger, Hand, Target};
use mandrel_core::measure::{Measurement, Reason, Status};
use mandrel_core::session::{ScanSession, SessionConfig};
use mandrel_sim::mesh_hand::{random_placement, MeshHand};
use mandrel_sim::{Coverage, FingerTruth, HandParams, NoiseModel, SimOptions, SimScan};
use rand::{Rng, RngExt, SeedableRng};
use rand_pcg::Pcg64;
use std::sync::OnceLock;

/// Hand families of the set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Family {
    /// Randomised parametric hand.
    Param,
    /// Parametric hand, target finger flexed 15–35° (MCP), 25–55° (PIP).
    ParamFlexed,
    /// WebXR generic hand mesh as shipped (faceted).
    WebxrFaceted,
    /// WebXR generic hand, two Loop subdivision steps.
    WebxrSmooth,
    /// WebXR generic hand smoothed, target finger flexed by the file's skin weights.
    WebxrFlexed,
}

impl Family {
    /// Every family, in table order.
    pub const ALL: [Family; 5] = [
        Family::Param,
        Family::ParamFlexed,
        Family::WebxrFaceted,
        Family::WebxrSmooth,
        Family::WebxrFlexed,
    ];
    /// Table name.
    pub fn name(self) -> &'static str {
        match self {
            Family::Param => "param",
            Family::ParamFlexed => "param-flexed",
            Family::WebxrFaceted => "webxr-faceted",
            Family::WebxrSmooth => "webxr-smooth",
            Family::WebxrFlexed => "webxr-flexed",
        }
    }
    fn is_webxr(self) -> bool {
        matches!(
            self,
            Family::WebxrFaceted | Family::WebxrSmooth | Family::WebxrFlexed
        )
    }
}

/// Camera coverage of a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Cover {
    /// The simulator's full arc (270–300°).
    Full,
    /// A contiguous 65–80 % of a full arc (about 175–240°).
    Partial,
    /// The back of the hand only (120–150°).
    Dorsal,
}

/// Sensor edge model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Edge {
    /// The simulator's noise model as it is.
    Sim,
    /// Silhouette pixels dropped (60 %) or pushed back 0.5–3 mm (the rest).
    Eroded,
}

/// One scan of the set.
#[derive(Debug, Clone)]
pub struct Case {
    /// Index in the set.
    pub index: usize,
    /// Seed of the capture.
    pub seed: u64,
    /// Hand family.
    pub family: Family,
    /// Which hand.
    pub side: Hand,
    /// Finger measured.
    pub finger: Finger,
    /// Depth noise σ at 30 cm, mm.
    pub noise_mm: f64,
    /// Coverage.
    pub cover: Cover,
    /// Frames given to the session.
    pub frames: usize,
    /// Whether frames carry platform poses.
    pub poses: bool,
    /// Whether the session uses landmarks.
    pub landmarks: bool,
    /// Edge model.
    pub edge: Edge,
}

/// What the session answered for a case.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Status `ok`.
    pub ok: bool,
    /// `insufficient_coverage` among the reasons.
    pub insufficient_coverage: bool,
    /// Status and reasons as text.
    pub verdict: String,
    /// Ring circumference, mm.
    pub ring_mm: Option<f64>,
    /// Reported σ, mm.
    pub sigma_mm: Option<f64>,
    /// Outline coverage, degrees.
    pub coverage_deg: f64,
}

impl Outcome {
    fn from_measurement(m: &Measurement) -> Self {
        Self {
            ok: m.status == Status::Ok,
            insufficient_coverage: m.reasons.contains(&Reason::InsufficientCoverage),
            verdict: format!("{:?} {:?}", m.status, m.reasons),
            ring_mm: m.ring_circumference_mm,
            sigma_mm: m.uncertainty_mm,
            coverage_deg: m.coverage_deg,
        }
    }
}

/// A measured case.
#[derive(Debug, Clone)]
pub struct CaseResult {
    /// The case.
    pub case: Case,
    /// True ring circumference, mm (`None`: the case could not be built).
    pub truth_mm: Option<f64>,
    /// The session's answer (`None`: not built or the session failed).
    pub measurement: Option<Outcome>,
    /// Why the case has no measurement.
    pub error: Option<String>,
}

impl CaseResult {
    /// Signed ring error, mm, when a size was reported.
    pub fn err_mm(&self) -> Option<f64> {
        Some(self.measurement.as_ref()?.ring_mm? - self.truth_mm?)
    }
    /// Reported σ, mm.
    pub fn sigma_mm(&self) -> Option<f64> {
        self.measurement.as_ref()?.sigma_mm
    }
    /// Whether the status is `ok`.
    pub fn ok(&self) -> bool {
        self.measurement.as_ref().is_some_and(|m| m.ok)
    }
}

fn uniform<R: Rng + ?Sized>(rng: &mut R, lo: f64, hi: f64) -> f64 {
    lo + (hi - lo) * rng.random::<f64>()
}

/// The `n` cases of set `seed` (WebXR families replaced by parametric ones when the mesh
/// is unavailable).
pub fn plan(seed: u64, n: usize, webxr: bool) -> Vec<Case> {
    (0..n)
        .map(|index| {
            let mut rng =
                Pcg64::seed_from_u64(seed.wrapping_mul(1_000_003).wrapping_add(index as u64));
            let mut family = Family::ALL[index % Family::ALL.len()];
            if family.is_webxr() && !webxr {
                family = Family::Param;
            }
            let side = if rng.random::<bool>() {
                Hand::Left
            } else {
                Hand::Right
            };
            let finger = [Finger::Index, Finger::Middle, Finger::Ring, Finger::Little]
                [rng.random_range(0..4usize)];
            let noise_mm = uniform(&mut rng, 0.3, 1.2);
            let c = rng.random::<f64>();
            let cover = if c < 0.6 {
                Cover::Full
            } else if c < 0.8 {
                Cover::Partial
            } else {
                Cover::Dorsal
            };
            let frames = rng.random_range(30..=120usize);
            let poses = rng.random::<bool>();
            let landmarks = rng.random::<f64>() < 0.75;
            let edge = if rng.random::<bool>() {
                Edge::Sim
            } else {
                Edge::Eroded
            };
            Case {
                index,
                seed: rng.random::<u64>() >> 1,
                family,
                side,
                finger,
                noise_mm,
                cover,
                frames,
                poses,
                landmarks,
                edge,
            }
        })
        .collect()
}

const FLEX_VARIANTS: [[f64; 3]; 2] = [[20.0, 35.0, 15.0], [30.0, 55.0, 25.0]];

fn finger_slot(f: Finger) -> usize {
    match f {
        Finger::Index => 0,
        Finger::Middle => 1,
        Finger::Ring => 2,
        _ => 3,
    }
}

fn side_slot(h: Hand) -> usize {
    match h {
        Hand::Left => 0,
        Hand::Right => 1,
    }
}

/// The WebXR meshes, loaded once, smoothed and flexed on first use.
pub struct Hands {
    skinned: Option<[(crate::glb::SkinnedMesh, MeshHand); 2]>,
    smooth: [OnceLock<MeshHand>; 2],
    flexed: [OnceLock<Result<MeshHand, String>>; 16],
}

impl Hands {
    /// Loads both WebXR hands if `../shared/data/webxr_generic_hand` is present.
    pub fn load() -> Self {
        let skinned = match (load(Hand::Left), load(Hand::Right)) {
            (Some(l), Some(r)) => Some([l, r]),
            _ => None,
        };
        Self {
            skinned,
            smooth: Default::default(),
            flexed: Default::default(),
        }
    }
    /// No WebXR hands: only the parametric families can run.
    pub fn load_parametric() -> Self {
        Self {
            skinned: None,
            smooth: Default::default(),
            flexed: Default::default(),
        }
    }
    /// Whether the WebXR families can run.
    pub fn webxr_available(&self) -> bool {
        self.skinned.is_some()
    }
    /// The case family's mesh of the case's hand (`variant` picks the flex of flexed cases).
    pub fn mesh(&self, c: &Case, variant: usize) -> Result<MeshHand, String> {
        let hands = self.skinned.as_ref().ok_or("no WebXR hand")?;
        let s = side_slot(c.side);
        match c.family {
            Family::WebxrFaceted => Ok(hands[s].1.clone()),
            Family::WebxrSmooth => Ok(self.smooth[s]
                .get_or_init(|| hands[s].1.smoothed(2).expect("smooth"))
                .clone()),
            _ => {
                let slot = s * 8 + finger_slot(c.finger) * 2 + variant;
                self.flexed[slot]
                    .get_or_init(|| {
                        let prefix = [
                            "index-finger",
                            "middle-finger",
                            "ring-finger",
                            "pinky-finger",
                        ][finger_slot(c.finger)];
                        let bent = hands[s].0.flexed(&[(prefix, FLEX_VARIANTS[variant])])?;
                        hand_from(&bent, c.side)
                            .smoothed(2)
                            .map_err(|e| e.to_string())
                    })
                    .clone()
            }
        }
    }
}

/// Drops (60 %) or pushes back by 0.5–3 mm (40 %) every valid pixel on the foreground side
/// of a silhouette: next to an empty pixel or to one more than 8 mm farther.
pub fn erode_edges<R: Rng + ?Sized>(d: &DepthFrame, rng: &mut R) -> DepthFrame {
    erode_edges_with(d, rng, 0.6)
}

/// [`erode_edges`] with the share of edge pixels dropped (rather than pushed back) set to
/// `p_drop`.
pub fn erode_edges_with<R: Rng + ?Sized>(d: &DepthFrame, rng: &mut R, p_drop: f64) -> DepthFrame {
    let (w, h) = (d.width() as usize, d.height() as usize);
    let src = d.depth_m();
    let mut out = src.to_vec();
    for v in 0..h {
        for u in 0..w {
            let z = src[v * w + u];
            if z <= 0.0 {
                continue;
            }
            let mut edge = false;
            for (du, dv) in [(-1i64, 0i64), (1, 0), (0, -1), (0, 1)] {
                let (x, y) = (u as i64 + du, v as i64 + dv);
                if x < 0 || y < 0 || x >= w as i64 || y >= h as i64 {
                    continue;
                }
                let n = src[y as usize * w + x as usize];
                if n <= 0.0 || n > z + 0.008 {
                    edge = true;
                    break;
                }
            }
            if edge {
                out[v * w + u] = if rng.random::<f64>() < p_drop {
                    0.0
                } else {
                    z + uniform(rng, 0.0005, 0.003) as f32
                };
            }
        }
    }
    DepthFrame::from_metres(d.width(), d.height(), out).expect("same size")
}

/// Builds the case's frames and truth (mm).
pub fn build(hands: &Hands, c: &Case) -> Result<(Vec<Frame>, f64, Target), String> {
    build_with_joints(hands, c).map(|(f, t, g, _)| (f, t, g))
}

/// [`build`], with the target finger's true joints and axis.
pub fn build_with_joints(
    hands: &Hands,
    c: &Case,
) -> Result<(Vec<Frame>, f64, Target, FingerTruth), String> {
    let mut rng = Pcg64::seed_from_u64(c.seed);
    let captured = match c.cover {
        Cover::Partial => (c.frames as f64 / uniform(&mut rng, 0.65, 0.8)).ceil() as usize,
        _ => c.frames,
    };
    let noise = NoiseModel {
        sigma_at_30cm_m: c.noise_mm * 1e-3,
        ..NoiseModel::truedepth()
    };
    let opts = SimOptions {
        coverage: if c.cover == Cover::Dorsal {
            Coverage::Dorsal
        } else {
            Coverage::Full
        },
        frames: captured,
        poses_given: c.poses,
        finger: c.finger,
        noise: Some(noise),
        ..SimOptions::default()
    };
    let (mut frames, truth_mm, target, joints) = match c.family {
        Family::Param => {
            let s = SimScan::generate(
                c.seed,
                &SimOptions {
                    hand_side: Some(c.side),
                    ..opts
                },
            )
            .map_err(|e| e.to_string())?;
            (
                s.frames,
                s.truth.ring_circumference_mm,
                s.target,
                s.finger_truth,
            )
        }
        Family::ParamFlexed => {
            // Skin webs as `SimOptions` gives the other parametric hands.
            let mut p = HandParams::random(&mut rng, c.side).with_random_webs();
            let f = &mut p.fingers[finger_slot(c.finger)];
            f.flexion_rad = [
                uniform(&mut rng, 15.0, 35.0).to_radians(),
                uniform(&mut rng, 25.0, 55.0).to_radians(),
                uniform(&mut rng, 10.0, 30.0).to_radians(),
            ];
            p.hand_to_world = random_placement(&mut rng, 0.1);
            let s = SimScan::generate(
                c.seed,
                &SimOptions {
                    hand: Some(p),
                    ..opts
                },
            )
            .map_err(|e| e.to_string())?;
            (
                s.frames,
                s.truth.ring_circumference_mm,
                s.target,
                s.finger_truth,
            )
        }
        _ => {
            let variant = rng.random_range(0..2usize);
            let hand = hands.mesh(c, variant)?;
            let placed = hand
                .transformed(&random_placement(&mut rng, 0.1))
                .map_err(|e| e.to_string())?;
            let s = placed.capture(c.seed, &opts).map_err(|e| e.to_string())?;
            (
                s.frames,
                s.truth.ring_circumference_mm,
                s.target,
                s.finger_truth,
            )
        }
    };
    if c.cover == Cover::Partial {
        let start = rng.random_range(0..=captured - c.frames);
        frames = frames.drain(start..start + c.frames).collect();
    }
    if c.edge == Edge::Eroded {
        for f in &mut frames {
            f.depth = erode_edges(&f.depth, &mut rng);
        }
    }
    Ok((frames, truth_mm, target, joints))
}

/// Builds and measures one case.
pub fn run_case(hands: &Hands, c: &Case) -> CaseResult {
    let (frames, truth, target) = match build(hands, c) {
        Ok(b) => b,
        Err(e) => {
            return CaseResult {
                case: c.clone(),
                truth_mm: None,
                measurement: None,
                error: Some(e),
            }
        }
    };
    match run_session(frames, target, c.landmarks).map(|(m, _)| m) {
        Ok(m) => CaseResult {
            case: c.clone(),
            truth_mm: Some(truth),
            measurement: Some(Outcome::from_measurement(&m)),
            error: None,
        },
        Err(e) => CaseResult {
            case: c.clone(),
            truth_mm: Some(truth),
            measurement: None,
            error: Some(e),
        },
    }
}

/// The session as an app drives it: every frame pushed, then `finish_detailed`.
fn run_session(
    frames: Vec<Frame>,
    target: Target,
    landmarks: bool,
) -> Result<(Measurement, mandrel_core::measure::MeasureDetail), String> {
    let mut cfg = SessionConfig::new(target);
    cfg.use_landmarks = landmarks;
    let mut s = ScanSession::new(cfg).map_err(|e| e.to_string())?;
    for f in frames {
        s.push_frame(f).map_err(|e| e.to_string())?;
    }
    s.finish_detailed().map_err(|e| e.to_string())
}

/// One diagnostic line for a case: its row, the parts of σ, and for scans with poses (whose
/// world is the simulator's) how far the measured ring plane sits from the true one along
/// the true axis and how far its normal is tilted from it. For `--diag`.
pub fn diag_case(hands: &Hands, c: &Case) -> String {
    let (frames, truth, target, joints) = match build_with_joints(hands, c) {
        Ok(b) => b,
        Err(e) => return format!("#{} build: {e}", c.index),
    };
    let (m, d) = match run_session(frames, target, c.landmarks) {
        Ok(v) => v,
        Err(e) => return format!("#{} session: {e}", c.index),
    };
    let r = CaseResult {
        case: c.clone(),
        truth_mm: Some(truth),
        measurement: Some(Outcome::from_measurement(&m)),
        error: None,
    };
    let mut line = row_line(&r);
    if let (Some(ring), Some(f)) = (d.ring.as_ref(), d.finger.as_ref()) {
        let p = &ring.sigma_parts;
        line += &format!(
            " | sec {:.3} fit {:.3} fr {:.3} pose {:.3} unobs {:.3} | span {:.0} surf {:.0} gap {:.0} | mcp_s {:.2} pip_s {:.2} {:?}",
            ring.sigma_m * 1e3,
            p.fit_m * 1e3,
            p.frames_m * 1e3,
            p.pose_m * 1e3,
            p.unobserved_m * 1e3,
            ring.view_span_deg,
            ring.surface_coverage_deg,
            ring.largest_gap_deg,
            f.mcp.sigma_m * 1e3,
            f.pip.sigma_m * 1e3,
            f.method,
        );
        if c.poses {
            let along = (ring.centre - joints.ring_point).dot(&joints.axis) * 1e3;
            let tilt = ring
                .axis_direction
                .dot(&joints.axis)
                .abs()
                .min(1.0)
                .acos()
                .to_degrees();
            let mcp_along = (f.mcp.position - joints.mcp).dot(&joints.axis) * 1e3;
            let pip_along = (f.pip.position - joints.pip).dot(&joints.axis) * 1e3;
            line += &format!(
                " | plane_along {along:+.2} tilt {tilt:.2} mcp_err {mcp_along:+.2} pip_err {pip_along:+.2}"
            );
        }
    }
    line
}

/// One line per scan, for `--rows`.
pub fn row_line(r: &CaseResult) -> String {
    let c = &r.case;
    let m = r.measurement.as_ref();
    format!(
        "#{:<4} {:<13} {:?} {:<6} noise {:.2} {:<7} {:>3} fr poses {:<5} lm {:<5} {:<6} truth {} -> {} err {} sigma {} {}",
        c.index,
        c.family.name(),
        c.side,
        format!("{:?}", c.finger),
        c.noise_mm,
        format!("{:?}", c.cover),
        c.frames,
        c.poses,
        c.landmarks,
        format!("{:?}", c.edge),
        r.truth_mm.map_or("-".into(), |t| format!("{t:.2}")),
        m.map_or(r.error.clone().unwrap_or_default(), |m| m.verdict.clone()),
        r.err_mm().map_or("-".into(), |e| format!("{e:+.2}")),
        r.sigma_mm().map_or("-".into(), |s| format!("{s:.2}")),
        m.map_or(String::new(), |m| format!("cov {:.0}", m.coverage_deg)),
    )
}

/// Summary of a group of results.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    /// Cases built and measured.
    pub n: usize,
    /// Share ending `ok`.
    pub ok_share: f64,
    /// Cases reporting a size (any status).
    pub sized: usize,
    /// Mean signed error of sized cases, mm.
    pub bias_mm: f64,
    /// Mean |error| of sized cases, mm.
    pub mean_abs_mm: f64,
    /// 95th percentile |error|, mm.
    pub p95_mm: f64,
    /// Share of sized cases with |err| ≤ σ.
    pub within_1: f64,
    /// Share of sized cases with |err| ≤ 2σ.
    pub within_2: f64,
    /// Mean signed error of `ok` cases, mm.
    pub ok_bias_mm: f64,
    /// Mean |error| of `ok` cases, mm.
    pub ok_mean_abs_mm: f64,
    /// Sized cases with |err| > 1.3 mm and > 2σ.
    pub confident_wrong: usize,
}

/// Summarises `rs` (cases without a measurement are left out).
pub fn stats<'a>(rs: impl IntoIterator<Item = &'a CaseResult>) -> Stats {
    let rs: Vec<&CaseResult> = rs.into_iter().filter(|r| r.measurement.is_some()).collect();
    let mut s = Stats {
        n: rs.len(),
        ..Default::default()
    };
    if rs.is_empty() {
        return s;
    }
    s.ok_share = rs.iter().filter(|r| r.ok()).count() as f64 / rs.len() as f64;
    let sized: Vec<(f64, f64)> = rs
        .iter()
        .filter_map(|r| Some((r.err_mm()?, r.sigma_mm().unwrap_or(f64::INFINITY))))
        .collect();
    s.sized = sized.len();
    if !sized.is_empty() {
        let k = sized.len() as f64;
        s.bias_mm = sized.iter().map(|e| e.0).sum::<f64>() / k;
        s.mean_abs_mm = sized.iter().map(|e| e.0.abs()).sum::<f64>() / k;
        let mut a: Vec<f64> = sized.iter().map(|e| e.0.abs()).collect();
        a.sort_by(f64::total_cmp);
        s.p95_mm = a[((0.95 * k).ceil() as usize).clamp(1, a.len()) - 1];
        s.within_1 = sized.iter().filter(|e| e.0.abs() <= e.1).count() as f64 / k;
        s.within_2 = sized.iter().filter(|e| e.0.abs() <= 2.0 * e.1).count() as f64 / k;
        s.confident_wrong = sized
            .iter()
            .filter(|e| e.0.abs() > 1.3 && e.0.abs() > 2.0 * e.1)
            .count();
    }
    let ok: Vec<f64> = rs
        .iter()
        .filter(|r| r.ok())
        .filter_map(|r| r.err_mm())
        .collect();
    if !ok.is_empty() {
        s.ok_bias_mm = ok.iter().sum::<f64>() / ok.len() as f64;
        s.ok_mean_abs_mm = ok.iter().map(|e| e.abs()).sum::<f64>() / ok.len() as f64;
    }
    s
}

/// Noise band of a case: `0.3-0.6`, `0.6-0.9`, `0.9-1.2`.
pub fn band(noise_mm: f64) -> &'static str {
    if noise_mm < 0.6 {
        "0.3-0.6"
    } else if noise_mm < 0.9 {
        "0.6-0.9"
    } else {
        "0.9-1.2"
    }
}

const HEADER: &str = "| group | n | ok % | sized | bias | mean abs | p95 | within 1σ | within 2σ | ok bias | ok mean abs | wrong >1.3 & >2σ |\n|---|---|---|---|---|---|---|---|---|---|---|---|";

fn line(name: &str, s: &Stats) -> String {
    format!(
        "| {name} | {} | {:.0} | {} | {:+.2} | {:.2} | {:.2} | {:.0} % | {:.0} % | {:+.2} | {:.2} | {} |",
        s.n,
        100.0 * s.ok_share,
        s.sized,
        s.bias_mm,
        s.mean_abs_mm,
        s.p95_mm,
        100.0 * s.within_1,
        100.0 * s.within_2,
        s.ok_bias_mm,
        s.ok_mean_abs_mm,
        s.confident_wrong
    )
}

/// Prints the markdown tables: per family and noise band (sizes from non-dorsal scans),
/// per condition, the gate subset, dorsal honesty, and failures.
pub fn print_tables(results: &[CaseResult]) {
    let measured_cover = |r: &&CaseResult| r.case.cover != Cover::Dorsal;
    println!("\n### Per family and noise band (full and partial coverage)\n\n{HEADER}");
    for f in Family::ALL {
        let fam: Vec<&CaseResult> = results
            .iter()
            .filter(measured_cover)
            .filter(|r| r.case.family == f)
            .collect();
        if fam.is_empty() {
            continue;
        }
        println!(
            "{}",
            line(&format!("**{}**", f.name()), &stats(fam.iter().copied()))
        );
        for b in ["0.3-0.6", "0.6-0.9", "0.9-1.2"] {
            let g = fam.iter().copied().filter(|r| band(r.case.noise_mm) == b);
            println!("{}", line(&format!("{} {b}", f.name()), &stats(g)));
        }
    }
    println!(
        "{}",
        line("**all**", &stats(results.iter().filter(measured_cover)))
    );
    println!("\n### Per condition (full and partial coverage)\n\n{HEADER}");
    let cond = |name: &str, p: &dyn Fn(&Case) -> bool| {
        println!(
            "{}",
            line(
                name,
                &stats(results.iter().filter(measured_cover).filter(|r| p(&r.case)))
            )
        );
    };
    cond("full", &|c| c.cover == Cover::Full);
    cond("partial", &|c| c.cover == Cover::Partial);
    cond("poses", &|c| c.poses);
    cond("no poses", &|c| !c.poses);
    cond("landmarks", &|c| c.landmarks);
    cond("no landmarks", &|c| !c.landmarks);
    cond("edge sim", &|c| c.edge == Edge::Sim);
    cond("edge eroded", &|c| c.edge == Edge::Eroded);
    for f in [Finger::Index, Finger::Middle, Finger::Ring, Finger::Little] {
        cond(&format!("{f:?}"), &|c| c.finger == f);
    }
    cond("frames 30-59", &|c| c.frames < 60);
    cond("frames 60-120", &|c| c.frames >= 60);
    let gate: Vec<&CaseResult> = results
        .iter()
        .filter(|r| r.case.cover == Cover::Full && r.case.noise_mm <= 0.8 && r.case.frames >= 32)
        .collect();
    println!("\n### Gate subset (full coverage, noise ≤ 0.8 mm, ≥ 32 frames)\n\n{HEADER}");
    println!("{}", line("gate", &stats(gate.iter().copied())));
    println!(
        "{}",
        line(
            "gate, landmarks",
            &stats(gate.iter().copied().filter(|r| r.case.landmarks))
        )
    );
    let dorsal: Vec<&CaseResult> = results
        .iter()
        .filter(|r| r.case.cover == Cover::Dorsal && r.measurement.is_some())
        .collect();
    let insufficient = dorsal
        .iter()
        .filter(|r| {
            r.measurement
                .as_ref()
                .is_some_and(|m| !m.ok && m.insufficient_coverage)
        })
        .count();
    let dorsal_ok = dorsal.iter().filter(|r| r.ok()).count();
    println!(
        "\nDorsal-only: {} scans, {insufficient} insufficient_coverage, {dorsal_ok} ok.",
        dorsal.len()
    );
    let failed: Vec<&CaseResult> = results.iter().filter(|r| r.measurement.is_none()).collect();
    println!(
        "Not measured (case not buildable or session error): {}",
        failed.len()
    );
    for r in failed.iter().take(10) {
        println!(
            "  #{} {}: {}",
            r.case.index,
            r.case.family.name(),
            r.error.clone().unwrap_or_default()
        );
    }
}

/// Parses the `--rows` lines of a run (see [`row_line`]) back into results, so a run's
/// tables can be printed from its rows (`--summary FILE`), e.g. of a run stopped early.
pub fn parse_rows(text: &str) -> Vec<CaseResult> {
    text.lines().filter_map(parse_row).collect()
}

fn parse_row(line: &str) -> Option<CaseResult> {
    let line = line.strip_prefix('#')?;
    let (head, tail) = line.split_once(" truth ")?;
    let t: Vec<&str> = head.split_whitespace().collect();
    // index family side finger "noise" x cover frames "fr" "poses" b "lm" b edge
    if t.len() < 14 {
        return None;
    }
    let family = Family::ALL.into_iter().find(|f| f.name() == t[1])?;
    let side = if t[2] == "Left" {
        Hand::Left
    } else {
        Hand::Right
    };
    let finger = [Finger::Index, Finger::Middle, Finger::Ring, Finger::Little]
        .into_iter()
        .find(|f| format!("{f:?}") == t[3])?;
    let cover = match t[6] {
        "Full" => Cover::Full,
        "Partial" => Cover::Partial,
        _ => Cover::Dorsal,
    };
    let case = Case {
        index: t[0].parse().ok()?,
        seed: 0,
        family,
        side,
        finger,
        noise_mm: t[5].parse().ok()?,
        cover,
        frames: t[7].parse().ok()?,
        poses: t[10] == "true",
        landmarks: t[12] == "true",
        edge: if t[13] == "Sim" {
            Edge::Sim
        } else {
            Edge::Eroded
        },
    };
    let (truth, rest) = tail.split_once(" -> ")?;
    let truth_mm = truth.trim().parse::<f64>().ok();
    let num = |key: &str| -> Option<f64> {
        let at = rest.rfind(key)? + key.len();
        rest[at..].split_whitespace().next()?.parse().ok()
    };
    let measured = rest.starts_with("Ok ") || rest.starts_with("NeedsRescan ");
    let measurement = measured.then(|| {
        let verdict = rest[..rest.rfind(" err ").unwrap_or(rest.len())].to_string();
        let err = num(" err ");
        Outcome {
            ok: rest.starts_with("Ok "),
            insufficient_coverage: verdict.contains("InsufficientCoverage"),
            ring_mm: err.and_then(|e| Some(e + truth_mm?)),
            sigma_mm: num(" sigma "),
            coverage_deg: num(" cov ").unwrap_or(0.0),
            verdict,
        }
    });
    Some(CaseResult {
        case,
        truth_mm,
        error: (!measured).then(|| rest.to_string()),
        measurement,
    })
}
