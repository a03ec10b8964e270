//! AWS named profiles (`AWS_PROFILE`, `~/.aws/credentials`, `~/.aws/config`), which the
//! `object_store` crate does not read itself. Used only when the environment holds no
//! access key: explicit variables win, and without a profile file the crate's own chain
//! (web identity, container credentials, instance metadata) is left to find credentials.

use std::collections::BTreeMap;
use std::path::PathBuf;

use object_store::aws::AmazonS3Builder;

/// `builder` with the access key (and session token, and region when none is set) of the
/// active profile, when the environment names no access key and a profile provides one.
pub(super) fn with_profile_credentials(
    builder: AmazonS3Builder,
) -> Result<AmazonS3Builder, String> {
    if std::env::var_os("AWS_ACCESS_KEY_ID").is_some() {
        return Ok(builder);
    }
    let named = std::env::var("AWS_PROFILE").ok().filter(|p| !p.is_empty());
    let profile = named.clone().unwrap_or_else(|| "default".to_owned());
    let Some(credentials_path) = file_path("AWS_SHARED_CREDENTIALS_FILE", "credentials") else {
        return Ok(builder);
    };
    let credentials = match std::fs::read_to_string(&credentials_path) {
        Ok(text) => sections(&text),
        // No file: the default chain carries on; a named profile must exist though.
        Err(_) if named.is_none() => return Ok(builder),
        Err(err) => {
            return Err(format!(
                "AWS_PROFILE={profile}, but `{}` cannot be read ({err})\n  hint: run `aws \
                 configure --profile {profile}`, or set AWS_ACCESS_KEY_ID and \
                 AWS_SECRET_ACCESS_KEY",
                credentials_path.display()
            ));
        }
    };
    let Some(section) = credentials.get(&profile) else {
        if named.is_some() {
            return Err(format!(
                "AWS_PROFILE={profile}, but `{}` has no [{profile}] section\n  hint: run `aws \
                 configure --profile {profile}`",
                credentials_path.display()
            ));
        }
        return Ok(builder);
    };
    let (Some(key), Some(secret)) = (
        section.get("aws_access_key_id"),
        section.get("aws_secret_access_key"),
    ) else {
        return Err(format!(
            "profile [{profile}] in `{}` lacks aws_access_key_id or aws_secret_access_key",
            credentials_path.display()
        ));
    };
    let mut builder = builder
        .with_access_key_id(key)
        .with_secret_access_key(secret);
    if let Some(token) = section.get("aws_session_token") {
        builder = builder.with_token(token);
    }
    let region_set = ["AWS_REGION", "AWS_DEFAULT_REGION"]
        .iter()
        .any(|var| std::env::var_os(var).is_some());
    if !region_set && let Some(config_path) = file_path("AWS_CONFIG_FILE", "config") {
        let config = std::fs::read_to_string(config_path)
            .map(|text| sections(&text))
            .unwrap_or_default();
        // ~/.aws/config names non-default profiles `[profile NAME]`.
        let section = config
            .get(&format!("profile {profile}"))
            .or_else(|| config.get(&profile));
        if let Some(region) = section.and_then(|s| s.get("region")) {
            builder = builder.with_region(region);
        }
    }
    Ok(builder)
}

/// The file `var` names, else `~/.aws/NAME`.
fn file_path(var: &str, name: &str) -> Option<PathBuf> {
    match std::env::var_os(var) {
        Some(path) => Some(PathBuf::from(path)),
        None => std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".aws").join(name)),
    }
}

/// The `[section]`s of an INI file, each `key = value`; comments (`#`, `;`) skipped.
fn sections(text: &str) -> BTreeMap<String, BTreeMap<String, String>> {
    let mut sections: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            let name = name.trim().to_owned();
            sections.entry(name.clone()).or_default();
            current = Some(name);
        } else if let (Some(section), Some((key, value))) = (&current, line.split_once('=')) {
            sections
                .entry(section.clone())
                .or_default()
                .insert(key.trim().to_owned(), value.trim().to_owned());
        }
    }
    sections
}

#[cfg(test)]
mod tests {
    use super::sections;

    #[test]
    fn profile_files_are_read_by_section() {
        let text = "# keys\n[default]\naws_access_key_id = AKIA1\naws_secret_access_key=s1\n\n\
                    [profile feeds]\nregion = eu-west-1 \n; done\n";
        let parsed = sections(text);
        assert_eq!(parsed["default"]["aws_access_key_id"], "AKIA1");
        assert_eq!(parsed["default"]["aws_secret_access_key"], "s1");
        assert_eq!(parsed["profile feeds"]["region"], "eu-west-1");
        assert_eq!(parsed.len(), 2);
    }
}
