use clap::Parser;

fn main() -> std::process::ExitCode {
    match omnifeed::run(omnifeed::cli::Cli::parse()) {
        Ok(exit) => exit.into(),
        Err(err) => omnifeed::report::fatal(&err),
    }
}
