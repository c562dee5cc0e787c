//! `wasi:io/poll` waits that end at the call's hard deadline or when the
//! call is cancelled. A guest blocks in host code here, where epoch
//! interruption cannot reach it: without this bound, a pollable made under a
//! longer deadline (a timer subscribed while the node was created, under
//! `init_timeout`) would hold a later call past its own deadline, and a
//! cancellation would wait for the sleep to end.

use std::time::{Duration, Instant};

use wasmtime::component::{Linker, Resource};
use wasmtime::{StoreContextMut, Trap};
use wasmtime_wasi::p2::DynPollable;
use wasmtime_wasi::p2::bindings::io::poll as async_poll;

use crate::node::CancelHandle;
use crate::sandbox::store::HostState;

/// Longest a wait goes without looking at the call's cancel handle: the
/// 100 ms within which a cancellation lands.
const CANCEL_CHECK: Duration = Duration::from_millis(100);

/// Run `wait` (a poll of the guest's pollables) until it ends, the hard
/// `deadline` passes or `cancel` is set; the last two are an interrupt
/// (classified as a timeout or a cancellation).
fn bounded<T>(wait: impl Future<Output = wasmtime::Result<T>>, deadline: Instant, cancel: &CancelHandle) -> wasmtime::Result<T> {
    wasmtime_wasi::runtime::in_tokio(async {
        let mut wait = std::pin::pin!(wait);
        loop {
            let now = Instant::now();
            if cancel.is_cancelled() || now >= deadline {
                return Err(wasmtime::Error::new(Trap::Interrupt));
            }
            let slice = deadline.saturating_duration_since(now).min(CANCEL_CHECK);
            tokio::select! {
                done = &mut wait => return done,
                () = tokio::time::sleep(slice) => {}
            }
        }
    })
}

/// Replace WASI's `poll` and `pollable.block` in `linker` with waits bounded
/// by the running call's deadline and cancel handle.
pub(crate) fn shadow_waits(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    let mut poll = linker.instance("wasi:io/poll@0.2.12")?;
    poll.func_wrap("poll", |mut store: StoreContextMut<'_, HostState>, (pollables,): (Vec<Resource<DynPollable>>,)| {
        let state = store.data_mut();
        let (deadline, cancel) = (state.hard_deadline, state.cancel.clone());
        let ready = bounded(async_poll::Host::poll(&mut state.table, pollables), deadline, &cancel)?;
        Ok((ready,))
    })?;
    poll.func_wrap(
        "[method]pollable.block",
        |mut store: StoreContextMut<'_, HostState>, (pollable,): (Resource<DynPollable>,)| {
            let state = store.data_mut();
            let (deadline, cancel) = (state.hard_deadline, state.cancel.clone());
            bounded(async_poll::HostPollable::block(&mut state.table, pollable), deadline, &cancel)
        },
    )?;
    linker.allow_shadowing(false);
    Ok(())
}
