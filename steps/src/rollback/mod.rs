//! Rolling back a change whose verification failed: the hub keeps delivering through the last
//! good deployment.
//!
//! - After a `deploy all` whose verification passed, what it deployed is recorded
//!   ([`LastGood`], a document of the state): the Terraform variables applied, each alias's
//!   version, the contract versions shipped, the routes and which of them `test-events` proved,
//!   the function targets wired.
//! - When a change's verification fails (`test-events`, in `deploy all`), or the operator asks
//!   (`deploy rollback`), a rollback is decided ([`Pending`], a document written first) and the
//!   [`Rollback`] step returns to it: aliases back, what the change added removed in the
//!   contract order, the last good Terraform variables applied again, the last good function
//!   targets put back, checked by the live checks; `test-events` verifies it (with the last good
//!   routes); then [`conclude`] marks the deploy steps to run again and records what it did
//!   ([`Done`]).

mod conclude;
mod last_good;
mod pending;
mod restore;
mod step;

pub use conclude::{conclude, verification_config};
pub use last_good::{
    FunctionTarget, LAST_GOOD_DOCUMENT, LastGood, Recorded, proven_routes, record, verified, wiring,
};
pub use pending::{DONE_DOCUMENT, Done, PENDING_DOCUMENT, Pending, Why};
pub use step::{Rollback, STEP};
