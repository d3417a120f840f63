//! Real data nobody on the team made (`../shared/data/`): the pipeline on real sensor noise.
//!
//! - `open3d_testdata_rgbd`: five room-scale depth frames (Redwood/ICL-NUIM living room, mm
//!   PNG) with an odometry log. Tracking without poses must follow the logged camera motion.
//! - `sr305_hand_depth`: twenty real structured-light frames of a hand at 0.5–0.95 m, no poses,
//!   no truth. Nothing may panic; the hand out of the working range must be reported as such;
//!   single-view data must never produce a confident size.

mod common;

use mandrel_core::frame::formats::png16;
use mandrel_core::frame::pose::from_row_major;
use mandrel_core::frame::{DepthFrame, Frame, Intrinsics};
use mandrel_core::hand::{Finger, Hand, Target};
use mandrel_core::measure::{Reason, Status};
use mandrel_core::session::{Hint, ScanSession, SessionConfig};
use mandrel_core::track::{pose_distance, ModelMap, TrackConfig, TrackStatus, Tracker};
use nalgebra::Isometry3;
use std::path::{Path, PathBuf};

fn data_dir(name: &str) -> Option<PathBuf> {
    common::shared_dir().map(|d| d.join("data").join(name))
}

fn load_png(path: &Path, depth_scale: f64) -> DepthFrame {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    png16(&bytes, depth_scale).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Redwood `.log`: per entry a header line then four rows of a camera-to-world matrix.
fn read_redwood_log(path: &Path) -> Vec<Isometry3<f64>> {
    let text = std::fs::read_to_string(path).expect("read log");
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines
        .chunks(5)
        .map(|c| {
            let v: Vec<f64> = c[1..]
                .iter()
                .flat_map(|l| {
                    l.split_whitespace()
                        .map(|x| x.parse::<f64>().expect("number"))
                })
                .collect();
            from_row_major(&v).expect("rigid pose in log")
        })
        .collect()
}

#[test]
fn open3d_room_frames_track_like_the_odometry_log() {
    let Some(dir) = data_dir("open3d_testdata_rgbd") else {
        return;
    };
    let k = Intrinsics::new(640, 480, 525.0, 525.0, 319.5, 239.5).expect("intrinsics");
    let logged = read_redwood_log(&dir.join("odometry.log"));
    assert_eq!(logged.len(), 5);
    let frames: Vec<DepthFrame> = (0..5)
        .map(|i| load_png(&dir.join(format!("depth/{i:05}.png")), 1000.0))
        .collect();
    let track_cfg = TrackConfig {
        min_depth_m: 0.5,
        max_depth_m: 3.5,
        max_distance_m: vec![0.03, 0.06, 0.12],
        huber_delta_m: 0.01,
        max_residual_m: 0.02,
        max_jump_m: 0.3,
        ..TrackConfig::default()
    };
    let mut tracker = Tracker::new(track_cfg).expect("config");
    // Frame-to-frame (room scale is beyond the hand-scale TSDF's voxel range).
    let mut poses = vec![tracker.bootstrap(&frames[0], None).pose];
    for i in 1..frames.len() {
        let model = ModelMap::from_depth(&frames[i - 1], &k, &poses[i - 1]).expect("model");
        let r = tracker
            .track_map(&frames[i], &k, &model, None)
            .expect("track");
        assert_eq!(
            r.health.status,
            TrackStatus::Ok,
            "frame {i}: {:?}",
            r.health
        );
        poses.push(r.pose);
    }
    // Compare the motion relative to frame 0 with the log's.
    for i in 1..5 {
        let ours = poses[0].inverse() * poses[i];
        let log = logged[0].inverse() * logged[i];
        let (dm, ddeg) = pose_distance(&ours, &log);
        let (mm, mdeg) = pose_distance(&Isometry3::identity(), &log);
        assert!(
            dm <= 0.05 * mm + 0.002 && ddeg <= 0.25,
            "frame {i}: tracked motion differs from the log by {:.1} mm {:.2} deg",
            dm * 1e3,
            ddeg
        );
        eprintln!(
            "frame {i}: logged motion {:.1} mm {:.2} deg; ours differs by {:.1} mm {:.2} deg",
            mm * 1e3,
            mdeg,
            dm * 1e3,
            ddeg
        );
    }
}

const SR305_SCALE: f64 = 8000.0;

fn sr305_frames() -> Option<Vec<Frame>> {
    let dir = data_dir("sr305_hand_depth")?;
    let k = Intrinsics::new(640, 480, 476.007, 476.007, 313.683, 242.755).expect("intrinsics");
    let mut paths: Vec<PathBuf> = ["20210326-230536", "20210326-231615"]
        .iter()
        .flat_map(|s| std::fs::read_dir(dir.join(s)).expect("sr305 folder"))
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "png"))
        .collect();
    paths.sort();
    // The README says 20 frames; the folders hold 8 + 11.
    assert!(
        paths.len() >= 19,
        "sr305_hand_depth: {} frames",
        paths.len()
    );
    Some(
        paths
            .iter()
            .enumerate()
            .map(|(i, p)| {
                Frame::new(load_png(p, SR305_SCALE), k, None, None, i as f64 / 30.0).expect("frame")
            })
            .collect(),
    )
}

fn target() -> Target {
    Target {
        hand: Hand::Right,
        finger: Finger::Ring,
    }
}

fn session(max_depth_m: f32) -> ScanSession {
    let mut cfg = SessionConfig::new(target());
    cfg.max_depth_m = max_depth_m;
    cfg.use_landmarks = false;
    ScanSession::new(cfg).expect("session")
}

#[test]
fn sr305_hand_beyond_working_range_is_reported_not_measured() {
    let Some(frames) = sr305_frames() else { return };
    // The hand is held at 0.52-0.95 m; the default working range ends at 0.6 m.
    let mut s = session(SessionConfig::new(target()).max_depth_m);
    for f in frames {
        s.push_frame(f).expect("a real frame is valid input");
    }
    let g = s.guidance();
    assert_eq!(g.hint, Hint::MoveCloser, "{g:?}");
    let m = s.finish().expect("finish");
    eprintln!("default range: {:?} {:?}", m.status, m.reasons);
    assert_eq!(m.status, Status::NeedsRescan);
    assert!(
        m.reasons.contains(&Reason::HandOutOfRange),
        "{:?}",
        m.reasons
    );
    assert!(m.ring_circumference_mm.is_none());
}

#[test]
fn sr305_single_views_never_give_a_confident_size() {
    let Some(frames) = sr305_frames() else { return };
    // With the range opened to 1 m each frame alone is one view of the hand: too little of
    // the finger's circumference for a size, whatever the finder makes of it.
    for (i, f) in frames.into_iter().enumerate() {
        let mut s = session(1.0);
        let report = s.push_frame(f).expect("valid frame");
        let m = s.finish().expect("finish");
        eprintln!(
            "frame {i}: {:?} {:?} {:?} ring {:?} coverage {:.0}",
            report.outcome, m.status, m.reasons, m.ring_circumference_mm, m.coverage_deg
        );
        assert_eq!(m.status, Status::NeedsRescan, "frame {i}");
        if let Some(c) = m.ring_circumference_mm {
            assert!((35.0..=90.0).contains(&c), "frame {i}: implausible {c} mm");
        }
    }
}
