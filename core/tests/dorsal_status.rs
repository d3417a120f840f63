//! Scans filmed from the back of the hand only never give a confident size: the palmar side
//! of the finger is never seen, so the section between the last silhouettes is the shape
//! prior's guess. Dorsal cases of the accuracy harness's randomised set (seed 1, parametric
//! hands, straight and flexed, both edge models, with and without poses), measured by the
//! session as an app drives it, must end `needs_rescan` with `insufficient_coverage`.

mod common;
#[path = "webxr_hand/glb.rs"]
mod glb;
#[path = "accuracy_support/mod.rs"]
mod harness;
#[path = "webxr_hand/load.rs"]
mod load;

use harness::{plan, run_case, Cover, Hands};
use rayon::prelude::*;

/// The dorsal cases with landmarks among the set's first 130 scans: both edge models, with
/// and without poses, four fingers. On the web-less hands they were chosen on, one had
/// sigma under the `ok` gate, so the unseen-arc rule ([`MAX_CONFIDENT_GAP_DEG`]) was what
/// sent it back for a rescan; with skin webs (the parametric hands' default) none of them,
/// nor the set's next dorsal cases, has (docs/tuning.md#sim), so that rule is no longer
/// singled out here.
///
/// [`MAX_CONFIDENT_GAP_DEG`]: mandrel_core::measure::MAX_CONFIDENT_GAP_DEG
const DORSAL_CASES: [usize; 6] = [20, 103, 110, 112, 122, 126];

#[test]
fn dorsal_scans_end_insufficient_coverage() {
    // Without the WebXR meshes every family is a parametric hand, so no shared data is
    // needed; the scans are those of the set for seed 1 with the WebXR rows made parametric.
    let hands = Hands::load_parametric();
    let set = plan(1, 130, false);
    let cases: Vec<_> = DORSAL_CASES.iter().map(|&i| set[i].clone()).collect();
    assert!(
        cases
            .iter()
            .all(|c| c.cover == Cover::Dorsal && c.landmarks),
        "the listed cases are dorsal scans with landmarks"
    );
    let results: Vec<_> = cases.par_iter().map(|c| run_case(&hands, c)).collect();
    let mut bad = Vec::new();
    for r in &results {
        println!("{}", harness::row_line(r));
        let m = r.measurement.as_ref();
        let sized_ok = m.is_some_and(|m| m.ok);
        let coverage = m.is_some_and(|m| m.insufficient_coverage);
        // A scan whose finger is not found at all is not a confident size either.
        let not_found = m.is_none_or(|m| m.ring_mm.is_none());
        if sized_ok || !(coverage || not_found) {
            bad.push(harness::row_line(r));
        }
    }
    assert!(
        bad.is_empty(),
        "dorsal scans that did not end insufficient_coverage:\n{}",
        bad.join("\n")
    );
}
