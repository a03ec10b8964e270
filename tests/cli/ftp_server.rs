//! A real FTP server in the test process (libunftp over a folder), on 127.0.0.1: it checks
//! the user and password, speaks explicit TLS with a throw-away CA's certificate when asked,
//! and can refuse what some real servers refuse (renaming over a file, or any upload). For
//! a connection cut mid-upload it stops reading after some bytes, and [`FtpServer::stop`]
//! then drops the listener and every connection at once.

use std::fmt::Debug;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use libunftp::auth::{AuthenticationError, Authenticator, Credentials, DefaultUser, Principal};
use libunftp::storage::{self, ErrorKind, Fileinfo, StorageBackend};
use tokio::io::{AsyncRead, ReadBuf};
use unftp_sbe_fs::{Filesystem, Meta};

pub(crate) const USER: &str = "shop";
/// Unusual enough that finding it in any output can only mean it leaked.
pub(crate) const PASSWORD: &str = "Xq7-ftp-secret-vL9w2";

/// What the server does besides storing files.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Behaviour {
    /// Offer explicit TLS (`AUTH TLS`).
    pub(crate) tls: bool,
    /// Refuse `RNTO` onto an existing file (550), as some Windows servers do.
    pub(crate) refuse_overwrite: bool,
    /// Refuse every upload (550), as a read-only account does.
    pub(crate) refuse_uploads: bool,
    /// Stop reading an upload after this many bytes (until the server is stopped).
    pub(crate) stall_after: Option<usize>,
}

pub(crate) struct FtpServer {
    pub(crate) port: u16,
    /// The PEM file of the CA that signed the server's certificate, when TLS is on.
    pub(crate) ca_file: Option<PathBuf>,
    root: PathBuf,
    stalled: Arc<AtomicBool>,
    runtime: Option<tokio::runtime::Runtime>,
    _certs: tempfile::TempDir,
}

impl FtpServer {
    /// Serves the folder `root` (created if missing).
    pub(crate) fn start(root: &Path, behaviour: Behaviour) -> FtpServer {
        std::fs::create_dir_all(root).expect("server root");
        let certs = tempfile::tempdir().expect("cert folder");
        let tls_files = behaviour.tls.then(|| write_certificates(certs.path()));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("server runtime");
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind 127.0.0.1");
        let port = listener.local_addr().expect("address").port();
        let stalled = Arc::new(AtomicBool::new(false));
        let storage = Gate {
            root: root.to_owned(),
            behaviour,
            stalled: Arc::clone(&stalled),
        };
        let tls_paths = tls_files.clone();
        runtime.spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let storage = storage.clone();
                let mut builder = libunftp::ServerBuilder::with_authenticator(
                    Box::new(move || storage.clone()),
                    Arc::new(PasswordCheck),
                )
                .greeting("omnifeed test FTP server")
                .passive_ports(50000..=65000);
                if let Some((_, chain, key)) = &tls_paths {
                    builder = builder.ftps(chain.clone(), key.clone());
                }
                let server = builder.build().expect("FTP server");
                tokio::spawn(server.service(stream));
            }
        });
        FtpServer {
            port,
            ca_file: tls_files.map(|(ca, _, _)| ca),
            root: root.to_owned(),
            stalled,
            runtime: Some(runtime),
            _certs: certs,
        }
    }

    /// Stops the server: the listener and every open connection are dropped.
    pub(crate) fn stop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }

    /// Waits until an upload has stalled (see [`Behaviour::stall_after`]).
    pub(crate) fn wait_stalled(&self, within: Duration) {
        let started = Instant::now();
        while !self.stalled.load(Ordering::SeqCst) {
            assert!(
                started.elapsed() < within,
                "no upload reached the stall point"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The names of the files in the served folder, sorted.
    pub(crate) fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.root)
            .expect("server root")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    pub(crate) fn read(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.root.join(name))
            .unwrap_or_else(|err| panic!("server file {name}: {err}"))
    }
}

impl Drop for FtpServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A CA and a certificate for 127.0.0.1 signed by it: `(ca.pem, chain.pem, key.pem)`.
fn write_certificates(folder: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let ca_key = rcgen::KeyPair::generate().expect("CA key");
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "omnifeed test CA");
    let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).expect("CA");
    let key = rcgen::KeyPair::generate().expect("server key");
    let params =
        rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .expect("server params");
    let cert = params.signed_by(&key, &ca).expect("server certificate");
    let paths = (
        folder.join("ca.pem"),
        folder.join("chain.pem"),
        folder.join("key.pem"),
    );
    std::fs::write(&paths.0, ca.pem()).expect("ca.pem");
    std::fs::write(&paths.1, cert.pem() + &ca.pem()).expect("chain.pem");
    std::fs::write(&paths.2, key.serialize_pem()).expect("key.pem");
    paths
}

/// Lets in [`USER`] with [`PASSWORD`], nobody else.
#[derive(Debug)]
struct PasswordCheck;

#[async_trait::async_trait]
impl Authenticator for PasswordCheck {
    async fn authenticate(
        &self,
        username: &str,
        creds: &Credentials,
    ) -> Result<Principal, AuthenticationError> {
        if username != USER {
            return Err(AuthenticationError::BadUser);
        }
        if creds.password.as_deref() != Some(PASSWORD) {
            return Err(AuthenticationError::BadPassword);
        }
        Ok(Principal {
            username: username.to_owned(),
        })
    }
}

/// The folder backend, with the refusals and the stall of [`Behaviour`].
#[derive(Debug, Clone)]
struct Gate {
    root: PathBuf,
    behaviour: Behaviour,
    stalled: Arc<AtomicBool>,
}

impl Gate {
    fn fs(&self) -> Filesystem {
        Filesystem::new(&self.root).expect("served folder")
    }
}

#[async_trait::async_trait]
impl StorageBackend<DefaultUser> for Gate {
    type Metadata = Meta;

    fn supported_features(&self) -> u32 {
        0
    }

    async fn metadata<P: AsRef<Path> + Send + Debug>(
        &self,
        user: &DefaultUser,
        path: P,
    ) -> storage::Result<Meta> {
        self.fs().metadata(user, path).await
    }

    async fn list<P: AsRef<Path> + Send + Debug>(
        &self,
        user: &DefaultUser,
        path: P,
    ) -> storage::Result<Vec<Fileinfo<PathBuf, Meta>>> {
        self.fs().list(user, path).await
    }

    async fn get<P: AsRef<Path> + Send + Debug>(
        &self,
        user: &DefaultUser,
        path: P,
        start_pos: u64,
    ) -> storage::Result<Box<dyn AsyncRead + Send + Sync + Unpin>> {
        self.fs().get(user, path, start_pos).await
    }

    async fn put<P: AsRef<Path> + Send + Debug, R: AsyncRead + Send + Sync + Unpin + 'static>(
        &self,
        user: &DefaultUser,
        input: R,
        path: P,
        start_pos: u64,
    ) -> storage::Result<u64> {
        if self.behaviour.refuse_uploads {
            return Err(ErrorKind::PermissionDenied.into());
        }
        match self.behaviour.stall_after {
            Some(limit) => {
                let input = Stalling {
                    inner: input,
                    left: limit,
                    stalled: Arc::clone(&self.stalled),
                };
                self.fs().put(user, input, path, start_pos).await
            }
            None => self.fs().put(user, input, path, start_pos).await,
        }
    }

    async fn del<P: AsRef<Path> + Send + Debug>(
        &self,
        user: &DefaultUser,
        path: P,
    ) -> storage::Result<()> {
        self.fs().del(user, path).await
    }

    async fn mkd<P: AsRef<Path> + Send + Debug>(
        &self,
        user: &DefaultUser,
        path: P,
    ) -> storage::Result<()> {
        self.fs().mkd(user, path).await
    }

    async fn rename<P: AsRef<Path> + Send + Debug>(
        &self,
        user: &DefaultUser,
        from: P,
        to: P,
    ) -> storage::Result<()> {
        let target = self
            .root
            .join(to.as_ref().strip_prefix("/").unwrap_or(to.as_ref()));
        if self.behaviour.refuse_overwrite && target.exists() {
            return Err(ErrorKind::PermanentFileNotAvailable.into());
        }
        self.fs().rename(user, from, to).await
    }

    async fn rmd<P: AsRef<Path> + Send + Debug>(
        &self,
        user: &DefaultUser,
        path: P,
    ) -> storage::Result<()> {
        self.fs().rmd(user, path).await
    }

    async fn cwd<P: AsRef<Path> + Send + Debug>(
        &self,
        user: &DefaultUser,
        path: P,
    ) -> storage::Result<()> {
        self.fs().cwd(user, path).await
    }
}

/// Passes `left` bytes through, then never again: the upload hangs with the client's bytes
/// unread, until the server is stopped.
struct Stalling<R> {
    inner: R,
    left: usize,
    stalled: Arc<AtomicBool>,
}

impl<R: AsyncRead + Unpin> AsyncRead for Stalling<R> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        if self.left == 0 {
            self.stalled.store(true, Ordering::SeqCst);
            return Poll::Pending;
        }
        let room = buf.remaining().min(self.left);
        let mut limited = ReadBuf::new(buf.initialize_unfilled_to(room));
        let polled = Pin::new(&mut self.inner).poll_read(cx, &mut limited);
        let read = limited.filled().len();
        if let Poll::Ready(Ok(())) = &polled {
            buf.advance(read);
            self.left -= read;
        }
        polled
    }
}
