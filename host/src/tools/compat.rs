//! The standard-library compatibility matrix (`nodehost compat`): for each
//! module a node author might import, whether a small behaviour check
//! (`compat/stdlib_checks.py`) gives, on each Python runtime, what it gives
//! on CPython (`compat/expected.json`, made by running the checks file with
//! CPython). A module that imports but behaves differently fails.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::OnceLock;

use nodehost_sdk::Value;

use crate::error::{Error, NodeFailure, Stage};
use crate::factory::{NodeSpec, Runtime};
use crate::policy::SandboxPolicy;
use crate::sandbox::WasmEngine;

/// The private `/tmp` the checks' nodes are given (policy `tmp`): the
/// `tempfile`, `shutil` and `pathlib` checks write there.
pub const CHECKS_TMP: u64 = 16 << 20;

/// Deadline of one check. A check is a node's first call into modules it
/// has not used yet (the `zoneinfo` check reads the zone database), so it
/// costs what a node's warm-up does; on a machine busy with other work one
/// took over a second, the default deadline.
pub const CHECK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(20);

/// The policy the checks run under: a private `/tmp` of [`CHECKS_TMP`] and
/// a deadline of [`CHECK_TIMEOUT`]; the rest is the default.
pub fn checks_policy() -> SandboxPolicy {
    SandboxPolicy { tmp: CHECKS_TMP, timeout: CHECK_TIMEOUT, ..SandboxPolicy::default() }
}

/// The checks, one function per module (shared with the tests).
pub const CHECKS_SOURCE: &str = include_str!("../../compat/stdlib_checks.py");

/// What CPython gives for each check: `{"python": version, "checks": {name:
/// text}}`, written by `python3 host/compat/stdlib_checks.py`.
pub const EXPECTED_SOURCE: &str = include_str!("../../compat/expected.json");

/// CPython's text for check `name` (from [`EXPECTED_SOURCE`]), if recorded.
pub fn expected(name: &str) -> Option<&'static str> {
    static EXPECTED: OnceLock<HashMap<String, String>> = OnceLock::new();
    EXPECTED
        .get_or_init(|| {
            let doc: serde_json::Value = serde_json::from_str(EXPECTED_SOURCE).expect("compat/expected.json is JSON");
            doc["checks"]
                .as_object()
                .expect("compat/expected.json has \"checks\"")
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                .collect()
        })
        .get(name)
        .map(String::as_str)
}

/// Whether check `name` giving `got` behaves as on CPython: `Ok`, or what
/// went wrong (the error, or where the text first differs from CPython's).
pub fn judge(name: &str, got: &str) -> Result<(), String> {
    if let Some(error) = got.strip_prefix("error: ") {
        return Err(error.to_owned());
    }
    let Some(want) = expected(name) else {
        return Err("no CPython output recorded (regenerate compat/expected.json)".into());
    };
    if got == want {
        return Ok(());
    }
    let at = got.chars().zip(want.chars()).take_while(|(a, b)| a == b).count();
    let around = |text: &str| -> String {
        let start = at.saturating_sub(12);
        let cut: String = text.chars().skip(start).take(40).collect();
        let before = if start > 0 { "…" } else { "" };
        let after = if text.chars().count() > start + 40 { "…" } else { "" };
        format!("{before}{cut}{after}")
    };
    Err(format!("differs: gives {} where CPython gives {}", around(got), around(want)))
}

/// Results: for each check (row) and runtime (column), `Ok(())` or the error.
pub struct CompatMatrix {
    /// The runtimes checked, one per column.
    pub runtimes: Vec<Runtime>,
    /// The checks' names, one per row.
    pub checks: Vec<String>,
    /// `results[check][runtime]`: `Ok` when the check gives CPython's
    /// output, else the error or the difference.
    pub results: Vec<Vec<Result<(), String>>>,
}

/// Run every check on each of `runtimes` (call on a node thread). A check
/// that breaks its node (a trap, a timeout) costs only that check: the node
/// is made afresh for the next.
///
/// # Errors
/// When the checks cannot be listed in the sandbox.
pub fn run(engine: &WasmEngine, runtimes: &[Runtime]) -> Result<CompatMatrix, Error> {
    // With a private /tmp (policy `tmp`), as a node that uses `tempfile`
    // would be given.
    let policy = checks_policy();
    let spec = |rt| {
        NodeSpec::python("compat", "stdlib_checks.py", CHECKS_SOURCE, "StdlibCheck", rt).with_policy(policy.clone())
    };
    let mut node = spec(Runtime::Wasm).create(engine)?;
    let mut out = Vec::new();
    node.process(Value::from("*"), &mut out).map_err(|failure| Error::Node {
        node: "compat".into(),
        stage: Stage::Item(1),
        failure,
    })?;
    let checks: Vec<String> = match out.pop() {
        Some(Value::List(names)) => names.iter().filter_map(|n| n.as_str().map(str::to_owned)).collect(),
        other => {
            return Err(Error::Node {
                node: "compat".into(),
                stage: Stage::Item(1),
                failure: NodeFailure::InvalidValue(format!("the checks module listed {other:?}, not a list of names")),
            });
        }
    };
    let mut results = vec![Vec::new(); checks.len()];
    for &rt in runtimes {
        let mut node = None;
        for (i, check) in checks.iter().enumerate() {
            if node.is_none() {
                node = match spec(rt).create(engine) {
                    Ok(n) => Some(n),
                    Err(e) => {
                        results[i].push(Err(format!("node not created: {e}")));
                        continue;
                    }
                };
            }
            let mut out = Vec::new();
            let result = match node.as_mut().unwrap().process(Value::from(check.as_str()), &mut out) {
                Ok(()) => match out.first().and_then(Value::as_str) {
                    Some(got) => judge(check, got),
                    None => Err(format!("gave {out:?}")),
                },
                Err(failure) => {
                    node = None;
                    Err(failure.to_string().lines().next().unwrap_or("").to_owned())
                }
            };
            results[i].push(result);
        }
    }
    Ok(CompatMatrix { runtimes: runtimes.to_vec(), checks, results })
}

impl CompatMatrix {
    /// A Markdown table: a row per check, a column per runtime.
    pub fn markdown(&self) -> String {
        let mut s = String::from(
            "# Standard-library compatibility\n\nGenerated by `nodehost compat`: whether a small behaviour check of each module (`host/compat/stdlib_checks.py`) gives, on each Python runtime, exactly what it gives on CPython (`host/compat/expected.json`). `no:` is an error, `differs:` shows where the output first departs from CPython's. `wasm` is RustPython in the sandbox, `wasm-cpython` CPython built by componentize-py in the sandbox.\n\n",
        );
        let _ = writeln!(s, "| module | {} |", self.runtimes.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(" | "));
        let _ = writeln!(s, "| --- |{}", " --- |".repeat(self.runtimes.len()));
        for (check, row) in self.checks.iter().zip(&self.results) {
            let cells: Vec<String> = row
                .iter()
                .map(|r| match r {
                    Ok(()) => "ok".into(),
                    Err(e) if e.starts_with("differs: ") => e.replace('|', "\\|").replace('\n', " "),
                    Err(e) => format!("no: {}", e.replace('|', "\\|").chars().take(70).collect::<String>()),
                })
                .collect();
            let _ = writeln!(s, "| {} | {} |", check.replace('_', "."), cells.join(" | "));
        }
        let _ = writeln!(s);
        for (i, rt) in self.runtimes.iter().enumerate() {
            let ok = self.results.iter().filter(|row| row.get(i).is_some_and(Result::is_ok)).count();
            let _ = writeln!(s, "- {rt}: {ok} of {} pass", self.checks.len());
        }
        s
    }

    /// The same as JSON: `{"runtimes": [...], "modules": {name: {runtime: "ok" | error}}}`.
    pub fn json(&self) -> serde_json::Value {
        let modules: serde_json::Map<String, serde_json::Value> = self
            .checks
            .iter()
            .zip(&self.results)
            .map(|(check, row)| {
                let cells: serde_json::Map<String, serde_json::Value> = self
                    .runtimes
                    .iter()
                    .zip(row)
                    .map(|(rt, r)| (rt.as_str().to_owned(), serde_json::Value::from(r.as_ref().err().map_or("ok", |e| e.as_str()))))
                    .collect();
                (check.replace('_', "."), cells.into())
            })
            .collect();
        serde_json::json!({ "runtimes": self.runtimes.iter().map(|r| r.as_str()).collect::<Vec<_>>(), "modules": modules })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outputs_are_judged_against_cpython() {
        let want = expected("json").expect("json is recorded");
        assert_eq!(judge("json", want), Ok(()));
        let wrong = want.replacen("2.5", "2.4", 1);
        let e = judge("json", &wrong).unwrap_err();
        assert!(e.starts_with("differs: gives") && e.contains("2.4") && e.contains("2.5"), "{e}");
        assert_eq!(judge("json", "error: ImportError: no json"), Err("ImportError: no json".into()));
        assert!(judge("no-such-check", "[]").unwrap_err().contains("no CPython output"));
    }

    #[test]
    fn every_check_has_cpythons_output() {
        let names = CHECKS_SOURCE.lines().filter_map(|l| l.strip_prefix("def _")).filter_map(|l| l.split('(').next());
        for name in names.filter(|n| !matches!(*n, "typing_hinted" | "inspect_documented")) {
            let want = expected(name).unwrap_or_else(|| panic!("{name}: not in compat/expected.json"));
            assert!(!want.starts_with("error: "), "{name}: CPython itself fails: {want}");
        }
    }
}
