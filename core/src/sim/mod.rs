//! The virtual depth sensor: analytic shapes and a parametric hand rendered into depth
//! frames with a realistic noise model, with exact ground truth. (Being built: issues 2, 4.)
