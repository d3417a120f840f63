//! The shopper's consent record and RFC 3339 UTC timestamps.
//!
//! Guarantees: a [`Consent`] that passed [`Consent::validate`] has a non-empty purpose and
//! policy version without control characters, a known [`Scope`], and a `granted_at` that is
//! a valid RFC 3339 UTC timestamp (`YYYY-MM-DDTHH:MM:SS[.fraction]Z`). Timestamps are
//! parsed strictly (calendar-checked, `Z` only) and formatted by [`format_rfc3339_utc`].

use serde::{Deserialize, Serialize};
use std::time::{SystemTime, UNIX_EPOCH};

/// What the shopper agreed may leave the device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Scope {
    /// The measurement only (`"measurement"`).
    #[serde(rename = "measurement")]
    Measurement,
    /// The measurement and the hand mesh (`"measurement+mesh"`).
    #[serde(rename = "measurement+mesh")]
    MeasurementAndMesh,
}

impl Scope {
    /// The wire name: `"measurement"` or `"measurement+mesh"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Measurement => "measurement",
            Scope::MeasurementAndMesh => "measurement+mesh",
        }
    }

    /// Parses the wire name.
    pub fn parse(s: &str) -> Result<Self, ConsentError> {
        match s {
            "measurement" => Ok(Scope::Measurement),
            "measurement+mesh" => Ok(Scope::MeasurementAndMesh),
            other => Err(ConsentError::UnknownScope(other.to_string())),
        }
    }

    /// Whether this scope allows the mesh to leave the device.
    pub fn allows_mesh(self) -> bool {
        matches!(self, Scope::MeasurementAndMesh)
    }
}

/// A consent record: travels in the authenticated envelope header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Consent {
    /// Why the data is shared, as shown to the shopper (e.g. "ring sizing for order 1234").
    pub purpose: String,
    /// What may leave the device.
    pub scope: Scope,
    /// Version of the privacy policy the shopper was shown.
    pub policy_version: String,
    /// When consent was given, RFC 3339 UTC.
    pub granted_at: String,
}

/// A malformed consent record or timestamp.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConsentError {
    /// A required text field is empty.
    #[error("consent field `{0}` is empty")]
    Empty(&'static str),
    /// A text field is too long.
    #[error("consent field `{field}` is {len} characters long, the limit is {max}")]
    TooLong {
        /// Field name.
        field: &'static str,
        /// Its length in characters.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A text field holds control characters.
    #[error("consent field `{0}` contains control characters")]
    ControlCharacters(&'static str),
    /// Scope is neither `measurement` nor `measurement+mesh`.
    #[error("unknown consent scope {0:?}: expected \"measurement\" or \"measurement+mesh\"")]
    UnknownScope(String),
    /// A timestamp is not RFC 3339 UTC.
    #[error("`{field}` = {value:?} is not an RFC 3339 UTC timestamp (YYYY-MM-DDTHH:MM:SS[.fff]Z): {reason}")]
    BadTimestamp {
        /// Field name.
        field: &'static str,
        /// The offending text.
        value: String,
        /// What is wrong.
        reason: &'static str,
    },
}

const MAX_PURPOSE_CHARS: usize = 500;
const MAX_POLICY_CHARS: usize = 64;

fn check_text(field: &'static str, value: &str, max: usize) -> Result<(), ConsentError> {
    if value.trim().is_empty() {
        return Err(ConsentError::Empty(field));
    }
    let len = value.chars().count();
    if len > max {
        return Err(ConsentError::TooLong { field, len, max });
    }
    if value.chars().any(char::is_control) {
        return Err(ConsentError::ControlCharacters(field));
    }
    Ok(())
}

impl Consent {
    /// Builds and validates a consent record; `granted_at` is RFC 3339 UTC.
    pub fn new(
        purpose: impl Into<String>,
        scope: Scope,
        policy_version: impl Into<String>,
        granted_at: impl Into<String>,
    ) -> Result<Self, ConsentError> {
        let c = Consent {
            purpose: purpose.into(),
            scope,
            policy_version: policy_version.into(),
            granted_at: granted_at.into(),
        };
        c.validate()?;
        Ok(c)
    }

    /// Checks every field (see the module guarantees).
    pub fn validate(&self) -> Result<(), ConsentError> {
        check_text("purpose", &self.purpose, MAX_PURPOSE_CHARS)?;
        check_text("policy_version", &self.policy_version, MAX_POLICY_CHARS)?;
        parse_rfc3339_utc("granted_at", &self.granted_at)?;
        Ok(())
    }

    /// `granted_at` as whole seconds since the Unix epoch.
    pub fn granted_at_unix(&self) -> Result<i64, ConsentError> {
        parse_rfc3339_utc("granted_at", &self.granted_at)
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// Inverse of [`days_from_civil`].
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719468;
    let era = if z >= 0 { z } else { z - 146096 } / 146097;
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ => {
            if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 {
                29
            } else {
                28
            }
        }
    }
}

/// Formats seconds since the Unix epoch as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn format_rfc3339_utc(unix_seconds: i64) -> String {
    let days = unix_seconds.div_euclid(86_400);
    let secs = unix_seconds.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        (secs / 60) % 60,
        secs % 60
    )
}

/// The current time as RFC 3339 UTC (whole seconds), from the system clock.
pub fn now_rfc3339_utc() -> String {
    let secs = match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs() as i64,
        Err(e) => -(e.duration().as_secs() as i64),
    };
    format_rfc3339_utc(secs)
}

/// Parses `YYYY-MM-DDTHH:MM:SS[.fraction]Z` strictly; returns whole seconds since the Unix
/// epoch (the fraction is validated and dropped). `field` names the value in errors.
pub fn parse_rfc3339_utc(field: &'static str, value: &str) -> Result<i64, ConsentError> {
    let bad = |reason: &'static str| ConsentError::BadTimestamp {
        field,
        value: value.chars().take(64).collect(),
        reason,
    };
    let b = value.as_bytes();
    if b.len() < 20 {
        return Err(bad("too short"));
    }
    let num = |r: std::ops::Range<usize>| -> Result<i64, ConsentError> {
        let s = b.get(r).ok_or_else(|| bad("too short"))?;
        if !s.iter().all(u8::is_ascii_digit) {
            return Err(bad("expected digits"));
        }
        Ok(s.iter().fold(0i64, |acc, d| acc * 10 + i64::from(d - b'0')))
    };
    let sep = |i: usize, c: u8, reason: &'static str| -> Result<(), ConsentError> {
        if b.get(i) == Some(&c) {
            Ok(())
        } else {
            Err(bad(reason))
        }
    };
    let y = num(0..4)?;
    sep(4, b'-', "expected '-' after the year")?;
    let mo = num(5..7)?;
    sep(7, b'-', "expected '-' after the month")?;
    let d = num(8..10)?;
    sep(10, b'T', "expected 'T' between date and time")?;
    let h = num(11..13)?;
    sep(13, b':', "expected ':' after the hour")?;
    let mi = num(14..16)?;
    sep(16, b':', "expected ':' after the minute")?;
    let s = num(17..19)?;
    let mut i = 19;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return Err(bad("expected digits after '.'"));
        }
    }
    if b.get(i) != Some(&b'Z') || i + 1 != b.len() {
        return Err(bad("must end in 'Z' (UTC); offsets are not accepted"));
    }
    if !(1..=12).contains(&mo) {
        return Err(bad("month out of range"));
    }
    if d < 1 || d > days_in_month(y, mo) {
        return Err(bad("day out of range for the month"));
    }
    if h > 23 || mi > 59 || s > 60 {
        return Err(bad("time of day out of range"));
    }
    Ok(days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + s.min(59))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_and_parse_round_trip() {
        for t in [
            0i64,
            951_782_400,
            1_700_000_000,
            4_102_444_800,
            1_709_208_000,
        ] {
            let s = format_rfc3339_utc(t);
            assert_eq!(parse_rfc3339_utc("t", &s).unwrap(), t, "{s}");
        }
        assert_eq!(format_rfc3339_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_rfc3339_utc(951_782_400), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn parse_accepts_fractions_and_rejects_garbage() {
        assert_eq!(
            parse_rfc3339_utc("t", "1970-01-01T00:00:01.250Z").unwrap(),
            1
        );
        for bad in [
            "",
            "2026-02-30T00:00:00Z",
            "2025-02-29T00:00:00Z",
            "2026-13-01T00:00:00Z",
            "2026-01-01T24:00:00Z",
            "2026-01-01T00:00:00+01:00",
            "2026-01-01 00:00:00Z",
            "2026-01-01T00:00:00.Z",
            "2026-01-01T00:00:00Zjunk",
            "２０２６-01-01T00:00:00Z",
        ] {
            assert!(
                matches!(
                    parse_rfc3339_utc("t", bad),
                    Err(ConsentError::BadTimestamp { .. })
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn consent_fields_are_checked() {
        let ok = Consent::new(
            "ring sizing",
            Scope::Measurement,
            "2026-01",
            "2026-11-30T08:00:00Z",
        );
        assert!(ok.is_ok());
        assert_eq!(
            Consent::new(" ", Scope::Measurement, "1", "2026-11-30T08:00:00Z"),
            Err(ConsentError::Empty("purpose"))
        );
        assert!(matches!(
            Consent::new("p", Scope::Measurement, "1\n", "2026-11-30T08:00:00Z"),
            Err(ConsentError::ControlCharacters("policy_version"))
        ));
        assert!(matches!(
            Consent::new("p", Scope::Measurement, "1", "yesterday"),
            Err(ConsentError::BadTimestamp {
                field: "granted_at",
                ..
            })
        ));
        assert_eq!(
            Scope::parse("measurement+mesh"),
            Ok(Scope::MeasurementAndMesh)
        );
        assert!(Scope::parse("everything").is_err());
    }
}
