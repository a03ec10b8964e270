//! Printers for findings and summaries: human, JSON, GitHub annotations, SARIF and JUnit. Data goes to
//! stdout (through [`stdout::stdout`], which survives a closed pipe); progress and fatal
//! errors go to stderr.

pub mod check;
mod fatal;
pub mod findings;
pub mod junit;
pub mod logging;
pub mod progress;
pub mod sarif;
pub mod source_lines;
pub mod stdout;

pub use fatal::{exit_of, fatal, render};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// For a person: findings grouped by rule with their source lines, then a summary.
    Human,
    /// The command's report as one JSON object.
    Json,
    /// GitHub workflow annotations (`validate`, `export` and `check`; others print human).
    Github,
    /// SARIF 2.1.0, for code scanning (`validate`, `export` and `check`).
    Sarif,
    /// JUnit XML, for CI test reports (`validate`, `export` and `check`).
    Junit,
}

impl OutputFormat {
    /// Formats that only carry findings, so only commands that report findings print them.
    pub fn findings_only(self) -> bool {
        matches!(self, OutputFormat::Sarif | OutputFormat::Junit)
    }
}

#[cfg(test)]
mod tests;
