//! `uniffi-bindgen` for this workspace (library mode), kept out of the FFI library so clap
//! and the code generators never end up in the phone binary.
fn main() {
    uniffi::uniffi_bindgen_main()
}
