//! Frames, intrinsics and depth images that were checked once, at the edge.
//!
//! A stage that takes one of these types cannot be handed unchecked input, so it does not
//! check again: [`ValidFrame`] is what [`crate::session::ScanSession`] builds when a frame is
//! pushed, [`DepthView`] (a depth image with intrinsics of its size) and
//! [`ValidIntrinsics`] are what tracking, fusion and raycasting take inside the crate. Each
//! is built only by a checking function (or derived from a checked value); fields are
//! private and read through accessors.

use super::{pose, DepthFrame, Frame, FrameError, Intrinsics};
use std::ops::Deref;

/// Intrinsics checked by [`Intrinsics::validate`]: finite, positive focal lengths, principal
/// point near the image, size within [`super::MAX_IMAGE_SIDE`]. Reads as [`Intrinsics`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ValidIntrinsics(Intrinsics);

impl ValidIntrinsics {
    /// Checks `k` ([`Intrinsics::validate`]) and wraps it.
    pub fn new(k: Intrinsics) -> Result<Self, FrameError> {
        k.validate()?;
        Ok(Self(k))
    }

    /// The intrinsics.
    pub fn get(&self) -> &Intrinsics {
        &self.0
    }

    /// The same camera at another resolution ([`Intrinsics::scaled_to`], which checks the
    /// result).
    pub fn scaled_to(&self, width: u32, height: u32) -> Result<Self, FrameError> {
        self.0.scaled_to(width, height).map(Self)
    }
}

impl Deref for ValidIntrinsics {
    type Target = Intrinsics;
    fn deref(&self) -> &Intrinsics {
        &self.0
    }
}

/// A depth image and valid intrinsics of the same size: what the tracker and the fusion
/// read from one frame.
#[derive(Debug, Clone, Copy)]
pub struct DepthView<'a> {
    depth: &'a DepthFrame,
    k: ValidIntrinsics,
}

impl<'a> DepthView<'a> {
    /// Checks `k` ([`Intrinsics::validate`]), then that `depth` has its size
    /// ([`DepthFrame::check_matches`]), in that order.
    pub fn new(depth: &'a DepthFrame, k: &Intrinsics) -> Result<Self, FrameError> {
        let k = ValidIntrinsics::new(*k)?;
        depth.check_matches(&k)?;
        Ok(Self { depth, k })
    }

    /// The depth image.
    pub fn depth(&self) -> &'a DepthFrame {
        self.depth
    }

    /// The intrinsics (of the depth image's size).
    pub fn intrinsics(&self) -> ValidIntrinsics {
        self.k
    }
}

/// A [`Frame`] whose intrinsics are valid and of the depth image's size, and whose pose (if
/// any) passes [`pose::validate`]. Reads as a [`Frame`]; it cannot be changed, so it stays
/// valid.
#[derive(Debug, Clone)]
pub struct ValidFrame {
    frame: Frame,
    k: ValidIntrinsics,
}

impl ValidFrame {
    /// Checks a frame (its fields are public, so it may have been built or edited without
    /// [`Frame::new`]): intrinsics, then size, then pose, with [`Frame::new`]'s errors. The
    /// timestamp is not checked here ([`Frame::new`] does).
    pub fn new(frame: Frame) -> Result<Self, FrameError> {
        let k = DepthView::new(&frame.depth, &frame.intrinsics)?.intrinsics();
        if let Some(p) = &frame.pose {
            pose::validate(p)?;
        }
        Ok(Self { frame, k })
    }

    /// The depth image with its intrinsics.
    pub fn view(&self) -> DepthView<'_> {
        DepthView {
            depth: &self.frame.depth,
            k: self.k,
        }
    }

    /// The frame's intrinsics.
    pub fn intrinsics(&self) -> ValidIntrinsics {
        self.k
    }

    /// The frame.
    pub fn into_frame(self) -> Frame {
        self.frame
    }
}

impl Deref for ValidFrame {
    type Target = Frame;
    fn deref(&self) -> &Frame {
        &self.frame
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::Isometry3;

    fn frame(k: Intrinsics, pose: Option<Isometry3<f64>>) -> Frame {
        Frame {
            depth: DepthFrame::from_metres(4, 2, vec![0.3; 8]).unwrap(),
            intrinsics: k,
            pose,
            landmarks: None,
            timestamp: 0.0,
        }
    }

    #[test]
    fn a_frame_is_checked_in_the_order_frame_new_checks_it() {
        let k = Intrinsics::new(4, 2, 5.0, 5.0, 1.5, 0.5).unwrap();
        let v = ValidFrame::new(frame(k, Some(Isometry3::identity()))).unwrap();
        assert_eq!(*v.intrinsics().get(), k);
        assert_eq!(v.view().depth().width(), 4);
        // Fields edited after `Frame::new`: bad intrinsics come first, then the size.
        let mut bad = k;
        bad.fx = f64::NAN;
        bad.width = 8;
        assert!(matches!(
            ValidFrame::new(frame(bad, None)),
            Err(FrameError::Intrinsics(_))
        ));
        let mut wide = k;
        wide.width = 8;
        assert!(matches!(
            ValidFrame::new(frame(wide, None)),
            Err(FrameError::SizeMismatch { .. })
        ));
        let far = Isometry3::translation(1e4, 0.0, 0.0);
        assert!(matches!(
            ValidFrame::new(frame(k, Some(far))),
            Err(FrameError::Pose(_))
        ));
    }

    #[test]
    fn scaled_intrinsics_stay_checked() {
        let k =
            ValidIntrinsics::new(Intrinsics::new(640, 480, 590.0, 590.0, 319.5, 239.5).unwrap())
                .unwrap();
        assert_eq!(k.scaled_to(320, 240).unwrap().width, 320);
        assert!(matches!(
            k.scaled_to(0, 240),
            Err(FrameError::ImageSize { .. })
        ));
        let mut z = *k.get();
        z.fy = 0.0;
        assert!(matches!(
            ValidIntrinsics::new(z),
            Err(FrameError::Intrinsics(_))
        ));
    }
}
