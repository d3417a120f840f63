//! Scan folders (`../shared/spec/scan-format.md`, version 1): `scan.json` plus 16-bit PNG
//! depth frames. Reading validates every field and names the file and frame at fault;
//! writing produces folders any tool (Open3D, numpy) reads.

use crate::frame::{formats, pose, Frame, FrameError, Intrinsics, Landmarks};
use crate::hand::Target;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The manifest's `format` value.
pub const FORMAT: &str = "mandrel-scan";
/// The only manifest version this code reads and writes.
pub const VERSION: u32 = 1;

/// Errors reading or writing a scan folder.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ScanError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// `scan.json` is not valid JSON for this format.
    #[error("{path}: malformed scan manifest: {message}")]
    Manifest {
        /// The manifest file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// One frame is invalid (bad PNG, bad pose, size mismatch...).
    #[error("frame {index} ({path}): {source}")]
    Frame {
        /// Frame index in the manifest.
        index: usize,
        /// The frame's depth file.
        path: PathBuf,
        /// What is wrong with it.
        source: FrameError,
    },
    /// The manifest lists no frames.
    #[error("scan has no frames")]
    Empty,
}

/// One frame's entry in `scan.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrameEntry {
    /// Depth PNG path relative to the scan folder.
    pub depth: String,
    /// Seconds.
    pub timestamp: f64,
    /// Camera-to-world, row-major 4x4, metres; `None` = unknown.
    pub pose: Option<Vec<f64>>,
    /// 21 landmarks in pixels, or `None`.
    pub landmarks: Option<Vec<[f64; 2]>>,
}

/// `scan.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Always [`FORMAT`].
    pub format: String,
    /// Always [`VERSION`].
    pub version: u32,
    /// Free text: truedepth | lidar | arcore | synthetic.
    pub sensor: String,
    /// Camera intrinsics shared by all frames.
    pub intrinsics: Intrinsics,
    /// PNG value / depth_scale = metres.
    pub depth_scale: f64,
    /// The finger to measure.
    pub target: Target,
    /// The frames, in capture order.
    pub frames: Vec<FrameEntry>,
}

/// A scan folder's manifest, with its location, ready to load frames one at a time.
#[derive(Debug, Clone)]
pub struct ScanFolder {
    /// The folder.
    pub dir: PathBuf,
    /// Its manifest.
    pub manifest: Manifest,
}

impl ScanFolder {
    /// Opens `dir/scan.json` and validates the manifest (not yet the PNGs).
    pub fn open(dir: impl AsRef<Path>) -> Result<Self, ScanError> {
        let dir = dir.as_ref().to_path_buf();
        let path = dir.join("scan.json");
        let text = std::fs::read_to_string(&path).map_err(|source| ScanError::Io {
            path: path.clone(),
            source,
        })?;
        let manifest: Manifest = serde_json::from_str(&text).map_err(|e| ScanError::Manifest {
            path: path.clone(),
            message: e.to_string(),
        })?;
        let bad = |message: String| ScanError::Manifest {
            path: path.clone(),
            message,
        };
        if manifest.format != FORMAT {
            return Err(bad(format!(
                "format is {:?}, expected {FORMAT:?}",
                manifest.format
            )));
        }
        if manifest.version != VERSION {
            return Err(bad(format!(
                "version {} is not supported (this build reads {VERSION})",
                manifest.version
            )));
        }
        manifest
            .intrinsics
            .validate()
            .map_err(|e| bad(e.to_string()))?;
        if !manifest.depth_scale.is_finite() || manifest.depth_scale <= 0.0 {
            return Err(bad(FrameError::DepthScale(manifest.depth_scale).to_string()));
        }
        if manifest.frames.is_empty() {
            return Err(ScanError::Empty);
        }
        for (i, f) in manifest.frames.iter().enumerate() {
            if Path::new(&f.depth).is_absolute() || f.depth.split(['/', '\\']).any(|c| c == "..") {
                return Err(bad(format!(
                    "frame {i}: depth path {:?} must stay inside the scan folder",
                    f.depth
                )));
            }
        }
        Ok(Self { dir, manifest })
    }

    /// Number of frames.
    pub fn len(&self) -> usize {
        self.manifest.frames.len()
    }

    /// Always false: an empty manifest is rejected by [`ScanFolder::open`].
    pub fn is_empty(&self) -> bool {
        self.manifest.frames.is_empty()
    }

    /// Loads and validates frame `index` (decodes its PNG, checks pose and landmarks).
    pub fn frame(&self, index: usize) -> Result<Frame, ScanError> {
        let entry = &self.manifest.frames[index];
        let path = self.dir.join(&entry.depth);
        let wrap = |source: FrameError| ScanError::Frame {
            index,
            path: path.clone(),
            source,
        };
        let bytes = std::fs::read(&path).map_err(|source| ScanError::Io {
            path: path.clone(),
            source,
        })?;
        let depth = formats::png16(&bytes, self.manifest.depth_scale).map_err(wrap)?;
        let pose = entry
            .pose
            .as_deref()
            .map(pose::from_row_major)
            .transpose()
            .map_err(wrap)?;
        let landmarks = entry
            .landmarks
            .as_deref()
            .map(Landmarks::new)
            .transpose()
            .map_err(wrap)?;
        Frame::new(
            depth,
            self.manifest.intrinsics,
            pose,
            landmarks,
            entry.timestamp,
        )
        .map_err(wrap)
    }

    /// Iterates over all frames in order, loading each on demand.
    pub fn frames(&self) -> impl Iterator<Item = Result<Frame, ScanError>> + '_ {
        (0..self.len()).map(move |i| self.frame(i))
    }
}

/// Writes a scan folder: `dir/scan.json` and `dir/depth/NNNNNN.png`. Frames must share
/// `intrinsics`. Returns the number of depth samples clipped (too far for u16 at the scale).
pub fn write_scan(
    dir: impl AsRef<Path>,
    sensor: &str,
    target: Target,
    depth_scale: f64,
    frames: &[Frame],
) -> Result<usize, ScanError> {
    let dir = dir.as_ref();
    let first = frames.first().ok_or(ScanError::Empty)?;
    let intrinsics = first.intrinsics;
    let depth_dir = dir.join("depth");
    std::fs::create_dir_all(&depth_dir).map_err(|source| ScanError::Io {
        path: depth_dir.clone(),
        source,
    })?;
    let mut entries = Vec::with_capacity(frames.len());
    let mut clipped = 0;
    for (i, f) in frames.iter().enumerate() {
        let rel = format!("depth/{i:06}.png");
        let path = dir.join(&rel);
        let wrap = |source: FrameError| ScanError::Frame {
            index: i,
            path: path.clone(),
            source,
        };
        f.depth.check_matches(&intrinsics).map_err(wrap)?;
        let (png, c) = formats::encode_png16(&f.depth, depth_scale).map_err(wrap)?;
        clipped += c;
        std::fs::write(&path, png).map_err(|source| ScanError::Io {
            path: path.clone(),
            source,
        })?;
        entries.push(FrameEntry {
            depth: rel,
            timestamp: f.timestamp,
            pose: f.pose.as_ref().map(|p| pose::to_row_major(p).to_vec()),
            landmarks: f
                .landmarks
                .as_ref()
                .map(|l| l.points().iter().map(|p| [p.x, p.y]).collect()),
        });
    }
    let manifest = Manifest {
        format: FORMAT.into(),
        version: VERSION,
        sensor: sensor.into(),
        intrinsics,
        depth_scale,
        target,
        frames: entries,
    };
    let path = dir.join("scan.json");
    let text = serde_json::to_string_pretty(&manifest).map_err(|e| ScanError::Manifest {
        path: path.clone(),
        message: e.to_string(),
    })?;
    std::fs::write(&path, text).map_err(|source| ScanError::Io { path, source })?;
    Ok(clipped)
}
