//! The one tokio runtime of a process. `main` owns it and hands it down; it is built the
//! first time a network transport needs it, so `validate` or a folder push never starts it.
//! Everything before delivery stays synchronous (rayon); transports call
//! [`NetRuntime::block_on`] from the engine's thread.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

#[derive(Default)]
pub struct NetRuntime {
    runtime: OnceLock<tokio::runtime::Runtime>,
    /// `--no-progress`: transports draw no byte progress bar. Progress is shown on a TTY
    /// only in any case ([`crate::report::progress::Progress`]).
    no_progress: AtomicBool,
}

impl NetRuntime {
    pub fn new() -> NetRuntime {
        NetRuntime::default()
    }

    /// Turns the transports' byte progress bars off (`--no-progress`).
    pub fn hide_progress(&self) {
        self.no_progress.store(true, Ordering::Relaxed);
    }

    /// A byte progress bar for one delivery: drawn on a TTY only, and not after
    /// [`NetRuntime::hide_progress`].
    pub fn progress(&self) -> crate::report::progress::Progress {
        crate::report::progress::Progress::new(!self.no_progress.load(Ordering::Relaxed))
    }

    /// The runtime, built on first use.
    pub fn handle(&self) -> &tokio::runtime::Handle {
        self.runtime
            .get_or_init(|| {
                tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .thread_name("omnifeed-net")
                    .enable_all()
                    .build()
                    // Only fails when the OS refuses threads or an epoll fd: nothing to
                    // recover from.
                    .expect("cannot start the network runtime")
            })
            .handle()
    }

    /// Runs `future` to completion on the runtime. Must not be called from inside it.
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.handle().block_on(future)
    }
}

impl Drop for NetRuntime {
    fn drop(&mut self) {
        // A transport that gave up may leave a task blocked on a dead socket; exiting must
        // not wait for it.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_timeout(Duration::from_millis(200));
        }
    }
}
