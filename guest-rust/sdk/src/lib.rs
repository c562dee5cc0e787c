//! The node SDK: what a pipeline node is, in Rust.
//!
//! - [`Value`] is the data that flows between nodes;
//! - [`Node`] is the trait a Rust node implements, and [`export_nodes!`]
//!   turns a list of them into a Wasm component of the shared WIT world
//!   (`wit/node.wit`) when built for `wasm32-wasip2`, and into a
//!   [`Registry`] the host links directly in a native build;
//! - [`Component`] and [`export_component!`] do the same for components whose
//!   node types are not fixed Rust types (the Python guest);
//! - nodes log with the [`log`](::log) crate's macros (`log::info!`), which
//!   [`log`](mod@log) sends to the host;
//! - [`codec`] and [`wit_codec!`] are the one conversion between [`Value`]
//!   and the WIT types, shared by the guest component and the host.

#![warn(missing_docs)]

extern crate self as nodehost_sdk;

pub mod batch;
pub mod codec;
pub mod error;
pub mod interrupt;
pub mod log;
pub mod node;
pub mod python;
pub mod value;

#[cfg(target_arch = "wasm32")]
pub mod component;

pub use error::{ErrorKind, NodeError};
pub use node::{DynNode, Node, NodeTypeEntry, NodeTypeInfo, ParamInfo, Params, Registry, Settings};
/// The big-integer crate [`Value::BigInt`] is made of, re-exported so a
/// node uses the same version.
pub use num_bigint::{self, BigInt};
pub use value::{ArrayData, AudioFrame, Map, NumArray, PackedNumbers, Value, MAX_DEPTH};

/// A component's view of its node types: the exports of the WIT `runtime`
/// interface, in Rust terms. [`export_nodes!`] implements it for fixed Rust
/// node types; a script runtime (the Python guest) implements it by hand.
pub trait Component: 'static {
    /// Take the host's settings (called once, before anything else). The
    /// SDK already enforces `max_outputs`; components that run scripts use
    /// the rest. Components of Rust nodes ([`export_nodes!`]) install the
    /// SDK's logger here ([`log::install`]); a component written by hand
    /// whose Rust code logs through the `log` facade calls it too.
    fn configure(_settings: &Settings) {}

    /// Script runtimes: start the interpreter and import `modules` now,
    /// before a snapshot is taken. Components with nothing to prepare keep
    /// the default, which does nothing.
    fn prepare(_modules: Vec<String>) -> Result<(), NodeError> {
        Ok(())
    }

    /// The node types available now.
    fn node_types() -> Vec<NodeTypeInfo>;

    /// Load a module of node types from source. Components with fixed node
    /// types keep the default, which refuses.
    fn load_module(_name: String, _source: String) -> Result<Vec<NodeTypeInfo>, NodeError> {
        Err(NodeError::new(
            ErrorKind::Unsupported,
            "this component has built-in node types and does not load source",
        ))
    }

    /// Create a node of the named type.
    fn create(type_name: &str, params: Value) -> Result<Box<dyn DynNode>, NodeError>;
}

/// Export a [`Component`] implementation as the component's WIT exports.
/// Expands to nothing outside `wasm32`.
#[macro_export]
macro_rules! export_component {
    ($component:ty) => {
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            type __NodehostExports = $crate::component::Exports<$component>;
            $crate::component::bindings::__export_node_component!(
                __NodehostExports with_types_in $crate::component::bindings
            );
        };
    };
}

/// Declare this crate's Rust node types: defines `pub fn node_registry()`
/// and, when built for `wasm32`, exports them as a component.
///
/// ```ignore
/// nodehost_sdk::export_nodes!(Gain, Calculator);
/// ```
#[macro_export]
macro_rules! export_nodes {
    ($($node:ty),+ $(,)?) => {
        /// The Rust node types this crate provides.
        pub fn node_registry() -> $crate::Registry {
            static ENTRIES: &[$crate::NodeTypeEntry] = &[$($crate::NodeTypeEntry::of::<$node>()),+];
            $crate::Registry(ENTRIES)
        }

        #[cfg(target_arch = "wasm32")]
        const _: () = {
            struct __NodehostRegistry;
            impl $crate::Component for __NodehostRegistry {
                fn configure(_settings: &$crate::Settings) {
                    $crate::log::install();
                }
                fn node_types() -> ::std::vec::Vec<$crate::NodeTypeInfo> {
                    node_registry().infos()
                }
                fn create(
                    type_name: &str,
                    params: $crate::Value,
                ) -> ::std::result::Result<::std::boxed::Box<dyn $crate::DynNode>, $crate::NodeError> {
                    node_registry().create(type_name, params)
                }
            }
            $crate::export_component!(__NodehostRegistry);
        };
    };
}
