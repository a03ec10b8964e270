//! Printers for findings and summaries: human, JSON and GitHub annotations. Data goes to
//! stdout; progress and fatal errors go to stderr.

pub mod findings;
pub mod progress;
pub mod source_lines;

use crate::exit::Exit;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    Human,
    Json,
    Github,
}

/// Prints a fatal error once and picks its exit code. A closed stdout pipe (`| head`) is not
/// a failure.
pub fn fatal(err: &anyhow::Error) -> std::process::ExitCode {
    for cause in err.chain() {
        if let Some(io) = cause.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::BrokenPipe
        {
            return Exit::Ok.into();
        }
    }
    let mut message = format!("error: {err}");
    for cause in err.chain().skip(1) {
        message.push_str(&format!("\n  caused by: {cause}"));
    }
    eprintln!("{message}");
    Exit::Usage.into()
}
