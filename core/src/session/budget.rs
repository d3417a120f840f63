//! The session's bounded observation store: what keeps a session's memory fixed however
//! long the camera runs ([`crate::limits`]).
//!
//! Before the finger is located a frame's observations cover the whole view, so each frame
//! is first thinned to [`MAX_OBSERVATION_POINTS_PER_FRAME`]. The kept frames together stay
//! under [`MAX_SESSION_OBSERVATION_BYTES`]: when a new frame would pass it, every second
//! kept frame is dropped and from then on only every second new frame is kept (the stride
//! doubles each time), so the kept frames stay spread evenly over the whole scan.

use crate::limits::{MAX_OBSERVATION_POINTS_PER_FRAME, MAX_SESSION_OBSERVATION_BYTES};
use crate::measure::observe::FrameObservations;

/// Keeps every `stride`-th offered frame and thins the store when it passes the budget.
#[derive(Debug, Clone)]
pub(crate) struct ObservationBudget {
    /// Keep one offered frame in `stride`.
    stride: usize,
    /// Frames offered so far.
    offered: usize,
    /// Frames dropped by the budget so far.
    dropped: usize,
}

impl Default for ObservationBudget {
    fn default() -> Self {
        Self {
            stride: 1,
            offered: 0,
            dropped: 0,
        }
    }
}

/// Keeps at most `max` elements of `v`, evenly spaced, in order.
fn thin_evenly<T>(v: &mut Vec<T>, max: usize) {
    let n = v.len();
    if n <= max || max == 0 {
        if max == 0 {
            v.clear();
        }
        return;
    }
    let mut i = 0;
    let mut kept = 0;
    v.retain(|_| {
        // Element i is kept when it starts a new one of `max` equal slots.
        let keep = i * max / n == kept && kept < max;
        if keep {
            kept += 1;
        }
        i += 1;
        keep
    });
    v.shrink_to_fit();
}

impl ObservationBudget {
    /// Frames whose observations were dropped to stay within the budget.
    pub(crate) fn dropped(&self) -> usize {
        self.dropped
    }

    /// Offers one frame's observations to `store`: thins them when the finger is not yet
    /// located (`located` false), keeps them if the stride says so, then thins the store
    /// when it is over the budget.
    pub(crate) fn offer(
        &mut self,
        store: &mut Vec<FrameObservations>,
        mut obs: FrameObservations,
        located: bool,
    ) {
        let take = self.offered.is_multiple_of(self.stride);
        self.offered += 1;
        if !take {
            self.dropped += 1;
            return;
        }
        if !located {
            let max = MAX_OBSERVATION_POINTS_PER_FRAME as usize;
            thin_evenly(&mut obs.points, max);
            thin_evenly(&mut obs.tangents, max);
        }
        store.push(obs);
        self.enforce(store);
    }

    /// Halves `store` (keeping the latest frame) and doubles the stride until it fits.
    pub(crate) fn enforce(&mut self, store: &mut Vec<FrameObservations>) {
        let budget = MAX_SESSION_OBSERVATION_BYTES as usize;
        while store.len() > 1 && bytes(store) > budget {
            let n = store.len();
            let mut i = 0;
            // Keep odd positions counted from the end, so the newest frame stays.
            store.retain(|_| {
                let keep = (n - 1 - i).is_multiple_of(2);
                i += 1;
                keep
            });
            self.dropped += n - store.len();
            self.stride *= 2;
        }
    }
}

/// Heap bytes held by `store` (what the budget counts).
pub(crate) fn bytes(store: &[FrameObservations]) -> usize {
    store
        .iter()
        .map(|o| o.heap_bytes() + std::mem::size_of::<FrameObservations>())
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::measure::observe::SurfacePoint;
    use nalgebra::{Point3, Vector3};

    fn obs(points: usize, timestamp: f64) -> FrameObservations {
        FrameObservations {
            camera_centre: Point3::origin(),
            camera_rotation: nalgebra::UnitQuaternion::identity(),
            noise_coeff: 0.001,
            noise_correlation_px: 1.0,
            points: vec![
                SurfacePoint {
                    position: Point3::origin(),
                    normal: Vector3::z(),
                };
                points
            ],
            tangents: vec![],
            timestamp,
        }
    }

    #[test]
    fn the_store_stays_within_budget_and_spread_over_the_scan() {
        let mut b = ObservationBudget::default();
        let mut store = Vec::new();
        let n = 5000;
        // 20,000 points (about 0.5 MB) per frame, located: not thinned per frame.
        for i in 0..n {
            b.offer(&mut store, obs(20_000, i as f64), true);
            assert!(bytes(&store) <= MAX_SESSION_OBSERVATION_BYTES as usize);
        }
        assert_eq!(store.len() + b.dropped(), n);
        assert!(store.len() >= 40, "{} kept", store.len());
        // Kept frames span the scan: the first from its first quarter, the last at its end.
        assert!(store[0].timestamp < n as f64 / 4.0);
        assert!(store.last().unwrap().timestamp > n as f64 * 0.95);
        // Before the finger is located a frame is thinned to the per-frame cap.
        let mut store = Vec::new();
        ObservationBudget::default().offer(&mut store, obs(200_000, 0.0), false);
        assert_eq!(
            store[0].points.len(),
            MAX_OBSERVATION_POINTS_PER_FRAME as usize
        );
    }

    #[test]
    fn thinning_keeps_an_even_spread() {
        let mut v: Vec<usize> = (0..10).collect();
        thin_evenly(&mut v, 5);
        assert_eq!(v, vec![0, 2, 4, 6, 8]);
        let mut v: Vec<usize> = (0..10).collect();
        thin_evenly(&mut v, 3);
        assert_eq!(v.len(), 3);
        let mut v: Vec<usize> = (0..3).collect();
        thin_evenly(&mut v, 5);
        assert_eq!(v, vec![0, 1, 2]);
    }
}
