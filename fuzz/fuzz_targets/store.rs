//! The encrypted store's `open` on arbitrary records with a fixed key, and a round trip of
//! arbitrary plaintext (the id comes from the input too).
#![no_main]
use libfuzzer_sys::fuzz_target;
use mandrel_core::seal::{DataKey, RecordKind, SecureStore};

fuzz_target!(|data: &[u8]| {
    let store = SecureStore::new(DataKey::from_bytes([7u8; 32]));
    let kinds = [
        RecordKind::Measurement,
        RecordKind::Mesh,
        RecordKind::Consent,
        RecordKind::SealedEnvelope,
    ];
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let kind = kinds[(sel & 3) as usize];
    let id_len = ((sel >> 2) as usize).min(rest.len());
    let (id, body) = rest.split_at(id_len);
    let id = String::from_utf8_lossy(id);
    let _ = store.open(kind, &id, body);
    if let Ok(record) = store.seal(kind, &id, body) {
        let back = store.open(kind, &id, &record).expect("a sealed record opens");
        assert_eq!(&back[..], body);
    }
});
