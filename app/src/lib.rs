//! The airdesk portal: domain model, views and server functions, shared by browser and server.
#![recursion_limit = "256"]

pub mod api;
pub mod components;
pub mod model;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod server;

mod shell;

pub use shell::{shell, App, SiteAssets};
