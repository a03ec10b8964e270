//! One omnifeed run at a time per project: every command that writes feeds or state holds an
//! exclusive lock on a file beside the state store for its whole run.
//!
//! The lock is the operating system's (`flock` on Unix, through std's `File::try_lock`), so
//! it dies with its process: a lock left by a killed run is simply taken over. The file also
//! says who holds it (pid, start time, command), for the message a second run prints. It is
//! never deleted: a run that deleted it could let a third run lock a new file while a second
//! one still holds the old.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use jiff::Timestamp;

/// Held for the life of a run; dropping it releases the lock.
#[derive(Debug)]
pub struct ProjectLock {
    _file: File,
    path: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error(
        "another omnifeed run holds the project lock `{path}` ({holder}); wait for it to \
         finish, then run again"
    )]
    Held { path: PathBuf, holder: String },
    #[error("cannot take the project lock `{path}`")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl ProjectLock {
    /// The lock file of the state store at `state_path`: `state.db` -> `state.db.lock`.
    pub fn path_for(state_path: &Path) -> PathBuf {
        let mut name = state_path.as_os_str().to_owned();
        name.push(".lock");
        PathBuf::from(name)
    }

    /// Takes the lock of the project whose state store is `state_path`, or says who holds
    /// it. Never waits for the holder's run: a second run must stop at once, not queue
    /// behind a long push (it waits at most `HOLDER_DETAILS_WAIT` for the holder's name).
    pub fn acquire(state_path: &Path, command: &str) -> Result<ProjectLock, LockError> {
        let path = Self::path_for(state_path);
        let io_err = |source| LockError::Io {
            path: path.clone(),
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io_err)?;
        }
        // Not truncated on open: the holder's details must survive a refused run.
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io_err)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                return Err(LockError::Held {
                    path: path.clone(),
                    holder: describe_holder(&read_holder_details(&mut file)),
                });
            }
            Err(TryLockError::Error(source)) => return Err(io_err(source)),
        }
        let details = format!(
            "pid {}\nstarted {}\ncommand {command}\n",
            std::process::id(),
            Timestamp::now()
        );
        file.set_len(0)
            .and_then(|()| file.rewind())
            .and_then(|()| file.write_all(details.as_bytes()))
            .map_err(io_err)?;
        Ok(ProjectLock { _file: file, path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// How long a refused run waits for a holder that has just taken the lock to write who it
/// is: microseconds normally, but a loaded machine can pause the holder between its lock
/// and its write, and a message naming the holder is what makes code 4 actionable.
const HOLDER_DETAILS_WAIT: Duration = Duration::from_secs(2);

/// The holder's details once complete (its last line, `command …`, written), or what is
/// there after [`HOLDER_DETAILS_WAIT`]: a holder killed before writing leaves nothing.
fn read_holder_details(file: &mut File) -> String {
    let deadline = Instant::now() + HOLDER_DETAILS_WAIT;
    loop {
        let mut details = String::new();
        // Best effort: an unreadable file only costs the message its details.
        let _ = file
            .rewind()
            .and_then(|()| file.read_to_string(&mut details));
        let complete =
            details.ends_with('\n') && details.lines().any(|line| line.starts_with("command "));
        if complete || Instant::now() >= deadline {
            return details;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// "pid 123, started 2026-…, command push" from the lock file's lines.
fn describe_holder(details: &str) -> String {
    let parts: Vec<String> = details
        .lines()
        .filter_map(|line| line.split_once(' '))
        .map(|(name, value)| match name {
            "started" => format!("started at {value}"),
            _ => format!("{name} {value}"),
        })
        .collect();
    if parts.is_empty() {
        "pid unknown: it is just starting".to_owned()
    } else {
        parts.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A holder paused between taking the lock and writing its details is still named,
    /// as long as it writes them within the wait.
    #[test]
    fn a_refused_run_waits_for_the_holders_details() {
        let dir = tempfile::tempdir().expect("temp dir");
        let state = dir.path().join("state.db");
        let lock_path = ProjectLock::path_for(&state);
        let mut holder = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&lock_path)
            .expect("open");
        holder.try_lock().expect("lock");
        let writer = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(200));
            holder
                .write_all(b"pid 4242\nstarted 2026-11-30T00:00:00Z\n")
                .expect("write");
            std::thread::sleep(Duration::from_millis(100));
            holder.write_all(b"command sync\n").expect("write");
            holder
        });
        let refused = ProjectLock::acquire(&state, "push").expect_err("held");
        let message = refused.to_string();
        assert!(
            message.contains("pid 4242")
                && message.contains("started at 2026-11-30T00:00:00Z")
                && message.contains("command sync"),
            "{message}"
        );
        drop(writer.join().expect("writer"));
        ProjectLock::acquire(&state, "push").expect("free once the holder is gone");
    }

    #[test]
    fn a_holder_that_never_writes_is_reported_as_starting() {
        let dir = tempfile::tempdir().expect("temp dir");
        let state = dir.path().join("state.db");
        let holder = File::create(ProjectLock::path_for(&state)).expect("create");
        holder.try_lock().expect("lock");
        let message = ProjectLock::acquire(&state, "push")
            .expect_err("held")
            .to_string();
        assert!(message.contains("pid unknown"), "{message}");
    }
}
