//! Which hand and which finger: the vocabulary every stage shares (the scan manifest, the
//! session, the measurement, the CLI and the FFI).
//!
//! Guarantees: the text form of a [`Hand`] or [`Finger`] is one snake_case name, the same
//! in serde, [`Display`](std::fmt::Display) and [`FromStr`]; parsing ignores ASCII case
//! and names the accepted values when it fails.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Which hand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Hand {
    /// Left hand.
    Left,
    /// Right hand.
    Right,
}

/// Which finger (MediaPipe naming: `little` is the pinky).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Finger {
    /// Thumb (landmarks 1-4).
    Thumb,
    /// Index finger (5-8).
    Index,
    /// Middle finger (9-12).
    Middle,
    /// Ring finger (13-16).
    Ring,
    /// Little finger (17-20).
    Little,
}

/// The finger to measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    /// Which hand.
    pub hand: Hand,
    /// Which finger.
    pub finger: Finger,
}

/// A name that is not a hand or a finger: the error of parsing a [`Hand`] or a [`Finger`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} {given:?}: expected one of {accepted}")]
pub struct ParseNameError {
    /// What was being parsed: `"hand"` or `"finger"`.
    pub kind: &'static str,
    /// The text given.
    pub given: String,
    /// The accepted names, comma-separated.
    pub accepted: &'static str,
}

impl Hand {
    /// Both hands.
    pub const ALL: [Hand; 2] = [Hand::Left, Hand::Right];

    /// The snake_case name (as in JSON).
    pub fn name(self) -> &'static str {
        match self {
            Hand::Left => "left",
            Hand::Right => "right",
        }
    }
}

impl Finger {
    /// Every finger, thumb to little.
    pub const ALL: [Finger; 5] = [
        Finger::Thumb,
        Finger::Index,
        Finger::Middle,
        Finger::Ring,
        Finger::Little,
    ];

    /// The snake_case name (as in JSON).
    pub fn name(self) -> &'static str {
        match self {
            Finger::Thumb => "thumb",
            Finger::Index => "index",
            Finger::Middle => "middle",
            Finger::Ring => "ring",
            Finger::Little => "little",
        }
    }

    /// MediaPipe landmark indices of this finger's (MCP, PIP) joints (thumb: MCP, IP).
    pub fn mcp_pip_landmarks(self) -> (usize, usize) {
        match self {
            Finger::Thumb => (2, 3),
            Finger::Index => (5, 6),
            Finger::Middle => (9, 10),
            Finger::Ring => (13, 14),
            Finger::Little => (17, 18),
        }
    }
}

impl fmt::Display for Hand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl fmt::Display for Finger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Hand {
    type Err = ParseNameError;

    /// Parses `left` or `right`, in any ASCII case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Hand::ALL
            .into_iter()
            .find(|h| h.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| ParseNameError {
                kind: "hand",
                given: s.to_string(),
                accepted: "left, right",
            })
    }
}

impl FromStr for Finger {
    type Err = ParseNameError;

    /// Parses `thumb`, `index`, `middle`, `ring` or `little`, in any ASCII case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Finger::ALL
            .into_iter()
            .find(|f| f.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| ParseNameError {
                kind: "finger",
                given: s.to_string(),
                accepted: "thumb, index, middle, ring, little",
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_and_serde_agree_and_round_trip() {
        for h in Hand::ALL {
            let json = serde_json::to_string(&h).unwrap();
            assert_eq!(json, format!("\"{h}\""));
            assert_eq!(h.to_string().parse::<Hand>(), Ok(h));
            assert_eq!(serde_json::from_str::<Hand>(&json).unwrap(), h);
        }
        for f in Finger::ALL {
            let json = serde_json::to_string(&f).unwrap();
            assert_eq!(json, format!("\"{f}\""));
            assert_eq!(f.to_string().parse::<Finger>(), Ok(f));
            assert_eq!(serde_json::from_str::<Finger>(&json).unwrap(), f);
        }
    }

    #[test]
    fn names_are_the_documented_ones() {
        assert_eq!(Hand::Left.to_string(), "left");
        assert_eq!(Hand::Right.to_string(), "right");
        let names: Vec<String> = Finger::ALL.iter().map(ToString::to_string).collect();
        assert_eq!(names, ["thumb", "index", "middle", "ring", "little"]);
    }

    #[test]
    fn parsing_ignores_case() {
        assert_eq!("LEFT".parse::<Hand>(), Ok(Hand::Left));
        assert_eq!("Right".parse::<Hand>(), Ok(Hand::Right));
        assert_eq!("RiNg".parse::<Finger>(), Ok(Finger::Ring));
        assert_eq!("LITTLE".parse::<Finger>(), Ok(Finger::Little));
    }

    #[test]
    fn unknown_names_are_typed_errors_listing_the_accepted_names() {
        let e = "pinky".parse::<Finger>().unwrap_err();
        assert_eq!(e.kind, "finger");
        assert_eq!(e.given, "pinky");
        assert_eq!(
            e.to_string(),
            "unknown finger \"pinky\": expected one of thumb, index, middle, ring, little"
        );
        let e = "both".parse::<Hand>().unwrap_err();
        assert_eq!(
            e.to_string(),
            "unknown hand \"both\": expected one of left, right"
        );
        // No trimming or prefix matching: a name is the whole text.
        assert!(" left".parse::<Hand>().is_err());
        assert!("rin".parse::<Finger>().is_err());
        assert!("".parse::<Finger>().is_err());
    }

    #[test]
    fn landmarks_are_the_mediapipe_joints() {
        assert_eq!(Finger::Ring.mcp_pip_landmarks(), (13, 14));
        assert_eq!(Finger::Thumb.mcp_pip_landmarks(), (2, 3));
        for f in Finger::ALL {
            let (mcp, pip) = f.mcp_pip_landmarks();
            assert_eq!(pip, mcp + 1, "{f}");
        }
    }
}
