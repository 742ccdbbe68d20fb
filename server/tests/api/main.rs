//! Integration tests: the real server on port 0 with a fresh SQLite file per test.

mod auth;
mod cli;
mod helpers;
mod investigations;
mod limits;
mod storage;
