//! The kit home: layout, config, init.
