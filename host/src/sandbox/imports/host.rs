//! The host side of the `nodehost:node/host` interface: log records from the
//! node, whether the host asks the running call to stop, and the next input
//! of a `process-many` batch (which needs the store, so it shadows the
//! generated binding: see [`shadow_next_input`]).

use nodehost_sdk::log::Level;

use wasmtime::StoreContextMut;
use wasmtime::component::Linker;

use crate::sandbox::batch;
use crate::sandbox::bindings::{host, types};
use crate::sandbox::store::{HostState, Phase};

impl types::Host for HostState {}

impl host::Host for HostState {
    fn log(&mut self, level: host::LogLevel, target: String, message: String) {
        let level = match level {
            host::LogLevel::Trace => Level::Trace,
            host::LogLevel::Debug => Level::Debug,
            host::LogLevel::Info => Level::Info,
            host::LogLevel::Warn => Level::Warn,
            host::LogLevel::Error => Level::Error,
        };
        self.log.emit(level, &target, &message);
    }

    fn interrupt_requested(&mut self) -> bool {
        self.phase == Phase::Interrupting
    }

    /// Shadowed by [`shadow_next_input`], which can arm the next input's
    /// call: this one, without the store, is never linked.
    fn next_input(&mut self, _answer: Result<types::Outputs, types::NodeError>) -> Option<types::Value> {
        None
    }
}

/// Replace the generated `next-input` in `linker` by [`batch::next_input`].
pub(crate) fn shadow_next_input(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    let mut host = linker.instance("nodehost:node/host@0.1.0")?;
    host.func_wrap(
        "next-input",
        |store: StoreContextMut<'_, HostState>, (answer,): (Result<types::Outputs, types::NodeError>,)| {
            Ok((batch::next_input(store, answer)?,))
        },
    )?;
    linker.allow_shadowing(false);
    Ok(())
}
