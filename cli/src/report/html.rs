//! The self-contained `report.html`: sizes in every system, the knuckle advice, the reasons
//! for a rescan in plain words, the timings, and the pictures embedded as data URIs.

use super::ReportInput;
use base64::Engine;
use mandrel_core::measure::sizes::{SizeSystem, Sizes, ALL_SYSTEMS, OUT_OF_TABLE};
use mandrel_core::measure::{Reason, Status};

/// Escapes text for HTML.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A rescan reason in plain words, with what to do about it.
pub fn reason_text(r: Reason) -> String {
    match r {
        Reason::FingerNotFound => "The finger could not be found in the scan. Keep the whole hand in view with the fingers spread.".into(),
        Reason::InsufficientCoverage => "Too little of the finger's circumference was seen. Move the camera around the finger so that both the back and the palm side are filmed.".into(),
        Reason::TooNoisy => "The measurement is too uncertain to pin a half size: the depth was noisy or the camera unsteady. Scan again slowly, with the hand 25 to 35 cm from the camera.".into(),
        Reason::TrackingLost => "The camera's motion was lost in too many frames. Move the camera more slowly and keep the hand in view.".into(),
        Reason::TooFewFrames => "Too few frames showed the ring position. Scan for longer.".into(),
        Reason::NoFrames => "The scan holds no frames.".into(),
        Reason::HandOutOfRange => "The hand was too near or too far from the camera in most frames.".into(),
        other => format!(
            "Rescan needed ({}).",
            serde_json::to_value(other)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default()
        ),
    }
}

fn system_name(s: SizeSystem) -> &'static str {
    match s {
        SizeSystem::Iso => "ISO 8653",
        SizeSystem::Us => "US / Canada",
        SizeSystem::Uk => "UK / Australia",
        SizeSystem::Eu => "EU",
        SizeSystem::Jp => "Japan",
        SizeSystem::Ch => "Switzerland",
        SizeSystem::In => "India",
        SizeSystem::Cn => "China",
        _ => "other",
    }
}

fn sizes_table(nearest: Option<&Sizes>, recommended: Option<&Sizes>) -> String {
    let mut s = String::from(
        "<table><tr><th>system</th><th>nearest to the ring position</th><th>recommended</th></tr>\n",
    );
    for sys in ALL_SYSTEMS {
        let cell = |z: Option<&Sizes>| z.map(|z| esc(z.printed(sys))).unwrap_or_else(|| "—".into());
        s.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td><b>{}</b></td></tr>\n",
            system_name(sys),
            cell(nearest),
            cell(recommended)
        ));
    }
    s.push_str("</table>\n");
    if [nearest, recommended]
        .iter()
        .flatten()
        .any(|z| ALL_SYSTEMS.iter().any(|&sys| z.get(sys).is_none()))
    {
        s.push_str(&format!(
            "<p>{}: the size is beyond that system's table.</p>\n",
            esc(OUT_OF_TABLE)
        ));
    }
    s
}

/// The whole page.
pub fn page(input: &ReportInput<'_>, pictures: &[(&str, Vec<u8>)]) -> String {
    let m = input.measurement;
    let mm = |v: Option<f64>| {
        v.map(|v| format!("{v:.2} mm"))
            .unwrap_or_else(|| "—".into())
    };
    let ok = m.status == Status::Ok;
    let mut h = String::new();
    h.push_str("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n");
    h.push_str(&format!(
        "<title>mandrel report: {}</title>\n",
        esc(&input.title)
    ));
    h.push_str("<style>body{font-family:sans-serif;max-width:980px;margin:2em auto;padding:0 1em;color:#222}table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.25em .7em;text-align:left}.ok{color:#186a2e}.bad{color:#a11}img{max-width:100%;border:1px solid #ddd;margin:.5em 0}</style>\n</head><body>\n");
    h.push_str(&format!(
        "<h1>Ring size report: {}</h1>\n",
        esc(&input.title)
    ));
    h.push_str(&format!(
        "<p>{} hand, {} finger. Status: <b class=\"{}\">{}</b>. Measurement JSON format <code>{}</code> version {}.</p>\n",
        m.hand,
        m.finger,
        if ok { "ok" } else { "bad" },
        if ok { "ok" } else { "needs rescan" },
        esc(&m.format),
        m.version
    ));
    h.push_str("<h2>Measurement</h2>\n<table>\n");
    let sigma = m
        .uncertainty_mm
        .map(|u| format!(" ± {u:.2} mm (1σ)"))
        .unwrap_or_default();
    h.push_str(&format!(
        "<tr><td>ring circumference</td><td>{}{}</td></tr>\n",
        mm(m.ring_circumference_mm),
        sigma
    ));
    h.push_str(&format!(
        "<tr><td>knuckle circumference</td><td>{}</td></tr>\n",
        mm(m.knuckle_circumference_mm)
    ));
    if let Some(t) = input.truth {
        let err = m
            .ring_circumference_mm
            .map(|r| format!(" (error {:+.2} mm)", r - t.ring_circumference_mm))
            .unwrap_or_default();
        h.push_str(&format!(
            "<tr><td>truth (simulated scan)</td><td>ring {:.2} mm{}, knuckle {}</td></tr>\n",
            t.ring_circumference_mm,
            err,
            mm(t.knuckle_circumference_mm)
        ));
    }
    h.push_str(&format!(
        "<tr><td>coverage</td><td>{:.0}° of the ring section's outline</td></tr>\n<tr><td>frames used</td><td>{}</td></tr>\n<tr><td>finger located by</td><td>{}</td></tr>\n</table>\n",
        m.coverage_deg,
        m.frames_used,
        m.locate_method
            .and_then(|l| serde_json::to_value(l).ok())
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_else(|| "— (not found)".into())
    ));
    h.push_str("<h2>Sizes</h2>\n");
    if ok {
        h.push_str(&sizes_table(
            m.sizes.as_ref(),
            m.recommended.as_ref().map(|r| &r.sizes),
        ));
        if let Some(r) = &m.recommended {
            h.push_str(&format!(
                "<h2>Knuckle advice</h2>\n<p>{}</p>\n<p>The recommended sizes have an inner circumference of at least {:.2} mm.</p>\n",
                esc(&r.advice),
                r.circumference_mm
            ));
        }
    } else {
        h.push_str("<p>No size is given: the scan needs redoing.</p>\n<h2>Why a rescan is needed</h2>\n<ul>\n");
        for r in &m.reasons {
            h.push_str(&format!("<li>{}</li>\n", esc(&reason_text(*r))));
        }
        h.push_str("</ul>\n");
    }
    h.push_str("<h2>Pictures</h2>\n");
    for (name, png) in pictures {
        let alt = match *name {
            "section.png" => "ring cross-section",
            "overlay.png" => "depth frame overlay",
            "profile.png" => "circumference along the finger",
            _ => name,
        };
        h.push_str(&format!(
            "<figure><img src=\"data:image/png;base64,{}\" alt=\"{}\"><figcaption>{} ({})</figcaption></figure>\n",
            base64::engine::general_purpose::STANDARD.encode(png),
            alt,
            alt,
            name
        ));
    }
    let t = &m.timings_ms;
    h.push_str("<h2>Timings</h2>\n<table><tr><th>stage</th><th>ms</th></tr>\n");
    for (name, v) in [
        ("tracking", t.track),
        ("fusion", t.fuse),
        ("observation", t.observe),
        ("finger location", t.locate),
        ("section fits", t.section),
        ("pipeline total (wall)", t.total),
    ] {
        h.push_str(&format!("<tr><td>{name}</td><td>{v:.1}</td></tr>\n"));
    }
    for (name, v) in &input.wall_ms {
        h.push_str(&format!("<tr><td>{}</td><td>{v:.1}</td></tr>\n", esc(name)));
    }
    h.push_str("</table>\n<p>Pipeline stages run side by side, so the total is not their sum.</p>\n</body></html>\n");
    h
}
