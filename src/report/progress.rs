//! Progress on stderr, only for a person watching: never in CI logs or pipes.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

#[derive(Clone)]
pub struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    pub fn new(enabled: bool) -> Progress {
        let wanted = enabled && std::io::stderr().is_terminal() && std::env::var_os("CI").is_none();
        let bar = wanted.then(|| {
            let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr_with_hz(4));
            bar.set_style(
                ProgressStyle::with_template(
                    "{msg:>10} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            bar
        });
        Progress { bar }
    }

    pub fn hidden() -> Progress {
        Progress { bar: None }
    }

    pub fn start(&self, what: &'static str, total_bytes: u64) {
        if let Some(bar) = &self.bar {
            bar.set_message(what);
            bar.set_length(total_bytes);
            bar.set_position(0);
            // Fast runs finish before the first tick and never draw.
            bar.enable_steady_tick(Duration::from_millis(300));
        }
    }

    pub fn set(&self, position: u64) {
        if let Some(bar) = &self.bar {
            bar.set_position(position);
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
