//! Writes an envelope that `seal` would refuse but that is correctly encrypted to a given
//! public key, to check that the receiving side re-validates what it opens
//! (`tests/hostile/run.sh`). Usage: `hostile_envelope KIND KEY.pub OUT.json`, KIND one of
//! not-object, mesh-not-ply, bad-scan-id, created-yesterday, consent-after-creation, ok.
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use mandrel_core::seal::envelope::{FORMAT, INFO, SUITE, VERSION};
use mandrel_core::seal::{hpke, Bundle, Envelope, RecipientPublicKey};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 4 {
        eprintln!("usage: hostile_envelope KIND KEY.pub OUT.json");
        std::process::exit(2);
    }
    let pk_text = std::fs::read_to_string(&args[2]).expect("read the public key");
    let recipient = RecipientPublicKey::from_base64url(pk_text.trim()).expect("public key");
    let measurement = br#"{"version":1,"status":"ok","ring_circumference_mm":55.1}"#.to_vec();
    let mut scan_id = "scan-1";
    let mut created_at = "2026-01-02T00:00:00Z";
    let mut granted_at = "2026-01-01T00:00:00Z";
    let mut content_type = "application/json";
    let mut plaintext = measurement.clone();
    match args[1].as_str() {
        "not-object" => plaintext = b"[1,2,3]".to_vec(),
        "mesh-not-ply" => {
            content_type = "application/x-mandrel-bundle";
            plaintext = Bundle::encode_parts(&measurement, Some(b"#!/bin/sh\nrm -rf ~\n"));
        }
        "bad-scan-id" => scan_id = "../../../etc/cron.d/x",
        "created-yesterday" => created_at = "yesterday",
        "consent-after-creation" => granted_at = "2026-06-01T00:00:00Z",
        "ok" => {}
        other => {
            eprintln!("unknown kind {other}");
            std::process::exit(2);
        }
    }
    let header = serde_json::json!({
        "scan_id": scan_id,
        "created_at": created_at,
        "consent": {
            "purpose": "ring sizing",
            "scope": "measurement+mesh",
            "policy_version": "1",
            "granted_at": granted_at,
        },
        "content_type": content_type,
    })
    .to_string();
    let enc = hpke::seal_base_in_place(
        recipient.as_bytes(),
        INFO,
        header.as_bytes(),
        &mut plaintext,
        &ring::rand::SystemRandom::new(),
    )
    .expect("seal");
    let env = Envelope {
        format: FORMAT.to_string(),
        version: VERSION,
        suite: SUITE.to_string(),
        recipient_key_id: recipient.key_id(),
        header,
        enc: URL_SAFE_NO_PAD.encode(enc),
        ciphertext: URL_SAFE_NO_PAD.encode(&plaintext),
    };
    std::fs::write(&args[3], env.to_json()).expect("write");
}
