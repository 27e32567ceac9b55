//! The admin UI: the application shell, shared components and one module per page.

pub mod components;
pub mod layout;
pub mod pages;
pub mod tenant_page;
pub mod widgets;
