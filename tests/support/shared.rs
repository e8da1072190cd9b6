//! One deployed stack per test binary, shared by its tests: a deploy costs about 30 s against the
//! emulator, so the first test that asks deploys it and the others reuse it. It stays up for the
//! life of the process (the emulator dies with the process, so nothing is torn down).
//!
//! A test that only looks holds the stack for reading ([`Shared::read`]); readers run side by
//! side. A test that changes it (breaks a resource, edits `deploy.toml`, runs a step) holds it
//! for writing ([`Shared::write`]), alone, and puts back what it changed before letting go. If it
//! fails half-way (a panic while writing), or hands the stack back on purpose in a state that
//! costs a deploy to undo ([`Changing::leave_for_repair`]: a teardown, routes removed), the next
//! test to take the stack first runs the binary's [`Fixture::repair`]: so no test depends on
//! another having run first or on how it ended, and each passes alone.
//!
//! A deploy that fails is not tried again by every test: each one that asks fails at once with
//! the first failure's message.

use std::future::Future;
use std::ops::Deref;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use tokio::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

/// What a test binary deploys once and shares.
pub trait Fixture: Sized + Send + Sync + 'static {
    /// Deploys the stack (panics, with what went wrong, when it cannot).
    fn deploy() -> Self;
    /// Brings the stack back to what `deploy` made after a test that changed it failed or left
    /// it for repair (panics when it cannot).
    fn repair(&self);
}

pub struct Shared<T: Fixture> {
    stack: OnceLock<Result<T, String>>,
    /// `true` while the stack may not be as deployed.
    needs_repair: RwLock<bool>,
}

impl<T: Fixture> Default for Shared<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Fixture> Shared<T> {
    pub const fn new() -> Self {
        Shared {
            stack: OnceLock::new(),
            needs_repair: RwLock::const_new(false),
        }
    }

    fn stack(&'static self) -> &'static T {
        let deployed = self.stack.get_or_init(|| {
            catch_unwind(AssertUnwindSafe(T::deploy)).map_err(|e| panic_message(e.as_ref()))
        });
        match deployed {
            Ok(stack) => stack,
            Err(message) => panic!("the shared stack could not be deployed: {message}"),
        }
    }

    /// The stack as deployed, for looking only.
    pub async fn read(&'static self) -> Reading<T> {
        let stack = self.stack();
        loop {
            let guard = self.needs_repair.read().await;
            if !*guard {
                return Reading {
                    stack,
                    _guard: guard,
                };
            }
            drop(guard);
            drop(self.write().await);
        }
    }

    /// The stack as deployed, for this test alone to change and put back.
    pub async fn write(&'static self) -> Changing<T> {
        let stack = self.stack();
        let mut changing = Changing {
            stack,
            guard: self.needs_repair.write().await,
        };
        if *changing.guard {
            // Should the repair panic, `changing`'s drop keeps the mark for the next test.
            stack.repair();
            *changing.guard = false;
        }
        changing
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "(a panic without a message)".into())
}

pub struct Reading<T: Fixture> {
    stack: &'static T,
    _guard: RwLockReadGuard<'static, bool>,
}

impl<T: Fixture> Deref for Reading<T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.stack
    }
}

pub struct Changing<T: Fixture> {
    stack: &'static T,
    guard: RwLockWriteGuard<'static, bool>,
}

impl<T: Fixture> Changing<T> {
    /// Hands the stack back changed: the next test to take it repairs it first (for a change
    /// that costs a deploy to undo, so that a run in which no test comes after does not pay it).
    pub fn leave_for_repair(mut self) {
        *self.guard = true;
    }
}

impl<T: Fixture> Deref for Changing<T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.stack
    }
}

impl<T: Fixture> Drop for Changing<T> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            *self.guard = true;
        }
    }
}

/// A file changed for the life of the value, then put back as it was (also when the test fails).
pub struct FileEdit {
    path: PathBuf,
    original: String,
}

impl FileEdit {
    /// Replaces the text of `path` with `change(old text)`.
    pub fn new(path: &Path, change: impl FnOnce(&str) -> String) -> FileEdit {
        let original = std::fs::read_to_string(path).unwrap();
        std::fs::write(path, change(&original)).unwrap();
        FileEdit {
            path: path.to_path_buf(),
            original,
        }
    }
}

impl Drop for FileEdit {
    fn drop(&mut self) {
        let _ = std::fs::write(&self.path, &self.original);
    }
}

/// Runs `future` to the end on a runtime of its own (on another thread), so that synchronous
/// code (a fixture's deploy) can call the SDK whatever runtime, if any, it is called from.
pub fn block_on<F>(future: F) -> F::Output
where
    F: Future + Send,
    F::Output: Send,
{
    std::thread::scope(|s| {
        s.spawn(|| {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
                .block_on(future)
        })
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}
