//! The one `bindgen!` of the host: Rust types and call stubs for the
//! `node-component` world in `wit/node.wit`.

wasmtime::component::bindgen!({
    path: "../wit",
    world: "node-component",
});

pub use nodehost::node::host as host;
pub use nodehost::node::types as types;
