//! Pieces the pages share.

pub mod change;
pub mod decide;
pub mod error_view;
pub mod layout;
pub mod pager;
pub mod portal;
