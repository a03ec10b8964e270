//! An S3-compatible server on 127.0.0.1 for the tests and the benchmark: `s3s-fs` keeps
//! each bucket as a folder (objects as files, their Content-Type beside them) and `s3s`
//! checks the SigV4 signature of every request against one key pair, refusing any other
//! as S3 does (403 `SignatureDoesNotMatch` / `InvalidAccessKeyId`). Also compiled into
//! `examples/s3_server.rs` for `benches/bench.py s3`.

use std::path::Path;

use hyper_util::rt::TokioIo;
use s3s::access::S3Access;
use s3s::auth::SimpleAuth;
use s3s::dto::{
    CopyObjectInput, CreateMultipartUploadInput, DeleteObjectInput, PutObjectInput, UploadPartInput,
};
use s3s::service::{S3Service, S3ServiceBuilder};
use s3s::{S3Request, S3Result, s3_error};

pub(crate) const ACCESS_KEY: &str = "AKIAOMNIFEEDTEST0001";
pub(crate) const SECRET_KEY: &str = "omnifeed/test/secret/key/0123456789abcdef";

/// The S3 service over the buckets (subfolders) of `root`. Unless `writable`, the key may
/// only read, as with an IAM policy without `s3:PutObject`: every write is refused with
/// 403 `AccessDenied`.
pub(crate) fn service(root: &Path, writable: bool) -> S3Service {
    let fs = s3s_fs::FileSystem::new(root).expect("s3s-fs root");
    let mut builder = S3ServiceBuilder::new(fs);
    builder.set_auth(SimpleAuth::from_single(ACCESS_KEY, SECRET_KEY));
    if !writable {
        builder.set_access(ReadOnly);
    }
    builder.build()
}

/// Signed requests may read; writes are denied (the signature is still checked first).
struct ReadOnly;

fn denied() -> S3Result<()> {
    Err(s3_error!(
        AccessDenied,
        "the key may not write to this bucket"
    ))
}

#[async_trait::async_trait]
impl S3Access for ReadOnly {
    async fn put_object(&self, _req: &mut S3Request<PutObjectInput>) -> S3Result<()> {
        denied()
    }

    async fn create_multipart_upload(
        &self,
        _req: &mut S3Request<CreateMultipartUploadInput>,
    ) -> S3Result<()> {
        denied()
    }

    async fn upload_part(&self, _req: &mut S3Request<UploadPartInput>) -> S3Result<()> {
        denied()
    }

    async fn copy_object(&self, _req: &mut S3Request<CopyObjectInput>) -> S3Result<()> {
        denied()
    }

    async fn delete_object(&self, _req: &mut S3Request<DeleteObjectInput>) -> S3Result<()> {
        denied()
    }
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
