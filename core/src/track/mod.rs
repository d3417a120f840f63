//! Camera pose tracking: frame-to-model point-to-plane ICP when the platform gives no pose,
//! and refinement of platform poses. (Being built: issue 3.)
