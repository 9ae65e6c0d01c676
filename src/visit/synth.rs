//! Synthetic captures (placeholder).
