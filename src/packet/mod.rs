//! Capture packet v1: header, manifest, seal, verify, open.
