//! Rolling back a change whose verification failed: the hub keeps delivering through the last
//! good deployment.
//!
//! - After a `deploy all` whose verification passed, what it deployed is recorded
//!   ([`LastGood`], a document of the state): the Terraform variables applied, each alias's
//!   version, the contract versions shipped, the routes and which of them `test-events` proved,
//!   the function targets wired.

mod last_good;

pub use last_good::{
    FunctionTarget, LAST_GOOD_DOCUMENT, LastGood, Recorded, proven_routes, record, verified, wiring,
};
