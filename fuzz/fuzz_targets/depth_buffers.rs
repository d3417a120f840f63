//! The platform depth readers (ARKit, TrueDepth in its four formats, ARCore) over arbitrary
//! width, height, row stride and buffer length, and the 16-bit PNG decoder.
#![no_main]
use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use mandrel_core::frame::formats::{
    arcore_depth16, arkit_scene_depth, png16, truedepth, RowLayout, TrueDepthFormat,
};

#[derive(Arbitrary, Debug)]
struct Input {
    reader: u8,
    width: u32,
    height: u32,
    stride: Option<usize>,
    with_confidence: bool,
    confidence_len: u16,
    depth_scale: f64,
    bytes: Vec<u8>,
}

fuzz_target!(|input: Input| {
    let layout = match input.stride {
        None => RowLayout::Packed,
        Some(s) => RowLayout::Stride(s),
    };
    let conf_len = (input.confidence_len as usize).min(input.bytes.len());
    let confidence = input.with_confidence.then(|| &input.bytes[..conf_len]);
    let b = &input.bytes[..];
    let r = match input.reader % 7 {
        0 => arkit_scene_depth(b, confidence, input.width, input.height, layout),
        1 => truedepth(b, TrueDepthFormat::DepthFloat32, input.width, input.height, layout),
        2 => truedepth(b, TrueDepthFormat::DepthFloat16, input.width, input.height, layout),
        3 => truedepth(b, TrueDepthFormat::DisparityFloat32, input.width, input.height, layout),
        4 => truedepth(b, TrueDepthFormat::DisparityFloat16, input.width, input.height, layout),
        5 => arcore_depth16(b, confidence, input.width, input.height, layout),
        _ => png16(b, input.depth_scale),
    };
    if let Ok(f) = r {
        // The frame guarantees: every sample finite and >= 0, size as stated.
        assert_eq!(f.depth_m().len(), f.width() as usize * f.height() as usize);
        assert!(f.depth_m().iter().all(|d| d.is_finite() && *d >= 0.0));
    }
});
