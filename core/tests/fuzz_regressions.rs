//! Inputs the fuzz campaign (`fuzz/`) found crashing, replayed through the code they
//! crashed, now that each is fixed. Each case names its target and what it broke.

use mandrel_core::frame::formats::{truedepth, RowLayout, TrueDepthFormat};
use mandrel_core::frame::FrameError;

/// `depth_buffers` crash-e3ed610a: a row stride near `usize::MAX` overflowed the buffer
/// length computation of the platform readers (a panic in debug builds, a wrapped length
/// and an out-of-bounds slice in release).
#[test]
fn an_absurd_row_stride_is_a_length_error() {
    for format in [
        TrueDepthFormat::DepthFloat32,
        TrueDepthFormat::DepthFloat16,
        TrueDepthFormat::DisparityFloat32,
        TrueDepthFormat::DisparityFloat16,
    ] {
        for stride in [usize::MAX, usize::MAX / 2 + 1, usize::MAX / 3] {
            let r = truedepth(&[0u8; 64], format, 2, 3, RowLayout::Stride(stride));
            assert!(
                matches!(r, Err(FrameError::BufferLength { .. })),
                "{format:?} stride {stride}: {r:?}"
            );
        }
    }
}
