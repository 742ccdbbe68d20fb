//! The airdesk portal: views and server functions. The domain's types come from the `model`
//! crate (re-exported here as [`model`]); the rules live in the core, which only the server
//! build links.
#![recursion_limit = "256"]

pub mod api;
pub mod components;
pub mod pages;

mod shell;

pub use model;
pub use shell::{shell, App, SiteAssets};
