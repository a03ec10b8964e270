//! `[destination] kind = "http"` over TLS: a receiver on 127.0.0.1 whose certificate a
//! private CA signed. Without `ca_file` the certificate is refused at once (no retries,
//! nothing sent); with the CA named, the file lands.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use hyper_util::rt::TokioIo;
use tokio_rustls::rustls;

use crate::support::TestEnv;

const NOW: &str = "2026-03-01T00:00:00Z";

/// A CA (PEM) and a certificate it signed for 127.0.0.1, with its key.
fn certificates() -> (
    String,
    rustls::pki_types::CertificateDer<'static>,
    rustls::pki_types::PrivateKeyDer<'static>,
) {
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "omnifeed test CA");
    ca_params.key_usages = vec![
        rcgen::KeyUsagePurpose::KeyCertSign,
        rcgen::KeyUsagePurpose::CrlSign,
    ];
    let ca =
        rcgen::CertifiedIssuer::self_signed(ca_params, rcgen::KeyPair::generate().expect("CA key"))
            .expect("CA");
    let key = rcgen::KeyPair::generate().expect("server key");
    let mut params =
        rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned()]).expect("server params");
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    let cert = params.signed_by(&key, &ca).expect("server certificate");
    (
        ca.pem(),
        cert.der().clone(),
        rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
    )
}

/// An HTTPS receiver answering 201 to every request; counts the requests that got through
/// the handshake.
struct Receiver {
    _runtime: tokio::runtime::Runtime,
    url: String,
    requests: Arc<AtomicUsize>,
    bytes: Arc<AtomicUsize>,
}

impl Receiver {
    fn start(
        cert: rustls::pki_types::CertificateDer<'static>,
        key: rustls::pki_types::PrivateKeyDer<'static>,
    ) -> Receiver {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("protocols")
            .with_no_client_auth()
            .with_single_cert(vec![cert], key)
            .expect("server config");
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind");
        let url = format!(
            "https://{}/upload/{{file}}",
            listener.local_addr().expect("address")
        );
        let (requests, bytes) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let (count, total) = (Arc::clone(&requests), Arc::clone(&bytes));
        runtime.spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let (acceptor, count, total) =
                    (acceptor.clone(), Arc::clone(&count), Arc::clone(&total));
                tokio::spawn(async move {
                    // A refused handshake ends here: nothing reaches the handler.
                    let Ok(tls) = acceptor.accept(stream).await else {
                        return;
                    };
                    let service = hyper::service::service_fn(
                        move |request: hyper::Request<hyper::body::Incoming>| {
                            let (count, total) = (Arc::clone(&count), Arc::clone(&total));
                            async move {
                                let body = axum::body::to_bytes(
                                    axum::body::Body::new(request.into_body()),
                                    usize::MAX,
                                )
                                .await
                                .map_err(|err| err.to_string())?;
                                count.fetch_add(1, Ordering::SeqCst);
                                total.fetch_add(body.len(), Ordering::SeqCst);
                                hyper::Response::builder()
                                    .status(201)
                                    .body(axum::body::Body::empty())
                                    .map_err(|err| err.to_string())
                            }
                        },
                    );
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(tls), service)
                        .await;
                });
            }
        });
        Receiver {
            _runtime: runtime,
            url,
            requests,
            bytes,
        }
    }
}

fn project(url: &str, ca_file: Option<&str>) -> TestEnv {
    let env = TestEnv::new();
    env.write("omnifeed.toml", "[catalog]\ndir = \"cat\"\n");
    let ca = ca_file.map_or_else(String::new, |path| format!("ca_file = \"{path}\"\n"));
    env.write(
        "feeds/shop.toml",
        format!(
            "channel = \"google-merchant\"\nformat = \"xml\"\nfile = \"shop\"\n\n\
             [destination]\nkind = \"http\"\nurl = \"{url}\"\n{ca}"
        ),
    );
    env.generate("cat", &["--variants", "50", "--stores", "1", "--seed", "5"]);
    env
}

#[test]
fn a_certificate_from_an_unknown_ca_is_refused_at_once() {
    let (_, cert, key) = certificates();
    let receiver = Receiver::start(cert, key);
    let env = project(&receiver.url, None);
    let run = env.run(&["push", "--no-progress", "--now", NOW]);
    run.expect_code(3);
    let stderr = run.stderr();
    assert!(stderr.contains("TLS refused"), "{stderr}");
    assert!(stderr.contains("ca_file"), "{stderr}");
    // Not retried: a refused certificate is no passing trouble.
    assert!(!stderr.contains("retrying"), "{stderr}");
    assert_eq!(receiver.requests.load(Ordering::SeqCst), 0);
}

#[test]
fn a_private_ca_named_in_ca_file_is_trusted() {
    let (ca_pem, cert, key) = certificates();
    let receiver = Receiver::start(cert, key);
    let env = project(&receiver.url, Some("certs/ca.pem"));
    env.write("certs/ca.pem", ca_pem);
    env.run(&["push", "--no-progress", "--now", NOW])
        .expect_code(0);
    assert_eq!(receiver.requests.load(Ordering::SeqCst), 1);
    let exported = {
        env.run(&["export", "--no-progress", "--now", NOW])
            .expect_code(0);
        std::fs::read(env.path("out/shop.xml")).expect("exported")
    };
    assert_eq!(receiver.bytes.load(Ordering::SeqCst), exported.len());
}
