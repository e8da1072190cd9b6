//! The teardown pipeline's steps.

pub mod destroy;
pub mod pre_destroy;
