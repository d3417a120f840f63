//! Scan folders (`../shared/spec/scan-format.md`, version 1): `scan.json` plus 16-bit PNG
//! depth frames. Reading validates every field and names the file and frame at fault;
//! writing produces folders any tool (Open3D, numpy) reads.

use crate::frame::{formats, pose, Frame, FrameError, Intrinsics, Landmarks, LANDMARK_COUNT};
use crate::hand::Target;
use crate::limits::read::{read_capped, resolve_inside, shown, ReadError};
use crate::limits::{Limit, LimitExceeded, MAX_MANIFEST_FRAMES};
use serde::{Deserialize, Deserializer, Serialize};
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
    #[error("{}: {source}", shown(.path))]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// `scan.json` is not valid JSON for this format.
    #[error("{}: malformed scan manifest: {message}", shown(.path))]
    Manifest {
        /// The manifest file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// One frame is invalid (bad PNG, bad pose, size mismatch...).
    #[error("frame {index} ({}): {source}", shown(.path))]
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
    /// A file is not a regular file inside the folder, or is over its size limit.
    #[error("{0}")]
    Input(#[from] ReadError),
    /// The manifest is over one of the [`crate::limits`].
    #[error("{}: {source}", shown(.path))]
    Limit {
        /// The manifest file.
        path: PathBuf,
        /// The limit and the value.
        source: LimitExceeded,
    },
}

/// Deserialises a sequence of at most `max` elements, failing at element `max + 1` (before
/// a longer array is materialised).
fn bounded_seq<'de, D, T>(d: D, max: usize, what: &'static str) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    struct V<T> {
        max: usize,
        what: &'static str,
        t: std::marker::PhantomData<T>,
    }
    impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for V<T> {
        type Value = Vec<T>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            write!(f, "an array of at most {} {}", self.max, self.what)
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
            let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(self.max));
            while let Some(x) = seq.next_element()? {
                if out.len() == self.max {
                    return Err(serde::de::Error::custom(format!(
                        "more than {} {} (the limit)",
                        self.max, self.what
                    )));
                }
                out.push(x);
            }
            Ok(out)
        }
    }
    d.deserialize_seq(V {
        max,
        what,
        t: std::marker::PhantomData,
    })
}

fn pose_values<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<f64>>, D::Error> {
    struct Wrap(Vec<f64>);
    impl<'de> Deserialize<'de> for Wrap {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            bounded_seq(d, 16, "pose numbers").map(Wrap)
        }
    }
    Ok(Option::<Wrap>::deserialize(d)?.map(|w| w.0))
}

fn landmark_points<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<[f64; 2]>>, D::Error> {
    struct Wrap(Vec<[f64; 2]>);
    impl<'de> Deserialize<'de> for Wrap {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            bounded_seq(d, LANDMARK_COUNT, "landmark points").map(Wrap)
        }
    }
    Ok(Option::<Wrap>::deserialize(d)?.map(|w| w.0))
}

fn frame_entries<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<FrameEntry>, D::Error> {
    bounded_seq(d, MAX_MANIFEST_FRAMES as usize, "frames")
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
    #[serde(default, deserialize_with = "pose_values")]
    pub pose: Option<Vec<f64>>,
    /// 21 landmarks in pixels, or `None`.
    #[serde(default, deserialize_with = "landmark_points")]
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
    /// The frames, in capture order (at most [`MAX_MANIFEST_FRAMES`]).
    #[serde(deserialize_with = "frame_entries")]
    pub frames: Vec<FrameEntry>,
}

/// A scan folder's manifest, with its location, ready to load frames one at a time.
#[derive(Debug, Clone)]
pub struct ScanFolder {
    /// The folder.
    pub dir: PathBuf,
    /// Its manifest.
    pub manifest: Manifest,
    /// Each frame's depth file, symlinks resolved, checked to lie inside the folder.
    depth_paths: Vec<PathBuf>,
}

impl ScanFolder {
    /// Opens `dir/scan.json` and validates the whole manifest before any frame is decoded:
    /// format, intrinsics, depth scale, and for every frame its timestamp, pose and
    /// landmarks, and that its depth file is a regular file inside the folder (symlinks
    /// resolved) within [`crate::limits::MAX_PNG_BYTES`]. Reads are capped
    /// ([`crate::limits`]); a manifest listing one depth file twice is refused.
    pub fn open(dir: impl AsRef<Path>) -> Result<Self, ScanError> {
        let dir = dir.as_ref().to_path_buf();
        let path = dir.join("scan.json");
        let bytes = match read_capped(&path, Limit::ManifestBytes) {
            Ok(b) => b,
            Err(ReadError::Io { path, source }) => return Err(ScanError::Io { path, source }),
            Err(e) => return Err(e.into()),
        };
        let manifest: Manifest =
            serde_json::from_slice(&bytes).map_err(|e| ScanError::Manifest {
                path: path.clone(),
                message: e.to_string(),
            })?;
        drop(bytes);
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
        // Every frame has the intrinsics' size: refuse an oversized one before decoding.
        crate::frame::check_frame_size(manifest.intrinsics.width, manifest.intrinsics.height)
            .map_err(|e| bad(e.to_string()))?;
        if !manifest.depth_scale.is_finite() || manifest.depth_scale <= 0.0 {
            return Err(bad(FrameError::DepthScale(manifest.depth_scale).to_string()));
        }
        if manifest.frames.is_empty() {
            return Err(ScanError::Empty);
        }
        Limit::ManifestFrames
            .check(manifest.frames.len() as u64)
            .map_err(|source| ScanError::Limit {
                path: path.clone(),
                source,
            })?;
        let resolved_dir = std::fs::canonicalize(&dir).map_err(|source| ScanError::Io {
            path: dir.clone(),
            source,
        })?;
        let mut depth_paths = Vec::with_capacity(manifest.frames.len());
        let mut first_use = std::collections::HashMap::new();
        for (i, f) in manifest.frames.iter().enumerate() {
            if Path::new(&f.depth).is_absolute() || f.depth.split(['/', '\\']).any(|c| c == "..") {
                return Err(bad(format!(
                    "frame {i}: depth path {:?} must stay inside the scan folder",
                    f.depth
                )));
            }
            let wrap = |source: FrameError| ScanError::Frame {
                index: i,
                path: dir.join(&f.depth),
                source,
            };
            if !f.timestamp.is_finite() {
                return Err(wrap(FrameError::Image(format!(
                    "timestamp {} is not finite",
                    f.timestamp
                ))));
            }
            if let Some(p) = &f.pose {
                pose::from_row_major(p).map_err(wrap)?;
            }
            if let Some(l) = &f.landmarks {
                Landmarks::new(l).map_err(wrap)?;
            }
            let resolved = resolve_inside(&dir, &resolved_dir, &f.depth).map_err(|e| match e {
                ReadError::Io { path, source } => ScanError::Io { path, source },
                other => other.into(),
            })?;
            let meta = std::fs::metadata(&resolved).map_err(|source| ScanError::Io {
                path: dir.join(&f.depth),
                source,
            })?;
            if !meta.is_file() {
                return Err(ReadError::NotRegularFile {
                    path: dir.join(&f.depth),
                    kind: if meta.is_dir() {
                        "a directory"
                    } else {
                        "a FIFO, socket or device"
                    },
                }
                .into());
            }
            Limit::PngBytes
                .check(meta.len())
                .map_err(|source| ReadError::TooLarge {
                    path: dir.join(&f.depth),
                    source,
                })?;
            if let Some(j) = first_use.insert(resolved.clone(), i) {
                return Err(bad(format!(
                    "frame {i} replays frame {j}: both read {:?} (a frame may be listed once)",
                    f.depth
                )));
            }
            depth_paths.push(resolved);
        }
        Ok(Self {
            dir,
            manifest,
            depth_paths,
        })
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
        // The path resolved and checked by `open` (a symlink swapped since is not followed
        // out of the folder); read as a regular file with the PNG cap.
        let resolved = self
            .depth_paths
            .get(index)
            .ok_or_else(|| ScanError::Manifest {
                path: self.dir.join("scan.json"),
                message: format!("frame {index} was added after the manifest was validated"),
            })?;
        let bytes = read_capped(resolved, Limit::PngBytes).map_err(|e| match e {
            ReadError::Io { source, .. } => ScanError::Io {
                path: path.clone(),
                source,
            },
            other => other.into(),
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
