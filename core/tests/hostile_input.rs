//! The hostile inputs of issue 16, as regression tests: limits named in errors, the scan
//! folder as a boundary, the receiving side re-validating what it opens, and bounded
//! sessions. The whole-binary figures (exit codes, peak memory) come from
//! `tests/hostile/run.sh`.
#![allow(deprecated)] // ring::test::rand::FixedSliceRandom (a fixed recipient scalar).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use mandrel_core::frame::formats::{encode_png16, png16};
use mandrel_core::frame::{DepthFrame, Frame, FrameError, Intrinsics};
use mandrel_core::hand::{Finger, Hand, Target};
use mandrel_core::limits::{Limit, LimitExceeded, MAX_FRAME_PIXELS, MAX_SESSION_FRAMES};
use mandrel_core::scan::{ScanError, ScanFolder};
use mandrel_core::seal::envelope::{parse_measurement_json, FORMAT, INFO, SUITE, VERSION};
use mandrel_core::seal::{hpke, Bundle, Envelope, RecipientPublicKey, SealError};
use mandrel_core::session::{ScanSession, SessionConfig, SessionError};
use ring::agreement::{agree_ephemeral, EphemeralPrivateKey, UnparsedPublicKey, X25519};
use ring::test::rand::FixedSliceRandom;
use std::fs;
use std::path::{Path, PathBuf};

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("mandrel-hostile-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&d);
    fs::create_dir_all(d.join("depth")).unwrap();
    d
}

fn png(w: u32, h: u32) -> Vec<u8> {
    let depth = DepthFrame::from_metres(w, h, vec![0.3; (w * h) as usize]).unwrap();
    encode_png16(&depth, 1000.0).unwrap().0
}

/// A scan folder of `n` 8x6 frames; `edit` may change the manifest before it is written.
fn scan(name: &str, n: usize, edit: impl FnOnce(&mut serde_json::Value)) -> PathBuf {
    let d = tmp(name);
    let frames: Vec<_> = (0..n)
        .map(|i| {
            fs::write(d.join(format!("depth/{i:06}.png")), png(8, 6)).unwrap();
            serde_json::json!({"depth": format!("depth/{i:06}.png"), "timestamp": i as f64 / 30.0,
                "pose": [1,0,0,0, 0,1,0,0, 0,0,1,0, 0,0,0,1], "landmarks": null})
        })
        .collect();
    let mut m = serde_json::json!({"format": "mandrel-scan", "version": 1, "sensor": "synthetic",
        "intrinsics": {"width": 8, "height": 6, "fx": 7.0, "fy": 7.0, "cx": 3.5, "cy": 2.5},
        "depth_scale": 1000.0, "target": {"hand": "left", "finger": "ring"}, "frames": frames});
    edit(&mut m);
    fs::write(d.join("scan.json"), m.to_string()).unwrap();
    d
}

fn open_err(d: &Path) -> String {
    ScanFolder::open(d).unwrap_err().to_string()
}

#[test]
fn a_small_png_claiming_a_huge_image_is_refused_before_decoding() {
    // A real 8x6 PNG whose header is rewritten to claim 8192x8192.
    let mut bytes = png(8, 6);
    bytes[16..20].copy_from_slice(&8192u32.to_be_bytes());
    bytes[20..24].copy_from_slice(&8192u32.to_be_bytes());
    match png16(&bytes, 1000.0) {
        Err(FrameError::Limit(LimitExceeded {
            limit: Limit::FramePixels,
            value,
        })) => {
            assert_eq!(value, 8192 * 8192)
        }
        other => panic!("{other:?}"),
    }
    assert!(DepthFrame::from_metres(2048, 1025, vec![]).is_err());
    const { assert!(MAX_FRAME_PIXELS >= 1920 * 1080) };
}

#[test]
fn intrinsics_that_are_no_camera_are_bad_input() {
    let e = Intrinsics::new(640, 480, 1e-300, 590.0, 319.5, 239.5).unwrap_err();
    assert!(e.to_string().contains("fx = 1e-300"), "{e}");
    assert!(Intrinsics::new(640, 480, 1e300, 590.0, 319.5, 239.5).is_err());
    // ARKit's colour intrinsics describe a larger image than any depth frame: allowed.
    assert!(Intrinsics::new(1920, 1440, 1500.0, 1500.0, 959.5, 719.5).is_ok());
}

#[test]
fn the_whole_manifest_is_checked_before_any_frame() {
    let d = scan("last-bad", 5, |m| {
        m["frames"][4]["landmarks"] = serde_json::json!(vec![[1.0, 1.0]; 20])
    });
    let e = ScanFolder::open(&d).unwrap_err();
    assert!(matches!(e, ScanError::Frame { index: 4, .. }), "{e}");

    let d = scan("pose-17", 1, |m| {
        m["frames"][0]["pose"] =
            serde_json::json!([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0])
    });
    assert!(open_err(&d).contains("more than 16 pose numbers"));

    let d = scan("landmarks-22", 1, |m| {
        m["frames"][0]["landmarks"] = serde_json::json!(vec![[1.0, 1.0]; 22])
    });
    assert!(open_err(&d).contains("more than 21 landmark points"));

    let d = scan(
        "huge",
        1,
        |m| m["intrinsics"] = serde_json::json!({"width": 8192, "height": 8192, "fx": 7000.0, "fy": 7000.0, "cx": 4095.5, "cy": 4095.5}),
    );
    assert!(open_err(&d).contains("pixels per frame is 67108864"));

    let d = scan("replay", 2, |m| {
        m["frames"][1]["depth"] = "depth/000000.png".into()
    });
    assert!(open_err(&d).contains("frame 1 replays frame 0"));

    let d = scan("fx", 1, |m| m["intrinsics"]["fx"] = 1e-300.into());
    assert!(open_err(&d).contains("focal length"));
}

#[test]
fn manifests_are_read_with_caps() {
    let d = scan("frames-cap", 1, |m| {
        let one = m["frames"][0].clone();
        m["frames"] = serde_json::Value::Array(vec![one; MAX_SESSION_FRAMES as usize + 1]);
    });
    assert!(open_err(&d).contains("more than 36000 frames"));
}

#[cfg(unix)]
#[test]
fn the_scan_folder_is_a_boundary() {
    let outside = tmp("outside");
    fs::write(outside.join("x.png"), png(8, 6)).unwrap();
    let d = scan("symlink", 1, |_| {});
    fs::remove_file(d.join("depth/000000.png")).unwrap();
    std::os::unix::fs::symlink(outside.join("x.png"), d.join("depth/000000.png")).unwrap();
    assert!(open_err(&d).contains("outside the scan folder"));

    fs::remove_file(d.join("depth/000000.png")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", d.join("depth/000000.png")).unwrap();
    assert!(open_err(&d).contains("outside the scan folder"));

    // A symlink that stays inside is fine.
    fs::remove_file(d.join("depth/000000.png")).unwrap();
    fs::write(d.join("real.png"), png(8, 6)).unwrap();
    std::os::unix::fs::symlink(d.join("real.png"), d.join("depth/000000.png")).unwrap();
    let s = ScanFolder::open(&d).unwrap();
    assert_eq!(s.frame(0).unwrap().depth.width(), 8);

    // A directory where a PNG should be.
    fs::remove_file(d.join("depth/000000.png")).unwrap();
    fs::create_dir(d.join("depth/000000.png")).unwrap();
    assert!(open_err(&d).contains("not a regular file"));

    // Control bytes in a path are escaped in the message.
    let d = scan("control", 1, |m| {
        m["frames"][0]["depth"] = "depth/\u{1b}[2Jx.png".into()
    });
    let e = open_err(&d);
    assert!(
        !e.contains('\u{1b}') && e.contains("\\u{1b}[2Jx.png"),
        "{e}"
    );
}

#[cfg(target_os = "linux")]
#[test]
fn a_fifo_is_refused_not_waited_on() {
    let d = scan("fifo", 1, |_| {});
    fs::remove_file(d.join("depth/000000.png")).unwrap();
    let ok = std::process::Command::new("mkfifo")
        .arg(d.join("depth/000000.png"))
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        eprintln!("SKIP: mkfifo unavailable");
        return;
    }
    assert!(open_err(&d).contains("not a regular file"));
}

fn target() -> Target {
    Target {
        hand: Hand::Left,
        finger: Finger::Ring,
    }
}

#[test]
fn sessions_refuse_frames_past_the_cap() {
    let mut s = ScanSession::new(SessionConfig::new(target())).unwrap();
    let k = Intrinsics::new(4, 3, 4.0, 4.0, 1.5, 1.0).unwrap();
    // Frames without depth in the working range are cheap: fill to the cap with them.
    let frame = Frame::new(
        DepthFrame::from_metres(4, 3, vec![5.0; 12]).unwrap(),
        k,
        Some(nalgebra::Isometry3::identity()),
        None,
        0.0,
    )
    .unwrap();
    for _ in 0..MAX_SESSION_FRAMES {
        s.push_frame(frame.clone()).unwrap();
    }
    match s.push_frame(frame) {
        Err(SessionError::Limit(LimitExceeded {
            limit: Limit::SessionFrames,
            value,
        })) => assert_eq!(value, MAX_SESSION_FRAMES + 1),
        other => panic!("{other:?}"),
    }
}

/// Seals `plaintext` under a header text to a fixed key, bypassing `seal`'s checks, and
/// opens it.
fn open_crafted(header: &serde_json::Value, plaintext: &[u8]) -> Result<(), SealError> {
    let sk = [0x42u8; 32];
    let pk = {
        let rng = FixedSliceRandom { bytes: &sk };
        let k = EphemeralPrivateKey::generate(&X25519, &rng).unwrap();
        RecipientPublicKey::from_bytes(k.compute_public_key().unwrap().as_ref()).unwrap()
    };
    let header = header.to_string();
    let mut buf = plaintext.to_vec();
    let enc = hpke::seal_base_in_place(
        pk.as_bytes(),
        INFO,
        header.as_bytes(),
        &mut buf,
        &ring::rand::SystemRandom::new(),
    )
    .unwrap();
    let env = Envelope {
        format: FORMAT.into(),
        version: VERSION,
        suite: SUITE.into(),
        recipient_key_id: pk.key_id(),
        header,
        enc: URL_SAFE_NO_PAD.encode(enc),
        ciphertext: URL_SAFE_NO_PAD.encode(&buf),
    };
    let env = Envelope::parse(env.to_json().as_bytes())?;
    let rng = FixedSliceRandom { bytes: &sk };
    let k = EphemeralPrivateKey::generate(&X25519, &rng).unwrap();
    let dh = agree_ephemeral(
        k,
        &UnparsedPublicKey::new(&X25519, &env.enc_bytes()?),
        |s| <[u8; 32]>::try_from(s).unwrap(),
    )
    .unwrap();
    env.open_with_dh(&pk, &dh).map(|_| ())
}

fn header(edit: impl FnOnce(&mut serde_json::Value)) -> serde_json::Value {
    let mut h = serde_json::json!({"scan_id": "scan-1", "created_at": "2026-01-02T00:00:00Z",
        "consent": {"purpose": "ring sizing", "scope": "measurement+mesh", "policy_version": "1",
                    "granted_at": "2026-01-01T00:00:00Z"},
        "content_type": "application/json"});
    edit(&mut h);
    h
}

#[test]
fn open_re_validates_what_seal_enforces() {
    let m = br#"{"status":"ok"}"#;
    open_crafted(&header(|_| {}), m).expect("a well-formed envelope opens");
    let e = open_crafted(
        &header(|h| h["scan_id"] = "../../../etc/cron.d/x".into()),
        m,
    );
    assert!(matches!(e, Err(SealError::BadHeader(_))), "{e:?}");
    let e = open_crafted(&header(|h| h["created_at"] = "yesterday".into()), m);
    assert!(matches!(e, Err(SealError::BadHeader(_))), "{e:?}");
    let e = open_crafted(
        &header(|h| h["consent"]["granted_at"] = "2026-06-01T00:00:00Z".into()),
        m,
    );
    assert!(matches!(e, Err(SealError::BadHeader(_))), "{e:?}");
    let e = open_crafted(&header(|_| {}), b"[1,2,3]");
    assert!(matches!(e, Err(SealError::BadMeasurement(_))), "{e:?}");
    let bundle = Bundle::encode_parts(m, Some(b"#!/bin/sh\n"));
    let e = open_crafted(
        &header(|h| h["content_type"] = "application/x-mandrel-bundle".into()),
        &bundle,
    );
    assert!(matches!(e, Err(SealError::BadMesh(_))), "{e:?}");
}

#[test]
fn sizes_are_checked_before_parsing() {
    let huge = vec![b' '; Limit::EnvelopeBytes.max() as usize + 1];
    assert!(matches!(
        Envelope::parse(&huge),
        Err(SealError::Limit(LimitExceeded {
            limit: Limit::EnvelopeBytes,
            ..
        }))
    ));
    let numbers = vec![b'1'; Limit::MeasurementBytes.max() as usize + 1];
    assert!(matches!(
        parse_measurement_json(&numbers),
        Err(SealError::Limit(LimitExceeded {
            limit: Limit::MeasurementBytes,
            ..
        }))
    ));
    assert!(matches!(
        parse_measurement_json(b"[1]"),
        Err(SealError::BadMeasurement(_))
    ));
}
