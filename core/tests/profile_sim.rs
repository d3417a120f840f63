//! `ScanSession::circumference_profile` on a simulated scan: it runs from the MCP joint to
//! past the PIP joint, and at the ring position it agrees with the measured ring.

use mandrel_core::session::{ScanSession, SessionConfig};
use mandrel_sim::{SimOptions, SimScan};

#[test]
fn profile_spans_the_finger_and_meets_the_ring_measurement() {
    let sim = SimScan::generate(11, &SimOptions::default()).unwrap();
    let mut session = ScanSession::new(SessionConfig::new(sim.target)).unwrap();
    for f in &sim.frames {
        session.push_frame(f.clone()).unwrap();
    }
    let (m, detail) = session.finish_detailed().unwrap();
    let finger = detail.finger.expect("located");
    let p = session
        .circumference_profile(&finger)
        .expect("a profile of a good scan");
    assert!(
        p.mcp_mm < 0.0 && p.pip_mm > 0.0,
        "{} {}",
        p.mcp_mm,
        p.pip_mm
    );
    assert!(p.points.len() >= 30, "{} sections", p.points.len());
    assert!(p
        .points
        .windows(2)
        .all(|w| w[1].position_mm > w[0].position_mm));
    assert!(p
        .points
        .iter()
        .all(|q| q.sigma_mm > 0.0 && q.circumference_mm > 0.0));
    let last = p.points.last().unwrap().position_mm;
    assert!(
        last > p.pip_mm + 5.0,
        "ends at {last} mm, PIP at {} mm",
        p.pip_mm
    );
    // The section nearest the ring position measures what the ring measurement did, to
    // within the perimeter change over half a step plus noise.
    let ring = m.ring_circumference_mm.unwrap();
    let near = p
        .points
        .iter()
        .min_by(|a, b| a.position_mm.abs().total_cmp(&b.position_mm.abs()))
        .unwrap();
    assert!(near.position_mm.abs() <= 0.5 + 1e-9, "{near:?}");
    assert!(
        (near.circumference_mm - ring).abs() < 1.0,
        "profile {:.2} mm at {:+.2} mm, ring {ring:.2} mm",
        near.circumference_mm,
        near.position_mm
    );
    // The knuckle (largest near PIP) is larger than the ring position in the profile too.
    let knuckle_zone = p
        .points
        .iter()
        .filter(|q| (q.position_mm - p.pip_mm).abs() <= 5.0)
        .map(|q| q.circumference_mm)
        .fold(f64::NEG_INFINITY, f64::max);
    assert!(
        knuckle_zone > near.circumference_mm,
        "{knuckle_zone} vs {near:?}"
    );
}
