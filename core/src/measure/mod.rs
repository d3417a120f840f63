//! Finding the target finger, measuring its cross-section, uncertainty and status.
//! (Being built: issue 4.)

pub mod locate;
pub mod observe;
pub mod section;
pub mod sizes;
