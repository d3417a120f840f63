//! Ring sizing systems: inner circumference (mm) ↔ size labels, and which size to buy.
//!
//! Guarantees: every system is a table of `(label, inner circumference mm)` generated from
//! its defining rule below, increasing with the size; conversion from a circumference gives
//! the nearest label (`None` when the value lies more than half a step outside the table),
//! conversion from a label is exact for the rule, and unknown or out-of-range labels are a
//! typed [`SizeError`]. Millimetres here because sizes are an edge (output) concern.
//!
//! Systems and sources (the charts the tests check against are in
//! `core/tests/data/size_charts.json`, each with its source):
//! - **ISO 8653** (ISO 8653:2016, "Jewellery — Ring-sizes"): the size *is* the inner
//!   circumference in millimetres; ring sticks cover 41–76. Whole sizes, 38–76 here.
//! - **EU** (Germany, France, Austria, Belgium, Scandinavia): the same number as ISO 8653.
//! - **US / Canada**: inner diameter `11.63 mm + 0.8128 mm × size` (size 0 = 0.458 in, one
//!   size = 0.032 in), in quarter sizes 0–16. Checked against Rio Grande's and retailer
//!   charts (e.g. size 7 = 17.35 mm diameter, 54.4 mm circumference).
//! - **UK / Ireland / Australia / New Zealand**: letters with halves; BS 6820:1987 scale,
//!   A = 37.50 mm inner circumference and 1.25 mm per letter (0.625 mm per half), continuing
//!   past Z as Z+1 … Z+4. This reproduces the common US↔UK correspondence (US 5 = J½,
//!   US 7 = N½, US 9 = R½, US 11 = V½, US 13 = Z½) to within 0.4 mm. Some charts are half a
//!   letter off this (A = 37.8 mm); we follow the standard.
//! - **Switzerland / Italy / Spain / Netherlands**: inner circumference − 40 mm, in quarter
//!   sizes (Wikipedia, "Ring size": "a 50 in Germany will be a 10 in Switzerland").
//! - **Japan**: sizes 1–30, inner diameter `13 mm + (size − 1) / 3 mm` (size 1 = 13 mm
//!   diameter, 40.8 mm circumference; each size adds 1/3 mm of diameter).
//! - **China**: the Japanese scale (Wikipedia's table lists India/China/Japan together);
//!   note that some Chinese retailers label by circumference − 40, which is within one
//!   size of this scale below size 20.
//! - **India**: sizes 1–30, linear in circumference from 41.0 mm (size 1, 13.1 mm
//!   diameter) to 71.0 mm (size 30, 22.3 mm diameter), i.e. 30/29 mm per size.

use serde::{Deserialize, Serialize};
use std::f64::consts::PI;

/// Errors converting sizes.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SizeError {
    /// A circumference is not finite or outside what any ring size covers.
    #[error("circumference {0} mm is outside the supported ring sizes ({MIN_MM}–{MAX_MM} mm)")]
    OutOfRange(f64),
    /// A label is not a size of the system.
    #[error("{label:?} is not a {system} ring size (valid: {valid})")]
    UnknownLabel {
        /// The system.
        system: SizeSystem,
        /// The label given.
        label: String,
        /// Description of valid labels.
        valid: &'static str,
    },
}

/// Smallest circumference accepted (mm).
pub const MIN_MM: f64 = 36.0;
/// Largest circumference accepted (mm).
pub const MAX_MM: f64 = 80.0;

/// A ring sizing system.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum SizeSystem {
    /// ISO 8653: inner circumference in mm.
    Iso,
    /// US / Canada.
    Us,
    /// UK / Ireland / Australia / New Zealand.
    Uk,
    /// Continental Europe (= ISO).
    Eu,
    /// Japan.
    Jp,
    /// Switzerland / Italy / Spain / Netherlands.
    Ch,
    /// India.
    In,
    /// China.
    Cn,
}

impl std::fmt::Display for SizeSystem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SizeSystem::Iso => "ISO 8653",
            SizeSystem::Us => "US/Canada",
            SizeSystem::Uk => "UK/Australia",
            SizeSystem::Eu => "EU",
            SizeSystem::Jp => "Japan",
            SizeSystem::Ch => "Switzerland",
            SizeSystem::In => "India",
            SizeSystem::Cn => "China",
        })
    }
}

/// Every system, in the JSON key order.
pub const ALL_SYSTEMS: [SizeSystem; 8] = [
    SizeSystem::Iso,
    SizeSystem::Us,
    SizeSystem::Uk,
    SizeSystem::Eu,
    SizeSystem::Jp,
    SizeSystem::Ch,
    SizeSystem::In,
    SizeSystem::Cn,
];

const UK_LETTERS: &[u8; 26] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";

fn fmt_quarter(v: f64) -> String {
    let q = (v * 4.0).round() as i64;
    match q % 4 {
        0 => format!("{}", q / 4),
        1 => format!("{}.25", q / 4),
        2 => format!("{}.5", q / 4),
        _ => format!("{}.75", q / 4),
    }
}

impl SizeSystem {
    /// The size table: `(label, inner circumference mm)`, increasing.
    pub fn table(self) -> Vec<(String, f64)> {
        match self {
            SizeSystem::Iso | SizeSystem::Eu => {
                (38..=76).map(|c| (c.to_string(), c as f64)).collect()
            }
            SizeSystem::Us => (0..=64)
                .map(|q| {
                    let s = q as f64 / 4.0;
                    (fmt_quarter(s), PI * (11.63 + 0.8128 * s))
                })
                .collect(),
            SizeSystem::Uk => (0..60)
                .map(|h| {
                    let letter = h / 2;
                    let half = h % 2 == 1;
                    let base = if letter < 26 {
                        (UK_LETTERS[letter] as char).to_string()
                    } else {
                        format!("Z+{}", letter - 25)
                    };
                    let label = if half { format!("{base}½") } else { base };
                    (label, 37.5 + 0.625 * h as f64)
                })
                .collect(),
            SizeSystem::Ch => (0..=144)
                .map(|q| {
                    let s = q as f64 / 4.0;
                    (fmt_quarter(s), 40.0 + s)
                })
                .collect(),
            SizeSystem::Jp | SizeSystem::Cn => (1..=30)
                .map(|n| (n.to_string(), PI * (13.0 + (n as f64 - 1.0) / 3.0)))
                .collect(),
            SizeSystem::In => (1..=30)
                .map(|n| (n.to_string(), 41.0 + (n as f64 - 1.0) * 30.0 / 29.0))
                .collect(),
        }
    }

    fn valid_labels(self) -> &'static str {
        match self {
            SizeSystem::Iso | SizeSystem::Eu => "whole millimetres 38–76",
            SizeSystem::Us => "0–16 in quarter sizes, e.g. 7, 7.25, 7 1/2, 7¾",
            SizeSystem::Uk => "A–Z with halves, then Z+1–Z+4, e.g. N, N½, N 1/2",
            SizeSystem::Ch => "0–36 in quarter sizes",
            SizeSystem::Jp | SizeSystem::Cn | SizeSystem::In => "whole sizes 1–30",
        }
    }

    /// Normalises a user-written label to this system's table form.
    fn normalise(self, label: &str) -> Option<String> {
        let t: String = label
            .trim()
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        match self {
            SizeSystem::Uk => {
                let t = t.to_uppercase().replace("1/2", "½").replace(".5", "½");
                Some(t)
            }
            _ => {
                // Numbers with optional fractions: "7", "7.5", "7 1/2", "7½", "7¼", "7¾".
                let (whole, frac) =
                    if let Some(x) = t.strip_suffix("1/4").or_else(|| t.strip_suffix('¼')) {
                        (x.to_string(), 0.25)
                    } else if let Some(x) = t.strip_suffix("1/2").or_else(|| t.strip_suffix('½')) {
                        (x.to_string(), 0.5)
                    } else if let Some(x) = t.strip_suffix("3/4").or_else(|| t.strip_suffix('¾')) {
                        (x.to_string(), 0.75)
                    } else {
                        (t.clone(), 0.0)
                    };
                let whole = if whole.is_empty() && frac > 0.0 {
                    "0".to_string()
                } else {
                    whole
                };
                let v: f64 = whole.parse().ok()?;
                if !v.is_finite() || v < 0.0 {
                    return None;
                }
                let v = v + frac;
                if (v * 4.0 - (v * 4.0).round()).abs() > 1e-9 {
                    return None;
                }
                Some(fmt_quarter(v))
            }
        }
    }
}

/// Inner circumference (mm) of size `label` in `system`.
pub fn circumference_for(system: SizeSystem, label: &str) -> Result<f64, SizeError> {
    let unknown = || SizeError::UnknownLabel {
        system,
        label: label.to_string(),
        valid: system.valid_labels(),
    };
    let norm = system.normalise(label).ok_or_else(unknown)?;
    system
        .table()
        .into_iter()
        .find(|(l, _)| *l == norm)
        .map(|(_, c)| c)
        .ok_or_else(unknown)
}

fn check_mm(mm: f64) -> Result<(), SizeError> {
    if mm.is_finite() && (MIN_MM..=MAX_MM).contains(&mm) {
        Ok(())
    } else {
        Err(SizeError::OutOfRange(mm))
    }
}

/// Nearest size of `system` to `mm`; `None` if `mm` lies more than half a step outside the
/// table.
pub fn nearest(system: SizeSystem, mm: f64) -> Result<Option<String>, SizeError> {
    check_mm(mm)?;
    let t = system.table();
    let step = |i: usize| {
        if t.len() < 2 {
            return 1.0;
        }
        let j = i.min(t.len() - 2);
        t[j + 1].1 - t[j].1
    };
    let (i, (label, c)) = t
        .iter()
        .enumerate()
        .min_by(|a, b| (a.1 .1 - mm).abs().total_cmp(&(b.1 .1 - mm).abs()))
        .ok_or(SizeError::OutOfRange(mm))?;
    Ok(((c - mm).abs() <= 0.5 * step(i) + 1e-9).then(|| label.clone()))
}

/// Smallest size of `system` whose circumference is at least `mm` (what to buy so the ring
/// is not smaller than needed); `None` if `mm` exceeds the table.
pub fn at_least(system: SizeSystem, mm: f64) -> Result<Option<String>, SizeError> {
    check_mm(mm)?;
    Ok(system
        .table()
        .into_iter()
        .find(|(_, c)| *c >= mm - 1e-9)
        .map(|(l, _)| l))
}

/// Label printed for a system whose table does not reach the circumference (in the
/// measurement JSON, the CLI and the FFI).
pub const OUT_OF_TABLE: &str = "n/a";

/// One label per system (`None`: outside that system's table). Serialised as one string
/// per system, [`OUT_OF_TABLE`] for `None`: the measurement JSON's `sizes` object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Sizes {
    /// ISO 8653 (inner circumference, mm).
    #[serde(with = "printed")]
    #[cfg_attr(feature = "schema", schemars(with = "String"))]
    pub iso: Option<String>,
    /// US / Canada.
    #[serde(with = "printed")]
    #[cfg_attr(feature = "schema", schemars(with = "String"))]
    pub us: Option<String>,
    /// UK / Australia.
    #[serde(with = "printed")]
    #[cfg_attr(feature = "schema", schemars(with = "String"))]
    pub uk: Option<String>,
    /// EU (= ISO).
    #[serde(with = "printed")]
    #[cfg_attr(feature = "schema", schemars(with = "String"))]
    pub eu: Option<String>,
    /// Japan.
    #[serde(with = "printed")]
    #[cfg_attr(feature = "schema", schemars(with = "String"))]
    pub jp: Option<String>,
    /// Switzerland.
    #[serde(with = "printed")]
    #[cfg_attr(feature = "schema", schemars(with = "String"))]
    pub ch: Option<String>,
    /// India.
    #[serde(rename = "in", with = "printed")]
    #[cfg_attr(feature = "schema", schemars(with = "String"))]
    pub in_: Option<String>,
    /// China.
    #[serde(with = "printed")]
    #[cfg_attr(feature = "schema", schemars(with = "String"))]
    pub cn: Option<String>,
}

/// The printed form of one system's label: the label, or [`OUT_OF_TABLE`] for none.
pub fn printed_label(label: Option<&str>) -> &str {
    label.unwrap_or(OUT_OF_TABLE)
}

/// Reads a printed label back: [`OUT_OF_TABLE`] is none (the inverse of [`printed_label`]).
pub fn label_from_printed(printed: String) -> Option<String> {
    (printed != OUT_OF_TABLE).then_some(printed)
}

/// Serde for one [`Sizes`] field in its printed form (always a string).
mod printed {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(label: &Option<String>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(super::printed_label(label.as_deref()))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
        String::deserialize(d).map(super::label_from_printed)
    }
}

impl Sizes {
    fn from_fn(
        mut f: impl FnMut(SizeSystem) -> Result<Option<String>, SizeError>,
    ) -> Result<Self, SizeError> {
        Ok(Self {
            iso: f(SizeSystem::Iso)?,
            us: f(SizeSystem::Us)?,
            uk: f(SizeSystem::Uk)?,
            eu: f(SizeSystem::Eu)?,
            jp: f(SizeSystem::Jp)?,
            ch: f(SizeSystem::Ch)?,
            in_: f(SizeSystem::In)?,
            cn: f(SizeSystem::Cn)?,
        })
    }

    /// The label for `system` (`None`: outside its table).
    pub fn get(&self, system: SizeSystem) -> Option<&str> {
        match system {
            SizeSystem::Iso => self.iso.as_deref(),
            SizeSystem::Us => self.us.as_deref(),
            SizeSystem::Uk => self.uk.as_deref(),
            SizeSystem::Eu => self.eu.as_deref(),
            SizeSystem::Jp => self.jp.as_deref(),
            SizeSystem::Ch => self.ch.as_deref(),
            SizeSystem::In => self.in_.as_deref(),
            SizeSystem::Cn => self.cn.as_deref(),
        }
    }

    /// The label for `system` as printed: the size, or [`OUT_OF_TABLE`].
    pub fn printed(&self, system: SizeSystem) -> &str {
        printed_label(self.get(system))
    }
}

/// The nearest size in every system to an inner circumference of `mm`.
pub fn sizes_for_circumference(mm: f64) -> Result<Sizes, SizeError> {
    Sizes::from_fn(|s| nearest(s, mm))
}

/// What kind of band to advise, from the knuckle gap (knuckle minus ring-position
/// circumference).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Fit {
    /// Any band: the knuckle is barely larger than the finger base.
    Standard,
    /// A comfort-fit (domed inside) band, which passes a knuckle more easily.
    ComfortFit,
    /// The knuckle is much larger than the base: a band that fits the base will not pass;
    /// advise a hinged/adjustable shank or sizing beads on a size that passes.
    HingedOrSizingBeads,
}

impl Fit {
    /// The band for a knuckle `gap_mm` larger than the finger base: a comfort fit above
    /// [`COMFORT_FIT_GAP_MM`], a hinged shank or sizing beads above [`HINGED_GAP_MM`].
    pub fn for_knuckle_gap(gap_mm: f64) -> Fit {
        if gap_mm > HINGED_GAP_MM {
            Fit::HingedOrSizingBeads
        } else if gap_mm > COMFORT_FIT_GAP_MM {
            Fit::ComfortFit
        } else {
            Fit::Standard
        }
    }
}

/// Which size to buy: the measurement's `recommended` object (from [`recommend`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Recommendation {
    /// Inner circumference (mm) the recommended size must have at least.
    pub circumference_mm: f64,
    /// The smallest size in each system with at least `circumference_mm`.
    pub sizes: Sizes,
    /// One sentence for the shopper, with the band advice of [`Fit::for_knuckle_gap`].
    pub advice: String,
}

/// Ease added to the finger-base circumference for a comfortable standard fit (mm).
/// See docs/tuning.md#sizes.
pub const COMFORT_EASE_MM: f64 = 0.5;
/// Where between the finger base (0) and the knuckle (1) the size is chosen when the
/// knuckle is larger: halfway, as published sizing guides advise. See docs/tuning.md#sizes.
pub const KNUCKLE_SHARE: f64 = 0.5;
/// Knuckle gap above which a comfort-fit band is advised (mm). See docs/tuning.md#sizes.
pub const COMFORT_FIT_GAP_MM: f64 = 2.5;
/// Knuckle gap above which a plain band that passes the knuckle would spin (mm).
/// See docs/tuning.md#sizes.
pub const HINGED_GAP_MM: f64 = 6.0;

/// The recommendation rule. A ring must sit comfortably at the base (at least
/// `ring + COMFORT_EASE_MM`) and get over the knuckle, whose soft tissue compresses (at
/// least `ring + KNUCKLE_SHARE · (knuckle − ring)`, as jewellers' sizing guides advise).
/// The target is the larger of the two, rounded *up* to the next size of each system;
/// the advice names the band of [`Fit::for_knuckle_gap`]. See docs/tuning.md#sizes.
pub fn recommend(ring_mm: f64, knuckle_mm: f64) -> Result<Recommendation, SizeError> {
    check_mm(ring_mm)?;
    check_mm(knuckle_mm)?;
    let gap = knuckle_mm - ring_mm;
    let target = (ring_mm + COMFORT_EASE_MM).max(ring_mm + KNUCKLE_SHARE * gap);
    check_mm(target)?;
    let advice = match Fit::for_knuckle_gap(gap) {
        Fit::HingedOrSizingBeads => format!(
            "Your knuckle is {gap:.1} mm larger than the base of your finger: a band that passes it will turn at the base; consider a hinged shank or sizing beads."
        ),
        Fit::ComfortFit => format!(
            "Your knuckle is {gap:.1} mm larger than the base of your finger: this size is chosen to pass it; a comfort-fit band will slide over more easily."
        ),
        Fit::Standard => {
            "Standard fit: this size sits comfortably and passes your knuckle.".to_string()
        }
    };
    Ok(Recommendation {
        circumference_mm: target,
        sizes: Sizes::from_fn(|s| at_least(s, target))?,
        advice,
    })
}
