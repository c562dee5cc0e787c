//! [`LoadedComponent`]: a compiled component pre-instantiated against the
//! node linker, and how an instance of it is made and configured for one
//! node under its policy.

use nodehost_sdk::NodeTypeInfo;
use wasmtime::Store;

use crate::error::NodeFailure;
use crate::policy::SandboxPolicy;
use crate::sandbox::bindings::{NodeComponent, NodeComponentPre, types};
use crate::sandbox::codec;
use crate::sandbox::store::{HostState, new_store};
use crate::sandbox::trap::{classify, classify_instantiate};

/// A compiled component, pre-instantiated against the node linker.
pub struct LoadedComponent {
    pub(crate) name: String,
    pub(crate) pre: NodeComponentPre<HostState>,
}

impl LoadedComponent {
    /// The component's name (for messages).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Make one instance under `policy` and drop it: what a node costs
    /// before any of its own code runs (for benchmarks and health checks).
    /// With `configure`, also make the first call into it, which gives it
    /// the policy's settings (and a Python snapshot fresh random state).
    ///
    /// # Errors
    /// How instantiating (or configuring) failed.
    pub fn instantiate_once(&self, policy: &SandboxPolicy, configure_it: bool) -> Result<(), NodeFailure> {
        if configure_it {
            instantiate(self, "instance", policy).map(drop)
        } else {
            let mut store = new_store(self.pre.engine(), "instance", policy)?;
            self.pre
                .instantiate(&mut store)
                .map(drop)
                .map_err(|e| classify_instantiate(&store, e, policy.init_timeout, policy.fuel))
        }
    }
}

/// A fresh store for node `id` under `policy`, with `component` instantiated
/// in it and configured.
pub(crate) fn instantiate(
    component: &LoadedComponent,
    id: &str,
    policy: &SandboxPolicy,
) -> Result<(Store<HostState>, NodeComponent), NodeFailure> {
    let mut store = new_store(component.pre.engine(), id, policy)?;
    let bindings = component
        .pre
        .instantiate(&mut store)
        .map_err(|e| classify_instantiate(&store, e, policy.init_timeout, policy.fuel))?;
    configure(&mut store, &bindings, policy)?;
    Ok((store, bindings))
}

/// Give a new instance the policy's settings, and keep the value forms it
/// asks for.
pub(crate) fn configure(store: &mut Store<HostState>, bindings: &NodeComponent, policy: &SandboxPolicy) -> Result<(), NodeFailure> {
    let settings = types::Settings { max_outputs: policy.max_outputs, interruptible: policy.is_interruptible() };
    let forms = bindings
        .nodehost_node_runtime()
        .call_configure(&mut *store, settings)
        .map_err(|e| classify(store, e, policy.init_timeout, policy.fuel))?;
    let forms = codec::value_forms_from_wit(forms);
    if forms.staged_bytes {
        store.data().staging.enable();
    }
    store.data_mut().value_forms = forms;
    Ok(())
}

/// The node types a component describes: those built in, or, for the
/// Python component given a module's `(filename, source)`, those the module
/// defines. Making the instance and loading the module must end within
/// `init_timeout`.
pub(crate) fn describe(
    component: &LoadedComponent,
    python: Option<(&str, &str)>,
    init_timeout: std::time::Duration,
) -> Result<Vec<NodeTypeInfo>, NodeFailure> {
    let policy = SandboxPolicy { init_timeout, ..SandboxPolicy::default() };
    let (mut store, bindings) = instantiate(component, "describe", &policy)?;
    let runtime = bindings.nodehost_node_runtime();
    let timeout = policy.init_timeout;
    let infos = match python {
        Some((filename, source)) => runtime
            .call_load_module(&mut store, filename, source)
            .map_err(|e| classify(&store, e, timeout, None))?
            .map_err(|e| NodeFailure::from_guest(codec::error_from_wit(e), timeout))?,
        None => runtime.call_node_types(&mut store).map_err(|e| classify(&store, e, timeout, None))?,
    };
    Ok(infos.into_iter().map(codec::type_info_from_wit).collect())
}
