//! ScanSession behaviour that needs no shared data: typed errors, guidance, bookkeeping.

use mandrel_core::frame::{DepthFrame, Frame, Intrinsics, Landmarks};
use mandrel_core::hand::{Finger, Hand, Target};
use mandrel_core::session::{FrameOutcome, Hint, ScanSession, SessionConfig, SessionError};
use nalgebra::{Isometry3, Translation3};

fn target() -> Target {
    Target {
        hand: Hand::Left,
        finger: Finger::Ring,
    }
}

fn k() -> Intrinsics {
    Intrinsics::new(64, 48, 60.0, 60.0, 31.5, 23.5).unwrap()
}

/// A wall at `z` metres (a frame with plenty of depth in range).
fn wall(z: f32, pose: Option<Isometry3<f64>>) -> Frame {
    let d = DepthFrame::from_metres(64, 48, vec![z; 64 * 48]).unwrap();
    Frame::new(d, k(), pose, None, 0.0).unwrap()
}

#[test]
fn invalid_config_is_typed() {
    let mut c = SessionConfig::new(target());
    c.voxel_size_m = 0.0;
    assert!(matches!(
        ScanSession::new(c),
        Err(SessionError::InvalidConfig(_))
    ));
    let mut c = SessionConfig::new(target());
    c.target_coverage_deg = f64::NAN;
    assert!(matches!(
        ScanSession::new(c),
        Err(SessionError::InvalidConfig(_))
    ));
}

#[test]
fn finish_without_frames_is_not_enough_data() {
    let s = ScanSession::new(SessionConfig::new(target())).unwrap();
    let e = s.finish().unwrap_err();
    assert!(matches!(e, SessionError::NotEnoughData(_)), "{e}");
    assert!(e.to_string().contains("no frames"));
    assert_eq!(s.guidance().hint, Hint::HoldStill);
}

#[test]
fn mismatched_frame_is_invalid_and_leaves_session_unchanged() {
    let mut s = ScanSession::new(SessionConfig::new(target())).unwrap();
    let mut f = wall(0.3, Some(Isometry3::identity()));
    f.intrinsics = Intrinsics::new(640, 480, 600.0, 600.0, 319.5, 239.5).unwrap();
    let e = s.push_frame(f).unwrap_err();
    assert!(matches!(e, SessionError::InvalidFrame(_)), "{e}");
    assert_eq!(s.frames_pushed(), 0);
    // Intrinsics edited to zero focal length after construction.
    let mut f = wall(0.3, Some(Isometry3::identity()));
    f.intrinsics.fx = 0.0;
    assert!(matches!(
        s.push_frame(f),
        Err(SessionError::InvalidFrame(_))
    ));
    // Absurd pose (1 km away).
    let mut f = wall(0.3, None);
    f.pose = Some(Isometry3::from_parts(
        Translation3::new(1000.0, 0.0, 0.0),
        Default::default(),
    ));
    assert!(matches!(
        s.push_frame(f),
        Err(SessionError::InvalidFrame(_))
    ));
    assert_eq!(s.frames_pushed(), 0);
}

#[test]
fn frames_fuse_and_guidance_reports_range() {
    let mut s = ScanSession::new(SessionConfig::new(target())).unwrap();
    let r = s
        .push_frame(wall(0.3, Some(Isometry3::identity())))
        .unwrap();
    assert_eq!(r.index, 0);
    assert_eq!(r.outcome, FrameOutcome::Fused);
    assert!(r.pixels_fused > 1000, "{}", r.pixels_fused);
    assert_eq!(r.guidance.frames_fused, 1);
    // Too far: the hint asks to come closer.
    let r = s
        .push_frame(wall(0.58, Some(Isometry3::identity())))
        .unwrap();
    assert_eq!(r.guidance.hint, Hint::MoveCloser);
    // Too near.
    let r = s
        .push_frame(wall(0.11, Some(Isometry3::identity())))
        .unwrap();
    assert_eq!(r.guidance.hint, Hint::MoveFarther);
    // A wall is no hand: finishing gives needs_rescan with a reason, not an error.
    let m = s.finish().unwrap();
    assert_eq!(m.status, mandrel_core::measure::Status::NeedsRescan);
    assert!(!m.reasons.is_empty());
    assert!(m.sizes.is_none());
}

#[test]
fn landmarks_for_unknown_frames_are_rejected() {
    let mut s = ScanSession::new(SessionConfig::new(target())).unwrap();
    let l = Landmarks::new(&[[10.0, 10.0]; 21]).unwrap();
    assert!(matches!(
        s.push_landmarks(0, l.clone()),
        Err(SessionError::NotEnoughData(_))
    ));
    s.push_frame(wall(0.3, Some(Isometry3::identity())))
        .unwrap();
    s.push_landmarks(0, l).unwrap();
}

#[test]
fn session_is_send_and_sync() {
    fn f<T: Send + Sync>() {}
    f::<ScanSession>();
}
