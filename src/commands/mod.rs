//! Command glue: read the config, run the stages, print, pick the exit code.

pub mod explain;
pub mod validate;

use crate::cli::GlobalArgs;
use crate::config::Config;

pub fn load_config(global: &GlobalArgs) -> anyhow::Result<Config> {
    let explicit = std::env::args_os()
        .any(|arg| arg == "--config" || arg.to_string_lossy().starts_with("--config="));
    Ok(Config::load(
        &global.config,
        explicit,
        global.catalog.as_deref(),
    )?)
}
