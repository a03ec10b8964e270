//! One logged-in FTP control connection: connect (bounded by the connect timeout), explicit
//! TLS unless switched off, login, binary type, passive mode, the remote folder.

use std::path::Path;
use std::time::Duration;

use suppaftp::tokio::{AsyncRustlsConnector, AsyncRustlsFtpStream};
use suppaftp::tokio_rustls::TlsConnector;
use suppaftp::types::FileType;
use suppaftp::{FtpError, Mode, Status};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::config::FtpDestination;
use super::error::FtpFailure;
use crate::push::secret::Secret;

/// Bytes read from the staged file per write to the data connection.
const CHUNK: usize = 256 * 1024;

pub(super) struct Session {
    ftp: AsyncRustlsFtpStream,
    /// How long one command's answer or one chunk of a file may take.
    io_timeout: Duration,
}

impl Session {
    /// Connects, secures and logs in; `tls` is `None` only when `tls = false`.
    pub(super) async fn open(
        destination: &FtpDestination,
        password: &Secret,
        tls: Option<&TlsConnector>,
    ) -> Result<Session, FtpFailure> {
        let host = destination.host.as_str();
        let address = format!("{host}:{}", destination.port);
        // Everything up to a usable session is bounded: a server that takes the connection
        // and then says nothing (or stalls the TLS handshake) is retried like a dead one.
        let within = destination.connect_timeout();
        let ftp = tokio::time::timeout(within, log_in(destination, password, tls, &address))
            .await
            .map_err(|_| FtpFailure::ConnectTimeout {
                address,
                after: within,
            })??;
        Ok(Session {
            ftp,
            io_timeout: destination.io_timeout(),
        })
    }

    /// The current remote folder.
    pub(super) async fn pwd(&mut self) -> Result<String, FtpFailure> {
        let io = self.io_timeout;
        bounded(io, "PWD", async {
            self.ftp
                .pwd()
                .await
                .map_err(|err| FtpFailure::of("PWD", err))
        })
        .await
    }

    /// Uploads `local` as `remote`; returns the bytes sent.
    pub(super) async fn upload(&mut self, local: &Path, remote: &str) -> Result<u64, FtpFailure> {
        let io = self.io_timeout;
        let command = format!("STOR {remote}");
        let local_err = |source| FtpFailure::Local {
            path: local.to_owned(),
            source,
        };
        let mut file = tokio::fs::File::open(local).await.map_err(local_err)?;
        let mut stream = bounded(io, &command, async {
            self.ftp
                .put_with_stream(remote)
                .await
                .map_err(|err| FtpFailure::of(&command, err))
        })
        .await?;
        let lost = |err: std::io::Error| FtpFailure::Lost {
            command: command.clone(),
            message: err.to_string(),
        };
        let mut buffer = vec![0; CHUNK];
        let mut total = 0u64;
        loop {
            let read = file.read(&mut buffer).await.map_err(local_err)?;
            if read == 0 {
                break;
            }
            let chunk = &buffer[..read];
            bounded(io, &command, async {
                stream.write_all(chunk).await.map_err(lost)
            })
            .await?;
            total += read as u64;
        }
        // Closes the data connection and reads the server's 226.
        bounded(io, &command, async {
            stream
                .finish()
                .await
                .map_err(|err| FtpFailure::of(&command, err))
        })
        .await?;
        Ok(total)
    }

    /// The size of `remote` on the server; `None` when the server has no `SIZE` command or
    /// no such file (550).
    pub(super) async fn size(&mut self, remote: &str) -> Result<Option<u64>, FtpFailure> {
        let command = format!("SIZE {remote}");
        let io = self.io_timeout;
        bounded(io, &command, async {
            match self.ftp.size(remote).await {
                Ok(size) => Ok(Some(size as u64)),
                Err(FtpError::UnexpectedResponse(response))
                    if matches!(
                        response.status,
                        Status::FileUnavailable
                            | Status::BadCommand
                            | Status::NotImplemented
                            | Status::NotImplementedParameter
                    ) =>
                {
                    Ok(None)
                }
                Err(err) => Err(FtpFailure::of(&command, err)),
            }
        })
        .await
    }

    /// Whether the server's folder lists `remote`, for servers without `SIZE`.
    pub(super) async fn lists(&mut self, remote: &str) -> Result<bool, FtpFailure> {
        let io = self.io_timeout;
        let names = bounded(io, "NLST", async {
            self.ftp
                .nlst(None)
                .await
                .map_err(|err| FtpFailure::of("NLST", err))
        })
        .await?;
        Ok(names
            .iter()
            .any(|name| name.rsplit('/').next() == Some(remote)))
    }

    pub(super) async fn rename(&mut self, from: &str, to: &str) -> Result<(), FtpFailure> {
        let command = format!("RNFR {from} / RNTO {to}");
        let io = self.io_timeout;
        bounded(io, &command, async {
            self.ftp
                .rename(from, to)
                .await
                .map_err(|err| FtpFailure::of(&command, err))
        })
        .await
    }

    pub(super) async fn delete(&mut self, remote: &str) -> Result<(), FtpFailure> {
        let command = format!("DELE {remote}");
        let io = self.io_timeout;
        bounded(io, &command, async {
            self.ftp
                .rm(remote)
                .await
                .map_err(|err| FtpFailure::of(&command, err))
        })
        .await
    }

    /// Says goodbye; a server that hangs up first is no failure, the work is done.
    pub(super) async fn quit(mut self) {
        let _ = self.ftp.quit().await;
    }
}

/// Runs `step` of `command` for at most `within`: a server that stops answering or taking
/// data counts as a lost connection (retried), not as a hang.
async fn bounded<T>(
    within: Duration,
    command: &str,
    step: impl Future<Output = Result<T, FtpFailure>>,
) -> Result<T, FtpFailure> {
    tokio::time::timeout(within, step)
        .await
        .unwrap_or_else(|_| {
            Err(FtpFailure::Stalled {
                command: command.to_owned(),
                after: within,
            })
        })
}

/// Connects, secures, logs in and enters the remote folder.
async fn log_in(
    destination: &FtpDestination,
    password: &Secret,
    tls: Option<&TlsConnector>,
    address: &str,
) -> Result<AsyncRustlsFtpStream, FtpFailure> {
    let host = destination.host.as_str();
    let stream = tokio::net::TcpStream::connect((host, destination.port))
        .await
        .map_err(|source| FtpFailure::Connect {
            address: address.to_owned(),
            source,
        })?;
    let mut ftp = AsyncRustlsFtpStream::connect_with_stream(stream)
        .await
        .map_err(|err| FtpFailure::of("the server's greeting", err))?;
    if let Some(tls) = tls {
        ftp = secure(ftp, tls, host).await?;
    }
    ftp.login(destination.user.as_str(), password.expose())
        .await
        .map_err(|err| match FtpFailure::of("login", err) {
            FtpFailure::Refused { reply, .. } => FtpFailure::Login {
                user: destination.user.clone(),
                password_env: destination.password_env.clone(),
                reply,
            },
            other => other,
        })?;
    ftp.transfer_type(FileType::Binary)
        .await
        .map_err(|err| FtpFailure::of("TYPE I", err))?;
    // Passive: the client opens the data connection, which is what firewalls and NAT let
    // through. A server behind NAT often announces its private address in its PASV reply;
    // the workaround connects to the control connection's address instead.
    ftp.set_mode(Mode::Passive);
    ftp.set_passive_nat_workaround(true);
    if let Some(path) = destination.path.as_deref().filter(|p| !p.is_empty()) {
        ftp.cwd(path)
            .await
            .map_err(|err| match FtpFailure::of(&format!("CWD {path}"), err) {
                FtpFailure::Refused { reply, .. } if reply.code >= 500 => FtpFailure::NoFolder {
                    path: path.to_owned(),
                    reply,
                },
                other => other,
            })?;
    }
    Ok(ftp)
}

/// `AUTH TLS`, then the handshake and `PBSZ 0` / `PROT P` (data connections encrypted too).
async fn secure(
    ftp: AsyncRustlsFtpStream,
    tls: &TlsConnector,
    host: &str,
) -> Result<AsyncRustlsFtpStream, FtpFailure> {
    ftp.into_secure(AsyncRustlsConnector::from(tls.clone()), host)
        .await
        .map_err(|err| match err {
            // AUTH refused (502, 504, 534…): the server has no TLS to offer.
            FtpError::UnexpectedResponse(response)
                if !matches!(response.status, Status::CommandOk) =>
            {
                match FtpFailure::of("AUTH TLS", FtpError::UnexpectedResponse(response)) {
                    FtpFailure::Refused { reply, .. } if !(400..500).contains(&reply.code) => {
                        FtpFailure::NoTls {
                            host: host.to_owned(),
                            reply,
                        }
                    }
                    other => other,
                }
            }
            FtpError::SecureError(message) => FtpFailure::Tls {
                host: host.to_owned(),
                message,
            },
            other => FtpFailure::of("AUTH TLS", other),
        })
}
