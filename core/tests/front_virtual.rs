//! Issue 14 item 6: randomised front-camera scans (still phone, hand turning back → side →
//! palm, torso and face fixed to the camera, no poses) through the [`ScanSession`] a phone
//! runs, with and without landmarks, both hands.
//!
//! `front_camera_randomised_set` is `#[ignore]`d (tens of minutes): run it with
//! `cargo test --release --locked -p mandrel-core --test front_virtual -- --ignored --nocapture`.
//! It prints a row per session and the table (n, ok %, mean |err|, p95 |err|, within 1σ
//! and 2σ, frames to `Done`), then checks the acceptance: ≥ 90 % `ok`, mean |err| ≤ 0.3 mm,
//! |err| ≤ 2σ on ≥ 95 % of the `ok` results. Environment: `FRONT_VIRTUAL_N` scans (default
//! 50; each is measured with and without landmarks), `FRONT_VIRTUAL_FRAMES` (default 90),
//! `FRONT_VIRTUAL_BODY=0` leaves out the torso and face (the control),
//! `FRONT_VIRTUAL_THREADS` (default 1).
//!
//! `front_scan_ci_sized` is the small fixed-seed version that runs in CI.
//!
//! `front_landmark_free_diagnostic` (ignored) prints, per seed, where the finger was
//! located against the truth, the ring section's coverage and sigma parts and the
//! landmark-free finder's cues; with `FRONT_DIAG_SAVE` set to a directory it also saves
//! each landmark-free session's surface, which `front_free_cues_on_saved_surfaces` (ignored)
//! reads to try the finder's MCP cues without re-running the sessions.

use mandrel_core::hand::Hand;
use mandrel_core::measure::Status;
use mandrel_core::session::{Hint, ScanSession, SessionConfig};
use mandrel_sim::{Coverage, SimOptions, SimScan};
use std::sync::Mutex;

#[derive(Debug, Clone)]
struct Row {
    seed: u64,
    landmarks: bool,
    err_mm: Option<f64>,
    sigma_mm: Option<f64>,
    status: Status,
    frames_to_done: Option<usize>,
    ms_per_frame: f64,
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn options(seed: u64, frames: usize, body: bool) -> SimOptions {
    SimOptions {
        coverage: Coverage::Turn,
        poses_given: false,
        frames,
        hand_side: Some(if seed.is_multiple_of(2) {
            Hand::Left
        } else {
            Hand::Right
        }),
        body_behind: Some(body),
        ..SimOptions::default()
    }
}

/// Pushes every frame, records when guidance first says `Done`, then finishes.
fn run_session(sim: &SimScan, use_landmarks: bool, seed: u64) -> Row {
    let mut cfg = SessionConfig::new(sim.target);
    cfg.use_landmarks = use_landmarks;
    let mut session = ScanSession::new(cfg).expect("session");
    let mut done_at = None;
    let t = std::time::Instant::now();
    for (i, f) in sim.frames.iter().enumerate() {
        match session.push_frame(f.clone()) {
            Ok(r) => {
                if done_at.is_none() && r.guidance.hint == Hint::Done {
                    done_at = Some(i + 1);
                }
            }
            Err(e) => {
                println!("seed {seed} landmarks {use_landmarks}: push_frame {i}: {e}");
                break;
            }
        }
    }
    let ms_per_frame = t.elapsed().as_secs_f64() * 1e3 / sim.frames.len().max(1) as f64;
    let (err_mm, sigma_mm, status, reasons) = match session.finish() {
        Ok(m) => (
            m.ring_circumference_mm
                .map(|r| r - sim.truth.ring_circumference_mm),
            m.uncertainty_mm,
            m.status,
            format!("{:?}", m.reasons),
        ),
        Err(e) => (None, None, Status::NeedsRescan, format!("error: {e}")),
    };
    println!(
        "seed {seed} {:?} landmarks {use_landmarks}: truth {:.2} err {} sigma {} {:?} {} done at {} ({:.0} ms/frame)",
        sim.target.hand,
        sim.truth.ring_circumference_mm,
        err_mm.map_or("-".into(), |e| format!("{e:+.3}")),
        sigma_mm.map_or("-".into(), |s| format!("{s:.3}")),
        status,
        reasons,
        done_at.map_or("-".into(), |d| d.to_string()),
        ms_per_frame
    );
    Row {
        seed,
        landmarks: use_landmarks,
        err_mm,
        sigma_mm,
        status,
        frames_to_done: done_at,
        ms_per_frame,
    }
}

fn run_all(seeds: std::ops::Range<u64>, frames: usize, body: bool, threads: usize) -> Vec<Row> {
    let next = Mutex::new(seeds);
    let rows = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..threads.max(1) {
            s.spawn(|| loop {
                let Some(seed) = next.lock().unwrap().next() else {
                    break;
                };
                let sim = SimScan::generate(seed, &options(seed, frames, body)).expect("sim");
                for lm in [true, false] {
                    let r = run_session(&sim, lm, seed);
                    rows.lock().unwrap().push(r);
                }
            });
        }
    });
    let mut rows = rows.into_inner().unwrap();
    rows.sort_by_key(|r| (r.seed, !r.landmarks));
    rows
}

/// Table figures over `rows`.
struct Summary {
    n: usize,
    ok_rate: f64,
    mean_abs_mm: f64,
    p95_abs_mm: f64,
    within_1s: f64,
    within_2s: f64,
}

fn summarise(rows: &[&Row], label: &str) -> Summary {
    let ok: Vec<(f64, f64)> = rows
        .iter()
        .filter(|r| r.status == Status::Ok)
        .filter_map(|r| Some((r.err_mm?.abs(), r.sigma_mm?)))
        .collect();
    let k = ok.len().max(1) as f64;
    let mut abs: Vec<f64> = ok.iter().map(|e| e.0).collect();
    abs.sort_by(f64::total_cmp);
    let p95 = abs
        .get(((abs.len() as f64 * 0.95).ceil() as usize).saturating_sub(1))
        .copied()
        .unwrap_or(f64::NAN);
    let done: Vec<usize> = rows.iter().filter_map(|r| r.frames_to_done).collect();
    let mut done_sorted = done.clone();
    done_sorted.sort_unstable();
    let s = Summary {
        n: rows.len(),
        ok_rate: ok.len() as f64 / rows.len().max(1) as f64,
        mean_abs_mm: abs.iter().sum::<f64>() / k,
        p95_abs_mm: p95,
        within_1s: ok.iter().filter(|e| e.0 <= e.1).count() as f64 / k,
        within_2s: ok.iter().filter(|e| e.0 <= 2.0 * e.1).count() as f64 / k,
    };
    let ms = rows.iter().map(|r| r.ms_per_frame).sum::<f64>() / rows.len().max(1) as f64;
    println!(
        "| {label} | {} | {:.0} % | {:.3} | {:.3} | {:.0} % | {:.0} % | {} of {} (median {}) | {:.0} |",
        s.n,
        100.0 * s.ok_rate,
        s.mean_abs_mm,
        s.p95_abs_mm,
        100.0 * s.within_1s,
        100.0 * s.within_2s,
        done.len(),
        rows.len(),
        done_sorted
            .get(done_sorted.len() / 2)
            .map_or("-".into(), |d| d.to_string()),
        ms
    );
    s
}

fn table(rows: &[Row]) -> Vec<Summary> {
    println!("| set | n | ok | mean abs err mm | p95 abs err mm | within 1 sigma | within 2 sigma | reached Done | ms/frame |");
    println!("|---|---|---|---|---|---|---|---|---|");
    let lm: Vec<&Row> = rows.iter().filter(|r| r.landmarks).collect();
    let geo: Vec<&Row> = rows.iter().filter(|r| !r.landmarks).collect();
    let all: Vec<&Row> = rows.iter().collect();
    vec![
        summarise(&all, "all"),
        summarise(&lm, "with landmarks"),
        summarise(&geo, "landmark-free"),
    ]
}

/// Issue 14 item 6 acceptance over ≥ 50 randomised front-camera scans (see the module doc).
#[test]
#[ignore = "tens of minutes; run with --ignored --nocapture"]
fn front_camera_randomised_set() {
    let n = env_usize("FRONT_VIRTUAL_N", 50) as u64;
    let frames = env_usize("FRONT_VIRTUAL_FRAMES", 90);
    let body = env_usize("FRONT_VIRTUAL_BODY", 1) != 0;
    let threads = env_usize("FRONT_VIRTUAL_THREADS", 1);
    println!("front-camera set: {n} scans x {frames} frames, body behind: {body}");
    let rows = run_all(1400..1400 + n, frames, body, threads);
    let s = &table(&rows)[0];
    assert!(s.n >= 100 || n < 50, "fewer sessions than asked");
    assert!(
        s.ok_rate >= 0.9,
        "ok on {:.0} % (< 90 %)",
        100.0 * s.ok_rate
    );
    assert!(s.mean_abs_mm <= 0.3, "mean |err| {:.3} mm", s.mean_abs_mm);
    assert!(
        s.within_2s >= 0.95,
        "within 2 sigma {:.0} %",
        100.0 * s.within_2s
    );
}

/// A fixed-seed front scan, small enough for CI: the virtual sensor's turning hand and
/// structured-light depth measured with the exact hand-to-camera poses given (as platform
/// poses) and no body behind (tracking and background handling are what the ignored set
/// exercises): it must come out `ok` within 2σ (+0.1 mm) of the truth.
#[test]
fn front_scan_ci_sized() {
    let mut sim = SimScan::generate(1401, &options(1401, 45, false)).expect("sim");
    for (f, p) in sim.frames.iter_mut().zip(&sim.true_poses) {
        f.pose = Some(*p);
    }
    let row = run_session(&sim, true, 1401);
    assert_eq!(row.status, Status::Ok, "{row:?}");
    let (e, s) = (row.err_mm.unwrap().abs(), row.sigma_mm.unwrap());
    assert!(e <= 2.0 * s + 0.1, "|err| {e:.3} mm at sigma {s:.3}");
}

/// (along, across) of `d` relative to unit `axis`, millimetres.
fn split_mm(d: nalgebra::Vector3<f64>, axis: &nalgebra::Vector3<f64>) -> (f64, f64) {
    let a = d.dot(axis);
    (a * 1e3, (d - axis * a).norm() * 1e3)
}

/// Diagnostic for the landmark-free front failures: per seed and per mode (with and
/// without landmarks), the located joints and axis against the truth (carried into the
/// session's world through the first frame's true pose), the ring section's coverage,
/// widest gap, view span and sigma parts, the observations kept, and the status; for the
/// landmark-free mode also the finder's candidate (tube length, joints along it, the free
/// finger's start). `FRONT_VIRTUAL_N` scans from seed 1400 (`FRONT_DIAG_FROM` to start
/// elsewhere).
#[test]
#[ignore = "minutes per scan; run with --ignored --nocapture"]
fn front_landmark_free_diagnostic() {
    use mandrel_core::measure::locate::geometric;
    use nalgebra::Point3;
    let n = env_usize("FRONT_VIRTUAL_N", 13) as u64;
    let from = env_usize("FRONT_DIAG_FROM", 1400) as u64;
    let frames = env_usize("FRONT_VIRTUAL_FRAMES", 90);
    let modes: Vec<bool> = match std::env::var("FRONT_DIAG_MODES").as_deref() {
        Ok("free") => vec![false],
        Ok("lm") => vec![true],
        _ => vec![true, false],
    };
    for seed in from..from + n {
        let sim = SimScan::generate(seed, &options(seed, frames, true)).expect("sim");
        let p3 = |a: [f64; 3]| Point3::new(a[0], a[1], a[2]);
        for &lm in &modes {
            let mut cfg = SessionConfig::new(sim.target);
            cfg.use_landmarks = lm;
            let mut s = ScanSession::new(cfg).expect("session");
            let mut to_session = None;
            for (i, f) in sim.frames.iter().enumerate() {
                if let Ok(r) = s.push_frame(f.clone()) {
                    if to_session.is_none() {
                        to_session = r.pose.map(|p| p * sim.true_poses[i].inverse());
                    }
                }
            }
            let to_s = to_session.expect("a fused frame");
            let (mcp_t, pip_t) = (to_s * p3(sim.truth.mcp), to_s * p3(sim.truth.pip));
            let ring_t = to_s * p3(sim.truth.ring_point);
            let axis_t = (pip_t - mcp_t).normalize();
            let Ok((m, d)) = s.finish_detailed() else {
                println!("seed {seed} lm {lm}: finish failed");
                continue;
            };
            println!(
                "seed {seed} {:?} lm {lm}: {:?} {:?} err {} σ {} cov {:.0} kept obs bytes {:.1} MB dropped {}",
                sim.target.hand,
                m.status,
                m.reasons,
                m.ring_circumference_mm
                    .map_or("-".into(), |v| format!("{:+.3}", v - sim.truth.ring_circumference_mm)),
                m.uncertainty_mm.map_or("-".into(), |v| format!("{v:.3}")),
                m.coverage_deg,
                s.observation_bytes() as f64 / 1e6,
                s.observations_dropped(),
            );
            if let Some(f) = d.finger {
                let (ma, mx) = split_mm(f.mcp.position - mcp_t, &axis_t);
                let (pa, px) = split_mm(f.pip.position - pip_t, &axis_t);
                let (ra, rx) = split_mm(f.ring_point() - ring_t, &axis_t);
                println!(
                    "  located: mcp along {ma:+.2} across {mx:.2} | pip along {pa:+.2} across {px:.2} | ring pt along {ra:+.2} across {rx:.2} mm | axis {:.2}° | σ mcp {:.2} pip {:.2} mm (ring pt {:.2})",
                    f.direction().angle(&axis_t).to_degrees(),
                    f.mcp.sigma_m * 1e3,
                    f.pip.sigma_m * 1e3,
                    0.5 * f.mcp.sigma_m.hypot(f.pip.sigma_m) * 1e3,
                );
            }
            if let Some(r) = &d.ring {
                let (ca, cx) = split_mm(r.centre - ring_t, &axis_t);
                let sp = &r.sigma_parts;
                println!(
                    "  ring: centre along {ca:+.2} across {cx:.2} mm, axis {:.2}° from truth (corrected {:.2}°) | cov {:.0} surf {:.0} gap {:.0} span {:.0} | frames {} pts {} tans {} | σ {:.3} [fit {:.3} frames {:.3} pose {:.3} floor {:.3} unobserved {:.3}]",
                    r.axis_direction.angle(&axis_t).to_degrees(),
                    r.axis_correction_deg,
                    r.coverage_deg,
                    r.surface_coverage_deg,
                    r.largest_gap_deg,
                    r.view_span_deg,
                    r.frames_used,
                    r.points_used,
                    r.tangents_used,
                    r.sigma_m * 1e3,
                    sp.fit_m * 1e3,
                    sp.frames_m * 1e3,
                    sp.pose_m * 1e3,
                    sp.floor_m * 1e3,
                    sp.unobserved_m * 1e3,
                );
            }
            if lm {
                continue;
            }
            // The finder's internals on the surface the session searched.
            let mut mesh = s.mesh();
            mesh.remove_small_components(200);
            if let Ok(dir) = std::env::var("FRONT_DIAG_SAVE") {
                let json = serde_json::json!({
                    "vertices": mesh.vertices.iter().map(|p| [p.x, p.y, p.z]).collect::<Vec<_>>(),
                    "normals": mesh.normals.iter().map(|p| [p.x, p.y, p.z]).collect::<Vec<_>>(),
                    "mcp": [mcp_t.x, mcp_t.y, mcp_t.z],
                    "pip": [pip_t.x, pip_t.y, pip_t.z],
                    "finger": sim.target.finger as usize,
                });
                std::fs::write(
                    std::path::Path::new(&dir).join(format!("seed{seed}.json")),
                    json.to_string(),
                )
                .expect("save the surface");
            }
            let surface = geometric::Surface::new(&mesh.vertices, &mesh.normals);
            let cands = geometric::find_fingers_on(&surface);
            let names = match geometric::name_fingers(&cands) {
                Ok(n) => n,
                Err(e) => {
                    println!("  naming: {e} ({} candidates)", cands.len());
                    for c in &cands {
                        println!(
                            "    cand len {:.1} mm base→truth ring pt {:.1} mm, dir {:.0}° from truth",
                            c.length_m() * 1e3,
                            (c.base - ring_t).norm() * 1e3,
                            c.direction.angle(&axis_t).to_degrees()
                        );
                    }
                    continue;
                }
            };
            // Thumb, index, middle, ring, little: the naming's order.
            let k = sim.target.finger as usize;
            let c = &cands[names[k]];
            // Which candidate lies on the true finger (nearest axis point to the ring point).
            let on_true = cands
                .iter()
                .enumerate()
                .min_by(|a, b| {
                    let dist = |c: &geometric::FingerCandidate| {
                        c.axis_points
                            .iter()
                            .map(|p| (p - ring_t).norm())
                            .fold(f64::INFINITY, f64::min)
                    };
                    dist(a.1).total_cmp(&dist(b.1))
                })
                .map(|(i, _)| i);
            let t_of = |p: &Point3<f64>| (p - c.base).dot(&c.direction) * 1e3;
            let prof = geometric::radius_profile(&surface, c);
            let mut cov: Vec<f64> = prof.iter().map(|p| p.coverage_deg).collect();
            cov.sort_by(f64::total_cmp);
            match geometric::joint_cues(&surface, c, sim.target.finger) {
                Ok(j) => println!(
                    "  finder: named {} (on true finger {:?}), tube {:.1} mm, dir {:.2}° from truth; t truth mcp {:.1} pip {:.1}, placed mcp {:.1} pip {:.1}, by proportion {:.1}±{:.1}, free start {}, web combined {}; profile cov median {:.0}",
                    names[k],
                    on_true,
                    c.length_m() * 1e3,
                    c.direction.angle(&axis_t).to_degrees(),
                    t_of(&mcp_t),
                    t_of(&pip_t),
                    t_of(&j.mcp),
                    t_of(&j.pip),
                    j.mcp_by_proportion_m.0 * 1e3,
                    j.mcp_by_proportion_m.1 * 1e3,
                    j.free_start_m.map_or("-".into(), |t| format!("{:.1}", t * 1e3)),
                    j.web_combined,
                    cov.get(cov.len() / 2).copied().unwrap_or(0.0),
                ),
                Err(e) => println!(
                    "  finder: named {} (on true finger {:?}), tube {:.1} mm: {e}",
                    names[k],
                    on_true,
                    c.length_m() * 1e3
                ),
            }
        }
    }
}

/// The landmark-free finder's MCP cues on the surfaces [`front_landmark_free_diagnostic`]
/// saved (`FRONT_DIAG_SAVE` directory, one `seed*.json` per scan): per scan, the proximal
/// phalanx's direction and the MCP knuckle against the truth.
#[test]
#[ignore = "needs FRONT_DIAG_SAVE surfaces from front_landmark_free_diagnostic"]
fn front_free_cues_on_saved_surfaces() {
    use mandrel_core::measure::locate::geometric;
    use nalgebra::{Point3, Vector3};
    let Ok(dir) = std::env::var("FRONT_DIAG_SAVE") else {
        return;
    };
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("save directory")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    for f in files {
        let j: serde_json::Value = serde_json::from_slice(&std::fs::read(&f).unwrap()).unwrap();
        let v3 =
            |v: &serde_json::Value| -> Vec<[f32; 3]> { serde_json::from_value(v.clone()).unwrap() };
        let vertices: Vec<Point3<f32>> = v3(&j["vertices"])
            .iter()
            .map(|a| Point3::from(*a))
            .collect();
        let normals: Vec<Vector3<f32>> = v3(&j["normals"])
            .iter()
            .map(|a| Vector3::from(*a))
            .collect();
        let p = |v: &serde_json::Value| {
            let a: [f64; 3] = serde_json::from_value(v.clone()).unwrap();
            Point3::from(a)
        };
        let (mcp_t, pip_t) = (p(&j["mcp"]), p(&j["pip"]));
        let axis_t = (pip_t - mcp_t).normalize();
        let k = j["finger"].as_u64().unwrap() as usize;
        let finger = mandrel_core::hand::Finger::ALL[k];
        let surface = geometric::Surface::new(&vertices, &normals);
        let cands = geometric::find_fingers_on(&surface);
        let name = f.file_stem().unwrap().to_string_lossy().to_string();
        let Ok(names) = geometric::name_fingers(&cands) else {
            println!("{name}: naming failed");
            continue;
        };
        let c = &cands[names[k]];
        let Ok(cues) = geometric::joint_cues(&surface, c, finger) else {
            println!("{name}: joints not placed");
            continue;
        };
        let t_of = |q: &Point3<f64>| (q - c.base).dot(&c.direction) * 1e3;
        let (ma, mx) = split_mm(cues.mcp - mcp_t, &axis_t);
        let (pa, px) = split_mm(cues.pip - pip_t, &axis_t);
        println!(
            "{name}: tube {:.2}° proximal {} from truth | t truth mcp {:.1} | proportion {:+.1}±{:.1} web {} knuckle {} -> mcp along {ma:+.2} across {mx:.2} σ {:.2} | pip along {pa:+.2} across {px:.2} σ {:.2} mm",
            c.direction.angle(&axis_t).to_degrees(),
            cues.proximal_direction
                .map_or("-".into(), |d| format!("{:.2}°", d.angle(&axis_t).to_degrees())),
            t_of(&mcp_t),
            cues.mcp_by_proportion_m.0 * 1e3 - t_of(&mcp_t),
            cues.mcp_by_proportion_m.1 * 1e3,
            cues.free_start_m.map_or("-".into(), |t| format!("{:.1}{}", t * 1e3, if cues.web_combined { " (combined)" } else { "" })),
            cues.mcp_knuckle_m.map_or("-".into(), |t| format!("{:+.1}", t * 1e3 - t_of(&mcp_t))),
            cues.sigma_mcp_m * 1e3,
            cues.sigma_pip_m * 1e3,
        );
    }
}
