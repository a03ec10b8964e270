//! What the tests' local API servers (Merchant API, Graph API, SP-API) share: a listener on
//! a free port of 127.0.0.1, an axum app on a runtime of its own thread, the state behind
//! a mutex, and a shutdown that waits for the thread when the server is dropped. Each server
//! adds its `start` and its handlers in an `impl LocalServer<ItsState>`.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

pub(crate) struct LocalServer<S> {
    pub(crate) addr: SocketAddr,
    pub(crate) state: Arc<Mutex<S>>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl<S: Send + 'static> LocalServer<S> {
    /// Binds a free port, makes the state knowing the address (token URLs name it), and
    /// serves `app(state, address)` until the server is dropped.
    pub(crate) fn serve(
        state: impl FnOnce(SocketAddr) -> S,
        app: impl FnOnce(Arc<Mutex<S>>, SocketAddr) -> axum::Router + Send + 'static,
    ) -> LocalServer<S> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let addr = listener.local_addr().expect("addr");
        let state = Arc::new(Mutex::new(state(addr)));
        let (shutdown, stop) = tokio::sync::oneshot::channel::<()>();
        let shared_state = Arc::clone(&state);
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("server runtime");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
                let _ = axum::serve(listener, app(shared_state, addr))
                    .with_graceful_shutdown(async {
                        let _ = stop.await;
                    })
                    .await;
            });
        });
        LocalServer {
            addr,
            state,
            shutdown: Some(shutdown),
            thread: Some(thread),
        }
    }

    pub(crate) fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub(crate) fn state(&self) -> MutexGuard<'_, S> {
        self.state.lock().expect("server state")
    }
}

impl<S> Drop for LocalServer<S> {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
