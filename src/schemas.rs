//! JSON Schemas of every file and JSON output, generated from the Rust types.
