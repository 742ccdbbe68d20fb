//! The `airdesk` binary's parts: configuration and command line, the HTTP application (portal,
//! REST API, embedded assets), demo data and telemetry.
// Rendering the portal's deeply nested view types in release builds needs the room.
#![recursion_limit = "256"]

pub mod assets;
pub mod auth;
pub mod cli;
pub mod config;
pub mod demo;
pub mod execution;
pub mod health;
pub mod http;
pub mod index;
pub mod mail;
pub mod playbook;
pub mod rest;
pub mod startup;
pub mod telemetry;
