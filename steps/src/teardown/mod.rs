//! The teardown pipeline's steps.

pub mod destroy;
pub mod discovered;
pub mod pre_destroy;
