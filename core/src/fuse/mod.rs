//! Truncated signed distance fusion into sparse hashed voxel blocks, and raycasting the
//! fused model.
//!
//! Guarantees:
//! - Voxels live in blocks of [`BLOCK_SIDE`]³ and a block is allocated only where some depth
//!   sample's truncation band (the segment `depth ± truncation` along its ray) passes: free
//!   space and unobserved space cost nothing.
//! - Voxel `g` (integer grid coordinates) has its centre at `g * voxel_size_m` in world
//!   coordinates; its signed distance is in metres, positive in front of the surface (free
//!   space), clamped to `±truncation`, and its weight is `0` until a sample has seen it.
//! - Every input is checked: an invalid [`TsdfConfig`], a frame whose size does not match
//!   its intrinsics, invalid intrinsics or a non-finite / non-rigid pose give a [`FuseError`]
//!   and leave the volume untouched. Exceeding [`TsdfConfig::memory_cap_bytes`] is
//!   [`FuseError::MemoryCap`], reported before anything of that frame is written.
//! - Depth samples outside the working range, below the confidence floor, seen at grazing
//!   incidence, or at depth discontinuities (flying pixels) are dropped before integration,
//!   and counted in [`IntegrateStats`].
//! - The volume keeps no depth image: after [`TsdfVolume::integrate`] returns, the raw
//!   depth is not referenced anywhere.

mod integrate;
mod raycast;

pub(crate) use raycast::Caster;
#[cfg(feature = "internals")]
pub use raycast::RaycastImage;

use crate::frame::{DepthFrame, DepthView, FrameError, Intrinsics};
use crate::numeric::CellHasher;
use nalgebra::{Isometry3, Point3, Vector3};
use std::collections::HashMap;
use std::hash::BuildHasherDefault;

/// Voxels per block side.
pub const BLOCK_SIDE: usize = 8;
/// Voxels per block.
pub const BLOCK_VOXELS: usize = BLOCK_SIDE * BLOCK_SIDE * BLOCK_SIDE;
/// Bytes of voxel data per block.
pub const BLOCK_BYTES: usize = BLOCK_VOXELS * std::mem::size_of::<Packed>();
/// Block coordinates must stay within `±BLOCK_COORD_LIMIT` (kilometres at any voxel size).
pub const BLOCK_COORD_LIMIT: i32 = (1 << 20) - 2;
/// Smallest accepted voxel size, metres.
pub const MIN_VOXEL_SIZE_M: f32 = 0.0005;
/// Largest accepted voxel size, metres.
pub const MAX_VOXEL_SIZE_M: f32 = 0.004;
/// Distance at which a frontal, fully confident sample has weight 1 (metres).
pub const REFERENCE_DEPTH_M: f32 = 0.3;

/// Errors from building a volume or integrating a frame.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum FuseError {
    /// A configuration value is out of its allowed range.
    #[error("invalid fusion config: {0}")]
    Config(String),
    /// The frame, its intrinsics or its pose are invalid (size mismatch, zero focal length...).
    #[error("invalid frame for fusion: {0}")]
    Frame(#[from] FrameError),
    /// The camera pose is not a finite rigid transform.
    #[error("invalid camera pose for fusion: {0}")]
    Pose(String),
    /// Integrating the frame would exceed the configured voxel memory cap.
    #[error("voxel memory cap exceeded: {needed_bytes} bytes needed ({blocks} blocks), cap is {cap_bytes} bytes; raise memory_cap_bytes or use larger voxels")]
    MemoryCap {
        /// Voxel bytes the volume would hold after this frame.
        needed_bytes: usize,
        /// The cap.
        cap_bytes: usize,
        /// Blocks the volume would hold.
        blocks: usize,
    },
    /// A surface sample lies so far from the world origin that block coordinates overflow.
    #[error("surface sample at {0:?} m is too far from the world origin for the voxel grid")]
    OutOfRange([f32; 3]),
}

/// Fusion parameters. Lengths in metres.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TsdfConfig {
    /// Voxel edge length, 0.5–4 mm. Default 1 mm.
    pub voxel_size_m: f32,
    /// Truncation distance in voxels (1–16). Default 4.
    pub truncation_voxels: f32,
    /// Depth samples nearer than this are dropped. Default 0.1 m.
    pub min_depth_m: f32,
    /// Depth samples farther than this are dropped. Default 0.6 m.
    pub max_depth_m: f32,
    /// Cap on the accumulated per-voxel weight, so late frames still move the surface.
    /// A frontal, fully confident sample at [`REFERENCE_DEPTH_M`] weighs 1. Default 64.
    pub max_weight: f32,
    /// Cap on voxel memory (bytes). Default 64 MiB.
    pub memory_cap_bytes: usize,
    /// A sample whose depth differs from any 8-neighbour by more than this fraction of its
    /// depth sits on a discontinuity (flying pixel) and is dropped. Default 0.02.
    pub edge_jump_fraction: f32,
    /// Samples with confidence below this are dropped (ARKit "low" is 0.2). Default 0.25.
    pub min_confidence: f32,
    /// Samples whose surface normal makes an angle with the ray whose cosine is below this
    /// are dropped (grazing incidence). Default 0.1 (about 84°).
    pub min_incidence_cos: f32,
}

impl Default for TsdfConfig {
    fn default() -> Self {
        Self {
            voxel_size_m: 0.001,
            truncation_voxels: 4.0,
            min_depth_m: 0.1,
            max_depth_m: 0.6,
            max_weight: 64.0,
            memory_cap_bytes: 64 << 20,
            edge_jump_fraction: 0.02,
            min_confidence: 0.25,
            min_incidence_cos: 0.1,
        }
    }
}

impl TsdfConfig {
    /// Default config with another voxel size.
    pub fn with_voxel_size_m(voxel_size_m: f32) -> Self {
        Self {
            voxel_size_m,
            ..Self::default()
        }
    }

    /// Truncation distance in metres.
    pub fn truncation_m(&self) -> f32 {
        self.truncation_voxels * self.voxel_size_m
    }

    /// Checks every field's range; the message names the field and its allowed range.
    pub fn validate(&self) -> Result<(), FuseError> {
        let bad = |s: String| Err(FuseError::Config(s));
        let v = self.voxel_size_m;
        if !(v.is_finite() && (MIN_VOXEL_SIZE_M..=MAX_VOXEL_SIZE_M).contains(&v)) {
            return bad(format!(
                "voxel_size_m = {v} must be within {MIN_VOXEL_SIZE_M}..={MAX_VOXEL_SIZE_M} m (0.5-4 mm)"
            ));
        }
        let t = self.truncation_voxels;
        if !(t.is_finite() && (1.0..=16.0).contains(&t)) {
            return bad(format!("truncation_voxels = {t} must be within 1..=16"));
        }
        let (lo, hi) = (self.min_depth_m, self.max_depth_m);
        if !(lo.is_finite() && hi.is_finite() && lo > 0.0 && hi > lo && hi <= 20.0) {
            return bad(format!(
                "depth range {lo}..{hi} m must satisfy 0 < min_depth_m < max_depth_m <= 20"
            ));
        }
        let w = self.max_weight;
        if !(w.is_finite() && (1.0..=1000.0).contains(&w)) {
            return bad(format!("max_weight = {w} must be within 1..=1000"));
        }
        if self.memory_cap_bytes < BLOCK_BYTES {
            return bad(format!(
                "memory_cap_bytes = {} is smaller than one block ({BLOCK_BYTES} bytes)",
                self.memory_cap_bytes
            ));
        }
        let e = self.edge_jump_fraction;
        if !(e.is_finite() && e > 0.0) {
            return bad(format!("edge_jump_fraction = {e} must be finite and > 0"));
        }
        let c = self.min_confidence;
        if !(c.is_finite() && (0.0..=1.0).contains(&c)) {
            return bad(format!("min_confidence = {c} must be within 0..=1"));
        }
        let i = self.min_incidence_cos;
        if !(i.is_finite() && (0.0..1.0).contains(&i)) {
            return bad(format!("min_incidence_cos = {i} must be within 0..1"));
        }
        Ok(())
    }
}

/// One voxel, decoded: truncated signed distance (metres, positive in free space) and its
/// weight. Stored as 4 bytes (distance quantised to truncation / 32767, weight to
/// max_weight / 65535).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Voxel {
    /// Signed distance to the surface in metres, clamped to ±truncation.
    pub sdf_m: f32,
    /// Accumulated observation weight; `0` = never observed.
    pub weight: f32,
}

/// A stored voxel (4 bytes): distance as a fraction of the truncation in 1/32767 steps,
/// weight in steps of `max_weight / 65535`. Decoded with [`TsdfVolume::decode`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Packed {
    pub(crate) sdf: i16,
    pub(crate) weight: u16,
}

/// Scale factors between [`Packed`] and metres / weights.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Codec {
    /// Metres per sdf step.
    pub(crate) sdf_m: f32,
    /// Weight per weight step.
    pub(crate) weight: f32,
}

impl Codec {
    fn new(cfg: &TsdfConfig) -> Self {
        Self {
            sdf_m: cfg.truncation_m() / 32767.0,
            weight: cfg.max_weight / 65535.0,
        }
    }

    #[inline]
    pub(crate) fn decode(&self, p: Packed) -> Voxel {
        Voxel {
            sdf_m: p.sdf as f32 * self.sdf_m,
            weight: p.weight as f32 * self.weight,
        }
    }

    /// Encodes with rounding; `sdf_m` within ±truncation, `weight` within 0..=max_weight.
    #[inline]
    pub(crate) fn encode(&self, sdf_m: f32, weight: f32) -> Packed {
        let s = sdf_m / self.sdf_m;
        let w = weight / self.weight;
        // Shifted to positive, then rounded with the float-add trick (see
        // `integrate::round_small`): no saturating conversion, so callers' loops vectorise.
        // `s` is within ±32767 and `w` within 0..=65535 by construction.
        Packed {
            sdf: (integrate::round_small(s + 32768.0) as i32 - 32768) as i16,
            weight: integrate::round_small(w) as u16,
        }
    }
}

/// A block of voxels, indexed `x + 8 * (y + 8 * z)`.
pub(crate) type Block = [Packed; BLOCK_VOXELS];

/// What one [`TsdfVolume::integrate`] call did.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct IntegrateStats {
    /// Pixels with a depth sample (before filtering).
    pub pixels_with_depth: usize,
    /// Pixels integrated after filtering.
    pub pixels_used: usize,
    /// Pixels outside the working depth range.
    pub rejected_range: usize,
    /// Pixels below the confidence floor.
    pub rejected_confidence: usize,
    /// Pixels at depth discontinuities (flying pixels).
    pub rejected_edge: usize,
    /// Pixels seen at grazing incidence.
    pub rejected_grazing: usize,
    /// Blocks touched by this frame's truncation bands.
    pub blocks_touched: usize,
    /// Blocks newly allocated by this frame.
    pub blocks_allocated: usize,
    /// Voxels whose distance was updated.
    pub voxels_updated: usize,
}

/// A hash map keyed by packed block keys ([`pack_key`]).
pub(crate) type KeyMap<V> = HashMap<u64, V, BuildHasherDefault<CellHasher>>;

/// Packs block coordinates (each within ±[`BLOCK_COORD_LIMIT`]) into one `u64`.
#[inline]
pub(crate) fn pack_key(k: [i32; 3]) -> u64 {
    const OFF: i64 = 1 << 20;
    let f = |c: i32| ((c as i64 + OFF) as u64) & 0x1F_FFFF;
    f(k[0]) | (f(k[1]) << 21) | (f(k[2]) << 42)
}

/// A sparse TSDF volume of hashed voxel blocks.
#[derive(Debug, Clone)]
pub struct TsdfVolume {
    config: TsdfConfig,
    map: KeyMap<u32>,
    keys: Vec<[i32; 3]>,
    blocks: Vec<Block>,
    bounds: Option<([i32; 3], [i32; 3])>,
    /// Dense block index over (a padding of) `bounds`, for hash-free lookups.
    dense: DenseIndex,
    frames: usize,
    codec: Codec,
    /// Per-frame buffers, zeroed after every integration.
    scratch: integrate::Filtered,
}

impl TsdfVolume {
    /// An empty volume; fails if the config is out of range.
    pub fn new(config: TsdfConfig) -> Result<Self, FuseError> {
        config.validate()?;
        Ok(Self {
            config,
            map: KeyMap::default(),
            keys: Vec::new(),
            blocks: Vec::new(),
            bounds: None,
            dense: DenseIndex::default(),
            frames: 0,
            codec: Codec::new(&config),
            scratch: integrate::Filtered::default(),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &TsdfConfig {
        &self.config
    }

    /// Number of allocated blocks.
    pub fn block_count(&self) -> usize {
        self.blocks.len()
    }

    /// Bytes of voxel data held (blocks × [`BLOCK_BYTES`]). Blocks are never freed, so this
    /// is also the peak.
    pub fn voxel_bytes(&self) -> usize {
        self.blocks.len() * BLOCK_BYTES
    }

    /// Frames integrated so far.
    pub fn frames_integrated(&self) -> usize {
        self.frames
    }

    /// Fuses one depth frame seen from `camera_to_world` (OpenCV camera axes, metres).
    pub fn integrate(
        &mut self,
        depth: &DepthFrame,
        k: &Intrinsics,
        camera_to_world: &Isometry3<f64>,
    ) -> Result<IntegrateStats, FuseError> {
        self.integrate_view(DepthView::new(depth, k)?, camera_to_world)
    }

    /// [`TsdfVolume::integrate`] of a depth image whose intrinsics were checked already.
    pub(crate) fn integrate_view(
        &mut self,
        view: DepthView<'_>,
        camera_to_world: &Isometry3<f64>,
    ) -> Result<IntegrateStats, FuseError> {
        let stats = integrate::integrate(self, view, camera_to_world)?;
        self.frames += 1;
        Ok(stats)
    }

    /// Trilinearly interpolated signed distance (metres) at a world point; `None` where any
    /// of the 8 surrounding voxels is unallocated or unobserved.
    pub fn sdf_at(&self, p: &Point3<f32>) -> Option<f32> {
        Sampler::new(self).sdf(p)
    }

    /// The voxel at global voxel coordinates `g`, if its block is allocated.
    pub fn voxel(&self, g: [i32; 3]) -> Option<Voxel> {
        let b = self.block_at(block_of(g))?;
        let s = BLOCK_SIDE as i32;
        Some(self.codec.decode(
            b[voxel_index(
                g[0].rem_euclid(s) as usize,
                g[1].rem_euclid(s) as usize,
                g[2].rem_euclid(s) as usize,
            )],
        ))
    }

    /// Decodes a stored voxel.
    #[inline]
    pub(crate) fn decode(&self, p: Packed) -> Voxel {
        self.codec.decode(p)
    }

    /// Block keys (block coordinates) of all allocated blocks, in allocation order.
    pub fn block_keys(&self) -> &[[i32; 3]] {
        &self.keys
    }

    /// Inclusive min/max block coordinates of allocated blocks, if any.
    pub fn block_bounds(&self) -> Option<([i32; 3], [i32; 3])> {
        self.bounds
    }

    /// The block with block coordinates `key`, if allocated.
    #[inline]
    pub(crate) fn block_at(&self, key: [i32; 3]) -> Option<&Block> {
        if let Some(slot) = self.dense.slot(key) {
            return self.blocks.get(slot as usize);
        }
        if self.dense.covers_bounds {
            // Every allocated block lies inside the dense index.
            return None;
        }
        if key.iter().any(|c| c.abs() > BLOCK_COORD_LIMIT) {
            return None;
        }
        let i = *self.map.get(&pack_key(key))?;
        self.blocks.get(i as usize)
    }

    /// Registers blocks just allocated (at `first_new..`) in the dense index, rebuilding it
    /// (with room to grow) when they fall outside it.
    pub(crate) fn index_new_blocks(&mut self, first_new: usize) {
        let mut outside = false;
        for (i, key) in self.keys.iter().enumerate().skip(first_new) {
            outside |= !self.dense.set(*key, i as u32);
        }
        if outside || !self.dense.covers_bounds {
            self.dense = DenseIndex::build(&self.keys, self.bounds);
        }
    }
}

/// Cells of the dense block index at most (4 bytes each).
const DENSE_INDEX_MAX_CELLS: usize = 1 << 20;
/// Blocks of room added on every side when the dense index is rebuilt.
const DENSE_INDEX_PAD: i32 = 6;

/// A dense 3D array of block slots over a box of block coordinates (`u32::MAX` = not
/// allocated). Empty when the box would exceed [`DENSE_INDEX_MAX_CELLS`]; lookups then use
/// the hash map.
#[derive(Debug, Clone, Default)]
struct DenseIndex {
    lo: [i32; 3],
    dims: [usize; 3],
    slots: Vec<u32>,
    /// Whether the box contains every allocated block (lookups outside it are misses).
    covers_bounds: bool,
}

impl DenseIndex {
    fn build(keys: &[[i32; 3]], bounds: Option<([i32; 3], [i32; 3])>) -> Self {
        let Some((lo, hi)) = bounds else {
            return Self::default();
        };
        let lo = [
            lo[0] - DENSE_INDEX_PAD,
            lo[1] - DENSE_INDEX_PAD,
            lo[2] - DENSE_INDEX_PAD,
        ];
        let dims = [
            (hi[0] + DENSE_INDEX_PAD - lo[0] + 1) as usize,
            (hi[1] + DENSE_INDEX_PAD - lo[1] + 1) as usize,
            (hi[2] + DENSE_INDEX_PAD - lo[2] + 1) as usize,
        ];
        let cells = dims[0].saturating_mul(dims[1]).saturating_mul(dims[2]);
        if cells > DENSE_INDEX_MAX_CELLS {
            return Self::default();
        }
        let mut d = Self {
            lo,
            dims,
            slots: vec![u32::MAX; cells],
            covers_bounds: true,
        };
        for (i, k) in keys.iter().enumerate() {
            d.set(*k, i as u32);
        }
        d
    }

    #[inline]
    fn cell(&self, key: [i32; 3]) -> Option<usize> {
        let x = key[0].wrapping_sub(self.lo[0]) as u32 as usize;
        let y = key[1].wrapping_sub(self.lo[1]) as u32 as usize;
        let z = key[2].wrapping_sub(self.lo[2]) as u32 as usize;
        (x < self.dims[0] && y < self.dims[1] && z < self.dims[2])
            .then(|| x + self.dims[0] * (y + self.dims[1] * z))
    }

    /// Inside the box: `Some(slot)` (`u32::MAX` when not allocated). Outside: `None`.
    #[inline]
    fn slot(&self, key: [i32; 3]) -> Option<u32> {
        self.cell(key).and_then(|c| self.slots.get(c).copied())
    }

    /// Records a block's slot; false when `key` is outside the box.
    fn set(&mut self, key: [i32; 3], slot: u32) -> bool {
        match self.cell(key).and_then(|c| self.slots.get_mut(c)) {
            Some(s) => {
                *s = slot;
                true
            }
            None => false,
        }
    }
}

/// Reads voxels and trilinear distances of one volume, remembering the last two blocks
/// looked up (marching rays and gradient stencils stay in one or two blocks for many
/// samples). Gives exactly the values of [`TsdfVolume::sdf_at`] and [`TsdfVolume::voxel`].
#[derive(Clone, Copy)]
pub(crate) struct Sampler<'a> {
    vol: &'a TsdfVolume,
    /// Most recent lookups, newest first: block key and the block (None = unallocated).
    cache: [Option<([i32; 3], Option<&'a Block>)>; 2],
}

impl<'a> Sampler<'a> {
    /// A sampler with an empty cache.
    pub(crate) fn new(vol: &'a TsdfVolume) -> Self {
        Self {
            vol,
            cache: [None, None],
        }
    }

    /// The block with block coordinates `key`, if allocated.
    #[inline]
    pub(crate) fn block(&mut self, key: [i32; 3]) -> Option<&'a Block> {
        if let Some((k, b)) = self.cache[0] {
            if k == key {
                return b;
            }
        }
        if let Some((k, b)) = self.cache[1] {
            if k == key {
                self.cache.swap(0, 1);
                return b;
            }
        }
        let b = self.vol.block_at(key);
        self.cache[1] = self.cache[0];
        self.cache[0] = Some((key, b));
        b
    }

    /// The voxel at global voxel coordinates `g`, if its block is allocated.
    #[inline]
    pub(crate) fn voxel(&mut self, g: [i32; 3]) -> Option<Voxel> {
        let b = self.block(block_of(g))?;
        let s = BLOCK_SIDE as i32;
        Some(self.vol.codec.decode(
            b[voxel_index(
                g[0].rem_euclid(s) as usize,
                g[1].rem_euclid(s) as usize,
                g[2].rem_euclid(s) as usize,
            )],
        ))
    }

    /// Trilinearly interpolated signed distance at `p`, as [`TsdfVolume::sdf_at`].
    #[inline]
    pub(crate) fn sdf(&mut self, p: &Point3<f32>) -> Option<f32> {
        let (c, f) = self.corners(p)?;
        Some(Trilinear::new(&c, &f).value)
    }

    /// The trilinear distance at `p` (exactly [`Sampler::sdf`]) and its analytic gradient
    /// (the gradient of the trilinear interpolant in the voxel cell holding `p`, metres per
    /// metre, not normalised): one cell read instead of the seven of `sdf` + `gradient`.
    #[inline]
    pub(crate) fn sdf_grad(&mut self, p: &Point3<f32>) -> Option<(f32, Vector3<f32>)> {
        let (c, f) = self.corners(p)?;
        let Trilinear {
            x: [x00, x10, x01, x11],
            y: [y0, y1],
            value,
        } = Trilinear::new(&c, &f);
        let dx = lerp(
            lerp(c[1] - c[0], c[3] - c[2], f[1]),
            lerp(c[5] - c[4], c[7] - c[6], f[1]),
            f[2],
        );
        let dy = lerp(x10 - x00, x11 - x01, f[2]);
        let dz = y1 - y0;
        let inv = 1.0 / self.vol.config.voxel_size_m;
        Some((value, Vector3::new(dx * inv, dy * inv, dz * inv)))
    }

    /// The 8 observed corner distances of the voxel cell holding `p` (corner `i` at offset
    /// `(i & 1, (i >> 1) & 1, (i >> 2) & 1)`) and `p`'s fractional position in the cell;
    /// `None` where a corner is unallocated or unobserved.
    #[inline]
    fn corners(&mut self, p: &Point3<f32>) -> Option<([f32; 8], [f32; 3])> {
        let vs = self.vol.config.voxel_size_m;
        self.corners_grid([p.x / vs, p.y / vs, p.z / vs])
    }

    /// [`Sampler::sdf`] at grid coordinates `g` (the point divided by the voxel size).
    #[inline]
    pub(crate) fn sdf_grid(&mut self, g: [f32; 3]) -> Option<f32> {
        let (c, f) = self.corners_grid(g)?;
        Some(Trilinear::new(&c, &f).value)
    }

    /// [`Sampler::corners`] at grid coordinates `g`.
    #[inline]
    fn corners_grid(&mut self, g: [f32; 3]) -> Option<([f32; 8], [f32; 3])> {
        if !g.iter().all(|c| c.is_finite()) {
            return None;
        }
        let lim = (BLOCK_COORD_LIMIT as f32 - 2.0) * BLOCK_SIDE as f32;
        if g.iter().any(|c| c.abs() > lim) {
            return None;
        }
        // Within ±2^23 here, so the integer floor is exact.
        let base = [ifloor(g[0]), ifloor(g[1]), ifloor(g[2])];
        let b = [base[0] as f32, base[1] as f32, base[2] as f32];
        let f = [g[0] - b[0], g[1] - b[1], g[2] - b[2]];
        let mut c = [0.0f32; 8];
        let local = [
            base[0].rem_euclid(BLOCK_SIDE as i32),
            base[1].rem_euclid(BLOCK_SIDE as i32),
            base[2].rem_euclid(BLOCK_SIDE as i32),
        ];
        let codec = self.vol.codec;
        if local.iter().all(|&l| l < BLOCK_SIDE as i32 - 1) {
            // Fast path: all 8 corners in one block.
            let block = self.block(block_of(base))?;
            for (i, ci) in c.iter_mut().enumerate() {
                let (dx, dy, dz) = (i & 1, (i >> 1) & 1, (i >> 2) & 1);
                let v = codec.decode(
                    block[voxel_index(
                        local[0] as usize + dx,
                        local[1] as usize + dy,
                        local[2] as usize + dz,
                    )],
                );
                if v.weight <= 0.0 {
                    return None;
                }
                *ci = v.sdf_m;
            }
        } else {
            for (i, ci) in c.iter_mut().enumerate() {
                let gv = [
                    base[0] + (i & 1) as i32,
                    base[1] + ((i >> 1) & 1) as i32,
                    base[2] + ((i >> 2) & 1) as i32,
                ];
                let v = self.voxel(gv)?;
                if v.weight <= 0.0 {
                    return None;
                }
                *ci = v.sdf_m;
            }
        }
        Some((c, f))
    }

    /// Unit SDF gradient at `p` by central differences, as [`TsdfVolume::gradient`].
    #[inline]
    pub(crate) fn gradient(&mut self, p: &Point3<f32>) -> Option<Vector3<f32>> {
        let h = self.vol.config.voxel_size_m;
        // Grid coordinates of `p`; each sample moves one of them (as `sdf` of the moved
        // point would compute them).
        let g0 = [p.x / h, p.y / h, p.z / h];
        let mut g = Vector3::zeros();
        for j in 0..3 {
            let (mut a, mut b) = (g0, g0);
            a[j] = (p[j] - h) / h;
            b[j] = (p[j] + h) / h;
            g[j] = self.sdf_grid(b)? - self.sdf_grid(a)?;
        }
        let n = g.norm();
        if n > 0.0 && n.is_finite() {
            Some(g / n)
        } else {
            None
        }
    }
}

/// `floor` as an integer without a libm call (`x` finite and within ±2^23).
#[inline(always)]
pub(crate) fn ifloor(x: f32) -> i32 {
    let i = x as i32;
    i - ((x < i as f32) as i32)
}

/// `x.round() as i32` (halves away from zero) without a libm call (`x` finite, within ±2^23):
/// `x - trunc(x)` is exact there.
#[inline(always)]
pub(crate) fn iround(x: f32) -> i32 {
    let i = x as i32;
    let f = x - i as f32;
    i + (f >= 0.5) as i32 - (f <= -0.5) as i32
}

/// Block coordinates of global voxel `g`.
#[inline]
pub(crate) fn block_of(g: [i32; 3]) -> [i32; 3] {
    let s = BLOCK_SIDE as i32;
    [g[0].div_euclid(s), g[1].div_euclid(s), g[2].div_euclid(s)]
}

/// Index of local voxel (x, y, z) inside a block.
#[inline]
pub(crate) fn voxel_index(x: usize, y: usize, z: usize) -> usize {
    x + BLOCK_SIDE * (y + BLOCK_SIDE * z)
}

/// Linear interpolation from `a` to `b` at `t`.
#[inline]
fn lerp(a: f32, b: f32, t: f32) -> f32 {
    a + (b - a) * t
}

/// Trilinear interpolation of a voxel cell's 8 corner values (corner `i` at offset
/// `(i & 1, (i >> 1) & 1, (i >> 2) & 1)`) at fractional position `f`, with its
/// intermediate lerps (the analytic gradient reuses them).
struct Trilinear {
    /// Along x, at (y, z) = (0, 0), (1, 0), (0, 1), (1, 1).
    x: [f32; 4],
    /// Along y, at z = 0 and z = 1.
    y: [f32; 2],
    /// The interpolated value.
    value: f32,
}

impl Trilinear {
    #[inline]
    fn new(c: &[f32; 8], f: &[f32; 3]) -> Self {
        let x = [
            lerp(c[0], c[1], f[0]),
            lerp(c[2], c[3], f[0]),
            lerp(c[4], c[5], f[0]),
            lerp(c[6], c[7], f[0]),
        ];
        let y = [lerp(x[0], x[1], f[1]), lerp(x[2], x[3], f[1])];
        Self {
            x,
            y,
            value: lerp(y[0], y[1], f[2]),
        }
    }
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_ranges_are_checked() {
        assert!(TsdfVolume::new(TsdfConfig::default()).is_ok());
        for v in [0.0, 0.0001, 0.005, f32::NAN, -0.001] {
            let e = TsdfVolume::new(TsdfConfig::with_voxel_size_m(v)).unwrap_err();
            assert!(e.to_string().contains("voxel_size_m"), "{e}");
        }
        let c = TsdfConfig {
            min_depth_m: 0.5,
            max_depth_m: 0.2,
            ..Default::default()
        };
        assert!(TsdfVolume::new(c)
            .unwrap_err()
            .to_string()
            .contains("depth range"));
        let c = TsdfConfig {
            memory_cap_bytes: 10,
            ..Default::default()
        };
        assert!(TsdfVolume::new(c)
            .unwrap_err()
            .to_string()
            .contains("memory_cap"));
        let c = TsdfConfig {
            truncation_voxels: 0.5,
            ..Default::default()
        };
        assert!(TsdfVolume::new(c)
            .unwrap_err()
            .to_string()
            .contains("truncation"));
    }

    #[test]
    fn keys_pack_uniquely() {
        let ks = [
            [0, 0, 0],
            [-1, 0, 0],
            [0, -1, 0],
            [0, 0, -1],
            [1, 2, 3],
            [-5, 7, -9],
        ];
        let packed: std::collections::HashSet<u64> = ks.iter().map(|&k| pack_key(k)).collect();
        assert_eq!(packed.len(), ks.len());
    }

    #[test]
    fn empty_volume_has_no_distance() {
        let v = TsdfVolume::new(TsdfConfig::default()).unwrap();
        assert_eq!(v.sdf_at(&Point3::new(0.0, 0.0, 0.3)), None);
        assert_eq!(v.sdf_at(&Point3::new(f32::NAN, 0.0, 0.3)), None);
        assert_eq!(v.sdf_at(&Point3::new(1e30, 0.0, 0.3)), None);
        assert_eq!(v.block_count(), 0);
    }
}

#[cfg(test)]
mod privacy_tests {
    use super::*;
    use crate::frame::{DepthFrame, Intrinsics};

    #[test]
    fn no_depth_outlives_integration() {
        let k = Intrinsics::new(64, 48, 60.0, 60.0, 31.5, 23.5).unwrap();
        let f = DepthFrame::from_metres(64, 48, vec![0.3; 64 * 48]).unwrap();
        let mut v = TsdfVolume::new(TsdfConfig::default()).unwrap();
        let s = v.integrate(&f, &k, &Isometry3::identity()).unwrap();
        assert!(s.pixels_used > 0 && v.block_count() > 0);
        let sc = &v.scratch;
        assert!(sc
            .depth
            .iter()
            .chain(&sc.weight)
            .chain(&sc.padded)
            .all(|&d| d == 0.0));
        assert!(sc.tiles.is_empty());
    }
}
