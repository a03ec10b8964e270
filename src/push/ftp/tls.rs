//! The TLS client for explicit FTPS: the system's trusted CAs plus the private CA a
//! destination may name, on the aws-lc-rs provider the other network crates use. One
//! connector serves the control and the data connections, so servers that require the data
//! connection to resume the control connection's TLS session (vsftpd's `require_ssl_reuse`)
//! get it.

use std::path::Path;
use std::sync::Arc;

use suppaftp::tokio_rustls::TlsConnector;
use suppaftp::tokio_rustls::rustls::pki_types::CertificateDer;
use suppaftp::tokio_rustls::rustls::pki_types::pem::PemObject;
use suppaftp::tokio_rustls::rustls::{self, ClientConfig, RootCertStore};

use super::error::FtpFailure;

/// A connector trusting the system's CAs and those in `ca_file`.
pub(super) fn connector(ca_file: Option<&Path>) -> Result<TlsConnector, FtpFailure> {
    let mut roots = RootCertStore::empty();
    // Unreadable system certificates are skipped: a private CA may be all that is needed.
    roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
    if let Some(path) = ca_file {
        let setup =
            |why: String| FtpFailure::TlsSetup(format!("ca_file `{}`: {why}", path.display()));
        let mut found = 0;
        for cert in CertificateDer::pem_file_iter(path).map_err(|err| setup(err.to_string()))? {
            let cert = cert.map_err(|err| setup(err.to_string()))?;
            roots.add(cert).map_err(|err| setup(err.to_string()))?;
            found += 1;
        }
        if found == 0 {
            return Err(setup(
                "holds no PEM certificate (-----BEGIN CERTIFICATE-----)".into(),
            ));
        }
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|err| FtpFailure::TlsSetup(err.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(TlsConnector::from(Arc::new(config)))
}
