//! Terraform (or OpenTofu) driven as a subprocess.
//!
//! - [`runner`]: builds the command and its environment, runs it with tokio, streams its output
//!   line by line and returns a typed [`runner::TfRun`];
//! - [`json_stream`]: terraform's machine-readable UI (`-json`): resource hooks, summaries,
//!   diagnostics;
//! - [`classify`]: reads terraform's `Error:` blocks and says what kind of failure it was;
//! - [`stop`]: stops an interrupted terraform gracefully, so it writes its state;
//! - [`tfvars`]: the variables, written as `terraform.tfvars.json` with serde;
//! - [`cli_config`]: the CLI configuration with a `filesystem_mirror` block for offline machines;
//! - [`errors`]: from a classified failure to the step error, with what to do about it;
//! - [`outputs`]: `terraform output -json`, as step outputs and owned resources;
//! - [`parallelism`]: how many operations `apply` and `destroy` run at once;
//! - [`planned`]: what a saved plan would create, delete and replace;
//! - [`names`]: the names the stack gives what it makes, by Terraform address;
//! - [`workdir`]: the working directory inside the ledger holding copies of the stack.

pub mod classify;
pub mod cli_config;
pub mod errors;
pub mod json_stream;
pub mod names;
pub mod outputs;
pub mod parallelism;
pub mod planned;
pub mod prepared;
pub mod runner;
pub mod stop;
pub mod tfvars;
pub mod workdir;

pub use classify::{ErrorBlock, Failure, classify, error_blocks};
pub use outputs::{OUTPUTS_READ, Outputs};
pub use planned::Planned;
pub use runner::{Stream, Terraform, TfRun};
pub use stop::wait_for_stopped;
pub use tfvars::TfVars;
