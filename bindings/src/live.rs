//! Live delivery: the camera thread hands frames over without waiting, and the measurement
//! is taken off the UI thread.
//!
//! Drop policy of the `offer_*` calls: one frame is worked at a time on the session's own
//! worker thread, and one more may wait in a single slot. A frame offered while another
//! one waits replaces it (keep the latest: the user sees guidance for what the camera sees
//! now); the replaced frame is dropped and counted (`Guidance.frames_dropped`,
//! `ScanSession.frames_dropped`). A frame being worked is never interrupted. `offer_*`
//! copies the buffer and returns at once; the frame's report reaches the listener
//! (`on_guidance`, `on_frame_rejected`) from the worker thread.
//!
//! `finish_in_background` waits for the slot to drain (so every frame offered before it
//! and not dropped is measured), measures on a thread of its own and calls the
//! [`FinishListener`]; the caller's thread never waits on it.

use crate::convert::{self, BufferLayout, TrueDepthPixelFormat};
use crate::error::{guard, MandrelError};
use crate::measurement::{MeasurementStatus, RescanReason, RingMeasurement};
use crate::session::{FrameInfo, ScanSession};
use mandrel_core::session as core;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};

/// A measurement taken while scanning, from the frames kept so far (cheap, bounded).
#[derive(Debug, Clone, Copy, PartialEq, uniffi::Record)]
pub struct ProvisionalMeasurement {
    /// Frames pushed when it was taken.
    pub frames_pushed: u32,
    /// Ring circumference, millimetres, if a ring section was fitted.
    pub ring_circumference_mm: Option<f64>,
    /// 1σ uncertainty of the circumference, millimetres.
    pub uncertainty_mm: Option<f64>,
    /// What `finish` would most likely say now.
    pub status: MeasurementStatus,
    /// The first reason it is not `Ok` (what is missing), if any.
    pub missing: Option<RescanReason>,
}

impl From<core::Provisional> for ProvisionalMeasurement {
    fn from(p: core::Provisional) -> Self {
        Self {
            frames_pushed: p.frames_pushed.min(u32::MAX as usize) as u32,
            ring_circumference_mm: p.ring_circumference_mm,
            uncertainty_mm: p.uncertainty_mm,
            status: match p.status {
                mandrel_core::measure::Status::Ok => MeasurementStatus::Ok,
                _ => MeasurementStatus::NeedsRescan,
            },
            missing: p.missing.map(Into::into),
        }
    }
}

/// Receives the result of `finish_in_background`, on a background thread.
#[uniffi::export(with_foreign)]
pub trait FinishListener: Send + Sync {
    /// The measurement (which may say `NeedsRescan` with reasons).
    fn on_measurement(&self, measurement: RingMeasurement);
    /// `finish` failed (e.g. no frame was pushed); the message says why.
    fn on_failure(&self, message: String);
}

pub(crate) type Job = Box<dyn FnOnce(&ScanSession) + Send>;

#[derive(Default)]
struct SlotState {
    pending: Option<Job>,
    busy: bool,
    worker_running: bool,
    closed: bool,
}

/// The keep-latest slot between the camera thread and the session's worker thread.
#[derive(Default)]
pub(crate) struct LiveSlot {
    state: Mutex<SlotState>,
    changed: Condvar,
    dropped: AtomicU32,
}

impl LiveSlot {
    fn lock(&self) -> MutexGuard<'_, SlotState> {
        // The slot holds no invariant a panic could break half-way: keep going.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Frames dropped so far by the keep-latest policy.
    pub(crate) fn dropped(&self) -> u32 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Puts `job` in the slot (replacing and counting a waiting one), starting the worker
    /// on first use. Never waits on a frame being worked.
    fn offer(self: &Arc<Self>, session: Weak<ScanSession>, job: Job) -> Result<(), MandrelError> {
        let mut st = self.lock();
        if st.closed {
            return Err(MandrelError::Internal("the session is closed".into()));
        }
        if st.pending.replace(job).is_some() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
        if !st.worker_running {
            let slot = Arc::clone(self);
            std::thread::Builder::new()
                .name("mandrel-live".into())
                .spawn(move || work(slot, session))
                .map_err(|e| {
                    MandrelError::Internal(format!("cannot start the frame worker: {e}"))
                })?;
            st.worker_running = true;
        }
        self.changed.notify_all();
        Ok(())
    }

    /// Blocks until no frame waits and none is being worked.
    fn wait_idle(&self) {
        let mut st = self.lock();
        while st.pending.is_some() || st.busy {
            st = self.changed.wait(st).unwrap_or_else(|p| p.into_inner());
        }
    }

    /// Stops the worker after the frame it is working (a waiting frame is discarded).
    pub(crate) fn close(&self) {
        let mut st = self.lock();
        st.closed = true;
        st.pending = None;
        self.changed.notify_all();
    }
}

/// The worker: takes the latest frame from the slot and pushes it, until closed.
fn work(slot: Arc<LiveSlot>, session: Weak<ScanSession>) {
    loop {
        let job = {
            let mut st = slot.lock();
            loop {
                if st.closed {
                    st.worker_running = false;
                    slot.changed.notify_all();
                    return;
                }
                if let Some(j) = st.pending.take() {
                    st.busy = true;
                    break j;
                }
                st = slot.changed.wait(st).unwrap_or_else(|p| p.into_inner());
            }
        };
        match session.upgrade() {
            Some(s) => job(&s),
            None => slot.close(),
        }
        let mut st = slot.lock();
        st.busy = false;
        slot.changed.notify_all();
    }
}

impl Drop for ScanSession {
    fn drop(&mut self) {
        self.live.close();
    }
}

impl ScanSession {
    /// Hands `job` to the keep-latest slot (shared by the `offer_*` calls and the virtual
    /// sensor's `offer_next`).
    pub(crate) fn offer(self: Arc<Self>, job: Job) -> Result<(), MandrelError> {
        let weak = Arc::downgrade(&self);
        self.live.offer(weak, job)
    }
}

#[uniffi::export]
impl ScanSession {
    /// Non-blocking `push_truedepth` for the camera thread: copies the buffer and returns
    /// at once; the frame is worked on the session's worker thread, and a frame still
    /// waiting when a newer one arrives is dropped (keep the latest; see
    /// `frames_dropped`). Results reach the listener.
    pub fn offer_truedepth(
        self: Arc<Self>,
        depth: Vec<u8>,
        format: TrueDepthPixelFormat,
        layout: BufferLayout,
        info: FrameInfo,
    ) -> Result<(), MandrelError> {
        self.offer(Box::new(move |s: &ScanSession| {
            let _ = s.push("offer_truedepth", info, || {
                convert::truedepth_depth(&depth, format, layout)
            });
        }))
    }

    /// Non-blocking `push_arkit_depth` (see `offer_truedepth` for the drop policy).
    pub fn offer_arkit_depth(
        self: Arc<Self>,
        depth: Vec<u8>,
        confidence: Vec<u8>,
        layout: BufferLayout,
        info: FrameInfo,
    ) -> Result<(), MandrelError> {
        self.offer(Box::new(move |s: &ScanSession| {
            let _ = s.push("offer_arkit_depth", info, || {
                convert::arkit_depth(&depth, &confidence, layout)
            });
        }))
    }

    /// Non-blocking `push_arcore_depth` (see `offer_truedepth` for the drop policy).
    pub fn offer_arcore_depth(
        self: Arc<Self>,
        depth: Vec<u8>,
        confidence: Vec<u8>,
        layout: BufferLayout,
        info: FrameInfo,
    ) -> Result<(), MandrelError> {
        self.offer(Box::new(move |s: &ScanSession| {
            let _ = s.push("offer_arcore_depth", info, || {
                convert::arcore_depth(&depth, &confidence, layout)
            });
        }))
    }

    /// Frames the `offer_*` calls dropped so far (a newer frame replaced them while they
    /// waited).
    pub fn frames_dropped(&self) -> u32 {
        self.live.dropped()
    }

    /// Blocks until every offered frame that was not dropped has been worked. For tests
    /// and for shells that want the last frame in before `finish`; never call it from the
    /// camera or UI thread.
    pub fn wait_for_offered_frames(&self) {
        self.live.wait_idle();
    }

    /// `finish` off the caller's thread: waits for offered frames to be worked, measures on
    /// a background thread and calls `listener`. Returns at once.
    pub fn finish_in_background(
        self: Arc<Self>,
        listener: Arc<dyn FinishListener>,
    ) -> Result<(), MandrelError> {
        std::thread::Builder::new()
            .name("mandrel-finish".into())
            .spawn(move || {
                self.live.wait_idle();
                let result = self.finish();
                let _ = guard("FinishListener", || {
                    match result {
                        Ok(m) => listener.on_measurement(m),
                        Err(e) => listener.on_failure(e.to_string()),
                    }
                    Ok(())
                });
            })
            .map(|_| ())
            .map_err(|e| MandrelError::Internal(format!("cannot start the finish thread: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::convert::CameraIntrinsics;
    use crate::session::{session_config_defaults, FingerName, HandSide};
    use std::sync::mpsc;

    fn info(t: f64) -> FrameInfo {
        FrameInfo {
            intrinsics: CameraIntrinsics {
                width: 64,
                height: 48,
                fx: 60.0,
                fy: 60.0,
                cx: 31.5,
                cy: 23.5,
            },
            pose: None,
            timestamp_s: t,
            landmarks: None,
        }
    }

    fn plane() -> Vec<u8> {
        (0..64 * 48).flat_map(|_| 0.3f32.to_le_bytes()).collect()
    }

    const LAYOUT: BufferLayout = BufferLayout {
        width: 64,
        height: 48,
        bytes_per_row: 0,
    };

    struct Finished(Mutex<mpsc::Sender<Result<u32, String>>>);
    impl FinishListener for Finished {
        fn on_measurement(&self, m: RingMeasurement) {
            let _ = self.0.lock().unwrap().send(Ok(m.frames_used));
        }
        fn on_failure(&self, message: String) {
            let _ = self.0.lock().unwrap().send(Err(message));
        }
    }

    #[test]
    fn offered_frames_are_worked_or_dropped_and_counted_never_lost() {
        let s =
            ScanSession::new(session_config_defaults(HandSide::Left, FingerName::Ring)).unwrap();
        let n = 40;
        for i in 0..n {
            Arc::clone(&s)
                .offer_truedepth(
                    plane(),
                    TrueDepthPixelFormat::DepthFloat32,
                    LAYOUT,
                    info(i as f64 / 30.0),
                )
                .unwrap();
        }
        s.wait_for_offered_frames();
        let g = s.guidance().unwrap();
        assert_eq!(g.frames_dropped, s.frames_dropped());
        assert_eq!(g.frames_pushed + g.frames_dropped, n);
        assert!(g.frames_pushed >= 1);
    }

    #[test]
    fn finish_in_background_reports_to_its_listener() {
        let s =
            ScanSession::new(session_config_defaults(HandSide::Left, FingerName::Ring)).unwrap();
        let (tx, rx) = mpsc::channel();
        // Nothing pushed: the listener hears the failure, the caller does not wait.
        Arc::clone(&s)
            .finish_in_background(Arc::new(Finished(Mutex::new(tx.clone()))))
            .unwrap();
        let r = rx.recv_timeout(std::time::Duration::from_secs(30)).unwrap();
        assert!(r.is_err(), "{r:?}");
        Arc::clone(&s)
            .offer_truedepth(
                plane(),
                TrueDepthPixelFormat::DepthFloat32,
                LAYOUT,
                info(0.0),
            )
            .unwrap();
        Arc::clone(&s)
            .finish_in_background(Arc::new(Finished(Mutex::new(tx))))
            .unwrap();
        let r = rx.recv_timeout(std::time::Duration::from_secs(60)).unwrap();
        assert!(r.is_ok(), "{r:?}");
    }
}
