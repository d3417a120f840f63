//! The decrypted bundle format: any bytes parse to a bundle or a typed error.
#![no_main]
use libfuzzer_sys::fuzz_target;
use mandrel_core::seal::bundle::Bundle;

fuzz_target!(|data: &[u8]| {
    if let Ok(b) = Bundle::parse(data) {
        // What parses re-encodes to a bundle that parses to the same parts.
        let again = Bundle::parse(&b.encode()).expect("re-encoded bundle parses");
        assert_eq!(again, b);
    }
});
