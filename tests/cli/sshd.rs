//! A real OpenSSH `sshd` for the SFTP tests: started on 127.0.0.1 on a free port with a
//! throw-away host key, user key and config in a temp folder, stopped (with every session
//! process it forked) when dropped. Nothing outside the temp folder is touched, except the
//! privilege-separation folder `/run/sshd` that sshd needs when started as root.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// sshd by absolute path: it refuses to re-execute itself otherwise.
const SSHD: &str = "/usr/sbin/sshd";

pub(crate) struct Sshd {
    child: Child,
    pub(crate) port: u16,
    pub(crate) dir: tempfile::TempDir,
}

/// A throw-away ed25519 key pair made by `ssh-keygen` at `path` (and `path.pub`).
pub(crate) fn keygen(path: &Path) {
    let status = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "omnifeed-test", "-f"])
        .arg(path)
        .stdin(Stdio::null())
        .status()
        .expect("ssh-keygen runs (Debian package openssh-client)");
    assert!(status.success(), "ssh-keygen failed");
}

impl Sshd {
    /// Starts sshd. Key logins are for the user running the tests; `password_logins`
    /// also allows passwords (for a user that exists on the machine, see the password test).
    pub(crate) fn start(password_logins: bool) -> Sshd {
        assert!(
            Path::new(SSHD).exists(),
            "{SSHD} is missing: install openssh-server (apt-get install -y openssh-server; \
             .ci/run does) to run the SFTP tests"
        );
        if is_root() {
            // Privilege separation needs it; Debian's package creates it only at boot.
            std::fs::create_dir_all("/run/sshd").expect("create /run/sshd");
        }
        let dir = tempfile::tempdir().expect("temp dir");
        let path = |name: &str| dir.path().join(name);
        keygen(&path("host_key"));
        keygen(&path("user_key"));
        std::fs::copy(path("user_key.pub"), path("authorized_keys")).expect("authorized_keys");
        std::fs::create_dir(path("remote")).expect("remote folder");
        let port = free_port();
        let config = format!(
            "Port {port}\nListenAddress 127.0.0.1\nHostKey {host_key}\nPidFile none\n\
             AuthorizedKeysFile {keys}\n\
             # The temp folder's parents (/tmp) are world-writable.\nStrictModes no\n\
             UsePAM no\nPasswordAuthentication {password}\nKbdInteractiveAuthentication no\n\
             PermitRootLogin prohibit-password\nSubsystem sftp internal-sftp\n\
             LogLevel VERBOSE\n",
            host_key = path("host_key").display(),
            keys = path("authorized_keys").display(),
            password = if password_logins { "yes" } else { "no" },
        );
        std::fs::write(path("sshd_config"), config).expect("sshd_config");
        let log = std::fs::File::create(path("sshd.log")).expect("sshd.log");
        let child = Command::new(SSHD)
            .args(["-D", "-e", "-f"])
            .arg(path("sshd_config"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start sshd");
        let sshd = Sshd { child, port, dir };
        sshd.wait_listening();
        sshd
    }

    fn wait_listening(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "sshd did not listen on port {}:\n{}",
                self.port,
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The folder uploads go to.
    pub(crate) fn remote(&self) -> PathBuf {
        self.path("remote")
    }

    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(self.path("sshd.log")).unwrap_or_default()
    }

    /// A `known_hosts` line that trusts this server's host key.
    pub(crate) fn known_hosts_line(&self) -> String {
        let public = std::fs::read_to_string(self.path("host_key.pub")).expect("host key");
        let mut fields = public.split_whitespace();
        let (kind, key) = (fields.next().expect("type"), fields.next().expect("key"));
        format!("[127.0.0.1]:{} {kind} {key}\n", self.port)
    }

    /// `SHA256:…` of the server's host key, as `ssh-keygen -l` prints it.
    pub(crate) fn host_key_fingerprint(&self) -> String {
        let out = Command::new("ssh-keygen")
            .arg("-lf")
            .arg(self.path("host_key.pub"))
            .output()
            .expect("ssh-keygen -l");
        String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .nth(1)
            .expect("fingerprint")
            .to_owned()
    }

    /// The session processes sshd forked for open connections (not the listener).
    pub(crate) fn session_pids(&self) -> Vec<u32> {
        let mut found = Vec::new();
        let mut parents = vec![self.child.id()];
        while let Some(parent) = parents.pop() {
            for pid in children_of(parent) {
                found.push(pid);
                parents.push(pid);
            }
        }
        found
    }

    /// Sends `signal` (`STOP`, `KILL`) to every session process.
    pub(crate) fn signal_sessions(&self, signal: &str) -> usize {
        let pids = self.session_pids();
        for pid in &pids {
            let _ = Command::new("kill")
                .arg(format!("-{signal}"))
                .arg(pid.to_string())
                .status();
        }
        pids.len()
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        self.signal_sessions("KILL");
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn children_of(parent: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            // `/proc/PID/stat`: "pid (comm) state ppid …"; comm may hold spaces.
            std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .ok()
                .and_then(|stat| {
                    let rest = stat.rsplit_once(')')?.1;
                    rest.split_whitespace().nth(1)?.parse::<u32>().ok()
                })
                == Some(parent)
        })
        .collect()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

pub(crate) fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| out.stdout.trim_ascii() == b"0")
}

/// The name of the user running the tests (key logins are for it).
pub(crate) fn current_user() -> String {
    let out = Command::new("id").arg("-un").output().expect("id -un");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}
