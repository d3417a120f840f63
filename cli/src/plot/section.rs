//! `section.png`: the ring cross-section in millimetres, with equal aspect.

use super::{plot_err, render};
use crate::report::Truth;
use mandrel_core::measure::{Measurement, SectionResult, Status};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

/// Size of the picture (pixels).
const SIZE: (u32, u32) = (720, 760);
/// Length of each drawn silhouette support line, either side of its foot (mm).
const SUPPORT_HALF_MM: f64 = 3.0;

/// Draws the ring section: surface samples and silhouette support lines (two colours), the
/// fitted outline, the truth outline when known (an ellipse of the true perimeter and
/// thickness/width ratio, laid on the fitted outline's principal axes: the truth gives no
/// orientation), axes in mm at equal scale, a title with the circumference ± σ, the status
/// and the coverage, and a legend.
pub fn draw_section(
    ring: Option<&SectionResult>,
    m: &Measurement,
    truth: Option<&Truth>,
) -> anyhow::Result<image::RgbImage> {
    render(SIZE.0, SIZE.1, |root| {
        let title = title(m);
        let Some(r) = ring else {
            root.draw(&Text::new(
                format!("{title} — no ring section was fitted"),
                (20, 30),
                ("sans-serif", 18),
            ))
            .map_err(plot_err)?;
            return Ok(());
        };
        let mm = |x: f64| x * 1000.0;
        let contour: Vec<(f64, f64)> = r.contour_2d.iter().map(|p| (mm(p.x), mm(p.y))).collect();
        let points: Vec<(f64, f64)> = r
            .points_2d
            .iter()
            .map(|p| (mm(p.x as f64), mm(p.y as f64)))
            .collect();
        let supports: Vec<[(f64, f64); 2]> = r
            .tangents_2d
            .iter()
            .map(|t| {
                let (nx, ny, o) = (t.normal.x as f64, t.normal.y as f64, mm(t.offset_m as f64));
                let (fx, fy) = (nx * o, ny * o);
                let (tx, ty) = (-ny * SUPPORT_HALF_MM, nx * SUPPORT_HALF_MM);
                [(fx - tx, fy - ty), (fx + tx, fy + ty)]
            })
            .collect();
        let truth_outline = truth.and_then(|t| truth_ellipse(t, &contour));
        // Half extent: the outline with a margin, at least 8 mm.
        let reach = contour
            .iter()
            .chain(truth_outline.iter().flatten())
            .map(|(x, y)| x.abs().max(y.abs()))
            .filter(|v| v.is_finite())
            .fold(8.0f64, f64::max)
            * 1.25;
        // Equal aspect: the ranges follow the plotting area's pixel shape.
        let (pw, ph) = chart(root, &title, reach, reach)?
            .plotting_area()
            .dim_in_pixel();
        let (xr, yr) = if pw >= ph {
            (reach * pw as f64 / ph.max(1) as f64, reach)
        } else {
            (reach, reach * ph as f64 / pw.max(1) as f64)
        };
        root.fill(&WHITE).map_err(plot_err)?;
        let mut chart = chart(root, &title, xr, yr)?;
        chart
            .configure_mesh()
            .x_desc("u (mm, in the slice plane)")
            .y_desc("v (mm)")
            .label_style(("sans-serif", 14))
            .axis_desc_style(("sans-serif", 15))
            .light_line_style(RGBColor(238, 238, 238))
            .bold_line_style(RGBColor(205, 205, 205))
            .draw()
            .map_err(plot_err)?;
        let support_colour = RGBColor(90, 150, 255);
        let mut first = true;
        for s in &supports {
            let a = chart
                .draw_series(std::iter::once(PathElement::new(
                    s.to_vec(),
                    support_colour.mix(0.6).stroke_width(1),
                )))
                .map_err(plot_err)?;
            if first {
                a.label(format!("silhouette support lines ({})", supports.len()))
                    .legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 18, y)], support_colour.stroke_width(2))
                    });
                first = false;
            }
        }
        let point_colour = RGBColor(40, 40, 40);
        chart
            .draw_series(
                points
                    .iter()
                    .map(|&p| Circle::new(p, 2, point_colour.mix(0.7).filled())),
            )
            .map_err(plot_err)?
            .label(format!("surface samples ({})", points.len()))
            .legend(move |(x, y)| Circle::new((x + 9, y), 3, point_colour.filled()));
        if let (Some(t), Some(outline)) = (truth, truth_outline) {
            let green = RGBColor(0, 150, 70);
            chart
                .draw_series(LineSeries::new(
                    closed(outline),
                    ShapeStyle::from(green).stroke_width(2),
                ))
                .map_err(plot_err)?
                .label(format!(
                    "truth {:.2} mm (ellipse on the fit's axes)",
                    t.ring_circumference_mm
                ))
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], green.stroke_width(2))
                });
        }
        let red = RGBColor(215, 30, 30);
        chart
            .draw_series(LineSeries::new(
                closed(contour),
                ShapeStyle::from(red).stroke_width(3),
            ))
            .map_err(plot_err)?
            .label(format!("fitted outline {:.2} mm", r.perimeter_m * 1000.0))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], red.stroke_width(3)));
        chart
            .draw_series(std::iter::once(Cross::new(
                (0.0, 0.0),
                5,
                red.stroke_width(2),
            )))
            .map_err(plot_err)?;
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .label_font(("sans-serif", 14))
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(160, 160, 160))
            .draw()
            .map_err(plot_err)?;
        Ok(())
    })
}

/// The drawing area of a picture.
type Area<'b> = DrawingArea<BitMapBackend<'b>, plotters::coord::Shift>;

/// The section chart on `root`: ±`xr` by ±`yr` millimetres, with its title.
fn chart<'a, 'b>(
    root: &'a Area<'b>,
    title: &str,
    xr: f64,
    yr: f64,
) -> anyhow::Result<ChartContext<'a, BitMapBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>>
{
    ChartBuilder::on(root)
        .caption(title, ("sans-serif", 19))
        .margin(12)
        .x_label_area_size(44)
        .y_label_area_size(54)
        .build_cartesian_2d(-xr..xr, -yr..yr)
        .map_err(plot_err)
}

/// The title line: "Ring C ± σ mm (1σ) · status · coverage N°".
fn title(m: &Measurement) -> String {
    let status = match m.status {
        Status::Ok => "ok",
        _ => "needs rescan",
    };
    let size = match (m.ring_circumference_mm, m.uncertainty_mm) {
        (Some(r), Some(u)) => format!("Ring {r:.2} ± {u:.2} mm (1σ)"),
        _ => "Ring section".to_string(),
    };
    format!("{size} · {status} · coverage {:.0}°", m.coverage_deg)
}

/// The polyline closed on its first point.
fn closed(mut v: Vec<(f64, f64)>) -> Vec<(f64, f64)> {
    if let Some(&p) = v.first() {
        v.push(p);
    }
    v
}

/// The truth outline: an ellipse with the true perimeter and thickness/width ratio, its
/// long axis along the fitted outline's (second moments of the contour), centred on it.
fn truth_ellipse(t: &Truth, contour: &[(f64, f64)]) -> Option<Vec<(f64, f64)>> {
    let e = t
        .ellipticity
        .filter(|e| e.is_finite() && *e > 0.0)
        .unwrap_or(1.0);
    let p = t.ring_circumference_mm;
    if !(p.is_finite() && p > 0.0) || contour.is_empty() {
        return None;
    }
    let n = contour.len() as f64;
    let (mx, my) = contour
        .iter()
        .fold((0.0, 0.0), |(a, b), (x, y)| (a + x / n, b + y / n));
    let (mut sxx, mut syy, mut sxy) = (0.0, 0.0, 0.0);
    for (x, y) in contour {
        let (dx, dy) = (x - mx, y - my);
        sxx += dx * dx;
        syy += dy * dy;
        sxy += dx * dy;
    }
    let angle = 0.5 * (2.0 * sxy).atan2(sxx - syy);
    let (major, minor) = (1.0, e.min(1.0 / e));
    // Ramanujan's perimeter of the unit-major ellipse, scaled to the true perimeter.
    let unit = std::f64::consts::PI
        * (3.0 * (major + minor) - ((3.0 * major + minor) * (major + 3.0 * minor)).sqrt());
    let a = p / unit;
    let b = a * minor;
    let (s, c) = angle.sin_cos();
    Some(
        (0..360)
            .map(|i| {
                let t = (i as f64).to_radians();
                let (x, y) = (a * t.cos(), b * t.sin());
                (mx + c * x - s * y, my + s * x + c * y)
            })
            .collect(),
    )
}
