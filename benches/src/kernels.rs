//! The pure-Python kernels (in the style of pyperformance, written here) as
//! node specs, with sizes that take a few milliseconds per call on
//! sandboxed RustPython.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

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

/// The runtime id of RustPython 0.6 linked natively, among the report's
/// extras: the like-for-like baseline for the sandbox, which runs 0.6 while
/// the `native-rustpython` column is 0.5 (README, "Versions").
pub const NATIVE_RUSTPYTHON_06: &str = "native-rustpython-0.6";

/// The program `scripts/native-rustpython-0.6-kernels.sh` builds: the
/// kernels on RustPython 0.6 linked natively.
pub fn native_rustpython_06_program() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/native-rustpython-0.6/release/examples/kernels")
}

/// The median time per call on RustPython 0.6 linked natively of
/// `kernel` (every kernel when `None`), `seconds` of calls each, by running
/// [`native_rustpython_06_program`]; `None` when that program has not been
/// built.
pub fn native_rustpython_06(seconds: f64, kernel: Option<&str>) -> Option<Result<Vec<(String, Duration)>, String>> {
    let program = native_rustpython_06_program();
    if !program.is_file() {
        return None;
    }
    let measured = Command::new(&program)
        .arg(seconds.to_string())
        .args(kernel)
        .output()
        .map_err(|e| format!("could not run {}: {e}", program.display()))
        .and_then(|out| {
            if out.status.success() {
                Ok(parse_native_rustpython_06(&String::from_utf8_lossy(&out.stdout)))
            } else {
                Err(format!("{} failed ({}): {}", program.display(), out.status, String::from_utf8_lossy(&out.stderr).trim()))
            }
        });
    Some(measured)
}

/// The program's lines: `kernel/NAME native-rustpython-0.6 median ... NS ns`.
fn parse_native_rustpython_06(stdout: &str) -> Vec<(String, Duration)> {
    stdout
        .lines()
        .filter_map(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            let name = words.first()?.strip_prefix("kernel/")?;
            let [.., ns, "ns"] = words.as_slice() else { return None };
            Some((format!("kernel/{name}"), Duration::from_nanos(ns.parse().ok()?)))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_native_06_programs_lines_are_read_and_others_skipped() {
        let out = "kernel/nbody native-rustpython-0.6 median 5.62ms (182 calls) 5620311 ns\n\
                   something else\n\
                   kernel/richards native-rustpython-0.6 median 5.91ms (168 calls)\n\
                   kernel/float native-rustpython-0.6 median 2.26ms (414 calls) 2260000 ns\n";
        assert_eq!(
            parse_native_rustpython_06(out),
            vec![
                ("kernel/nbody".to_owned(), Duration::from_nanos(5_620_311)),
                ("kernel/float".to_owned(), Duration::from_nanos(2_260_000))
            ]
        );
    }
}
