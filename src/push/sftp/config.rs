//! `[destination] kind = "sftp"`: the keys a user writes, with their defaults. These doc
//! comments are the reference for the keys (README "Destinations" mirrors them).

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

/// An SFTP server the feed's files are uploaded to, e.g. Google Merchant Center's
/// `partnerupload.google.com` (port 19321) or a host a channel fetches from.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SftpDestination {
    /// Server name or address.
    pub host: String,
    /// TCP port (default 22).
    #[serde(default = "default_port")]
    pub port: u16,
    /// Login name.
    pub user: String,
    /// Private key file (OpenSSH format; ed25519 or ECDSA), relative to `omnifeed.toml`, or
    /// absolute, or `~/…`. Tried before the password when both are set.
    pub key_file: Option<PathBuf>,
    /// Environment variable holding the key file's passphrase, when it has one.
    pub passphrase_env: Option<String>,
    /// Environment variable holding the password.
    pub password_env: Option<String>,
    /// Remote folder the files go into, absolute or relative to the login folder (default:
    /// the login folder). It must exist.
    #[serde(default)]
    pub path: String,
    /// Remote file name, e.g. the one registered on the channel's feed (default: the
    /// feed's file name). A feed split in parts gets `-0001`, `-0002`… before the first dot.
    pub remote_file: Option<String>,
    /// OpenSSH `known_hosts` file the server's host key must be in (default
    /// `~/.ssh/known_hosts`); hashed and `[host]:port` entries are understood.
    pub known_hosts: Option<PathBuf>,
    /// Seconds to reach the server, agree on keys and log in (default 30).
    #[serde(default = "default_connect_timeout")]
    pub connect_timeout: u64,
    /// Seconds the whole delivery may take, all files and retries (default 3600).
    #[serde(default = "default_timeout")]
    pub timeout: u64,
    /// Further attempts after a connection error or a cut upload (default 3), with
    /// exponential backoff. Refused host keys and logins are never retried.
    #[serde(default = "default_retries")]
    pub retries: usize,
}

fn default_port() -> u16 {
    22
}

fn default_connect_timeout() -> u64 {
    30
}

fn default_timeout() -> u64 {
    3600
}

fn default_retries() -> usize {
    3
}

impl SftpDestination {
    /// Relative local paths (`key_file`, `known_hosts`) taken from `base`, the folder of
    /// `omnifeed.toml`, and `~/` from the home folder, so the run does not depend on the
    /// working folder.
    pub fn with_base(mut self, base: &Path) -> SftpDestination {
        self.key_file = self.key_file.map(|path| local_path(&path, base));
        self.known_hosts = self.known_hosts.map(|path| local_path(&path, base));
        self
    }

    /// What is wrong with the settings, one problem per entry.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.host.trim().is_empty() {
            problems.push("[destination] host is empty".to_owned());
        }
        if self.user.is_empty() {
            problems.push("[destination] user is empty".to_owned());
        }
        if self.port == 0 {
            problems.push("[destination] port = 0 is not a port (the default is 22)".to_owned());
        }
        if self.key_file.is_none() && self.password_env.is_none() {
            problems.push(
                "[destination] kind = \"sftp\" needs a way to log in\n  hint: set key_file = \
                 \"~/.ssh/id_ed25519\" or password_env = \"SFTP_PASSWORD\" (the name of an \
                 environment variable holding the password)"
                    .to_owned(),
            );
        }
        if self.passphrase_env.is_some() && self.key_file.is_none() {
            problems.push("[destination] passphrase_env is set without key_file".to_owned());
        }
        if let Some(name) = &self.remote_file
            && (name.is_empty() || name.contains('/') || name == "." || name == "..")
        {
            problems.push(format!(
                "[destination] remote_file = {name:?} is not a plain file name\n  hint: put \
                 the folder in [destination] path"
            ));
        }
        if self.connect_timeout == 0 || self.timeout == 0 {
            problems.push("[destination] timeouts are seconds and must be at least 1".to_owned());
        }
        problems
    }

    pub fn connect_timeout(&self) -> Duration {
        Duration::from_secs(self.connect_timeout)
    }

    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout)
    }

    /// `sftp://user@host:port/path`, for messages (never carries a secret).
    pub fn url(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        let path = self.path.trim_start_matches('/');
        let sep = if self.path.starts_with('/') {
            "/"
        } else {
            "/~/"
        };
        format!("sftp://{}@{host}:{}{sep}{path}", self.user, self.port)
    }

    /// `sftp://…/name` of the remote file `name`, for the report.
    pub fn url_of(&self, name: &str) -> String {
        format!(
            "{}{name}",
            self.url().trim_end_matches('/').to_owned() + "/"
        )
    }

    /// The `known_hosts` file to check: the configured one or `~/.ssh/known_hosts`.
    pub fn known_hosts_file(&self) -> PathBuf {
        self.known_hosts
            .clone()
            .unwrap_or_else(|| home().join(".ssh").join("known_hosts"))
    }

    /// The remote path of `name` in the configured folder.
    pub fn remote_path(&self, name: &str) -> String {
        match self.path.trim_end_matches('/') {
            "" if self.path.starts_with('/') => format!("/{name}"),
            "" => name.to_owned(),
            folder => format!("{folder}/{name}"),
        }
    }

    /// The folder to check, as the server takes it (`.` is the login folder).
    pub fn remote_folder(&self) -> &str {
        if self.path.is_empty() {
            "."
        } else {
            &self.path
        }
    }

    /// The remote names of a feed whose local files are named `local_names`.
    pub fn remote_names(&self, local_names: &[String]) -> Vec<String> {
        match (&self.remote_file, local_names) {
            (None, _) => local_names.to_vec(),
            (Some(name), [_]) => vec![name.clone()],
            (Some(name), parts) => (1..=parts.len())
                .map(|number| numbered(name, number))
                .collect(),
        }
    }
}

/// `name` with `-NNNN` before its first dot (after a leading one): `feed.xml.gz` becomes
/// `feed-0002.xml.gz`, as the feed's own parts are named.
pub(super) fn numbered(name: &str, number: usize) -> String {
    let split = name
        .char_indices()
        .skip(1)
        .find(|&(_, c)| c == '.')
        .map_or(name.len(), |(at, _)| at);
    format!("{}-{number:04}{}", &name[..split], &name[split..])
}

fn home() -> PathBuf {
    std::env::home_dir().unwrap_or_else(|| PathBuf::from("/"))
}

fn local_path(path: &Path, base: &Path) -> PathBuf {
    match path.strip_prefix("~") {
        Ok(rest) => home().join(rest),
        Err(_) => base.join(path),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn destination(toml_text: &str) -> SftpDestination {
        toml::from_str(toml_text).unwrap()
    }

    #[test]
    fn defaults_and_remote_names() {
        let sftp = destination("host = \"h\"\nuser = \"u\"\npassword_env = \"P\"\n");
        assert_eq!(sftp.port, 22);
        assert!(sftp.problems().is_empty());
        assert_eq!(sftp.url(), "sftp://u@h:22/~/");
        assert_eq!(sftp.remote_path("f.xml"), "f.xml");
        let names = vec!["google-0001.xml".to_owned(), "google-0002.xml".to_owned()];
        assert_eq!(sftp.remote_names(&names), names);
    }

    #[test]
    fn a_registered_name_numbers_its_parts() {
        let sftp = destination(
            "host = \"h\"\nuser = \"u\"\nkey_file = \"k\"\npath = \"/in/\"\nremote_file = \"products.xml.gz\"\n",
        );
        assert_eq!(sftp.remote_path("a"), "/in/a");
        assert_eq!(sftp.remote_names(&["x.xml".into()]), ["products.xml.gz"]);
        assert_eq!(
            sftp.remote_names(&["x-0001.xml".into(), "x-0002.xml".into()]),
            ["products-0001.xml.gz", "products-0002.xml.gz"]
        );
        assert_eq!(numbered(".hidden", 1), ".hidden-0001");
    }

    #[test]
    fn no_login_method_is_a_problem() {
        let sftp = destination("host = \"h\"\nuser = \"u\"\nremote_file = \"a/b\"\n");
        let problems = sftp.problems().join("\n");
        assert!(problems.contains("needs a way to log in"), "{problems}");
        assert!(problems.contains("not a plain file name"), "{problems}");
    }

    #[test]
    fn relative_key_files_follow_the_config() {
        let sftp = destination("host = \"h\"\nuser = \"u\"\nkey_file = \"keys/id\"\n")
            .with_base(Path::new("/project"));
        assert_eq!(sftp.key_file.unwrap(), Path::new("/project/keys/id"));
    }
}
