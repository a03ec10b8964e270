//! One logged-in FTP control connection: connect (bounded by the connect timeout), explicit
//! TLS unless switched off, login, binary type, passive mode, the remote folder.

use std::path::Path;

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
        let connect = async {
            let stream = tokio::net::TcpStream::connect((host, destination.port))
                .await
                .map_err(|source| FtpFailure::Connect {
                    address: address.clone(),
                    source,
                })?;
            AsyncRustlsFtpStream::connect_with_stream(stream)
                .await
                .map_err(|err| FtpFailure::of("the server's greeting", err))
        };
        let mut ftp = tokio::time::timeout(destination.connect_timeout(), connect)
            .await
            .map_err(|_| FtpFailure::ConnectTimeout {
                address: address.clone(),
                after: destination.connect_timeout(),
            })??;
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
        // through. A server behind NAT often announces its private address in its PASV
        // reply; the workaround connects to the control connection's address instead.
        ftp.set_mode(Mode::Passive);
        ftp.set_passive_nat_workaround(true);
        if let Some(path) = destination.path.as_deref().filter(|p| !p.is_empty()) {
            ftp.cwd(path)
                .await
                .map_err(|err| FtpFailure::of(&format!("CWD {path}"), err))?;
        }
        Ok(Session { ftp })
    }

    /// The current remote folder.
    pub(super) async fn pwd(&mut self) -> Result<String, FtpFailure> {
        self.ftp
            .pwd()
            .await
            .map_err(|err| FtpFailure::of("PWD", err))
    }

    /// Uploads `local` as `remote`, reporting the bytes sent so far to `sent`; returns
    /// the bytes sent.
    pub(super) async fn upload(
        &mut self,
        local: &Path,
        remote: &str,
        mut sent: impl FnMut(u64),
    ) -> Result<u64, FtpFailure> {
        let command = format!("STOR {remote}");
        let local_err = |source| FtpFailure::Local {
            path: local.to_owned(),
            source,
        };
        let mut file = tokio::fs::File::open(local).await.map_err(local_err)?;
        let mut stream = self
            .ftp
            .put_with_stream(remote)
            .await
            .map_err(|err| FtpFailure::of(&command, err))?;
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
            stream.write_all(&buffer[..read]).await.map_err(lost)?;
            total += read as u64;
            sent(total);
        }
        // Closes the data connection and reads the server's 226.
        stream
            .finish()
            .await
            .map_err(|err| FtpFailure::of(&command, err))?;
        Ok(total)
    }

    /// The size of `remote` on the server; `None` when the server has no `SIZE` command or
    /// no such file (550).
    pub(super) async fn size(&mut self, remote: &str) -> Result<Option<u64>, FtpFailure> {
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
            Err(err) => Err(FtpFailure::of(&format!("SIZE {remote}"), err)),
        }
    }

    /// Whether the server's folder lists `remote`, for servers without `SIZE`.
    pub(super) async fn lists(&mut self, remote: &str) -> Result<bool, FtpFailure> {
        let names = self
            .ftp
            .nlst(None)
            .await
            .map_err(|err| FtpFailure::of("NLST", err))?;
        Ok(names
            .iter()
            .any(|name| name.rsplit('/').next() == Some(remote)))
    }

    pub(super) async fn rename(&mut self, from: &str, to: &str) -> Result<(), FtpFailure> {
        self.ftp
            .rename(from, to)
            .await
            .map_err(|err| FtpFailure::of(&format!("RNFR {from} / RNTO {to}"), err))
    }

    pub(super) async fn delete(&mut self, remote: &str) -> Result<(), FtpFailure> {
        self.ftp
            .rm(remote)
            .await
            .map_err(|err| FtpFailure::of(&format!("DELE {remote}"), err))
    }

    /// Says goodbye; a server that hangs up first is no failure, the work is done.
    pub(super) async fn quit(mut self) {
        let _ = self.ftp.quit().await;
    }
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
