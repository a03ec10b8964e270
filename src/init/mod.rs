//! `omnifeed init`: a project from one catalog file. Detects the file's format, writes
//! `omnifeed.toml` (each guess with its reason) and a feed per named channel, atomically,
//! and never over existing files unless told to.

pub mod detect;
pub mod render;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::exit::{ClassedError, ErrorClass};
use crate::spec::ChannelSpec;
use detect::{Detection, Kind};

pub struct InitOptions<'a> {
    /// The catalog file as the user named it.
    pub file: &'a Path,
    /// Where `omnifeed.toml` goes; feeds go into `feeds/` beside it.
    pub config_path: &'a Path,
    pub channels: &'a [String],
    pub base_url: Option<&'a str>,
    pub currency: Option<&'a str>,
    pub country: Option<&'a str>,
    pub language: Option<&'a str>,
    pub force: bool,
    /// The command line, for the config's first comment.
    pub command: String,
}

/// What `init` wrote and what the user should know about it.
pub struct Written {
    pub detected: String,
    pub files: Vec<PathBuf>,
    pub notes: Vec<String>,
}

fn usage(message: String) -> anyhow::Error {
    ClassedError::new(ErrorClass::Config, message).into()
}

pub fn init(
    options: &InitOptions<'_>,
    specs: &BTreeMap<String, ChannelSpec>,
) -> anyhow::Result<Written> {
    let detection = detect::detect(options.file).map_err(|err| usage(err.to_string()))?;
    let base_dir = options
        .config_path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut notes = Vec::new();

    let feeds: Vec<(PathBuf, String)> = options
        .channels
        .iter()
        .map(|id| {
            let spec = specs.get(id).ok_or_else(|| {
                usage(format!(
                    "--channels names `{id}`, which is no channel spec\n  hint: known channels: {} (`omnifeed channels` lists them)",
                    specs.keys().cloned().collect::<Vec<_>>().join(", ")
                ))
            })?;
            let formats: Vec<&str> = spec.formats.keys().map(String::as_str).collect();
            let format = formats.first().copied().unwrap_or_default();
            let text = render::feed(id, format, &formats[1..], options.base_url);
            Ok((base_dir.join("feeds").join(format!("{id}.toml")), text))
        })
        .collect::<anyhow::Result<_>>()?;

    let existing: Vec<String> = std::iter::once(options.config_path.to_owned())
        .chain(feeds.iter().map(|(path, _)| path.clone()))
        .filter(|path| path.exists())
        .map(|path| path.display().to_string())
        .collect();
    if !existing.is_empty() && !options.force {
        return Err(usage(format!(
            "{} already exist{}; nothing was written\n  hint: pass --force to overwrite, or run init in another folder (--config DIR/omnifeed.toml)",
            existing.join(", "),
            if existing.len() == 1 { "s" } else { "" }
        )));
    }

    let market = [
        options.country.and_then(crate::feed::names::check_country),
        options
            .language
            .and_then(crate::feed::names::check_language),
    ];
    if let Some(problem) = market.into_iter().flatten().next() {
        return Err(usage(format!("{problem}; nothing was written")));
    }
    let is_preset = matches!(detection.kind, Kind::Preset { .. });
    let has_currency_column = match &detection.kind {
        Kind::Plain { mapping } => mapping
            .iter()
            .any(|(field, _, _)| *field == crate::model::Field::Currency),
        Kind::Preset { .. } => false,
    };
    let currency = match (options.currency, has_currency_column) {
        (Some(code), _) => {
            if crate::model::Currency::parse(code).is_none() {
                return Err(usage(format!(
                    "--currency `{code}` is not an ISO 4217 code\n  hint: use three upper-case letters such as EUR"
                )));
            }
            Some((code, "given with --currency".to_owned()))
        }
        (None, true) => None,
        (None, false) => {
            return Err(usage(format!(
                "`{}` names no currency for its prices; nothing was written\n  hint: pass --currency CODE, your shop's currency (e.g. --currency EUR)",
                options.file.display()
            )));
        }
    };
    let base_url = match options.base_url {
        Some(url) if !crate::load::preset::is_web_address(url) => {
            return Err(usage(format!(
                "--base-url `{url}` is not an absolute http(s) address\n  hint: write the shop's address as it opens in a browser, e.g. https://shop.example.com"
            )));
        }
        Some(url) => Some((url.to_owned(), "given with --base-url".to_owned())),
        None if is_preset => {
            let guessed = guess_base_url(&detection);
            if guessed.is_none() {
                notes.push(
                    "the export has no product URLs: pass --base-url (or set base_url in omnifeed.toml), or channels reject every item for its missing link".into(),
                );
            }
            guessed
        }
        None => None,
    };

    let (catalog_dir, file_name) = catalog_location(options.file, base_dir);
    let text = render::config(
        &detection,
        &render::ConfigInputs {
            catalog_dir: &catalog_dir,
            file_name: &file_name,
            base_url: base_url
                .as_ref()
                .map(|(url, why)| (url.as_ref(), why.clone())),
            currency: currency.clone(),
            country: options.country,
            language: options.language,
            command: &options.command,
        },
    );
    // What is written must load: a guess that makes a broken config is a bug here.
    toml::from_str::<crate::config::RawConfig>(&text).map_err(|err| {
        anyhow::anyhow!("init wrote a config it cannot read back ({err}); please report this")
    })?;

    let mut files = Vec::new();
    write_atomically(options.config_path, &text)?;
    files.push(options.config_path.to_owned());
    for (path, text) in &feeds {
        write_atomically(path, text)?;
        files.push(path.clone());
    }
    if options.channels.is_empty() {
        notes.push("no feeds written: name channels with --channels google-merchant,meta-catalog (see `omnifeed channels`)".into());
    }
    let detected = match &detection.kind {
        Kind::Preset { preset, .. } => preset.title().to_owned(),
        Kind::Plain { .. } => "a plain products table".to_owned(),
    };
    Ok(Written {
        detected,
        files,
        notes,
    })
}

/// A shop address guessed from the export's own image URLs (WooCommerce keeps uploads
/// under the site: `https://shop/wp-content/uploads/…`).
fn guess_base_url(detection: &Detection) -> Option<(String, String)> {
    let image = detection.sample_of("Images").next()?;
    let first = image.split(',').next()?.trim();
    let (site, _) = first.split_once("/wp-content/")?;
    crate::load::preset::is_web_address(site).then(|| {
        (
            site.to_owned(),
            format!(
                "guessed from the image URLs, e.g. `{first}`; set your shop's address if it differs"
            ),
        )
    })
}

/// The catalog folder relative to the config's folder (absolute when the file lies
/// elsewhere), and the file's name.
fn catalog_location(file: &Path, base_dir: &Path) -> (String, String) {
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let parent = file
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let absolute = |path: &Path| std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
    let (parent_abs, base_abs) = (absolute(parent), absolute(base_dir));
    let dir = match parent_abs.strip_prefix(&base_abs) {
        Ok(relative) if relative.as_os_str().is_empty() => ".".to_owned(),
        Ok(relative) => relative.to_string_lossy().into_owned(),
        Err(_) => parent_abs.to_string_lossy().into_owned(),
    };
    (dir, name)
}

/// Writes `text` to `path` whole or not at all: a temporary file beside it, synced, then
/// renamed over it.
fn write_atomically(path: &Path, text: &str) -> anyhow::Result<()> {
    let output = |err: std::io::Error| -> anyhow::Error {
        ClassedError::new(
            ErrorClass::Output,
            format!("cannot write `{}`: {err}", path.display()),
        )
        .into()
    };
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(output)?;
    let mut file = tempfile::NamedTempFile::new_in(dir).map_err(output)?;
    file.write_all(text.as_bytes()).map_err(output)?;
    file.as_file().sync_all().map_err(output)?;
    file.persist(path).map_err(|err| output(err.error))?;
    Ok(())
}
