//! What the section fit is given: the distinct frames' observations near the located
//! finger, within [`MAX_FIT_OBSERVATION_BYTES`] and [`MAX_FIT_FRAMES`], so that `finish`
//! needs a bounded amount of memory however long the scan ran ([`crate::limits`]).
//!
//! The fit gathers the samples around the finger axis into a cloud no larger than what it
//! is given, and works on slices of that cloud whose size is capped; handing it a whole
//! session's store would add the store again. Each frame is first cropped to a capsule
//! around the axis that contains everything the fit gathers (and allocated at its cropped
//! size), so a scan within the budget is measured exactly as before. Past the budget (or
//! the frame cap), frames are taken in turn from each 10° bin of camera direction around
//! the finger (spread evenly in time within a bin) until the budget or the cap is reached,
//! so the kept frames cover the finger as widely as all of them did.

use nalgebra::{Point3, Vector3};

use super::observe::{FrameObservations, SurfacePoint, Tangent};
use super::section::SectionConfig;
use crate::limits::{MAX_FIT_FRAMES, MAX_FIT_OBSERVATION_BYTES};

/// Bins of camera direction around the finger axis used to spread the kept frames.
const ANGLE_BINS: usize = 36;

/// Extra room (metres) around the region the section fit gathers from, so that cropping
/// never removes a sample the fit would have used.
const CROP_SLACK_M: f64 = 0.004;

/// The capsule-like region around the finger axis the fit may gather from: within
/// `radius_m` of the MCP–PIP line, from `margin_m` before MCP to `margin_m` past PIP.
#[derive(Debug, Clone, Copy)]
struct FitRegion {
    a: Point3<f64>,
    dir: Vector3<f64>,
    len_m: f64,
    radius_m: f64,
    margin_m: f64,
}

impl FitRegion {
    fn new(mcp: &Point3<f64>, pip: &Point3<f64>, cfg: &SectionConfig) -> Option<Self> {
        let len_m = (pip - mcp).norm();
        let dir = (pip - mcp).try_normalize(1e-12)?;
        // The fit gathers within max_radius + 6 mm of the axis and knuckle range + 8 mm
        // past its ends (`section::SectionMeasurer::new`); the slack covers rounding.
        Some(Self {
            a: *mcp,
            dir,
            len_m,
            radius_m: cfg.max_radius_m + 0.006 + CROP_SLACK_M,
            margin_m: cfg.knuckle_half_range_m + 0.008 + CROP_SLACK_M,
        })
    }

    fn contains(&self, p: &Point3<f32>) -> bool {
        let p: Point3<f64> = p.cast();
        let t = (p - self.a).dot(&self.dir);
        if !(t >= -self.margin_m && t <= self.len_m + self.margin_m) {
            return false;
        }
        (p - self.a).norm_squared() - t * t <= self.radius_m * self.radius_m
    }

    /// Camera direction around the axis, as one of [`ANGLE_BINS`] bins (`None` on the
    /// axis itself).
    fn angle_bin(&self, camera: &Point3<f64>) -> Option<usize> {
        let helper = if self.dir.x.abs() < 0.9 {
            Vector3::x()
        } else {
            Vector3::y()
        };
        let u = self.dir.cross(&helper).normalize();
        let v = self.dir.cross(&u);
        let d = camera - (self.a + self.dir * (0.5 * self.len_m));
        let (x, y) = (d.dot(&u), d.dot(&v));
        if !(x.hypot(y) >= 1e-6) {
            return None;
        }
        let turn = (y.atan2(x) + std::f64::consts::PI) / std::f64::consts::TAU;
        Some(((turn * ANGLE_BINS as f64) as usize).min(ANGLE_BINS - 1))
    }
}

/// Heap bytes of one frame's observations once cropped to `region`.
fn cropped_bytes(o: &FrameObservations, region: &FitRegion) -> usize {
    let points = o
        .points
        .iter()
        .filter(|p| region.contains(&p.position))
        .count();
    let tangents = o
        .tangents
        .iter()
        .filter(|t| region.contains(&t.point))
        .count();
    points * std::mem::size_of::<SurfacePoint>()
        + tangents * std::mem::size_of::<Tangent>()
        + std::mem::size_of::<FrameObservations>()
}

/// A copy of frame `o` with only what lies in `region`, allocated at its exact size (what
/// [`cropped_bytes`] counts).
fn crop(o: &FrameObservations, region: &FitRegion) -> FrameObservations {
    let inside = |p: &&SurfacePoint| region.contains(&p.position);
    let mut points = Vec::with_capacity(o.points.iter().filter(inside).count());
    points.extend(o.points.iter().filter(inside).copied());
    let inside = |t: &&Tangent| region.contains(&t.point);
    let mut tangents = Vec::with_capacity(o.tangents.iter().filter(inside).count());
    tangents.extend(o.tangents.iter().filter(inside).copied());
    FrameObservations {
        camera_centre: o.camera_centre,
        camera_rotation: o.camera_rotation,
        noise_coeff: o.noise_coeff,
        noise_correlation_px: o.noise_correlation_px,
        points,
        tangents,
        timestamp: o.timestamp,
    }
}

/// `0..n` in an order that spreads any prefix evenly over the range (bit-reversed).
fn spread_order(n: usize) -> Vec<usize> {
    if n <= 1 {
        return (0..n).collect();
    }
    let bits = usize::BITS - (n - 1).leading_zeros();
    (0..1usize << bits)
        .map(|i| i.reverse_bits() >> (usize::BITS - bits))
        .filter(|&i| i < n)
        .collect()
}

/// Which of `keep` (indices into `obs`, in order) the fit is given, in order: all of them
/// when their cropped observations fit in `max_bytes` and they are at most
/// [`MAX_FIT_FRAMES`], else frames taken in turn from each direction bin around the axis
/// until the next one would not fit.
fn select(
    obs: &[FrameObservations],
    keep: &[usize],
    region: &FitRegion,
    max_bytes: usize,
) -> Vec<usize> {
    let bytes: Vec<usize> = keep
        .iter()
        .map(|&i| cropped_bytes(&obs[i], region))
        .collect();
    let max_frames = MAX_FIT_FRAMES as usize;
    if bytes.iter().sum::<usize>() <= max_bytes && keep.len() <= max_frames {
        return keep.to_vec();
    }
    // Positions in `keep` per direction bin (frames seeing nothing near the finger, or
    // with the camera on the axis, add nothing to the fit and are left out).
    let mut bins: Vec<Vec<usize>> = vec![Vec::new(); ANGLE_BINS];
    for (k, &i) in keep.iter().enumerate() {
        if bytes[k] <= std::mem::size_of::<FrameObservations>() {
            continue;
        }
        if let Some(b) = region.angle_bin(&obs[i].camera_centre) {
            bins[b].push(k);
        }
    }
    let mut queues: Vec<std::vec::IntoIter<usize>> = bins
        .into_iter()
        .map(|b| {
            spread_order(b.len())
                .into_iter()
                .map(|j| b[j])
                .collect::<Vec<_>>()
                .into_iter()
        })
        .collect();
    let mut chosen = Vec::new();
    let mut total = 0usize;
    'rounds: loop {
        let mut any = false;
        for q in queues.iter_mut() {
            let Some(k) = q.next() else { continue };
            any = true;
            if total + bytes[k] > max_bytes || chosen.len() == max_frames {
                break 'rounds;
            }
            total += bytes[k];
            chosen.push(k);
        }
        if !any {
            break;
        }
    }
    chosen.sort_unstable();
    chosen.into_iter().map(|k| keep[k]).collect()
}

/// The observations the section fit is given for the finger from `mcp` to `pip`: the
/// frames `keep` (distinct frames, indices into `obs`) cropped to the region the fit
/// gathers from, at most [`MAX_FIT_OBSERVATION_BYTES`] and [`MAX_FIT_FRAMES`] of them
/// (see the module docs).
pub(crate) fn fit_observations(
    obs: &[FrameObservations],
    keep: &[usize],
    mcp: &Point3<f64>,
    pip: &Point3<f64>,
    cfg: &SectionConfig,
) -> Vec<FrameObservations> {
    fit_observations_within(obs, keep, mcp, pip, cfg, MAX_FIT_OBSERVATION_BYTES as usize)
}

/// [`fit_observations`] with an explicit budget (bytes).
fn fit_observations_within(
    obs: &[FrameObservations],
    keep: &[usize],
    mcp: &Point3<f64>,
    pip: &Point3<f64>,
    cfg: &SectionConfig,
    max_bytes: usize,
) -> Vec<FrameObservations> {
    let Some(region) = FitRegion::new(mcp, pip, cfg) else {
        // Coinciding joints: the fit rejects such an axis whatever it is given.
        return Vec::new();
    };
    select(obs, keep, &region, max_bytes)
        .into_iter()
        .map(|i| crop(&obs[i], &region))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::observe::{SurfacePoint, Tangent};

    /// A frame seen from angle `deg` around the x axis, 0.25 m away, with `n` samples on a
    /// 9 mm cylinder around the axis from x = -0.03 to 0.07 m and a few far away.
    fn frame(deg: f64, n: usize, t: f64) -> FrameObservations {
        let a = deg.to_radians();
        let points = (0..n)
            .map(|i| {
                let x = -0.03 + 0.1 * i as f64 / n as f64;
                let b = a + (i % 7) as f64 * 0.2 - 0.6;
                SurfacePoint {
                    position: Point3::new(
                        x as f32,
                        (0.009 * b.cos()) as f32,
                        (0.009 * b.sin()) as f32,
                    ),
                    normal: Vector3::new(0.0, b.cos() as f32, b.sin() as f32),
                }
            })
            .chain((0..n / 4).map(|i| SurfacePoint {
                position: Point3::new(0.0, 0.1 + 0.001 * i as f32, 0.0),
                normal: Vector3::z(),
            }))
            .collect();
        FrameObservations {
            camera_centre: Point3::new(0.02, 0.25 * a.cos(), 0.25 * a.sin()),
            camera_rotation: nalgebra::UnitQuaternion::identity(),
            noise_coeff: 0.005,
            noise_correlation_px: 1.0,
            points,
            tangents: vec![Tangent {
                point: Point3::new(0.02, 0.0, 0.0095),
                occupied: Vector3::new(0.0, 0.0, -1.0),
                pixel_m: 0.0005,
            }],
            timestamp: t,
        }
    }

    fn joints() -> (Point3<f64>, Point3<f64>) {
        (Point3::origin(), Point3::new(0.04, 0.0, 0.0))
    }

    #[test]
    fn within_the_budget_every_frame_is_given_with_all_the_fit_gathers() {
        let obs: Vec<_> = (0..30)
            .map(|i| frame(i as f64 * 12.0, 500, i as f64))
            .collect();
        let keep: Vec<usize> = (0..30).filter(|i| i % 5 != 3).collect();
        let (mcp, pip) = joints();
        let cfg = SectionConfig::default();
        let got = fit_observations(&obs, &keep, &mcp, &pip, &cfg);
        assert_eq!(got.len(), keep.len());
        // Everything within the region the fit gathers from is still there; the far
        // samples are not.
        let gathered = |p: &Point3<f32>| {
            let p: Point3<f64> = p.cast();
            let t = p.x;
            t >= -(cfg.knuckle_half_range_m + 0.008)
                && t <= 0.04 + cfg.knuckle_half_range_m + 0.008
                && p.y.hypot(p.z) <= cfg.max_radius_m + 0.006
        };
        for (g, &i) in got.iter().zip(&keep) {
            let want: Vec<_> = obs[i]
                .points
                .iter()
                .filter(|p| gathered(&p.position))
                .collect();
            let have: Vec<_> = g.points.iter().filter(|p| gathered(&p.position)).collect();
            assert_eq!(want, have);
            assert!(g.points.len() < obs[i].points.len());
            assert_eq!(g.tangents, obs[i].tangents);
            assert_eq!(g.timestamp, obs[i].timestamp);
        }
    }

    #[test]
    fn past_the_budget_the_frames_fit_it_and_cover_every_direction() {
        // 2,000 frames, three quarters of them from one side of the finger.
        let obs: Vec<_> = (0..2000)
            .map(|i| {
                let deg = if i % 4 == 0 {
                    (i / 4) as f64 * 0.72
                } else {
                    80.0 + (i % 40) as f64
                };
                frame(deg, 400, i as f64)
            })
            .collect();
        let keep: Vec<usize> = (0..obs.len()).collect();
        let (mcp, pip) = joints();
        let cfg = SectionConfig::default();
        let max = 512 << 10;
        let got = fit_observations_within(&obs, &keep, &mcp, &pip, &cfg, max);
        let bytes: usize = got
            .iter()
            .map(|o| {
                o.points.len() * std::mem::size_of::<SurfacePoint>()
                    + o.tangents.len() * std::mem::size_of::<Tangent>()
                    + std::mem::size_of::<FrameObservations>()
            })
            .sum();
        assert!(bytes <= max, "{bytes} bytes");
        assert!(
            got.len() > 50 && got.len() < MAX_FIT_FRAMES as usize,
            "{} frames",
            got.len()
        );
        // In time order, and every 10° bin around the finger is represented.
        assert!(got.windows(2).all(|w| w[0].timestamp < w[1].timestamp));
        let region = FitRegion::new(&mcp, &pip, &cfg).unwrap();
        let mut bins = [0usize; ANGLE_BINS];
        for o in &got {
            bins[region.angle_bin(&o.camera_centre).unwrap()] += 1;
        }
        assert!(bins.iter().all(|&b| b > 0), "{bins:?}");
        // The crowded side does not take most of the budget.
        let max_bin = *bins.iter().max().unwrap();
        assert!(max_bin * ANGLE_BINS < got.len() * 3, "{bins:?}");
        // With room for more bytes, the frame cap holds, spread the same way.
        let got = fit_observations_within(&obs, &keep, &mcp, &pip, &cfg, 8 << 20);
        assert_eq!(got.len(), MAX_FIT_FRAMES as usize);
        let mut bins = [0usize; ANGLE_BINS];
        for o in &got {
            bins[region.angle_bin(&o.camera_centre).unwrap()] += 1;
        }
        assert!(bins.iter().all(|&b| b > 0), "{bins:?}");
    }

    #[test]
    fn spread_order_is_a_permutation_spreading_every_prefix() {
        for n in [0, 1, 2, 5, 8, 13] {
            let mut o = spread_order(n);
            assert_eq!(o.len(), n);
            if n == 8 {
                assert_eq!(o, vec![0, 4, 2, 6, 1, 5, 3, 7]);
            }
            o.sort_unstable();
            assert_eq!(o, (0..n).collect::<Vec<_>>());
        }
    }
}
