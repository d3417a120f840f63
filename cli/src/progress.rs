//! The progress bar of the long subcommands (`measure`, `fuse`, `demo`): frames pushed out
//! of the total, the current stage, elapsed time and ETA, on stderr. It shows only when
//! stderr is a terminal and the output is not JSON, so pipes and scripts see nothing.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;

/// A stage of the work, shown next to the bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Stage {
    /// Pushing frames: tracking, fusion and observation.
    TrackFuse,
    /// Extracting the surface mesh.
    Mesh,
    /// Locating the finger and fitting its sections.
    Measure,
    /// Drawing pictures and writing the report.
    Report,
}

impl Stage {
    fn label(self) -> &'static str {
        match self {
            Stage::TrackFuse => "track+fuse",
            Stage::Mesh => "mesh",
            Stage::Measure => "measure",
            Stage::Report => "report",
        }
    }
}

/// The progress display of one run (hidden when it must not show).
pub struct Progress {
    bar: ProgressBar,
}

/// Whether a bar may show: stderr is a terminal and the output is not JSON.
pub fn wanted(json: bool) -> bool {
    !json && std::io::stderr().is_terminal()
}

impl Progress {
    /// A bar over `frames` frames, shown on stderr when `visible` (see [`wanted`]).
    pub fn new(frames: usize, visible: bool) -> Self {
        let bar = if visible {
            let b =
                ProgressBar::with_draw_target(Some(frames as u64), ProgressDrawTarget::stderr());
            b.set_style(
                ProgressStyle::with_template(
                    "{msg:>10} {bar:30} {pos}/{len} frames  {elapsed_precise} elapsed, ETA {eta}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            b.enable_steady_tick(std::time::Duration::from_millis(200));
            b
        } else {
            ProgressBar::hidden()
        };
        bar.set_message(Stage::TrackFuse.label());
        Self { bar }
    }

    /// Sets the stage shown.
    pub fn stage(&self, stage: Stage) {
        self.bar.set_message(stage.label());
    }

    /// One more frame pushed.
    pub fn frame_done(&self) {
        self.bar.inc(1);
    }

    /// Removes the bar from the terminal.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if !self.bar.is_finished() {
            self.bar.finish_and_clear();
        }
    }
}
