//! End-to-end tests of the `omnifeed` binary, one module per command or concern.

mod diff_push;
mod direct_io;
mod export_determinism;
mod export_dirty;
mod export_files;
mod export_readback;
mod export_stores;
mod export_support;
mod export_templates;
mod load_timing;
mod loader_fuzz;
mod paths;
mod push_staging;
mod review_fixes;
mod run_safety;
mod support;
mod validate_defects;
mod validate_inputs;
