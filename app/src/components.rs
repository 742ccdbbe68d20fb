//! Pieces the pages share.

pub mod change;
pub mod decide;
pub mod error_view;
pub mod evidence;
pub mod focus;
pub mod layout;
pub mod pager;
pub mod panel;
pub mod portal;
pub mod row_click;
pub mod time;
