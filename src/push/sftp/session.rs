//! One SFTP session: TCP connect, key exchange with the host key checked against
//! `known_hosts` before anything else is sent, login by key or password, and the `sftp`
//! subsystem with the extensions the upload needs.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use russh::client;
use russh::keys::{PrivateKeyWithHashAlg, PublicKeyOrCertificate};
use russh_sftp::client::RawSftpSession;
use tokio::net::TcpStream;

use super::config::SftpDestination;
use super::error::SftpError;
use super::known_hosts;
use crate::push::secret;

/// OpenSSH's atomic rename-over (`rename(2)`); plain SFTP v3 rename refuses to replace.
const POSIX_RENAME: &str = "posix-rename@openssh.com";
const LIMITS: &str = "limits@openssh.com";
/// The write size every server takes (SFTP v3 asks servers to take 32 KiB packets).
const SAFE_WRITE_LEN: u64 = 32 * 1024;
/// Larger writes cut per-request overhead; OpenSSH's server takes 255 KiB.
const MAX_WRITE_LEN: u64 = 255 * 1024;
/// How long one SFTP request may wait for its answer. Writes are pipelined, so an answer
/// can queue behind a few MiB of data on a slow link: far longer than a ping.
const REQUEST_TIMEOUT_SECS: u64 = 120;
/// A silent server is pinged this often, and given up after `KEEPALIVE_MAX` unanswered
/// pings: a dead link fails the upload instead of hanging it.
const KEEPALIVE: Duration = Duration::from_secs(15);
const KEEPALIVE_MAX: usize = 4;
/// russh's default order with AES-256-GCM first: its AES runs on aws-lc (AES-NI), about
/// twice as fast here as russh's ChaCha20-Poly1305, and both are authenticated ciphers
/// OpenSSH offers by default.
const CIPHERS: &[russh::cipher::Name] = &[
    russh::cipher::AES_256_GCM,
    russh::cipher::CHACHA20_POLY1305,
    russh::cipher::AES_256_CTR,
    russh::cipher::AES_192_CTR,
    russh::cipher::AES_128_CTR,
];

/// A logged-in SFTP session.
pub(super) struct Session {
    ssh: client::Handle<HostKeyCheck>,
    pub sftp: RawSftpSession,
    /// Whether the server renames over an existing file atomically.
    pub posix_rename: bool,
    /// Bytes per write request.
    pub write_len: usize,
    /// The server's key and the known_hosts line that vouched for it, for `check`.
    pub host_key: String,
    /// `key` or `password`.
    pub login: &'static str,
}

impl Session {
    /// Connects, checks the host key, logs in and starts SFTP, all within the connect
    /// timeout.
    pub(super) async fn open(config: &SftpDestination) -> Result<Session, SftpError> {
        let addr = format!("{}:{}", config.host, config.port);
        let secs = config.connect_timeout;
        tokio::time::timeout(config.connect_timeout(), open_unbounded(config, &addr))
            .await
            .unwrap_or(Err(SftpError::ConnectTimeout { addr, secs }))
    }

    /// Ends the session politely; the server sees a clean logout.
    pub(super) async fn close(self) {
        let _ = self.sftp.close_session();
        let _ = self
            .ssh
            .disconnect(russh::Disconnect::ByApplication, "", "en")
            .await;
    }
}

async fn open_unbounded(config: &SftpDestination, addr: &str) -> Result<Session, SftpError> {
    // Read before connecting: a missing key or variable is reported without a connection.
    let key = match &config.key_file {
        Some(path) => Some(load_key(path, config.passphrase_env.as_deref())?),
        None => None,
    };
    let password = match &config.password_env {
        Some(var) => Some(secret::from_env(var, "SFTP password")?),
        None => None,
    };
    let socket = TcpStream::connect((config.host.as_str(), config.port))
        .await
        .map_err(|source| SftpError::Connect {
            addr: addr.to_owned(),
            source,
        })?;
    // Nagle would hold back the small SFTP requests between large writes.
    let _ = socket.set_nodelay(true);
    let ssh_config = client::Config {
        keepalive_interval: Some(KEEPALIVE),
        keepalive_max: KEEPALIVE_MAX,
        nodelay: true,
        preferred: russh::Preferred {
            cipher: std::borrow::Cow::Borrowed(CIPHERS),
            ..russh::Preferred::DEFAULT
        },
        ..client::Config::default()
    };
    let check = HostKeyCheck {
        file: config.known_hosts_file(),
        host: config.host.clone(),
        port: config.port,
        verdict: Arc::default(),
    };
    let verdict = Arc::clone(&check.verdict);
    let ssh_err = |doing| {
        let addr = addr.to_owned();
        move |source| SftpError::Ssh {
            addr,
            doing,
            source,
        }
    };
    let mut ssh = match client::connect_stream(Arc::new(ssh_config), socket, check).await {
        Ok(ssh) => ssh,
        Err(source) => {
            // The host key check's own finding explains a refusal better than russh can.
            let found = verdict.lock().map(|mut v| v.take()).ok().flatten();
            return Err(match found {
                Some(Err(refusal)) => refusal,
                _ => ssh_err("agreeing on keys")(source),
            });
        }
    };
    let host_key = match verdict.lock().map(|mut v| v.take()).ok().flatten() {
        Some(Ok(host_key)) => host_key,
        Some(Err(refusal)) => return Err(refusal),
        // russh calls the check before the key exchange completes; no verdict means it did
        // not, and nothing may be sent.
        None => {
            return Err(ssh_err("agreeing on keys")(russh::Error::UnknownKey));
        }
    };

    let mut login = None;
    let mut remaining = String::new();
    if let Some(key) = key {
        let hash = if key.algorithm().is_rsa() {
            ssh.best_supported_rsa_hash()
                .await
                .map_err(ssh_err("logging in"))?
                .flatten()
        } else {
            None
        };
        let result = ssh
            .authenticate_publickey(
                &config.user,
                PrivateKeyWithHashAlg::new(Arc::new(key), hash),
            )
            .await
            .map_err(ssh_err("logging in"))?;
        match result {
            client::AuthResult::Success => login = Some("key"),
            client::AuthResult::Failure {
                remaining_methods, ..
            } => remaining = method_names(&remaining_methods),
        }
    }
    if login.is_none()
        && let Some(password) = password
    {
        let result = ssh
            .authenticate_password(&config.user, password.expose())
            .await
            .map_err(ssh_err("logging in"))?;
        match result {
            client::AuthResult::Success => login = Some("password"),
            client::AuthResult::Failure {
                remaining_methods, ..
            } => remaining = method_names(&remaining_methods),
        }
    }
    let Some(login) = login else {
        let method = match (&config.key_file, &config.password_env) {
            (Some(_), Some(_)) => "key and password",
            (Some(_), None) => "key",
            _ => "password",
        };
        return Err(SftpError::Login {
            addr: addr.to_owned(),
            user: config.user.clone(),
            method,
            remaining,
        });
    };

    let channel = ssh
        .channel_open_session()
        .await
        .map_err(ssh_err("opening a channel"))?;
    channel
        .request_subsystem(true, "sftp")
        .await
        .map_err(ssh_err("starting SFTP"))?;
    let mut sftp = RawSftpSession::new(channel.into_stream());
    sftp.set_timeout(REQUEST_TIMEOUT_SECS);
    let remote = |source| SftpError::Remote {
        doing: "start",
        path: String::new(),
        source,
    };
    let version = sftp.init().await.map_err(remote)?;
    let has = |name: &str| version.extensions.contains_key(name);
    let posix_rename = has(POSIX_RENAME);
    let mut write_len = SAFE_WRITE_LEN;
    if has(LIMITS) {
        let limits = sftp.limits().await.map_err(remote)?;
        if limits.max_write_len > 0 {
            write_len = limits.max_write_len.min(MAX_WRITE_LEN);
        }
        sftp.set_limits(limits.into());
    }
    Ok(Session {
        ssh,
        sftp,
        posix_rename,
        write_len: usize::try_from(write_len).unwrap_or(32 * 1024),
        host_key,
        login,
    })
}

/// The private key at `path`, decrypted with the passphrase in `passphrase_env` if set.
fn load_key(
    path: &std::path::Path,
    passphrase_env: Option<&str>,
) -> Result<russh::keys::PrivateKey, SftpError> {
    let text = secret::from_file(path, "SFTP private key")?;
    let passphrase = match passphrase_env {
        Some(var) => Some(secret::from_env(var, "SFTP key passphrase")?),
        None => None,
    };
    let key =
        russh::keys::decode_secret_key(text.expose(), passphrase.as_ref().map(|p| p.expose()))
            .map_err(|err| SftpError::Key {
                path: path.to_owned(),
                reason: match (err, passphrase_env) {
                    (russh::keys::Error::KeyIsEncrypted, None) => {
                        "it is encrypted\n  hint: set [destination] passphrase_env to the name of \
                     an environment variable holding the passphrase"
                            .to_owned()
                    }
                    (unsupported @ russh::keys::Error::UnsupportedKeyType { .. }, _) => {
                        format!("{unsupported}\n  hint: use an ed25519 or ECDSA key")
                    }
                    // A wrong passphrase decrypts to garbage, which fails as a crypto error.
                    (_, Some(var)) => {
                        format!(
                            "the passphrase in `{var}` does not open it, or the file is damaged"
                        )
                    }
                    // The message names the format problem, never key material.
                    (other, None) => format!(
                        "{other}\n  hint: use an OpenSSH private key file (ssh-keygen -t ed25519)"
                    ),
                },
            })?;
    // The `rsa` crate has an unfixed timing flaw (RUSTSEC-2023-0071), so russh is built
    // without RSA signing: say so here rather than let the server refuse a login.
    if key.algorithm().is_rsa() {
        return Err(SftpError::Key {
            path: path.to_owned(),
            reason: "RSA keys are not supported (the RSA implementation available has an \
                     unfixed timing flaw, RUSTSEC-2023-0071)\n  hint: make an ed25519 key \
                     (ssh-keygen -t ed25519) and add its .pub to the server's authorized keys"
                .to_owned(),
        });
    }
    Ok(key)
}

fn method_names(methods: &russh::MethodSet) -> String {
    methods
        .iter()
        .map(<&'static str>::from)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The result of the host key check: the key and the `known_hosts` line that vouched for
/// it, or the refusal. An error reading the file is a refusal too (nothing may be sent).
type Verdict = Arc<Mutex<Option<Result<String, SftpError>>>>;

/// russh's client handler: checks the host key during the key exchange.
struct HostKeyCheck {
    file: std::path::PathBuf,
    host: String,
    port: u16,
    verdict: Verdict,
}

impl client::Handler for HostKeyCheck {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        offered: &PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        let key = match offered {
            PublicKeyOrCertificate::PublicKey { key, .. } => key.clone(),
            // As `ssh` does when no @cert-authority vouches for a host certificate: the
            // certified key itself must be known.
            PublicKeyOrCertificate::Certificate(cert) => {
                russh::keys::PublicKey::from(cert.public_key().clone())
            }
        };
        let verdict = match known_hosts::check(&self.file, &self.host, self.port, &key) {
            Ok(Ok(line)) => Ok(format!(
                "{} {} (line {line})",
                key.algorithm().as_str(),
                key.fingerprint(russh::keys::HashAlg::Sha256)
            )),
            Ok(Err(refusal)) => Err(SftpError::HostKey(Box::new(refusal))),
            Err(source) => Err(SftpError::KnownHosts {
                path: self.file.clone(),
                source,
            }),
        };
        let accepted = verdict.is_ok();
        if let Ok(mut slot) = self.verdict.lock() {
            *slot = Some(verdict);
        }
        Ok(accepted)
    }
}
