//! Envelopes as a retailer's server receives them. Mode byte even: arbitrary bytes are
//! parsed as an envelope and opened with a fixed key. Odd: the input is split into a header
//! text and a plaintext that are sealed to the fixed key, so the opening code after
//! decryption (header re-validation, payload types, the bundle) sees arbitrary content.
#![no_main]
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use libfuzzer_sys::fuzz_target;
use mandrel_core::seal::envelope::{FORMAT, INFO, SUITE, VERSION};
use mandrel_core::seal::{hpke, Envelope, RecipientPublicKey};
use x25519_dalek::{PublicKey, StaticSecret};

fn open(env: &Envelope, secret: &StaticSecret, recipient: &RecipientPublicKey) {
    let Ok(enc) = env.enc_bytes() else { return };
    let dh = secret.diffie_hellman(&PublicKey::from(enc));
    if let Ok(opened) = env.open_with_dh(recipient, dh.as_bytes()) {
        // Whatever opens passed the receiving side's checks: a valid header.
        assert!(!opened.header.scan_id.is_empty());
    }
}

fuzz_target!(|data: &[u8]| {
    let secret = StaticSecret::from([0x42u8; 32]);
    let public = PublicKey::from(&secret);
    let recipient = RecipientPublicKey::from_bytes(public.as_bytes()).unwrap();
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode & 1 == 0 {
        if let Ok(env) = Envelope::parse(rest) {
            open(&env, &secret, &recipient);
        }
        return;
    }
    if rest.len() < 2 {
        return;
    }
    let header_len = (u16::from_le_bytes([rest[0], rest[1]]) as usize).min(rest.len() - 2);
    let header = String::from_utf8_lossy(&rest[2..2 + header_len]).into_owned();
    let mut buf = rest[2 + header_len..].to_vec();
    let Ok(enc) = hpke::seal_base_in_place(
        public.as_bytes(),
        INFO,
        header.as_bytes(),
        &mut buf,
        &ring::rand::SystemRandom::new(),
    ) else {
        return;
    };
    let env = Envelope {
        format: FORMAT.to_string(),
        version: VERSION,
        suite: SUITE.to_string(),
        recipient_key_id: recipient.key_id(),
        header,
        enc: URL_SAFE_NO_PAD.encode(enc),
        ciphertext: URL_SAFE_NO_PAD.encode(&buf),
    };
    let wire = env.to_json();
    let parsed = Envelope::parse(wire.as_bytes()).expect("an envelope we built parses");
    open(&parsed, &secret, &recipient);
});
