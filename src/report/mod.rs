//! Printers for findings and summaries: human, JSON and GitHub annotations. Data goes to
//! stdout (through [`stdout::stdout`], which survives a closed pipe); progress and fatal
//! errors go to stderr.

mod fatal;
pub mod findings;
pub mod progress;
pub mod source_lines;
pub mod stdout;

pub use fatal::{exit_of, fatal, render};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    Human,
    Json,
    Github,
}

#[cfg(test)]
mod tests;
