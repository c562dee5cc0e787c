//! The node traits: [`Node`] (what an author implements) and [`DynNode`]
//! (what a runtime drives), with the descriptors a component publishes.

use crate::batch::PackedBatch;
use crate::{ErrorKind, Map, NodeError, Value};

/// A node type written in Rust. Implement this and list the type in
/// [`export_nodes!`](crate::export_nodes); that is the whole recipe.
///
/// ```
/// use nodehost_sdk::{Node, NodeError, Params, Value};
///
/// struct AddOne;
///
/// impl Node for AddOne {
///     const NAME: &'static str = "add-one";
///     fn new(_params: &Params) -> Result<Self, NodeError> {
///         Ok(AddOne)
///     }
///     fn process(&mut self, input: Value, out: &mut Vec<Value>) -> Result<(), NodeError> {
///         let x = input.as_i64().ok_or_else(|| NodeError::expected("an int", &input))?;
///         out.push(Value::Int(x + 1));
///         Ok(())
///     }
/// }
///
/// nodehost_sdk::export_nodes!(AddOne);
/// ```
pub trait Node: 'static {
    /// The type name a manifest uses to pick this node.
    const NAME: &'static str;
    /// One line on what the node does.
    const DESCRIPTION: &'static str = "";
    /// True when one input may give several outputs.
    const STREAMING: bool = false;

    /// The parameters the node accepts, for `node-types`.
    fn params() -> Vec<ParamInfo> {
        Vec::new()
    }

    /// Create an instance from the manifest's parameters.
    fn new(params: &Params) -> Result<Self, NodeError>
    where
        Self: Sized;

    /// Take one input and push zero or more outputs onto `out`.
    fn process(&mut self, input: Value, out: &mut Vec<Value>) -> Result<(), NodeError>;

    /// End of stream: push whatever is left.
    fn flush(&mut self, _out: &mut Vec<Value>) -> Result<(), NodeError> {
        Ok(())
    }
}

/// A live node behind a pointer: the interface a runtime drives, whatever
/// language the node is written in.
pub trait DynNode {
    /// Take one input and push zero or more outputs onto `out`.
    fn process(&mut self, input: Value, out: &mut Vec<Value>) -> Result<(), NodeError>;
    /// End of stream: push whatever is left.
    fn flush(&mut self, out: &mut Vec<Value>) -> Result<(), NodeError>;
    /// Answer a batch's inputs in turn, as [`process`](Self::process)
    /// answers each, stopping at the first that fails (its error is
    /// returned; the answers before it stay in `batch`). A runtime may
    /// answer a whole batch more cheaply than input by input (the Python
    /// guest enters its interpreter once per batch).
    ///
    /// # Errors
    /// The first input's failure.
    fn process_packed(&mut self, batch: &mut PackedBatch<'_>) -> Result<(), NodeError> {
        while let Some(input) = batch.next_input()? {
            self.process(input, batch.outputs())?;
            batch.pass()?;
        }
        Ok(())
    }
}

impl<T: Node> DynNode for T {
    fn process(&mut self, input: Value, out: &mut Vec<Value>) -> Result<(), NodeError> {
        Node::process(self, input, out)
    }
    fn flush(&mut self, out: &mut Vec<Value>) -> Result<(), NodeError> {
        Node::flush(self, out)
    }
}

/// A parameter a node type accepts.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamInfo {
    /// The parameter's name, as a manifest spells it.
    pub name: String,
    /// True when the manifest must give this parameter.
    pub required: bool,
    /// The value used when an optional parameter is left out.
    pub default: Option<Value>,
    /// One line on what the parameter does.
    pub description: String,
}

impl ParamInfo {
    /// A required parameter.
    pub fn required(name: &str, description: &str) -> Self {
        ParamInfo { name: name.into(), required: true, default: None, description: description.into() }
    }

    /// An optional parameter with its default.
    pub fn optional(name: &str, default: impl Into<Value>, description: &str) -> Self {
        ParamInfo {
            name: name.into(),
            required: false,
            default: Some(default.into()),
            description: description.into(),
        }
    }
}

/// What a node type is.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeTypeInfo {
    /// The type name a manifest uses to pick this node.
    pub name: String,
    /// One line on what the node does.
    pub description: String,
    /// The parameters the node accepts.
    pub params: Vec<ParamInfo>,
    /// True when one input may give several outputs.
    pub streaming: bool,
}

/// How the host asks a component to behave (the WIT `settings`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// Most outputs one call may give.
    pub max_outputs: u32,
    /// Script runtimes: poll [`crate::interrupt::requested`] while code runs.
    pub interruptible: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings { max_outputs: 100_000, interruptible: false }
    }
}

/// Creation parameters: a map with typed getters whose errors name the
/// parameter.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Params(Map);

impl Params {
    /// Parameters from a value, which must be a map (or null for none).
    pub fn from_value(value: Value) -> Result<Self, NodeError> {
        match value {
            Value::Map(m) => Ok(Params(m)),
            Value::Null => Ok(Params(Map::new())),
            other => Err(NodeError::invalid_params(format!(
                "parameters must be a map, got {}",
                other.type_name()
            ))),
        }
    }

    /// The parameters as a map.
    pub fn as_map(&self) -> &Map {
        &self.0
    }

    /// The raw value of `name`.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.0.get(name)
    }

    fn typed<'a, T>(
        &'a self,
        name: &str,
        what: &str,
        f: impl FnOnce(&'a Value) -> Option<T>,
    ) -> Result<Option<T>, NodeError> {
        match self.0.get(name) {
            None => Ok(None),
            Some(v) => f(v).map(Some).ok_or_else(|| {
                NodeError::invalid_params(format!(
                    "parameter '{name}' must be {what}, got {} {v}",
                    v.type_name()
                ))
            }),
        }
    }

    /// A number parameter (int or float), if present.
    pub fn f64(&self, name: &str) -> Result<Option<f64>, NodeError> {
        self.typed(name, "a number", Value::as_f64)
    }

    /// An int parameter, if present.
    pub fn i64(&self, name: &str) -> Result<Option<i64>, NodeError> {
        self.typed(name, "an int", Value::as_i64)
    }

    /// A bool parameter, if present.
    pub fn bool(&self, name: &str) -> Result<Option<bool>, NodeError> {
        self.typed(name, "a bool", Value::as_bool)
    }

    /// A string parameter, if present.
    pub fn str(&self, name: &str) -> Result<Option<&str>, NodeError> {
        self.typed(name, "a string", Value::as_str)
    }

    /// A required string parameter.
    pub fn require_str(&self, name: &str) -> Result<&str, NodeError> {
        self.str(name)?.ok_or_else(|| missing(name))
    }

    /// A required number parameter.
    pub fn require_f64(&self, name: &str) -> Result<f64, NodeError> {
        self.f64(name)?.ok_or_else(|| missing(name))
    }

    /// Fail on any parameter not in `known`, naming it: a typo in a manifest
    /// should not pass silently.
    pub fn allow_only(&self, known: &[&str]) -> Result<(), NodeError> {
        match self.0.iter().find(|(k, _)| !known.contains(k)) {
            None => Ok(()),
            Some((k, _)) => Err(NodeError::invalid_params(format!(
                "unknown parameter '{k}' (known: {})",
                known.join(", ")
            ))),
        }
    }
}

fn missing(name: &str) -> NodeError {
    NodeError::new(ErrorKind::InvalidParams, format!("missing required parameter '{name}'"))
}

/// One entry of a component's node-type table: how to describe and create a
/// node type. [`export_nodes!`](crate::export_nodes) builds these.
#[derive(Clone, Copy)]
pub struct NodeTypeEntry {
    /// The node type's name.
    pub name: &'static str,
    /// Describes the node type.
    pub info: fn() -> NodeTypeInfo,
    /// Creates a node of this type from its parameters.
    pub create: fn(&Params) -> Result<Box<dyn DynNode>, NodeError>,
}

impl NodeTypeEntry {
    /// The entry for Rust node type `T`.
    pub const fn of<T: Node>() -> Self {
        NodeTypeEntry { name: T::NAME, info: info_of::<T>, create: create_of::<T> }
    }
}

fn info_of<T: Node>() -> NodeTypeInfo {
    NodeTypeInfo {
        name: T::NAME.to_owned(),
        description: T::DESCRIPTION.to_owned(),
        params: T::params(),
        streaming: T::STREAMING,
    }
}

fn create_of<T: Node>(params: &Params) -> Result<Box<dyn DynNode>, NodeError> {
    Ok(Box::new(T::new(params)?))
}

/// A fixed set of Rust node types, looked up by name.
#[derive(Clone, Copy)]
pub struct Registry(pub &'static [NodeTypeEntry]);

impl Registry {
    /// Descriptions of every node type.
    pub fn infos(&self) -> Vec<NodeTypeInfo> {
        self.0.iter().map(|e| (e.info)()).collect()
    }

    /// Names of every node type.
    pub fn names(&self) -> impl Iterator<Item = &'static str> {
        self.0.iter().map(|e| e.name)
    }

    /// Create a node of type `name`; an empty name picks the only type of a
    /// registry that has one. The node's `log` records on this thread go to
    /// the host from now on (see [`crate::log`]).
    pub fn create(&self, name: &str, params: Value) -> Result<Box<dyn DynNode>, NodeError> {
        crate::log::adopt_thread();
        let only = (name.is_empty() && self.0.len() == 1).then(|| &self.0[0]);
        let entry = only.or_else(|| self.0.iter().find(|e| e.name == name)).ok_or_else(|| {
            NodeError::new(
                ErrorKind::UnknownType,
                format!(
                    "no node type '{name}' (this component has: {})",
                    self.names().collect::<Vec<_>>().join(", ")
                ),
            )
        })?;
        (entry.create)(&Params::from_value(params)?)
    }
}
