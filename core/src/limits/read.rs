//! Reading input files within the limits: only regular files (never a FIFO, a device such
//! as `/dev/zero` or a directory), at most a given number of bytes, and, for files named by
//! a scan manifest, only inside the scan folder once symlinks are resolved.

use super::{Limit, LimitExceeded};
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Why an input file was not read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReadError {
    /// The OS refused (missing file, permissions...).
    #[error("{}: {source}", shown(.path))]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The path names a directory, FIFO, socket or device, not a regular file.
    #[error("{}: not a regular file ({kind})", shown(.path))]
    NotRegularFile {
        /// The file.
        path: PathBuf,
        /// What it is instead.
        kind: &'static str,
    },
    /// The file is larger than the limit for its kind.
    #[error("{}: {source}", shown(.path))]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// The limit and the size found.
        source: LimitExceeded,
    },
    /// After resolving symlinks, the path leads outside the folder it must stay in.
    #[error("{}: resolves to {}, outside the scan folder {}", shown(.path), shown(.resolved), shown(.folder))]
    OutsideFolder {
        /// The path as given.
        path: PathBuf,
        /// Where it leads.
        resolved: PathBuf,
        /// The folder it must stay in.
        folder: PathBuf,
    },
}

/// A path for messages, with control characters (newlines, escape sequences) escaped so a
/// hostile file name cannot rewrite the terminal.
pub fn shown(path: &Path) -> String {
    escape_controls(&path.to_string_lossy())
}

/// `text` with every control character written as a Rust escape (`\n`, `\u{1b}`).
pub fn escape_controls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

fn kind_of(meta: &std::fs::Metadata) -> &'static str {
    let t = meta.file_type();
    if t.is_dir() {
        return "a directory";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a FIFO";
        }
        if t.is_char_device() {
            return "a character device";
        }
        if t.is_block_device() {
            return "a block device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    "not a regular file"
}

/// Reads the regular file at `path` (symlinks followed), refusing anything else and any
/// file over `limit`'s maximum. The file type is checked before opening (so a FIFO is not
/// waited on) and again on the opened file; the read stops one byte past the limit.
pub fn read_capped(path: &Path, limit: Limit) -> Result<Vec<u8>, ReadError> {
    let io = |source| ReadError::Io {
        path: path.to_path_buf(),
        source,
    };
    let not_regular = |meta: &std::fs::Metadata| ReadError::NotRegularFile {
        path: path.to_path_buf(),
        kind: kind_of(meta),
    };
    let meta = std::fs::metadata(path).map_err(io)?;
    if !meta.is_file() {
        return Err(not_regular(&meta));
    }
    let too_large = |value| ReadError::TooLarge {
        path: path.to_path_buf(),
        source: LimitExceeded { limit, value },
    };
    if meta.len() > limit.max() {
        return Err(too_large(meta.len()));
    }
    let file = File::open(path).map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    if !meta.is_file() {
        return Err(not_regular(&meta));
    }
    let mut bytes = Vec::with_capacity(meta.len().min(limit.max()) as usize);
    file.take(limit.max() + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > limit.max() {
        return Err(too_large(bytes.len() as u64));
    }
    Ok(bytes)
}

/// Resolves `folder/relative` (symlinks included) and checks it stays inside `folder`,
/// whose resolved form is `folder_resolved`. Returns the resolved path.
pub fn resolve_inside(
    folder: &Path,
    folder_resolved: &Path,
    relative: &str,
) -> Result<PathBuf, ReadError> {
    let path = folder.join(relative);
    let resolved = std::fs::canonicalize(&path).map_err(|source| ReadError::Io {
        path: path.clone(),
        source,
    })?;
    if !resolved.starts_with(folder_resolved) {
        return Err(ReadError::OutsideFolder {
            path,
            resolved,
            folder: folder_resolved.to_path_buf(),
        });
    }
    Ok(resolved)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_bytes_are_escaped() {
        let s = shown(Path::new("a\x1b[2Jb\nc"));
        assert_eq!(s, "a\\u{1b}[2Jb\\nc");
    }

    #[cfg(unix)]
    #[test]
    fn devices_and_directories_are_refused() {
        for p in ["/dev/zero", "/dev/null", "/"] {
            match read_capped(Path::new(p), Limit::PngBytes) {
                Err(ReadError::NotRegularFile { .. }) => {}
                other => panic!("{p}: {other:?}"),
            }
        }
    }

    #[test]
    fn reads_stop_at_the_limit() {
        let dir = std::env::temp_dir().join(format!("mandrel-read-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("key");
        std::fs::write(&f, vec![b'a'; Limit::KeyFileBytes.max() as usize + 1]).unwrap();
        match read_capped(&f, Limit::KeyFileBytes) {
            Err(ReadError::TooLarge { source, .. }) => {
                assert_eq!(source.limit, Limit::KeyFileBytes)
            }
            other => panic!("{other:?}"),
        }
        std::fs::write(&f, b"abc").unwrap();
        assert_eq!(read_capped(&f, Limit::KeyFileBytes).unwrap(), b"abc");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
