//! Log lines on stderr for unattended runs (`omnifeed sync`), through `tracing`: plain text
//! for a person reading cron mail, or one JSON object per line for a log shipper
//! (`--log-format json`: `{"timestamp", "level", "message", …the event's fields}`).
//!
//! Levels: ERROR means something was not delivered or not recorded and someone must act;
//! WARN means nothing was lost (a retried notification, an old report that could not be
//! removed); INFO says what each feed did; DEBUG the steps of the run. The default shows
//! WARN and up, so a run that went well prints nothing.

use tracing_subscriber::filter::LevelFilter;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// Sends this process's log events to stderr: WARN and up, INFO with one `-v`, DEBUG with
/// two or more.
pub fn init(format: LogFormat, verbose: u8) {
    let level = match verbose {
        0 => LevelFilter::WARN,
        1 => LevelFilter::INFO,
        _ => LevelFilter::DEBUG,
    };
    let builder = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(level)
        .with_target(false);
    // Fails only when a subscriber is set already (a second command in one process, in
    // tests): the first one stays.
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .try_init(),
    };
}
