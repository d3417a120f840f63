//! Ring sizing systems against published chart values (core/tests/data/size_charts.json),
//! round trips, label parsing, errors and the recommendation rule.

use mandrel_core::measure::sizes::*;

#[derive(serde::Deserialize)]
struct Chart {
    rows: Vec<Row>,
}
#[derive(serde::Deserialize)]
struct Row {
    system: SizeSystem,
    label: String,
    circumference_mm: f64,
    tolerance_mm: f64,
    source: String,
}

fn chart() -> Chart {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/size_charts.json"
    ))
    .unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn every_system_matches_published_charts() {
    let chart = chart();
    for s in ALL_SYSTEMS {
        let n = chart.rows.iter().filter(|r| r.system == s).count();
        assert!(n >= 2, "{s}: only {n} chart values");
    }
    for r in &chart.rows {
        let c = circumference_for(r.system, &r.label).unwrap();
        assert!(
            (c - r.circumference_mm).abs() <= r.tolerance_mm + 1e-6,
            "{} {}: {c:.3} mm, chart says {} ± {} ({})",
            r.system,
            r.label,
            r.circumference_mm,
            r.tolerance_mm,
            r.source
        );
        // The chart's circumference converts back to the same label (when the chart value
        // is exact enough to identify it).
        if r.tolerance_mm <= 0.1 {
            assert_eq!(
                nearest(r.system, r.circumference_mm).unwrap().as_deref(),
                Some(r.label.as_str()),
                "{} {}",
                r.system,
                r.label
            );
        }
    }
}

#[test]
fn tables_increase_and_round_trip() {
    for s in ALL_SYSTEMS {
        let t = s.table();
        assert!(t.len() >= 30, "{s}");
        for w in t.windows(2) {
            assert!(w[1].1 > w[0].1, "{s}: {:?}", w);
        }
        for (label, c) in &t {
            if (MIN_MM..=MAX_MM).contains(c) {
                assert_eq!(circumference_for(s, label).unwrap(), *c);
                assert_eq!(nearest(s, *c).unwrap().as_deref(), Some(label.as_str()));
                assert_eq!(at_least(s, *c).unwrap().as_deref(), Some(label.as_str()));
            }
        }
    }
}

#[test]
fn known_conversions() {
    // 54.4 mm: US 7, UK N½, ISO/EU 54, CH 14.5 (14.4 rounds to the nearest quarter), JP 14.
    let s = sizes_for_circumference(54.4).unwrap();
    assert_eq!(s.us.as_deref(), Some("7"));
    assert_eq!(s.uk.as_deref(), Some("N½"));
    assert_eq!(s.iso.as_deref(), Some("54"));
    assert_eq!(s.eu.as_deref(), Some("54"));
    assert_eq!(s.ch.as_deref(), Some("14.5"));
    assert_eq!(s.jp.as_deref(), Some("14"));
    assert_eq!(s.cn.as_deref(), Some("14"));
    assert_eq!(s.in_.as_deref(), Some("14"));
    // JSON keys as in issue 4.
    let v = serde_json::to_value(&s).unwrap();
    for k in ["iso", "us", "uk", "eu", "jp", "ch", "in", "cn"] {
        assert!(v.get(k).is_some(), "missing key {k}");
    }
    // Outside a table: None, not a wrong size.
    let small = sizes_for_circumference(37.0).unwrap();
    assert_eq!(small.jp, None);
    assert_eq!(small.us.as_deref(), Some("0.25"));
}

#[test]
fn sizes_print_out_of_table_as_n_a_and_read_it_back() {
    // The measurement JSON's `sizes` object: a string per system in this key order, "n/a"
    // where the table does not reach (JP/CN start at 40.8 mm, India at 41 mm).
    let small = sizes_for_circumference(40.0).unwrap();
    assert_eq!(small.jp, None);
    assert_eq!(small.printed(SizeSystem::Jp), OUT_OF_TABLE);
    assert_eq!(small.printed(SizeSystem::Uk), "C");
    let json = serde_json::to_string(&small).unwrap();
    assert_eq!(
        json,
        r#"{"iso":"40","us":"1.25","uk":"C","eu":"40","jp":"n/a","ch":"0","in":"n/a","cn":"n/a"}"#
    );
    let back: Sizes = serde_json::from_str(&json).unwrap();
    assert_eq!(back, small);
    assert_eq!(serde_json::to_string(&back).unwrap(), json);
    // A label is a string: null or a number is not a printed label.
    let null_jp = json.replace(r#""jp":"n/a""#, r#""jp":null"#);
    assert!(serde_json::from_str::<Sizes>(&null_jp).is_err());
    // The recommendation keeps the measurement JSON's field names and order.
    let r = recommend(54.0, 58.0).unwrap();
    let v = serde_json::to_string(&r).unwrap();
    assert!(
        v.starts_with(r#"{"circumference_mm":56.0,"sizes":{"iso":"56","#),
        "{v}"
    );
    assert!(v.ends_with(&format!(
        r#","advice":{}}}"#,
        serde_json::to_string(&r.advice).unwrap()
    )));
    assert_eq!(serde_json::from_str::<Recommendation>(&v).unwrap(), r);
}

#[test]
fn labels_parse_in_common_spellings() {
    let us7h = circumference_for(SizeSystem::Us, "7.5").unwrap();
    for l in ["7 1/2", "7½", " 7.50 "] {
        assert_eq!(circumference_for(SizeSystem::Us, l).unwrap(), us7h, "{l}");
    }
    assert_eq!(
        circumference_for(SizeSystem::Us, "7¼").unwrap(),
        circumference_for(SizeSystem::Us, "7.25").unwrap()
    );
    let n_half = circumference_for(SizeSystem::Uk, "N½").unwrap();
    for l in ["N 1/2", "n½", "N1/2"] {
        assert_eq!(circumference_for(SizeSystem::Uk, l).unwrap(), n_half, "{l}");
    }
    assert!((circumference_for(SizeSystem::Uk, "Z+1").unwrap() - 70.0).abs() < 1e-9);
}

#[test]
fn bad_labels_and_values_are_typed_errors() {
    for (s, l) in [
        (SizeSystem::Us, "7.3"),
        (SizeSystem::Us, "seven"),
        (SizeSystem::Us, "-1"),
        (SizeSystem::Us, "99"),
        (SizeSystem::Uk, "Ä"),
        (SizeSystem::Uk, "7"),
        (SizeSystem::Jp, "0"),
        (SizeSystem::Jp, "31"),
        (SizeSystem::Iso, "54.5"),
        (SizeSystem::In, ""),
    ] {
        match circumference_for(s, l) {
            Err(SizeError::UnknownLabel { system, label, .. }) => {
                assert_eq!(system, s);
                assert_eq!(label, l);
            }
            other => panic!("{s} {l:?}: {other:?}"),
        }
    }
    let msg = circumference_for(SizeSystem::Uk, "7")
        .unwrap_err()
        .to_string();
    assert!(msg.contains("UK") && msg.contains("A–Z"), "{msg}");
    for mm in [f64::NAN, f64::INFINITY, -3.0, 20.0, 120.0] {
        assert!(
            matches!(sizes_for_circumference(mm), Err(SizeError::OutOfRange(_))),
            "{mm}"
        );
        assert!(matches!(recommend(mm, 60.0), Err(SizeError::OutOfRange(_))));
    }
}

#[test]
fn recommendation_rule() {
    // Small knuckle: standard fit, halfway to the knuckle (above base + ease), rounded up.
    let r = recommend(54.0, 55.5).unwrap();
    assert_eq!(Fit::for_knuckle_gap(1.5), Fit::Standard);
    assert!(r.advice.starts_with("Standard fit"), "{}", r.advice);
    assert!((r.circumference_mm - 54.75).abs() < 1e-9);
    assert_eq!(r.sizes.iso.as_deref(), Some("55"));
    let us = circumference_for(SizeSystem::Us, r.sizes.us.as_deref().unwrap()).unwrap();
    assert!((54.75..54.75 + 0.65).contains(&us), "US {us}");
    // Knuckle 4 mm larger: size halfway between, comfort fit.
    let r = recommend(54.0, 58.0).unwrap();
    assert_eq!(Fit::for_knuckle_gap(4.0), Fit::ComfortFit);
    assert!((r.circumference_mm - 56.0).abs() < 1e-9);
    assert!(r.advice.contains("4.0 mm"));
    assert!(r.advice.contains("comfort-fit"), "{}", r.advice);
    // Knuckle 8 mm larger: a passing band would spin.
    let r = recommend(54.0, 62.0).unwrap();
    assert_eq!(Fit::for_knuckle_gap(8.0), Fit::HingedOrSizingBeads);
    assert!((r.circumference_mm - 58.0).abs() < 1e-9);
    assert!(r.advice.contains("hinged shank"), "{}", r.advice);
    // The thresholds themselves: above the gap, not at it.
    assert_eq!(Fit::for_knuckle_gap(COMFORT_FIT_GAP_MM), Fit::Standard);
    assert_eq!(Fit::for_knuckle_gap(HINGED_GAP_MM), Fit::ComfortFit);
    // Every recommended size is at least the target, in every system.
    for (ring, knuckle) in [(48.0, 50.0), (55.3, 59.9), (63.1, 66.0), (70.2, 71.0)] {
        let r = recommend(ring, knuckle).unwrap();
        for s in ALL_SYSTEMS {
            if let Some(l) = r.sizes.get(s) {
                assert!(
                    circumference_for(s, l).unwrap() >= r.circumference_mm - 1e-9,
                    "{s} {l}"
                );
            }
        }
    }
}
