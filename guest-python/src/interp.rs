//! Building the RustPython interpreter a Python node runs in: the frozen
//! standard library, the `nodehost` helper module, and the native
//! `_nodehost` module through which Python reaches the host's log.

#[cfg(not(target_arch = "wasm32"))]
use rustpython_vm::signal::UserSignalSender;
use rustpython_vm::builtins::PyBaseExceptionRef;
use rustpython_vm::{Interpreter, InterpreterBuilder, VirtualMachine, common::rc::PyRc};

/// A fresh interpreter with the standard library and the node helpers.
///
/// Site imports, the environment and user site-packages are off: a node sees
/// only the frozen standard library, whatever the host process has around it.
#[cfg(target_arch = "wasm32")]
pub(crate) fn new_interpreter() -> Interpreter {
    checkpoint::install();
    builder().build()
}

/// A fresh interpreter as in the component, and the sending end of its
/// user-signal channel: a closure sent there runs on the interpreter's
/// thread at its next bytecode instruction (RustPython checks for pending
/// signals at every instruction anyway), and an exception it returns is
/// raised where the code is.
#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn new_interpreter() -> (Interpreter, UserSignalSender) {
    let (sender, receiver) = rustpython_vm::signal::user_signal_channel();
    let interp = builder().init_hook(move |vm| vm.set_user_signal_channel(receiver)).build();
    (interp, sender)
}

fn builder() -> InterpreterBuilder {
    let mut settings = rustpython_vm::Settings::default();
    settings.import_site = false;
    settings.ignore_environment = true;
    settings.user_site_directory = false;
    settings.safe_path = true;
    settings.write_bytecode = false;
    settings.install_signal_handlers = false;
    // As an embedded CPython has it: `argparse` and friends read argv[0].
    settings.argv = vec![String::new()];
    let builder = InterpreterBuilder::new().settings(settings);
    let stdlib = rustpython_stdlib::stdlib_module_defs(&builder.ctx);
    let native = _nodehost::module_def(&builder.ctx);
    builder
        .add_native_modules(&stdlib)
        .add_native_module(native)
        .add_frozen_modules(rustpython_pylib::FROZEN_STDLIB)
        .add_frozen_modules(rustpython_vm::py_freeze!(file = "../python/nodehost.py", module_name = "nodehost"))
        .add_frozen_modules(rustpython_vm::py_freeze!(file = "../python/_nodehost_time.py", module_name = "_nodehost_time"))
        .init_hook(set_frozen_stdlib_dir)
}

/// The helper module's source, named here only so that the compiler records
/// the file as an input: RustPython 0.6's `py_freeze!` does not, and without
/// it an edit of `nodehost.py` would not rebuild the guest.
const _HELPER_SOURCE: &str = include_str!("../python/nodehost.py");
const _TIME_HELPER_SOURCE: &str = include_str!("../python/_nodehost_time.py");

fn set_frozen_stdlib_dir(vm: &mut VirtualMachine) {
    if let Some(state) = PyRc::get_mut(&mut vm.state) {
        state.config.paths.stdlib_dir = Some(rustpython_pylib::LIB_PATH.to_owned());
    }
}

/// A `nodehost.DeadlineExceeded` to raise where the code runs: made by
/// calling the class (an `OSError` subclass) so its fields are set up, as
/// `raise DeadlineExceeded(...)` would.
fn deadline_exceeded(vm: &VirtualMachine) -> PyBaseExceptionRef {
    let made = vm
        .import("nodehost", 0)
        .and_then(|m| m.get_attr("DeadlineExceeded", vm))
        .and_then(|class| class.call(("the call ran past its soft deadline and was interrupted here",), vm));
    match made {
        Ok(exception) => {
            exception.downcast().unwrap_or_else(|_| vm.new_type_error("DeadlineExceeded() did not give an exception"))
        }
        Err(e) => e,
    }
}

/// In the component: the hook RustPython calls at each interruption
/// checkpoint (every backward jump and function start; added to RustPython
/// by the build, see `host/artifacts/rustpython_patch.rs`). While a node is
/// interruptible, every [`checkpoint::POLL_EVERY`]th checkpoint asks the host
/// whether the call's soft deadline has passed, and once it has, raises
/// `nodehost.DeadlineExceeded` there. Natively the same is done by the
/// user-signal channel, which RustPython checks at every instruction.
#[cfg(target_arch = "wasm32")]
pub(crate) mod checkpoint {
    use std::sync::atomic::{AtomicBool, AtomicU32, Ordering::Relaxed};

    use rustpython_vm::{PyResult, VirtualMachine};

    /// Ask the host at one checkpoint in this many: a host call costs about
    /// as much as a short loop iteration.
    pub(crate) const POLL_EVERY: u32 = 128;

    static ARMED: AtomicBool = AtomicBool::new(false);
    static PASSED: AtomicU32 = AtomicU32::new(0);

    /// Set the hook (once; the interpreter's state, hook included, is what
    /// a snapshot keeps).
    pub(crate) fn install() {
        rustpython_vm::nodehost_checkpoint::set_hook(reached);
    }

    /// Let the hook interrupt running code, or stop letting it.
    pub(crate) fn arm(on: bool) {
        ARMED.store(on, Relaxed);
    }

    fn reached(vm: &VirtualMachine) -> PyResult<()> {
        if !ARMED.load(Relaxed) {
            return Ok(());
        }
        let n = PASSED.load(Relaxed).wrapping_add(1);
        PASSED.store(n, Relaxed);
        if !n.is_multiple_of(POLL_EVERY) || !nodehost_sdk::interrupt::requested() {
            return Ok(());
        }
        Err(super::deadline_exceeded(vm))
    }
}

/// The native half of the `nodehost` helper module.
#[rustpython_vm::pymodule]
mod _nodehost {
    use std::cell::Cell;

    use nodehost_sdk::log::{Level, log as host_log};
    use rustpython_vm::builtins::PyStrRef;
    use rustpython_vm::function::FuncArgs;
    use rustpython_vm::{PyResult, VirtualMachine};

    /// Ask the host only every this many events: a host call costs more
    /// than the event itself.
    const POLL_EVERY: u32 = 32;

    thread_local! {
        static EVENTS: Cell<u32> = const { Cell::new(0) };
    }

    /// tick(*args): the sys.monitoring callback that lets the host interrupt
    /// running code; raises nodehost.DeadlineExceeded once the host asks.
    #[pyfunction]
    fn tick(_args: FuncArgs, vm: &VirtualMachine) -> PyResult<()> {
        let n = EVENTS.with(|e| {
            let n = e.get().wrapping_add(1);
            e.set(n);
            n
        });
        if !n.is_multiple_of(POLL_EVERY) || !nodehost_sdk::interrupt::requested() {
            return Ok(());
        }
        Err(super::deadline_exceeded(vm))
    }

    /// remember_source(filename, source): keep a module's source to show
    /// its lines in tracebacks (a bundled module has no file to read).
    #[pyfunction]
    fn remember_source(filename: PyStrRef, source: PyStrRef) {
        crate::runtime::remember_source(&filename.to_string_lossy(), &source.to_string_lossy());
    }

    /// The pinned `tzdata` wheel (a zip of the IANA zone files) the build
    /// fetched and checked (`build_tzdata.rs`); empty when it had none.
    static TZDATA_WHEEL: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/tzdata.whl"));

    /// tzdata_wheel(): the embedded `tzdata` wheel as bytes (b"" when the
    /// build had none), which `nodehost` serves as the `tzdata` package.
    #[pyfunction]
    fn tzdata_wheel(vm: &VirtualMachine) -> rustpython_vm::PyRef<rustpython_vm::builtins::PyBytes> {
        vm.ctx.new_bytes(TZDATA_WHEEL.to_vec())
    }

    /// log(level, target, message): emit a record on the host's log.
    /// Levels: 0 trace, 1 debug, 2 info, 3 warn, 4 error.
    #[pyfunction]
    fn log(level: i32, target: PyStrRef, message: PyStrRef) {
        host_log(Level::from_number(level), &target.to_string_lossy(), &message.to_string_lossy());
    }
}
