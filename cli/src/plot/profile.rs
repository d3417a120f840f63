//! `profile.png`: the finger's circumference along its axis, from the MCP joint to past the
//! knuckle, with its σ band and the ring position and knuckle marked.

use super::{plot_err, render};
use mandrel_core::measure::profile::CircumferenceProfile;
use mandrel_core::measure::{MeasureDetail, Measurement};
use plotters::prelude::*;

/// Size of the picture (pixels).
const SIZE: (u32, u32) = (900, 520);
/// Sections whose circumference is within this share of the ring's set the vertical range.
const FINGER_LIKE: f64 = 0.3;

/// Draws the circumference profile (`None`: a picture that says none could be fitted).
pub fn draw_profile(
    profile: Option<&CircumferenceProfile>,
    m: &Measurement,
    detail: &MeasureDetail,
) -> anyhow::Result<image::RgbImage> {
    render(SIZE.0, SIZE.1, |root| {
        let Some(p) = profile.filter(|p| !p.points.is_empty()) else {
            root.draw(&Text::new(
                "Circumference along the finger: no section could be fitted",
                (20, 30),
                ("sans-serif", 18),
            ))
            .map_err(plot_err)?;
            return Ok(());
        };
        let knuckle_mm = detail.knuckle.as_ref().map(|k| k.position_m * 1000.0);
        let x0 = p.points[0].position_mm.min(p.mcp_mm) - 1.0;
        let x1 = p.points[p.points.len() - 1].position_mm + 1.0;
        // The circumference range: the band of the finger-like sections (within
        // [`FINGER_LIKE`] of the ring's), plus the measured values. Sections that reach the
        // web or the palm near the MCP joint are drawn clipped at the border.
        let anchor = m.ring_circumference_mm.unwrap_or_else(|| {
            let mut c: Vec<f64> = p.points.iter().map(|q| q.circumference_mm).collect();
            c.sort_unstable_by(f64::total_cmp);
            c[c.len() / 2]
        });
        let mut lo = f64::INFINITY;
        let mut hi = f64::NEG_INFINITY;
        for q in p
            .points
            .iter()
            .filter(|q| (q.circumference_mm - anchor).abs() <= FINGER_LIKE * anchor)
        {
            lo = lo.min(q.circumference_mm - q.sigma_mm);
            hi = hi.max(q.circumference_mm + q.sigma_mm);
        }
        for v in [m.ring_circumference_mm, m.knuckle_circumference_mm]
            .into_iter()
            .flatten()
        {
            lo = lo.min(v);
            hi = hi.max(v);
        }
        if !(lo.is_finite() && hi.is_finite()) {
            (lo, hi) = (anchor * (1.0 - FINGER_LIKE), anchor * (1.0 + FINGER_LIKE));
        }
        let pad = ((hi - lo) * 0.08).max(1.0);
        let (lo, hi) = (lo - pad, hi + pad);
        let title = match m.ring_circumference_mm {
            Some(r) => format!(
                "Circumference along the finger (ring {r:.2} mm{})",
                m.knuckle_circumference_mm
                    .map(|k| format!(", knuckle {k:.2} mm"))
                    .unwrap_or_default()
            ),
            None => "Circumference along the finger".to_string(),
        };
        let mut chart = ChartBuilder::on(root)
            .caption(title, ("sans-serif", 19))
            .margin(12)
            .x_label_area_size(44)
            .y_label_area_size(60)
            .build_cartesian_2d(x0..x1, lo..hi)
            .map_err(plot_err)?;
        chart
            .configure_mesh()
            .x_desc("position along the finger from the ring position (mm; MCP → PIP)")
            .y_desc("circumference (mm)")
            .label_style(("sans-serif", 14))
            .axis_desc_style(("sans-serif", 15))
            .light_line_style(RGBColor(240, 240, 240))
            .bold_line_style(RGBColor(210, 210, 210))
            .draw()
            .map_err(plot_err)?;
        let clip = |v: f64| v.clamp(lo, hi);
        let blue = RGBColor(30, 90, 200);
        let band: Vec<(f64, f64)> = p
            .points
            .iter()
            .map(|q| (q.position_mm, clip(q.circumference_mm + q.sigma_mm)))
            .chain(
                p.points
                    .iter()
                    .rev()
                    .map(|q| (q.position_mm, clip(q.circumference_mm - q.sigma_mm))),
            )
            .collect();
        chart
            .draw_series(std::iter::once(Polygon::new(band, blue.mix(0.22).filled())))
            .map_err(plot_err)?
            .label("±1σ of each section")
            .legend(move |(x, y)| {
                Rectangle::new([(x, y - 5), (x + 18, y + 5)], blue.mix(0.22).filled())
            });
        chart
            .draw_series(LineSeries::new(
                p.points
                    .iter()
                    .map(|q| (q.position_mm, clip(q.circumference_mm))),
                blue.stroke_width(2),
            ))
            .map_err(plot_err)?
            .label("section circumference")
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], blue.stroke_width(2))
            });
        // A vertical marker line: dashed (6 on, 4 off) with `width` 2 or more, solid and
        // thin with width 1 (so a joint line stays visible on a dashed one at the same place).
        let mut marker =
            |x: f64, colour: RGBColor, name: String, width: u32| -> anyhow::Result<()> {
                let (on, off) = if width > 1 { (6, 4) } else { (1000, 0) };
                chart
                    .draw_series(DashedLineSeries::new(
                        vec![(x, lo), (x, hi)],
                        on,
                        off,
                        colour.stroke_width(width),
                    ))
                    .map_err(plot_err)?
                    .label(name)
                    .legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 18, y)], colour.stroke_width(width))
                    });
                Ok(())
            };
        let grey = RGBColor(120, 120, 120);
        marker(0.0, RGBColor(215, 30, 30), "ring position".to_string(), 2)?;
        if let Some(k) = knuckle_mm {
            marker(k, RGBColor(0, 150, 70), format!("knuckle ({k:+.1} mm)"), 3)?;
        }
        // The joints thin and solid, on top: the knuckle is often at the PIP joint.
        marker(
            p.mcp_mm,
            grey,
            format!("MCP joint ({:+.1} mm)", p.mcp_mm),
            1,
        )?;
        marker(
            p.pip_mm,
            RGBColor(160, 100, 20),
            format!("PIP joint ({:+.1} mm)", p.pip_mm),
            1,
        )?;
        // The measured values with the ring's full uncertainty.
        if let (Some(r), Some(u)) = (m.ring_circumference_mm, m.uncertainty_mm) {
            let red = RGBColor(215, 30, 30);
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(0.0, clip(r - u)), (0.0, clip(r + u))],
                    red.stroke_width(4),
                )))
                .map_err(plot_err)?;
            chart
                .draw_series(std::iter::once(Circle::new(
                    (0.0, clip(r)),
                    5,
                    red.filled(),
                )))
                .map_err(plot_err)?;
        }
        if let (Some(k), Some(kx)) = (m.knuckle_circumference_mm, knuckle_mm) {
            chart
                .draw_series(std::iter::once(Circle::new(
                    (kx, clip(k)),
                    5,
                    RGBColor(0, 150, 70).filled(),
                )))
                .map_err(plot_err)?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .label_font(("sans-serif", 14))
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(160, 160, 160))
            .draw()
            .map_err(plot_err)?;
        Ok(())
    })
}
