//! `overlay.png`: one depth frame in false colour, with the hand mask (when the session
//! gives one), the landmarks and hand skeleton, the located finger axis, the measured ring
//! and the knuckle, and a colour bar in millimetres.

use super::{false_colour, plot_err, render};
use mandrel_core::frame::Frame;
use mandrel_core::measure::MeasureDetail;
use nalgebra::{Isometry3, Point2, Point3};
use plotters::prelude::*;

/// Height of the title strip and width of the colour-bar strip (pixels).
const TITLE_PX: u32 = 34;
const BAR_PX: u32 = 130;
/// Widest depth range the colours span (metres): about a hand's depth, tilted.
const COLOUR_SPAN_M: f64 = 0.15;

/// MediaPipe hand skeleton edges.
const SKELETON: [(usize, usize); 20] = [
    (0, 1),
    (1, 2),
    (2, 3),
    (3, 4),
    (0, 5),
    (5, 6),
    (6, 7),
    (7, 8),
    (5, 9),
    (9, 10),
    (10, 11),
    (11, 12),
    (9, 13),
    (13, 14),
    (14, 15),
    (15, 16),
    (13, 17),
    (0, 17),
    (17, 18),
    (18, 19),
];

/// What the overlay draws.
pub struct OverlayInput<'a> {
    /// The depth frame (with its intrinsics and landmarks).
    pub frame: &'a Frame,
    /// Which frame of the scan it is (for the title).
    pub index: usize,
    /// The camera-to-world pose the pipeline used for it (given or tracked); without one
    /// the finger axis and ring cannot be projected and are left out.
    pub pose: Option<Isometry3<f64>>,
    /// The located finger and fitted sections.
    pub detail: &'a MeasureDetail,
    /// The hand mask of this frame (row-major, `true` = hand), when the session gives one:
    /// pixels outside it are dimmed. `None` draws every pixel alike.
    pub hand_mask: Option<&'a [bool]>,
}

/// Draws the overlay picture.
pub fn draw_overlay(input: &OverlayInput<'_>) -> anyhow::Result<image::RgbImage> {
    let f = input.frame;
    let (w, h) = (f.depth.width(), f.depth.height());
    render(w + BAR_PX, h + TITLE_PX, |root| {
        let (top, rest) = root.split_vertically(TITLE_PX);
        let (img, bar) = rest.split_horizontally(w);
        // Depth range for the colours: from the 1st percentile of the valid depths (the
        // hand, nearest) over at most [`COLOUR_SPAN_M`], so a wall behind the hand does not
        // flatten the hand into one colour.
        let mut valid: Vec<f32> = f
            .depth
            .depth_m()
            .iter()
            .copied()
            .filter(|&z| z > 0.0)
            .collect();
        valid.sort_unstable_by(f32::total_cmp);
        let (lo, hi) = if valid.is_empty() {
            (0.0, 1.0)
        } else {
            let q = |p: f64| valid[((valid.len() - 1) as f64 * p).round() as usize] as f64;
            let (a, b) = (q(0.01), q(0.99).min(q(0.01) + COLOUR_SPAN_M));
            if b > a {
                (a, b)
            } else {
                (a, a + 0.001)
            }
        };
        let mask = input
            .hand_mask
            .filter(|m| m.len() == (w as usize) * (h as usize));
        img.fill(&BLACK).map_err(plot_err)?;
        for y in 0..h {
            for x in 0..w {
                let z = f.depth.at(x, y) as f64;
                if z <= 0.0 {
                    continue;
                }
                let mut c = false_colour((z - lo) / (hi - lo));
                if mask.is_some_and(|m| !m[(y * w + x) as usize]) {
                    c = RGBColor(c.0 / 3, c.1 / 3, c.2 / 3);
                }
                img.draw_pixel((x as i32, y as i32), &c).map_err(plot_err)?;
            }
        }
        let px = |p: Point2<f64>| (p.x.round() as i32, p.y.round() as i32);
        let inside = |p: &Point2<f64>| {
            p.x.is_finite() && p.y.is_finite() && p.x.abs() < 1e5 && p.y.abs() < 1e5
        };
        if let Some(l) = &f.landmarks {
            let p = l.points();
            for (a, b) in SKELETON {
                img.draw(&PathElement::new(
                    vec![px(p[a]), px(p[b])],
                    WHITE.stroke_width(2),
                ))
                .map_err(plot_err)?;
            }
            for q in p.iter().filter(|q| inside(q)) {
                img.draw(&Circle::new(px(*q), 4, WHITE.filled()))
                    .map_err(plot_err)?;
                img.draw(&Circle::new(px(*q), 2, RGBColor(20, 20, 20).filled()))
                    .map_err(plot_err)?;
            }
        }
        let k = f.intrinsics;
        let project = |p: &Point3<f64>| {
            input
                .pose
                .and_then(|pose| k.project(&(pose.inverse() * p)))
                .filter(inside)
        };
        let magenta = RGBColor(255, 0, 255);
        // Labels in colour on a dark shadow, readable on any depth colour.
        let label = |at: (i32, i32), text: &str, colour: RGBColor| {
            for (dx, dy) in [(-1, 0), (1, 0), (0, -1), (0, 1), (1, 1)] {
                img.draw(&Text::new(
                    text.to_string(),
                    (at.0 + 8 + dx, at.1 - 8 + dy),
                    ("sans-serif", 16).into_font().color(&BLACK),
                ))
                .map_err(plot_err)?;
            }
            img.draw(&Text::new(
                text.to_string(),
                (at.0 + 8, at.1 - 8),
                ("sans-serif", 16).into_font().color(&colour),
            ))
            .map_err(plot_err)
        };
        let outline = |s: &mandrel_core::measure::SectionResult| -> Vec<(i32, i32)> {
            let mut v: Vec<(i32, i32)> = s
                .contour_2d
                .iter()
                .filter_map(|c| project(&(s.centre + s.plane_u * c.x + s.plane_v * c.y)))
                .map(px)
                .collect();
            if let Some(&p) = v.first() {
                v.push(p);
            }
            v
        };
        let cyan = RGBColor(0, 255, 255);
        let green = RGBColor(90, 255, 120);
        for (section, colour, name) in [
            (input.detail.ring.as_ref(), cyan, "ring"),
            (input.detail.knuckle.as_ref(), green, "knuckle"),
        ] {
            let Some(s) = section else { continue };
            let o = outline(s);
            if o.len() > 2 {
                img.draw(&PathElement::new(o.clone(), colour.stroke_width(2)))
                    .map_err(plot_err)?;
                let right = o.iter().max_by_key(|p| p.0).copied().unwrap_or(o[0]);
                label(right, name, colour)?;
            }
        }
        // The axis and joint labels last, over the section outlines.
        if let Some(fi) = &input.detail.finger {
            if let (Some(a), Some(b)) = (project(&fi.mcp.position), project(&fi.pip.position)) {
                img.draw(&PathElement::new(
                    vec![px(a), px(b)],
                    magenta.stroke_width(3),
                ))
                .map_err(plot_err)?;
                for (q, name) in [(a, "MCP"), (b, "PIP")] {
                    img.draw(&Circle::new(px(q), 5, magenta.filled()))
                        .map_err(plot_err)?;
                    // Joint labels left of the joint; section labels right of the outline.
                    let (x, y) = px(q);
                    label((x - 52, y), name, magenta)?;
                }
            }
        }
        top.draw(&Text::new(
            format!(
                "Depth frame {} ({}x{}): landmarks, finger axis MCP→PIP, ring and knuckle sections",
                input.index, w, h
            ),
            (10, 8),
            ("sans-serif", 17),
        ))
        .map_err(plot_err)?;
        // Colour bar in millimetres (near at the top, as the colours run near → far).
        let (lo_mm, hi_mm) = (lo * 1000.0, hi * 1000.0);
        let mut chart = ChartBuilder::on(&bar)
            .caption("depth (mm)", ("sans-serif", 14))
            .margin_top(4)
            .margin_bottom(10)
            .margin_left(8)
            .right_y_label_area_size(60)
            .build_cartesian_2d(0.0..1.0, hi_mm..lo_mm)
            .map_err(plot_err)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .disable_y_mesh()
            .disable_x_axis()
            .y_labels(8)
            .label_style(("sans-serif", 13))
            .axis_desc_style(("sans-serif", 14))
            .draw()
            .map_err(plot_err)?;
        let steps = 128;
        chart
            .draw_series((0..steps).map(|i| {
                let a = lo_mm + (hi_mm - lo_mm) * i as f64 / steps as f64;
                let b = lo_mm + (hi_mm - lo_mm) * (i + 1) as f64 / steps as f64;
                Rectangle::new(
                    [(0.0, a), (1.0, b)],
                    false_colour((i as f64 + 0.5) / steps as f64).filled(),
                )
            }))
            .map_err(plot_err)?;
        Ok(())
    })
}
