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
    /// it. Never waits: a second run must stop at once, not queue behind a long push.
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
                let mut holder = String::new();
                // Best effort: the holder may not have written its details yet.
                let _ = file.read_to_string(&mut holder);
                return Err(LockError::Held {
                    path: path.clone(),
                    holder: describe_holder(&holder),
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
