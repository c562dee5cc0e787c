//! Whether the host asks the running call to stop: inside a component the
//! WIT `host.interrupt-requested` import (true once the call's soft deadline
//! has passed); in a native build a per-thread deadline the embedding host
//! sets before each call. Script runtimes poll this while user code runs.

/// True when the running call should stop.
pub fn requested() -> bool {
    #[cfg(target_arch = "wasm32")]
    {
        crate::component::bindings::nodehost::node::host::interrupt_requested()
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        native::requested()
    }
}

#[cfg(not(target_arch = "wasm32"))]
pub use native::set_thread_deadline;

#[cfg(not(target_arch = "wasm32"))]
mod native {
    use std::cell::Cell;
    use std::time::Instant;

    thread_local! {
        static DEADLINE: Cell<Option<Instant>> = const { Cell::new(None) };
    }

    /// Set (or clear) the soft deadline of calls made on this thread.
    pub fn set_thread_deadline(deadline: Option<Instant>) {
        DEADLINE.with(|d| d.set(deadline));
    }

    pub(super) fn requested() -> bool {
        DEADLINE.with(Cell::get).is_some_and(|d| Instant::now() >= d)
    }
}
