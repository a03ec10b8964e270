//! The last word of a failed run: the error printed once to stderr, and the exit code its
//! class gives.

use std::error::Error;
use std::io::Write;

use crate::exit::{ClassedError, ErrorClass, Exit};

/// Prints a fatal error once and returns the exit code of its class.
pub fn fatal(err: &anyhow::Error) -> std::process::ExitCode {
    // stderr may be closed as well; there is nobody left to tell then.
    let _ = writeln!(std::io::stderr().lock(), "{}", render(err));
    exit_of(err).into()
}

/// The message, then each cause the message does not already contain on a `caused by:`
/// line (errors that quote their source are not repeated). When causes are printed, the
/// message's hints move after them, so a hint closes the error; otherwise the message is
/// printed as written (a list of problems keeps each hint beside its problem).
pub fn render(err: &anyhow::Error) -> String {
    let top = err.to_string();
    let mut seen = top.clone();
    let mut causes = Vec::new();
    let mut hints = Vec::new();
    for cause in err.chain().skip(1) {
        let (body, cause_hints) = split_hints(&cause.to_string());
        if !body.is_empty() && !seen.contains(&body) {
            seen.push_str(&body);
            causes.push(body);
        }
        hints.extend(cause_hints);
    }
    if causes.is_empty() {
        return format!("error: {top}");
    }
    let (body, top_hints) = split_hints(&top);
    let mut text = format!("error: {body}");
    for cause in causes {
        text.push_str(&format!("\n  caused by: {cause}"));
    }
    for hint in top_hints.into_iter().chain(hints) {
        text.push_str(&format!("\n  {hint}"));
    }
    text
}

/// A message without its `hint:` lines, and those lines.
fn split_hints(message: &str) -> (String, Vec<String>) {
    let mut body = Vec::new();
    let mut hints = Vec::new();
    for line in message.lines() {
        match line.trim_start() {
            hint if hint.starts_with("hint:") => hints.push(hint.to_owned()),
            _ => body.push(line),
        }
    }
    (body.join("\n"), hints)
}

/// The exit code of an error: the class of the outermost error in its chain that has one
/// (the outer error knows the context); glue errors without a class are usage errors.
pub fn exit_of(err: &anyhow::Error) -> Exit {
    err.chain()
        .find_map(class_of)
        .map_or(Exit::Usage, Exit::from)
}

/// The class of one error in a chain, for the error types the stages raise.
fn class_of(cause: &(dyn Error + 'static)) -> Option<ErrorClass> {
    macro_rules! classed {
        ($($kind:ty),* $(,)?) => {
            $(if let Some(err) = cause.downcast_ref::<$kind>() {
                return Some(err.class());
            })*
        };
    }
    classed!(
        crate::config::ConfigError,
        crate::spec::SpecError,
        crate::spec::taxonomy::TaxonomyError,
        crate::feed::FeedError,
        crate::load::LoadError,
        crate::export::IncompleteExport,
        crate::serialize::output::OutputError,
        crate::push::PushError,
        crate::state::StateError,
        crate::diff::DiffError,
        crate::guards::GuardConfigError,
    );
    if let Some(err) = cause.downcast_ref::<ClassedError>() {
        return Some(err.class);
    }
    // serde_json hides the I/O error it wraps from the chain.
    if let Some(err) = cause.downcast_ref::<serde_json::Error>()
        && err.is_io()
    {
        return Some(ErrorClass::Output);
    }
    // A bare I/O error that reached the top was a write nobody wrapped: printing the report
    // to a full disk, say.
    cause
        .downcast_ref::<std::io::Error>()
        .map(|_| ErrorClass::Output)
}
