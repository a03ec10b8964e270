use clap::Parser;

// Rows are allocated on worker threads and freed on the reader's; glibc malloc spends more
// time on that hand-over than on the parsing.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    // Owned here so that it is shut down last, after the command's report is out.
    let net = omnifeed::push::NetRuntime::new();
    match omnifeed::run(omnifeed::cli::Cli::parse(), &net) {
        Ok(exit) => exit.into(),
        Err(err) => omnifeed::report::fatal(&err),
    }
}
