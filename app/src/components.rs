//! Pieces the pages share.

pub mod error_view;
pub mod layout;
pub mod pager;
