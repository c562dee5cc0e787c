//! The host side of the `nodehost:node/host` interface: log records from the
//! node, and whether the host asks the running call to stop.

use nodehost_sdk::log::Level;

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
}
