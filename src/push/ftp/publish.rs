//! The last step of a delivery, once every part is on the server under its temporary
//! name: the renames over the old files, then the removal of parts an earlier, longer run
//! left.

use super::error::FtpFailure;
use super::session::Session;

/// Renames `temp` over `name`. A server that will not rename over an existing file (some
/// refuse with 550 or 553) gets the old file deleted first; the returned note says so.
pub(super) async fn replace(
    session: &mut Session,
    temp: &str,
    name: &str,
) -> Result<Option<String>, FtpFailure> {
    let refused = match session.rename(temp, name).await {
        Ok(()) => return Ok(None),
        Err(failure @ FtpFailure::Refused { .. }) => failure,
        Err(other) => return Err(other),
    };
    let permanent = refused.reply().is_some_and(|reply| reply.code >= 500);
    if !permanent || session.size(name).await?.is_none() && !session.lists(name).await? {
        return Err(refused);
    }
    session.delete(name).await?;
    session.rename(temp, name).await?;
    Ok(Some(format!(
        "the server refused to rename over `{name}` ({}), so the old file was deleted first: \
         for a moment the channel could find no file",
        refused.reply().map(ToString::to_string).unwrap_or_default()
    )))
}

/// The files an earlier run of the feed may have left that this one does not write: the
/// single file when the feed is now split, and parts from `parts_from` on. Only names the
/// feed itself writes are candidates.
pub(super) struct Stale<'n> {
    pub(super) single: Option<String>,
    pub(super) parts_from: usize,
    pub(super) part: &'n dyn Fn(usize) -> String,
}

/// Deletes the [`Stale`] files that exist, parts until the first missing one; returns their
/// names. A server without `SIZE` keeps them (nothing is deleted on a guess).
pub(super) async fn remove_stale(
    session: &mut Session,
    stale: &Stale<'_>,
) -> Result<Vec<String>, FtpFailure> {
    let mut removed = Vec::new();
    if let Some(single) = &stale.single
        && session.size(single).await?.is_some()
    {
        session.delete(single).await?;
        removed.push(single.clone());
    }
    for part in stale.parts_from.. {
        let name = (stale.part)(part);
        if session.size(&name).await?.is_none() {
            break;
        }
        session.delete(&name).await?;
        removed.push(name);
    }
    Ok(removed)
}
