//! mandrel-core: a hand scan in, a ring size out, on the device.
//!
//! The modules read as the pipeline, and data flows one way:
//! [`frame`] → [`track`] → [`fuse`] → [`mesh`] → [`measure`] → [`seal`].
//! [`scan`] reads and writes scan folders. The virtual depth sensor used by tests,
//! benchmarks and the demo is the separate `mandrel-sim` crate.
//!
//! The crate opens no sockets, spawns no threads it does not join, and writes files only
//! through functions whose purpose is to write them (scan and mesh writers).
#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod frame;
pub mod fuse;
pub mod hand;
pub mod measure;
pub mod mesh;
pub(crate) mod numeric;
pub mod scan;
pub mod seal;
pub mod session;
pub mod track;
