//! Host key verification against an OpenSSH `known_hosts` file, as `ssh` does it: plain,
//! wildcard (`*`, `?`), negated (`!`) and hashed (`|1|salt|hash`) host patterns, `[host]:port`
//! for other ports than 22, and `@revoked` lines. `@cert-authority` lines are skipped: a
//! host certificate is checked as its plain key, as `ssh` does without a CA. A key that is not known is refused, never learnt: a feed
//! upload runs unattended, so nobody could answer "are you sure?".

use std::io;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{KeyInit, Mac};
use russh::keys::{HashAlg, PublicKey};

/// What the file says about the offered key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostKeyStatus {
    /// Listed for this host, on this line.
    Known { line: usize },
    /// The host is listed with another key of the same type: the key changed, or someone is
    /// in the middle.
    Changed { line: usize },
    /// Listed as `@revoked`.
    Revoked { line: usize },
    /// Not listed; `other_types` are the key types the file has for this host.
    Unknown { other_types: Vec<String> },
}

/// Why a host key was refused: everything the message needs, and no secret.
#[derive(Debug, Clone)]
pub struct HostKeyRefusal {
    pub status: HostKeyStatus,
    pub file: PathBuf,
    /// False when the file does not exist.
    pub file_exists: bool,
    /// `host` or `[host]:port`, as `known_hosts` names it.
    pub host_pattern: String,
    pub host: String,
    pub port: u16,
    /// The offered key as a `known_hosts` line's `type base64` part.
    pub offered: String,
    pub algorithm: String,
    pub fingerprint: String,
}

impl std::fmt::Display for HostKeyRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let file = self.file.display();
        let (host, port) = (&self.host_pattern, self.port);
        let offered = format!("{} key {}", self.algorithm, self.fingerprint);
        match &self.status {
            HostKeyStatus::Changed { line } => write!(
                f,
                "the host key of {host} CHANGED: it offered the {offered}, but {file}:{line} \
                 lists another {} key for it. Someone may be intercepting the connection, or \
                 the server's key was replaced; nothing was sent",
                self.algorithm
            )?,
            HostKeyStatus::Revoked { line } => write!(
                f,
                "{host} offered the {offered}, which {file}:{line} marks @revoked; nothing was \
                 sent"
            )?,
            HostKeyStatus::Unknown { other_types } => {
                write!(f, "{host} offered the {offered}, which is not in {file}")?;
                if !self.file_exists {
                    write!(f, " (the file does not exist)")?;
                } else if !other_types.is_empty() {
                    write!(
                        f,
                        " (it lists {} keys for this host)",
                        other_types.join(", ")
                    )?;
                }
                write!(f, "; nothing was sent")?;
            }
            HostKeyStatus::Known { .. } => write!(f, "{host} offered a known key")?,
        }
        let scan_port = if port == 22 {
            String::new()
        } else {
            format!("-p {port} ")
        };
        let key_type = self
            .algorithm
            .strip_prefix("ssh-")
            .unwrap_or(&self.algorithm);
        if let HostKeyStatus::Changed { .. } | HostKeyStatus::Revoked { .. } = self.status {
            write!(
                f,
                "\n  hint: once the server's operator confirms the new key, remove the old \
                 one: ssh-keygen -R '{}' -f {file}",
                self.host_pattern
            )?;
        }
        write!(
            f,
            "\n  hint: check the fingerprint {} with the server's operator, then pin the key: \
             ssh-keyscan {scan_port}-t {key_type} {} >> {file}\
             \n  hint: or add this line to {file}: {} {}",
            self.fingerprint, self.host, self.host_pattern, self.offered
        )
    }
}

/// How `known_hosts` names `host` on `port`.
pub(super) fn host_pattern(host: &str, port: u16) -> String {
    if port == 22 {
        host.to_owned()
    } else {
        format!("[{host}]:{port}")
    }
}

/// Checks `key`, offered by `host:port`, against the `known_hosts` file at `file`. A
/// missing file knows no host; a file that cannot be read is an error.
pub(super) fn check(
    file: &Path,
    host: &str,
    port: u16,
    key: &PublicKey,
) -> io::Result<Result<usize, HostKeyRefusal>> {
    let (text, file_exists) = match std::fs::read_to_string(file) {
        Ok(text) => (text, true),
        Err(err) if err.kind() == io::ErrorKind::NotFound => (String::new(), false),
        Err(err) => return Err(err),
    };
    let status = status_in(&text, &host_pattern(host, port), key);
    if let HostKeyStatus::Known { line } = status {
        return Ok(Ok(line));
    }
    Ok(Err(HostKeyRefusal {
        status,
        file: file.to_owned(),
        file_exists,
        host_pattern: host_pattern(host, port),
        host: host.to_owned(),
        port,
        offered: key
            .to_openssh()
            .map(|line| line.trim().to_owned())
            .unwrap_or_default(),
        algorithm: key.algorithm().as_str().to_owned(),
        fingerprint: key.fingerprint(HashAlg::Sha256).to_string(),
    }))
}

/// What the `known_hosts` text says about `key` for the host named `name` (`host` or
/// `[host]:port`). A revocation wins over everything; a match wins over a changed key.
pub(super) fn status_in(text: &str, name: &str, key: &PublicKey) -> HostKeyStatus {
    let mut known = None;
    let mut changed = None;
    let mut other_types = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        let mut fields = line.split_whitespace();
        let Some(mut first) = fields.next() else {
            continue;
        };
        if first.starts_with('#') {
            continue;
        }
        let marker = first.strip_prefix('@');
        if marker.is_some() {
            match fields.next() {
                Some(hosts) => first = hosts,
                None => continue,
            }
        }
        let (Some(key_type), Some(blob)) = (fields.next(), fields.next()) else {
            continue;
        };
        let Ok(listed) = PublicKey::from_openssh(&format!("{key_type} {blob}")) else {
            // A key type this build cannot read (or a damaged line) cannot match.
            continue;
        };
        let same = listed.key_data() == key.key_data();
        match marker {
            // A revoked key is refused whichever host it is offered by.
            Some("revoked") if same => return HostKeyStatus::Revoked { line: number },
            Some(_) => continue,
            None => {}
        }
        if !hosts_match(first, name) {
            continue;
        }
        if same {
            known.get_or_insert(number);
        } else if listed.algorithm() == key.algorithm() {
            changed.get_or_insert(number);
        } else {
            other_types.push(listed.algorithm().as_str().to_owned());
        }
    }
    match (known, changed) {
        (Some(line), _) => HostKeyStatus::Known { line },
        (None, Some(line)) => HostKeyStatus::Changed { line },
        (None, None) => HostKeyStatus::Unknown { other_types },
    }
}

/// Whether the comma-separated `patterns` of a line name `name`: one pattern matches and
/// no negated one does.
fn hosts_match(patterns: &str, name: &str) -> bool {
    let mut matched = false;
    for pattern in patterns.split(',') {
        if let Some(negated) = pattern.strip_prefix('!') {
            if glob(negated, name) {
                return false;
            }
        } else if let Some(hashed) = pattern.strip_prefix("|1|") {
            matched |= hashed_match(hashed, name);
        } else {
            matched |= glob(pattern, name);
        }
    }
    matched
}

/// `salt|hash` (both base64): HMAC-SHA1 of the name keyed by the salt, as `HashKnownHosts`
/// writes it.
fn hashed_match(salt_and_hash: &str, name: &str) -> bool {
    let Some((salt, hash)) = salt_and_hash.split_once('|') else {
        return false;
    };
    let (Ok(salt), Ok(hash)) = (BASE64.decode(salt), BASE64.decode(hash)) else {
        return false;
    };
    let Ok(mac) = hmac::Hmac::<sha1::Sha1>::new_from_slice(&salt) else {
        return false;
    };
    mac.chain_update(name.as_bytes())
        .verify_slice(&hash)
        .is_ok()
}

/// OpenSSH's `*` and `?` wildcards, case-insensitive as host names are.
fn glob(pattern: &str, name: &str) -> bool {
    let (pattern, name) = (pattern.to_ascii_lowercase(), name.to_ascii_lowercase());
    let (pattern, name) = (pattern.as_bytes(), name.as_bytes());
    let (mut p, mut n) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        if p < pattern.len() && (pattern[p] == b'?' || pattern[p] == name[n]) {
            p += 1;
            n += 1;
        } else if p < pattern.len() && pattern[p] == b'*' {
            star = Some((p, n));
            p += 1;
        } else if let Some((star_p, star_n)) = star {
            p = star_p + 1;
            n = star_n + 1;
            star = Some((star_p, star_n + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&b| b == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    // Two throw-away ed25519 public keys (never used anywhere).
    const KEY_A: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICBULvDHEbh6rCs9Eoi/NPpmuhB9keBGwhtlPYUS46Hx";
    const KEY_B: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDhz4OVsMLWPcNuzEiO/VX8zxGvzfMI9OOjASNbQPvOu";

    fn key(text: &str) -> PublicKey {
        PublicKey::from_openssh(text).unwrap()
    }

    #[test]
    fn plain_and_port_entries() {
        let text = format!("# comment\n\nexample.com {KEY_A}\n[example.com]:2222 {KEY_B}\n");
        assert_eq!(
            status_in(&text, "example.com", &key(KEY_A)),
            HostKeyStatus::Known { line: 3 }
        );
        assert_eq!(
            status_in(&text, "[example.com]:2222", &key(KEY_B)),
            HostKeyStatus::Known { line: 4 }
        );
        assert_eq!(
            status_in(&text, "[example.com]:2222", &key(KEY_A)),
            HostKeyStatus::Changed { line: 4 }
        );
        assert_eq!(
            status_in(&text, "other.com", &key(KEY_A)),
            HostKeyStatus::Unknown {
                other_types: vec![]
            }
        );
    }

    #[test]
    fn hashed_entries_match_their_host_only() {
        // A hashed entry for `[example.com]:19321`, made the way `ssh-keygen -H` makes one.
        let salt = [7u8; 20];
        let mut mac = hmac::Hmac::<sha1::Sha1>::new_from_slice(&salt).unwrap();
        mac.update(b"[example.com]:19321");
        let hash = mac.finalize().into_bytes();
        let line = format!(
            "|1|{}|{} {KEY_A}\n",
            BASE64.encode(salt),
            BASE64.encode(hash)
        );
        assert_eq!(
            status_in(&line, "[example.com]:19321", &key(KEY_A)),
            HostKeyStatus::Known { line: 1 }
        );
        assert!(matches!(
            status_in(&line, "example.com", &key(KEY_A)),
            HostKeyStatus::Unknown { .. }
        ));
    }

    #[test]
    fn wildcards_negation_and_revocation() {
        let text = format!("*.example.com,!bad.example.com {KEY_A}\n");
        assert!(matches!(
            status_in(&text, "sftp.EXAMPLE.com", &key(KEY_A)),
            HostKeyStatus::Known { .. }
        ));
        assert!(matches!(
            status_in(&text, "bad.example.com", &key(KEY_A)),
            HostKeyStatus::Unknown { .. }
        ));
        let revoked = format!("@revoked * {KEY_A}\nhost {KEY_A}\n");
        assert_eq!(
            status_in(&revoked, "host", &key(KEY_A)),
            HostKeyStatus::Revoked { line: 1 }
        );
    }

    #[test]
    fn a_refusal_prints_the_fingerprint_and_the_pin() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("known_hosts");
        let refusal = check(&file, "10.0.0.5", 2222, &key(KEY_A))
            .unwrap()
            .unwrap_err();
        let text = refusal.to_string();
        assert!(text.contains("SHA256:"), "{text}");
        assert!(text.contains("does not exist"), "{text}");
        assert!(
            text.contains("ssh-keyscan -p 2222 -t ed25519 10.0.0.5"),
            "{text}"
        );
        assert!(text.contains(&format!("[10.0.0.5]:2222 {KEY_A}")), "{text}");
    }
}
