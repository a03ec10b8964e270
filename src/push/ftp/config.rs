//! `[destination] kind = "ftp"`: the user's settings. Doc comments here are the reference
//! (README "Destinations").

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

/// An FTP server (Google or Microsoft Merchant Center's FTP upload, a merchant's own host).
/// Explicit TLS (`AUTH TLS`) is used unless `tls = false` is written out; passive mode.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FtpDestination {
    /// Host name or IP address of the server.
    pub host: String,
    /// Control connection port.
    #[serde(default = "default_port")]
    pub port: u16,
    /// Login name.
    pub user: String,
    /// The environment variable holding the password (the password itself never goes into
    /// the feed file).
    pub password_env: String,
    /// Remote folder the files go into (default: the folder the login starts in).
    pub path: Option<String>,
    /// The file name on the server, e.g. the name registered with the channel (default: the
    /// feed's own file name). Parts of a split feed are named like it with `-0001`, `-0002`
    /// before the first dot.
    pub remote_file: Option<String>,
    /// `false` sends everything, the password too, in the clear; only for servers without
    /// TLS, and a warning says so on every push.
    #[serde(default = "default_tls")]
    pub tls: bool,
    /// A PEM file of CA certificates to trust besides the system's, for a server whose
    /// certificate comes from a private CA (relative to omnifeed.toml or absolute).
    pub ca_file: Option<PathBuf>,
    /// Seconds to wait for the server to answer a connection.
    #[serde(default = "default_connect_timeout")]
    pub connect_timeout_secs: u64,
    /// Seconds the server may take to answer one command or to take the next piece of a
    /// file; a server stalled longer counts as a lost connection (and is retried).
    #[serde(default = "default_io_timeout")]
    pub io_timeout_secs: u64,
    /// Seconds one attempt at delivering the feed (connect, uploads, renames) may take before
    /// it is given up and retried.
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
    /// Attempts after the first on a transient failure (connection lost, timeout, 4xx reply).
    #[serde(default = "default_retries")]
    pub retries: usize,
}

fn default_port() -> u16 {
    21
}

fn default_tls() -> bool {
    true
}

fn default_connect_timeout() -> u64 {
    30
}

fn default_io_timeout() -> u64 {
    60
}

fn default_timeout() -> u64 {
    3600
}

fn default_retries() -> usize {
    5
}

impl FtpDestination {
    pub fn connect_timeout(&self) -> Duration {
        Duration::from_secs(self.connect_timeout_secs)
    }

    pub fn io_timeout(&self) -> Duration {
        Duration::from_secs(self.io_timeout_secs)
    }

    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_secs)
    }

    /// `ftp://user@host:port/path/`, for messages (never with the password).
    pub fn target(&self) -> String {
        let path = self.path.as_deref().unwrap_or("").trim_matches('/');
        let folder = if path.is_empty() {
            String::new()
        } else {
            format!("{path}/")
        };
        format!(
            "ftp://{}@{}:{}/{folder}",
            self.user,
            bracket_ipv6(&self.host),
            self.port
        )
    }

    /// The final remote names of a feed written as `local_names` (its staged files).
    pub fn remote_names(&self, local_names: &[String]) -> Vec<String> {
        match &self.remote_file {
            None => local_names.to_vec(),
            Some(name) if local_names.len() <= 1 => vec![name.clone()],
            Some(name) => (1..=local_names.len())
                .map(|part| numbered(name, part))
                .collect(),
        }
    }

    /// `ca_file` relative to `base` (the folder of omnifeed.toml) when it is relative.
    pub fn resolve_paths(&mut self, base: &Path) {
        if let Some(ca_file) = &self.ca_file {
            self.ca_file = Some(base.join(ca_file));
        }
    }

    /// Settings that are wrong whatever the server says, as `(key, problem)`.
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut problems = Vec::new();
        if self.host.trim().is_empty() {
            problems.push((
                "host",
                "host is empty\n  hint: name the server, e.g. host = \"ftp.example.com\""
                    .to_owned(),
            ));
        }
        if self.user.is_empty() {
            problems.push(("user", "user is empty".to_owned()));
        }
        if self.password_env.is_empty() {
            problems.push((
                "password_env",
                "password_env is empty\n  hint: name the environment variable that holds the password, e.g. password_env = \"FTP_PASSWORD\"".to_owned(),
            ));
        }
        if let Some(name) = &self.remote_file
            && (name.is_empty() || name.contains('/') || name.starts_with('.'))
        {
            problems.push((
                "remote_file",
                format!("remote_file = {name:?} is not a plain file name\n  hint: the folder goes in `path`; the name must not start with a dot"),
            ));
        }
        if self.port == 0 {
            problems.push(("port", "port = 0 is not a port".to_owned()));
        }
        for (key, seconds) in [
            ("connect_timeout_secs", self.connect_timeout_secs),
            ("io_timeout_secs", self.io_timeout_secs),
            ("timeout_secs", self.timeout_secs),
        ] {
            if seconds == 0 {
                problems.push((key, format!("{key} = 0: it must be at least 1 second")));
            }
        }
        problems
    }
}

/// `name` with `-NNNN` before its first dot: `products.xml.gz` -> `products-0002.xml.gz`.
pub(super) fn numbered(name: &str, part: usize) -> String {
    match name.find('.') {
        Some(dot) => format!("{}-{part:04}{}", &name[..dot], &name[dot..]),
        None => format!("{name}-{part:04}"),
    }
}

fn bracket_ipv6(host: &str) -> String {
    if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn destination(remote_file: Option<&str>) -> FtpDestination {
        toml::from_str::<FtpDestination>(&format!(
            "host = \"ftp.example.com\"\nuser = \"shop\"\npassword_env = \"FTP_PASSWORD\"\n{}",
            remote_file.map_or(String::new(), |f| format!("remote_file = \"{f}\"\n"))
        ))
        .unwrap()
    }

    #[test]
    fn defaults_are_tls_on_port_21() {
        let ftp = destination(None);
        assert!(ftp.tls);
        assert_eq!(ftp.port, 21);
        assert_eq!(ftp.target(), "ftp://shop@ftp.example.com:21/");
        assert!(ftp.problems().is_empty());
    }

    #[test]
    fn remote_file_names_a_single_file_and_numbers_parts() {
        let names = |remote: Option<&str>, local: &[&str]| {
            let local: Vec<String> = local.iter().map(|s| s.to_string()).collect();
            destination(remote).remote_names(&local)
        };
        assert_eq!(names(None, &["de.xml"]), ["de.xml"]);
        assert_eq!(names(Some("feed.txt"), &["de.txt"]), ["feed.txt"]);
        assert_eq!(
            names(Some("feed.txt.gz"), &["de-0001.txt.gz", "de-0002.txt.gz"]),
            ["feed-0001.txt.gz", "feed-0002.txt.gz"]
        );
    }

    #[test]
    fn a_remote_file_with_a_folder_is_a_problem() {
        let problems = destination(Some("in/feed.txt")).problems();
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].0, "remote_file");
    }
}
