//! What a node component may import, one file per interface: WASI (whose
//! context grants only what the policy names), with its monotonic-clock
//! timers replaced by ones that end at the call's deadline ([`clocks`]), its
//! waits on pollables bounded by the call's deadline and cancel handle
//! ([`poll`]), its stdout/stderr going to the node's log ([`stdio`]) and its
//! filesystem calls that take space charged against the node's `/tmp`
//! bound ([`filesystem`]), and this host's own `nodehost:node/host`
//! interface ([`host`]).

pub(crate) mod clocks;
pub(crate) mod filesystem;
pub(crate) mod host;
pub(crate) mod poll;
pub(crate) mod stdio;

use wasmtime::component::{HasSelf, Linker};

use crate::sandbox::bindings::NodeComponent;
use crate::sandbox::store::HostState;

/// Add everything a node component may import to `linker`.
pub(crate) fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    wasmtime_wasi::p2::add_to_linker_sync(linker)?;
    NodeComponent::add_to_linker::<HostState, HasSelf<HostState>>(linker, |s| s)?;
    clocks::shadow_timers(linker)?;
    filesystem::shadow_filesystem(linker)?;
    host::shadow_next_input(linker)?;
    poll::shadow_waits(linker)
}
