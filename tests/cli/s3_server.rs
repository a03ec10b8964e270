//! An S3-compatible server on 127.0.0.1 for the tests and the benchmark: `s3s-fs` keeps
//! each bucket as a folder (objects as files, their Content-Type beside them) and `s3s`
//! checks the SigV4 signature of every request against one key pair, refusing any other
//! as S3 does (403 `SignatureDoesNotMatch` / `InvalidAccessKeyId`). Also compiled into
//! `examples/s3_server.rs` for `benches/bench.py s3`.

use std::path::Path;

use hyper_util::rt::TokioIo;
use s3s::auth::SimpleAuth;
use s3s::service::{S3Service, S3ServiceBuilder};

pub(crate) const ACCESS_KEY: &str = "AKIAOMNIFEEDTEST0001";
pub(crate) const SECRET_KEY: &str = "omnifeed/test/secret/key/0123456789abcdef";

/// The S3 service over the buckets (subfolders) of `root`.
pub(crate) fn service(root: &Path) -> S3Service {
    let fs = s3s_fs::FileSystem::new(root).expect("s3s-fs root");
    let mut builder = S3ServiceBuilder::new(fs);
    builder.set_auth(SimpleAuth::from_single(ACCESS_KEY, SECRET_KEY));
    builder.build()
}

/// Serves `service` on `listener` until the runtime stops, one task per connection.
pub(crate) async fn serve(listener: tokio::net::TcpListener, service: S3Service) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let service = service.clone();
        tokio::spawn(async move {
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
