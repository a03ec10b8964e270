//! A local S3-compatible server for `benches/bench.py s3`: `s3_server ROOT` serves the
//! buckets under ROOT on 127.0.0.1 at a free port, prints `http://127.0.0.1:PORT` on stdout
//! and runs until killed. The key pair is the tests' (`tests/cli/s3_server.rs`).

#[path = "../tests/cli/s3_server.rs"]
mod s3_server;

fn main() {
    let root = std::env::args().nth(1).expect("usage: s3_server ROOT");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        println!("http://{}", listener.local_addr().expect("address"));
        println!("{} {}", s3_server::ACCESS_KEY, s3_server::SECRET_KEY);
        use std::io::Write;
        std::io::stdout().flush().expect("stdout");
        s3_server::serve(listener, s3_server::service(root.as_ref())).await;
    });
}
