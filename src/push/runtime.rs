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
    /// `--no-progress`: transports draw no byte progress bar.
    no_progress: AtomicBool,
}

impl NetRuntime {
    pub fn new() -> NetRuntime {
        NetRuntime::default()
    }

    /// Whether transports may show a byte progress bar (still only on a terminal, see
    /// [`crate::report::progress`]); the command sets it from `--no-progress`.
    pub fn progress(&self) -> bool {
        !self.no_progress.load(Ordering::Relaxed)
    }

    pub fn set_progress(&self, show: bool) {
        self.no_progress.store(!show, Ordering::Relaxed);
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
