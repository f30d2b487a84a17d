//! Where blocking disk work runs: the caller's choice, so the driver runs
//! on tokio, smol or a simulator alike.

use std::fmt;
use std::sync::Mutex;
use std::sync::mpsc;

/// A job of blocking work (a log write and its sync).
pub type Job = Box<dyn FnOnce() + Send>;

/// Runs the driver's blocking disk work. The driver awaits the job's
/// completion without blocking its executor, unless the implementation
/// runs the job on the spot ([`Inline`]).
pub trait Blocking: Send + Sync + 'static {
    /// Runs `job`, now or on another thread.
    fn run(&self, job: Job);

    /// Whether [`Blocking::run`] runs the job on the spot, on the caller's
    /// thread. The driver then calls the log itself, without boxing the
    /// job or waiting on a completion channel. The default says no.
    fn runs_inline(&self) -> bool {
        false
    }
}

/// Runs jobs on the caller's thread, blocking it: for in-memory logs,
/// simulations and single-threaded tests, where a "disk write" is a memory
/// copy.
#[derive(Debug, Clone, Copy, Default)]
pub struct Inline;

impl Blocking for Inline {
    fn run(&self, job: Job) {
        job();
    }

    fn runs_inline(&self) -> bool {
        true
    }
}

/// One dedicated thread that runs jobs in order: for a real disk, so an
/// `fdatasync` never stalls the async executor. Dropping it lets the
/// thread finish the jobs it has and exit.
pub struct DiskThread {
    jobs: Mutex<mpsc::Sender<Job>>,
}

impl fmt::Debug for DiskThread {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DiskThread").finish_non_exhaustive()
    }
}

impl DiskThread {
    /// Starts the thread, named `name`.
    ///
    /// # Errors
    /// The operating system refused to start a thread.
    pub fn spawn(name: &str) -> std::io::Result<Self> {
        let (tx, rx) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name(name.to_string())
            .spawn(move || {
                for job in rx {
                    job();
                }
            })?;
        Ok(Self {
            jobs: Mutex::new(tx),
        })
    }
}

impl Blocking for DiskThread {
    fn run(&self, job: Job) {
        // The thread lives as long as the sender; a poisoned lock only
        // means another caller panicked mid-send, and the sender is fine.
        let jobs = self.jobs.lock().unwrap_or_else(|e| e.into_inner());
        // If the thread is gone the job is dropped, and the driver sees
        // its completion channel close: a storage failure, not a hang.
        let _ = jobs.send(job);
    }
}
