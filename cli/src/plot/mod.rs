//! The pictures of a measurement, drawn with `plotters` on its bitmap backend and saved as
//! PNG: `section.png` (the ring cross-section), `overlay.png` (a depth frame with the
//! landmarks, the finger axis and the ring) and `profile.png` (circumference along the
//! finger). Text uses the Liberation Sans font shipped in `cli/assets/fonts` (SIL OFL 1.1),
//! registered once, so nothing depends on the machine's fonts.

mod overlay;
mod profile;
mod section;

pub use overlay::{draw_overlay, OverlayInput};
pub use profile::draw_profile;
pub use section::draw_section;

use anyhow::Context;
use plotters::prelude::*;

/// The font every picture's text is drawn in (SIL OFL 1.1; licence beside it).
static FONT: &[u8] = include_bytes!("../../assets/fonts/LiberationSans-Regular.ttf");

/// Registers [`FONT`] as plotters' `sans-serif` family (once per process).
fn register_font() -> anyhow::Result<()> {
    static ONCE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    let ok = *ONCE.get_or_init(|| {
        plotters::style::register_font("sans-serif", FontStyle::Normal, FONT).is_ok()
    });
    anyhow::ensure!(ok, "the bundled font could not be loaded");
    Ok(())
}

/// Turns a plotters error (generic over the backend) into an `anyhow` error.
fn plot_err<E: std::fmt::Display>(e: E) -> anyhow::Error {
    anyhow::anyhow!("drawing: {e}")
}

/// An RGB picture of `w` x `h` pixels drawn by `draw` on a white plotters canvas.
fn render(
    w: u32,
    h: u32,
    draw: impl FnOnce(&DrawingArea<BitMapBackend<'_>, plotters::coord::Shift>) -> anyhow::Result<()>,
) -> anyhow::Result<image::RgbImage> {
    register_font()?;
    let mut buf = vec![255u8; (w as usize) * (h as usize) * 3];
    {
        let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_err)?;
        draw(&root)?;
        root.present().map_err(plot_err)?;
    }
    image::RgbImage::from_raw(w, h, buf).context("picture buffer has the wrong size")
}

/// A colour map from near (warm) to far (cool), for depth: a piecewise-linear "turbo".
pub fn false_colour(t: f64) -> RGBColor {
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let stops: [(f64, [f64; 3]); 5] = [
        (0.0, [180.0, 4.0, 38.0]),
        (0.25, [250.0, 150.0, 40.0]),
        (0.5, [160.0, 230.0, 60.0]),
        (0.75, [40.0, 170.0, 230.0]),
        (1.0, [48.0, 18.0, 59.0]),
    ];
    for w in stops.windows(2) {
        let (a, b) = (w[0], w[1]);
        if t <= b.0 {
            let s = (t - a.0) / (b.0 - a.0);
            let c = |i: usize| (a.1[i] + (b.1[i] - a.1[i]) * s).round() as u8;
            return RGBColor(c(0), c(1), c(2));
        }
    }
    RGBColor(48, 18, 59)
}
