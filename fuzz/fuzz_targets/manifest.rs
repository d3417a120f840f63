//! Scan manifests (`scan.json`) with poses, landmarks and intrinsics: the input is written
//! as the manifest of a scan folder holding one small valid depth PNG, then opened and its
//! first frames loaded.
#![no_main]
use libfuzzer_sys::fuzz_target;
use mandrel_core::frame::formats::encode_png16;
use mandrel_core::frame::DepthFrame;
use mandrel_core::scan::ScanFolder;
use std::path::PathBuf;
use std::sync::OnceLock;

fn folder() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let d = std::env::temp_dir().join(format!("mandrel-fuzz-manifest-{}", std::process::id()));
        std::fs::create_dir_all(d.join("depth")).unwrap();
        let depth = DepthFrame::from_metres(4, 3, vec![0.3; 12]).unwrap();
        let (png, _) = encode_png16(&depth, 1000.0).unwrap();
        std::fs::write(d.join("depth/000000.png"), &png).unwrap();
        std::fs::write(d.join("depth/000001.png"), &png).unwrap();
        d
    })
}

fuzz_target!(|data: &[u8]| {
    let dir = folder();
    std::fs::write(dir.join("scan.json"), data).unwrap();
    if let Ok(scan) = ScanFolder::open(dir) {
        for i in 0..scan.len().min(4) {
            let _ = scan.frame(i);
        }
    }
});
