//! The `airdesk` binary's parts — wiring, no rules: configuration and command line, start-up,
//! the HTTP application (portal, REST API, embedded assets), demo data and telemetry. The rules
//! are in the core (`airdesk_core`), the mail stores in `mail`.
// Rendering the portal's deeply nested view types in release builds needs the room.
#![recursion_limit = "256"]

pub mod assets;
pub mod cli;
pub mod config;
pub mod demo;
pub mod health;
pub mod http;
pub mod metrics;
pub mod rest;
pub mod settings_view;
pub mod startup;
pub mod telemetry;
