//! A contour as an SVG drawing in millimetres, origin at the band's axis, `y` up (the SVG
//! user unit is one millimetre; the drawing is flipped so that `+y` of the finger frame
//! points up, as in a CAD package).

use std::fmt::Write;

/// SVG text of a closed contour (mm), with a cross at the origin (the ring axis) and the
/// perimeter in the title.
pub fn contour_svg(contour: &[[f64; 2]], title: &str) -> String {
    let extent = contour
        .iter()
        .fold(1.0f64, |m, p| m.max(p[0].abs()).max(p[1].abs()))
        + 2.0;
    let size = 2.0 * extent;
    let mut s = String::new();
    let _ = writeln!(s, r#"<?xml version="1.0" encoding="UTF-8"?>"#);
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{size:.3}mm" height="{size:.3}mm" viewBox="{:.3} {:.3} {size:.3} {size:.3}">"#,
        -extent, -extent
    );
    let _ = writeln!(s, "  <title>{}</title>", escape(title));
    let _ = writeln!(s, r#"  <g transform="scale(1,-1)">"#);
    let mut d = String::new();
    for (i, p) in contour.iter().enumerate() {
        let _ = write!(
            d,
            "{}{:.4},{:.4} ",
            if i == 0 { "M" } else { "L" },
            p[0],
            p[1]
        );
    }
    d.push('Z');
    let _ = writeln!(
        s,
        r#"    <path id="inner-contour" d="{d}" fill="none" stroke="black" stroke-width="0.05"/>"#
    );
    let _ = writeln!(
        s,
        r#"    <path id="axis" d="M-1,0 L1,0 M0,-1 L0,1" stroke="red" stroke-width="0.05"/>"#
    );
    let _ = writeln!(s, "  </g>\n</svg>");
    s
}

fn escape(t: &str) -> String {
    t.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
