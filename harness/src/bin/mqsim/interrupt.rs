//! Ctrl-C during a sweep: finish the seeds in flight, write what ran, stop.

use std::sync::atomic::{AtomicBool, Ordering};

/// Set by the first Ctrl-C (SIGINT, or SIGTERM as CI sends on a timeout).
static STOP: AtomicBool = AtomicBool::new(false);

/// Installs the handler and returns the flag it sets. The first Ctrl-C
/// asks the sweep to stop after the seeds in flight, so the report says
/// how far it got; a second one exits at once (the streamed
/// `seeds.jsonl` still holds every seed that finished).
pub fn stop_flag() -> &'static AtomicBool {
    let installed = ctrlc::set_handler(|| {
        if STOP.swap(true, Ordering::SeqCst) {
            std::process::exit(130);
        }
        eprintln!("\nstopping after the seeds in flight (Ctrl-C again to quit at once)");
    });
    if let Err(e) = installed {
        eprintln!("warning: Ctrl-C will not leave a report: {e}");
    }
    &STOP
}
