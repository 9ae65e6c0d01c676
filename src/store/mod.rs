//! Packet files and the SQLite queue.
