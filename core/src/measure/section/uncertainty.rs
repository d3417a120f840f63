//! The uncertainty of a fitted slice's perimeter beyond the fit's posterior: the
//! delete-a-group jackknife over frames, per-frame depth pose errors, and the part only the
//! shape prior decides.

use std::f64::consts::TAU;

use super::fit::{covariance, fit, solve_once, Fit};
use super::gather::Obs2;
use super::model::{ParamLayout, Table, GRID};
use super::types::{SectionConfig, UNOBSERVED_DATA_GAIN};

/// Delete-a-group jackknife of the perimeter over frames: the frames are dealt into up to
/// [`SectionConfig::jackknife_groups`] groups and the fit is re-run (warm-started) without
/// each in turn; 0 with fewer than two groups or estimates. With
/// [`SectionConfig::jackknife_runs`] the groups are also formed of consecutive frames, and the
/// larger sigma is kept.
pub(super) fn jackknife_sigma(obs: &[Obs2], f: &Fit, cfg: &SectionConfig, tab: &Table) -> f64 {
    let mut frames: Vec<u32> = obs.iter().map(|o| o.frame).collect();
    frames.sort_unstable();
    frames.dedup();
    let g = cfg.jackknife_groups.min(frames.len());
    if g < 2 {
        return 0.0;
    }
    let n = frames.len();
    let group = |fr: u32, runs: bool| {
        let i = frames.binary_search(&fr).unwrap_or(0);
        if runs {
            i * g / n
        } else {
            i % g
        }
    };
    let dealt = jackknife_with(obs, f, cfg, tab, g, &|fr| group(fr, false));
    if cfg.jackknife_runs {
        dealt.max(jackknife_with(obs, f, cfg, tab, g, &|fr| group(fr, true)))
    } else {
        dealt
    }
}

/// The jackknife sigma of the perimeter over `g` groups of frames, `group_of` a frame's group.
fn jackknife_with(
    obs: &[Obs2],
    f: &Fit,
    cfg: &SectionConfig,
    tab: &Table,
    g: usize,
    group_of: &dyn Fn(u32) -> usize,
) -> f64 {
    let mut est = Vec::with_capacity(g);
    for gi in 0..g {
        let inc = |o: &Obs2| group_of(o.frame) != gi;
        if let Ok(fj) = fit(obs, cfg, tab, Some(f), 4, &inc) {
            est.push(TAU * fj.x[ParamLayout::A0]);
        }
    }
    if est.len() < 2 {
        return 0.0;
    }
    let n = est.len() as f64;
    let m = est.iter().sum::<f64>() / n;
    ((n - 1.0) / n * est.iter().map(|e| (e - m).powi(2)).sum::<f64>()).sqrt()
}

/// Uncertainty of the perimeter from per-frame depth-direction pose errors (see
/// [`super::SigmaParts::pose_m`]).
pub(super) fn pose_depth_sigma(obs: &[Obs2], f: &Fit) -> f64 {
    use std::collections::BTreeMap;
    // Per frame: least-squares depth offset of its surface samples' residuals.
    let mut acc: BTreeMap<u32, (f64, f64, usize)> = BTreeMap::new();
    for (i, o) in obs.iter().enumerate() {
        if o.is_tangent() || f.weight[i] < 0.5 {
            continue;
        }
        let t = f.idx[i] as f64 * TAU / GRID as f64;
        let c = t.cos() * o.view.x + t.sin() * o.view.y;
        let e = acc.entry(o.frame).or_insert((0.0, 0.0, 0));
        e.0 += f.resid[i] * c;
        e.1 += c * c;
        e.2 += 1;
    }
    let d: Vec<f64> = acc
        .values()
        .filter(|(_, cc, n)| *n >= 20 && *cc > 5.0)
        .map(|(rc, cc, _)| rc / cc)
        .collect();
    let n = d.len();
    if n < 3 {
        return 0.0;
    }
    let mean = d.iter().sum::<f64>() / n as f64;
    let var = d.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    // Lag-1 autocorrelation in capture order (drift makes neighbouring frames agree): the
    // effective number of independent frames of an AR(1) sequence is n (1 − ρ) / (1 + ρ).
    let num: f64 = d.windows(2).map(|w| (w[0] - mean) * (w[1] - mean)).sum();
    let rho = if var > 0.0 {
        (num / ((n - 1) as f64 * var)).clamp(0.0, 0.99)
    } else {
        0.0
    };
    let n_eff = (n as f64 * (1.0 - rho) / (1.0 + rho)).max(1.0);
    TAU * (var / n_eff).sqrt()
}

/// Perimeter sigma left with noise-free observations of the same arcs (see
/// [`super::SigmaParts::unobserved_m`]): the fit's normal equations with every (robust) data
/// weight multiplied by [`UNOBSERVED_DATA_GAIN`] and the prior unscaled.
pub(super) fn unobserved_sigma(obs: &[Obs2], f: &Fit, cfg: &SectionConfig, tab: &Table) -> f64 {
    let w: Vec<f64> = f.weight.iter().map(|w| w * UNOBSERVED_DATA_GAIN).collect();
    match solve_once(
        obs,
        &f.idx,
        &w,
        tab,
        cfg,
        f.x[ParamLayout::A0],
        tab.k,
        1.0,
        &[],
    ) {
        Some((_, chol)) => {
            let cov = covariance(&chol, 1.0);
            TAU * cov[(ParamLayout::A0, ParamLayout::A0)].max(0.0).sqrt()
        }
        None => 0.0,
    }
}
