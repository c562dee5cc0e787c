//! The pure-Python kernels (in the style of pyperformance, written here) as
//! node specs, with sizes that take a few milliseconds per call on
//! sandboxed RustPython.

use nodehost::{NodeSpec, Runtime, Value};

/// A kernel: its benchmark name, file and class under `examples/kernels`,
/// and the input that sets its size.
pub struct Kernel {
    pub name: &'static str,
    pub file: &'static str,
    pub class: &'static str,
    pub input: i64,
}

/// Every kernel.
pub const KERNELS: &[Kernel] = &[
    Kernel { name: "nbody", file: "kernels/nbody.py", class: "NBody", input: 200 },
    Kernel { name: "spectral_norm", file: "kernels/spectral_norm.py", class: "SpectralNorm", input: 24 },
    Kernel { name: "richards", file: "kernels/richards.py", class: "Richards", input: 500 },
    Kernel { name: "float", file: "kernels/float_points.py", class: "FloatPoints", input: 1000 },
    Kernel { name: "fannkuch", file: "kernels/fannkuch.py", class: "Fannkuch", input: 6 },
    Kernel { name: "json_dumps", file: "kernels/json_kernel.py", class: "JsonDumps", input: 20 },
    Kernel { name: "json_loads", file: "kernels/json_kernel.py", class: "JsonLoads", input: 20 },
];

impl Kernel {
    /// The kernel's node on `runtime`.
    pub fn spec(&self, runtime: Runtime) -> NodeSpec {
        crate::python_node(self.file, self.class, &[], runtime)
    }

    /// The input to give it.
    pub fn input(&self) -> Value {
        Value::Int(self.input)
    }
}
