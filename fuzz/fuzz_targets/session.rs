//! Sequences of `push_frame`, `push_landmarks` and `finish` on small arbitrary frames:
//! arbitrary depth, intrinsics, poses (as 16 row-major numbers) and landmarks.
#![no_main]
use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use mandrel_core::frame::{pose, DepthFrame, Frame, Intrinsics, Landmarks};
use mandrel_core::hand::{Finger, Hand, Target};
use mandrel_core::session::{ScanSession, SessionConfig};

#[derive(Arbitrary, Debug)]
enum Op {
    Push {
        width: u8,
        height: u8,
        /// Depth in millimetres, repeated to fill the frame.
        depth_mm: Vec<u16>,
        focal: f32,
        pose: Option<[f32; 16]>,
        landmarks: Option<Vec<(f32, f32)>>,
        timestamp: f32,
    },
    Landmarks {
        index: u8,
        points: Vec<(f32, f32)>,
    },
    Finish,
}

#[derive(Arbitrary, Debug)]
struct Input {
    use_landmarks: bool,
    ops: Vec<Op>,
}

fn landmarks(points: &[(f32, f32)]) -> Option<Landmarks> {
    let p: Vec<[f64; 2]> = points.iter().map(|&(x, y)| [x as f64, y as f64]).collect();
    Landmarks::new(&p).ok()
}

fuzz_target!(|input: Input| {
    let mut cfg = SessionConfig::new(Target {
        hand: Hand::Left,
        finger: Finger::Ring,
    });
    cfg.use_landmarks = input.use_landmarks;
    let Ok(mut session) = ScanSession::new(cfg) else {
        return;
    };
    for op in input.ops.into_iter().take(24) {
        match op {
            Op::Push {
                width,
                height,
                depth_mm,
                focal,
                pose: p,
                landmarks: l,
                timestamp,
            } => {
                let (w, h) = ((width % 24) as u32 + 1, (height % 24) as u32 + 1);
                if depth_mm.is_empty() {
                    continue;
                }
                let depth: Vec<f32> = (0..(w * h) as usize)
                    .map(|i| depth_mm[i % depth_mm.len()] as f32 / 1000.0)
                    .collect();
                let Ok(depth) = DepthFrame::from_metres(w, h, depth) else {
                    continue;
                };
                let k = Intrinsics {
                    width: w,
                    height: h,
                    fx: focal as f64,
                    fy: focal as f64,
                    cx: (w as f64 - 1.0) / 2.0,
                    cy: (h as f64 - 1.0) / 2.0,
                };
                let pose = match p {
                    Some(m) => {
                        let m: Vec<f64> = m.iter().map(|&x| x as f64).collect();
                        match pose::from_row_major(&m) {
                            Ok(p) => Some(p),
                            Err(_) => continue,
                        }
                    }
                    None => None,
                };
                // Built field by field, not through `Frame::new`: the session must check
                // whatever it is given.
                let frame = Frame {
                    depth,
                    intrinsics: k,
                    pose,
                    landmarks: l.as_deref().and_then(landmarks),
                    timestamp: timestamp as f64,
                };
                let _ = session.push_frame(frame);
            }
            Op::Landmarks { index, points } => {
                if let Some(l) = landmarks(&points) {
                    let _ = session.push_landmarks(index as usize, l);
                }
            }
            Op::Finish => {
                let _ = session.finish();
            }
        }
    }
    let _ = session.guidance();
});
