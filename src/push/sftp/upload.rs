//! Moving files onto the server: each one is written under a temporary name with writes
//! pipelined (as OpenSSH's `sftp` does: many requests in flight, so the link stays busy
//! while acknowledgements travel back), its remote size checked, and only then renamed
//! over the final name. A cut upload leaves only a temporary file, removed by the next
//! delivery.

use std::hash::BuildHasher;
use std::path::Path;

use futures::StreamExt as _;
use futures::stream::FuturesUnordered;
use russh_sftp::client::error::Error as ProtocolError;
use russh_sftp::protocol::{FileAttributes, OpenFlags, Packet, StatusCode};
use tokio::io::AsyncReadExt as _;

use super::error::SftpError;
use super::session::Session;
use crate::report::progress::Progress;

/// Bytes in flight per file: enough to fill a fast link's window, small enough that memory
/// stays flat whatever the file's size.
const IN_FLIGHT_BYTES: usize = 8 * 1024 * 1024;
const TEMP_SUFFIX: &str = ".partial";
const RANDOM_CHARS: usize = 6;
const POSIX_RENAME: &str = "posix-rename@openssh.com";

fn remote(doing: &'static str, path: &str) -> impl FnOnce(ProtocolError) -> SftpError {
    let path = path.to_owned();
    move |source| SftpError::Remote {
        doing,
        path,
        source,
    }
}

/// The temporary name `final_path` is uploaded under: hidden (a leading dot) beside it,
/// so a channel that picks up the registered name or every visible file never sees it.
pub(super) fn temp_path(final_path: &str) -> String {
    let (folder, name) = match final_path.rsplit_once('/') {
        Some((folder, name)) => (format!("{folder}/"), name),
        None => (String::new(), final_path),
    };
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    // RandomState is seeded per process from the OS: enough to keep two runs apart.
    let mut bits = std::collections::hash_map::RandomState::new().hash_one(seed);
    let random: String = (0..RANDOM_CHARS)
        .map(|_| {
            let c = b"abcdefghijklmnopqrstuvwxyz0123456789"[(bits % 36) as usize];
            bits /= 36;
            c as char
        })
        .collect();
    format!("{folder}.{name}.{random}{TEMP_SUFFIX}")
}

/// Whether `name` (a bare file name) is a temporary name of `final_name`.
fn is_temp_of(name: &str, final_name: &str) -> bool {
    name.strip_prefix(&format!(".{final_name}."))
        .and_then(|rest| rest.strip_suffix(TEMP_SUFFIX))
        .is_some_and(|random| {
            random.len() == RANDOM_CHARS && random.bytes().all(|b| b.is_ascii_alphanumeric())
        })
}

/// The names in the remote `folder`.
async fn list(session: &Session, folder: &str) -> Result<Vec<String>, SftpError> {
    let sftp = &session.sftp;
    let handle = sftp
        .opendir(folder)
        .await
        .map_err(remote("list", folder))?
        .handle;
    let mut names = Vec::new();
    loop {
        match sftp.readdir(handle.as_str()).await {
            Ok(page) => names.extend(page.files.into_iter().map(|file| file.filename)),
            Err(ProtocolError::Status(status)) if status.status_code == StatusCode::Eof => break,
            Err(err) => return Err(remote("list", folder)(err)),
        }
    }
    let _ = sftp.close(handle).await;
    Ok(names)
}

/// Removes `names` from `folder`; one already gone is fine.
async fn remove_all(session: &Session, folder: &str, names: &[String]) -> Result<(), SftpError> {
    for name in names {
        let path = join(folder, name);
        match session.sftp.remove(path.as_str()).await {
            Ok(_) => {}
            Err(ProtocolError::Status(status)) if status.status_code == StatusCode::NoSuchFile => {}
            Err(err) => return Err(remote("remove", &path)(err)),
        }
    }
    Ok(())
}

/// Removes the temporary files a cut delivery of `final_names` left in `folder`.
pub(super) async fn remove_leftovers(
    session: &Session,
    folder: &str,
    final_names: &[String],
) -> Result<(), SftpError> {
    let mut leftovers = list(session, folder).await?;
    leftovers.retain(|name| final_names.iter().any(|f| is_temp_of(name, f)));
    remove_all(session, folder, &leftovers).await
}

/// Removes what an earlier delivery left that this one did not replace: numbered parts of
/// `single` (`NAME-0003.EXT` when the feed now has two parts) and `single` itself when the
/// feed is now split. Nothing else is touched.
pub(super) async fn remove_stale_parts(
    session: &Session,
    folder: &str,
    single: &str,
    written: &[String],
) -> Result<(), SftpError> {
    let mut stale = list(session, folder).await?;
    stale.retain(|name| {
        !written.contains(name) && (name == single || is_numbered_part(name, single))
    });
    remove_all(session, folder, &stale).await
}

/// Whether `name` is `single` numbered as a part (see [`super::config::numbered`]).
fn is_numbered_part(name: &str, single: &str) -> bool {
    let template = super::config::numbered(single, 0);
    let (head, tail) = template.split_once("-0000").unwrap_or((&template, ""));
    name.strip_prefix(head)
        .and_then(|rest| rest.strip_prefix('-'))
        .and_then(|rest| rest.strip_suffix(tail))
        .is_some_and(|n| n.len() == 4 && n.bytes().all(|b| b.is_ascii_digit()))
}

fn join(folder: &str, name: &str) -> String {
    match folder {
        "." => name.to_owned(),
        folder => format!("{}/{name}", folder.trim_end_matches('/')),
    }
}

/// Uploads `local` to `temp` (which must not exist) and checks the server holds all of
/// it. `sent` counts bytes acknowledged across the delivery, for the progress bar.
pub(super) async fn upload(
    session: &Session,
    local: &Path,
    temp: &str,
    progress: &Progress,
    sent: &mut u64,
) -> Result<u64, SftpError> {
    let local_err = |source| SftpError::Local {
        path: local.to_owned(),
        source,
    };
    let mut file = tokio::fs::File::open(local).await.map_err(local_err)?;
    let local_len = file.metadata().await.map_err(local_err)?.len();
    let sftp = &session.sftp;
    let flags = OpenFlags::WRITE | OpenFlags::CREATE | OpenFlags::EXCLUDE;
    let handle = sftp
        .open(temp, flags, FileAttributes::empty())
        .await
        .map_err(remote("create", temp))?
        .handle;
    let handle_ref = handle.as_str();
    let chunk = session.write_len;
    let max_in_flight = (IN_FLIGHT_BYTES / chunk).max(4);
    let mut in_flight = FuturesUnordered::new();
    let mut offset = 0u64;
    let mut eof = false;
    while !eof || !in_flight.is_empty() {
        while !eof && in_flight.len() < max_in_flight {
            let mut buf = vec![0u8; chunk];
            let filled = fill(&mut file, &mut buf).await.map_err(local_err)?;
            if filled == 0 {
                eof = true;
                break;
            }
            buf.truncate(filled);
            let at = offset;
            offset += filled as u64;
            in_flight
                .push(async move { sftp.write(handle_ref, at, buf).await.map(|_| filled as u64) });
        }
        if let Some(done) = in_flight.next().await {
            *sent += done.map_err(remote("write", temp))?;
            progress.set(*sent);
        }
    }
    sftp.close(handle.as_str())
        .await
        .map_err(remote("close", temp))?;
    // A server that lost writes (a full disk it did not report, a proxy that cut the
    // stream) shows a shorter file: it must not replace the good one.
    let remote_len = sftp
        .stat(temp)
        .await
        .map_err(remote("stat", temp))?
        .attrs
        .size;
    if remote_len != Some(local_len) || offset != local_len {
        return Err(SftpError::SizeMismatch {
            path: temp.to_owned(),
            local: local_len,
            remote: remote_len.unwrap_or(0),
        });
    }
    Ok(local_len)
}

/// Reads until `buf` is full or the file ends; returns the bytes read.
async fn fill(file: &mut tokio::fs::File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..]).await? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

/// How a file was put in place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Replaced {
    /// One atomic rename: readers saw the old file or the new one.
    Atomically,
    /// The old file was deleted, then the new one renamed: a reader could find no file
    /// in between.
    DeleteThenRename,
}

/// Renames `temp` over `final_path`: `posix-rename@openssh.com` when the server offers it,
/// else a plain rename, and when that is refused because the name is taken, delete and
/// rename.
pub(super) async fn replace(
    session: &Session,
    temp: &str,
    final_path: &str,
) -> Result<Replaced, SftpError> {
    let sftp = &session.sftp;
    if session.posix_rename {
        let mut data = Vec::with_capacity(8 + temp.len() + final_path.len());
        for path in [temp, final_path] {
            data.extend_from_slice(&u32::try_from(path.len()).unwrap_or(u32::MAX).to_be_bytes());
            data.extend_from_slice(path.as_bytes());
        }
        let answer = sftp
            .extended(POSIX_RENAME, data)
            .await
            .map_err(remote("rename", final_path))?;
        return match answer {
            Packet::Status(status) if status.status_code == StatusCode::Ok => {
                Ok(Replaced::Atomically)
            }
            Packet::Status(status) => {
                Err(remote("rename", final_path)(ProtocolError::Status(status)))
            }
            _ => Err(remote("rename", final_path)(
                ProtocolError::UnexpectedPacket,
            )),
        };
    }
    // SFTP v3 rename fails when the new name exists; some servers overwrite anyway.
    match sftp.rename(temp, final_path).await {
        Ok(_) => return Ok(Replaced::Atomically),
        Err(ProtocolError::Status(_)) => {}
        Err(err) => return Err(remote("rename", final_path)(err)),
    }
    match sftp.remove(final_path).await {
        Ok(_) => {}
        Err(ProtocolError::Status(status)) if status.status_code == StatusCode::NoSuchFile => {}
        Err(err) => return Err(remote("remove", final_path)(err)),
    }
    sftp.rename(temp, final_path)
        .await
        .map_err(remote("rename", final_path))?;
    Ok(Replaced::DeleteThenRename)
}

/// Whether `path` exists on the server.
pub(super) async fn exists(session: &Session, path: &str) -> Result<bool, SftpError> {
    match session.sftp.stat(path).await {
        Ok(_) => Ok(true),
        Err(ProtocolError::Status(status)) if status.status_code == StatusCode::NoSuchFile => {
            Ok(false)
        }
        Err(err) => Err(remote("stat", path)(err)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporary_names_are_hidden_beside_the_file_and_recognised() {
        let temp = temp_path("/in/products.xml");
        let name = temp.strip_prefix("/in/").unwrap();
        assert!(is_temp_of(name, "products.xml"), "{temp}");
        assert!(!is_temp_of(name, "products.xm"));
        assert!(!is_temp_of(".products.xml.abc.partial", "products.xml"));
        assert!(temp_path("f.xml").starts_with(".f.xml."));
        assert_ne!(temp_path("f.xml"), temp_path("f.xml"));
    }

    #[test]
    fn numbered_parts_are_recognised_and_nothing_else() {
        assert!(is_numbered_part("feed-0003.xml.gz", "feed.xml.gz"));
        assert!(!is_numbered_part("feed-0003.xml", "feed.xml.gz"));
        assert!(!is_numbered_part("feed-03.xml.gz", "feed.xml.gz"));
        assert!(!is_numbered_part("feed.xml.gz", "feed.xml.gz"));
        assert!(!is_numbered_part("other-0001.xml.gz", "feed.xml.gz"));
    }
}
