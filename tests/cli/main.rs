//! End-to-end tests of the `omnifeed` binary, one module per command or concern.

mod config_names;
mod config_taxonomy;
mod diff_push;
mod direct_io;
mod export_determinism;
mod export_dirty;
mod export_files;
mod export_readback;
mod export_stores;
mod export_support;
mod export_templates;
mod findings_report;
mod load_timing;
mod loader_fuzz;
mod loader_quirks;
mod loader_stock;
mod paths;
mod push_staging;
mod review_fixes;
mod run_safety;
mod support;
mod validate_defects;
mod validate_inputs;
