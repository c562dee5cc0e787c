//! `wasi:clocks/monotonic-clock` timers that end at the call's hard
//! deadline. A blocking sleep runs in host code, where epoch interruption
//! cannot reach it, so a sleep that would end past the deadline is a
//! timeout at once.

use std::time::{Duration, Instant};

use wasmtime::component::{Linker, Resource};
use wasmtime::{StoreContextMut, Trap};
use wasmtime_wasi::p2::{DynPollable, Pollable};

use crate::sandbox::store::{EPOCH_TICK, HostState};

/// A sleep a guest asked for, cut short at its call's hard deadline.
struct Sleep(tokio::time::Instant);

#[wasmtime_wasi::async_trait]
impl Pollable for Sleep {
    async fn ready(&mut self) {
        tokio::time::sleep_until(self.0).await;
    }
}

impl HostState {
    /// A pollable that is ready after `duration`; past the call's hard
    /// deadline, a timeout now.
    fn sleep(&mut self, duration: Duration) -> wasmtime::Result<Resource<DynPollable>> {
        let left = self.hard_deadline.saturating_duration_since(Instant::now());
        if duration > left && duration > EPOCH_TICK {
            return Err(wasmtime::Error::new(Trap::Interrupt));
        }
        let sleep = self.table.push(Sleep(tokio::time::Instant::now() + duration.min(left)))?;
        wasmtime_wasi::p2::subscribe(&mut self.table, sleep)
    }
}

/// Replace WASI's `subscribe-duration` and `subscribe-instant` in `linker`.
pub(crate) fn shadow_timers(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    let mut clocks = linker.instance("wasi:clocks/monotonic-clock@0.2.12")?;
    clocks.func_wrap("subscribe-duration", |mut store: StoreContextMut<'_, HostState>, (nanos,): (u64,)| {
        Ok((store.data_mut().sleep(Duration::from_nanos(nanos))?,))
    })?;
    clocks.func_wrap("subscribe-instant", |mut store: StoreContextMut<'_, HostState>, (when,): (u64,)| {
        let state = store.data_mut();
        let now = wasmtime_wasi::HostMonotonicClock::now(&state.clock);
        Ok((state.sleep(Duration::from_nanos(when.saturating_sub(now)))?,))
    })?;
    linker.allow_shadowing(false);
    Ok(())
}
