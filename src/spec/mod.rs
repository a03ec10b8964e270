//! Channel specs: what each channel accepts, read from `channel-specs/*.toml`. The Rust code
//! knows field *types*; these files know *channels*. The shipped specs are embedded in the
//! binary; a user's own `channel-specs/` folder adds channels or replaces one by id.

pub mod api;
pub mod compile;
pub mod parts;
pub mod raw;
pub mod roles;
pub mod taxonomy;
mod value_rules;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use compile::{
    ChannelSpec, Condition, Derived, Fallback, FieldSpec, FormatSpec, OneOf, Parts,
    RefusedPrefixes, ValueSource, compile,
};
pub use parts::Part;
pub use raw::{Confidence, FieldType, FormatKind, OnLimit, PriceFormat, Requirement, TooLong};
pub use roles::{Role, RoleField, Roles};

mod shipped {
    include!(concat!(env!("OUT_DIR"), "/shipped_specs.rs"));
}

#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    #[error("{origin}: {message}")]
    Parse { origin: String, message: String },
    #[error("{origin}: {}", .problems.join("\n  "))]
    Invalid {
        origin: String,
        problems: Vec<String>,
    },
    #[error("cannot read channel spec folder `{path}`")]
    Folder {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl SpecError {
    /// A channel spec is the user's (or the build's) configuration.
    pub fn class(&self) -> crate::exit::ErrorClass {
        crate::exit::ErrorClass::Config
    }
}

/// Where a spec came from, for messages and `omnifeed channels`.
#[derive(Debug, Clone)]
pub enum SpecOrigin {
    Shipped,
    User(PathBuf),
}

impl std::fmt::Display for SpecOrigin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SpecOrigin::Shipped => f.write_str("shipped"),
            SpecOrigin::User(path) => write!(f, "{}", path.display()),
        }
    }
}

/// Every available spec: the shipped ones, then the user's folder (if it exists) on top.
pub fn load_all(user_dir: &Path) -> Result<BTreeMap<String, ChannelSpec>, SpecError> {
    let mut specs = BTreeMap::new();
    for (stem, text) in shipped::SHIPPED {
        let spec = parse_and_compile(stem, text, SpecOrigin::Shipped)?;
        specs.insert(spec.id.clone(), spec);
    }
    if user_dir.is_dir() {
        let paths = crate::config::toml_files_in(user_dir).map_err(|source| SpecError::Folder {
            path: user_dir.to_owned(),
            source,
        })?;
        for path in paths {
            let text = std::fs::read_to_string(&path).map_err(|source| SpecError::Folder {
                path: path.clone(),
                source,
            })?;
            let stem = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            let spec = parse_and_compile(&stem, &text, SpecOrigin::User(path.clone()))?;
            specs.insert(spec.id.clone(), spec);
        }
    }
    Ok(specs)
}

pub fn parse_and_compile(
    stem: &str,
    text: &str,
    origin: SpecOrigin,
) -> Result<ChannelSpec, SpecError> {
    let label = match &origin {
        SpecOrigin::Shipped => format!("channel-specs/{stem}.toml (shipped)"),
        SpecOrigin::User(path) => path.display().to_string(),
    };
    let raw: raw::RawSpec = toml::from_str(text).map_err(|err| SpecError::Parse {
        origin: label.clone(),
        message: crate::config::render_toml_error(text, &err),
    })?;
    compile(stem, raw, text, origin).map_err(|problems| SpecError::Invalid {
        origin: label,
        problems,
    })
}
