//! [`SandboxPolicy`]: what one node may use. The defaults deny everything a
//! node does not need: no host files, no environment, no network, no stdin;
//! and bound what it may take: memory, CPU time per call, outputs, log
//! volume, and the bytes in its private `/tmp` (off unless the policy names
//! `tmp`: then a fresh empty directory per instance, removed with it).

use std::time::Duration;

use serde::{Deserialize, Deserializer};

/// Limits and grants for one node. Every field has a safe default, so a
/// manifest names only what it changes:
///
/// ```toml
/// [[node]]
/// policy = { memory = "64MiB", timeout = "250ms", env = ["LANG"] }
/// ```
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SandboxPolicy {
    /// Most linear memory the node may have (bytes; `"64MiB"` in manifests).
    #[serde(deserialize_with = "de_bytes")]
    pub memory: u64,
    /// Hard CPU deadline of one call (process or flush), enforced by epoch
    /// interruption: past it the call traps and the instance is lost
    /// (`"1s"`, `"250ms"` in manifests). On the un-sandboxed Python runtimes
    /// it is a wall-clock deadline at which `nodehost.DeadlineExceeded` is
    /// raised in the running code, and the node survives.
    #[serde(deserialize_with = "de_duration")]
    pub timeout: Duration,
    /// Soft deadline of one call, for interruptible nodes: past it the host
    /// asks the node to stop, and a Python node gets `DeadlineExceeded`
    /// raised where it runs, with a traceback, and survives. Defaults to 80%
    /// of `timeout`.
    #[serde(deserialize_with = "de_opt_duration")]
    pub soft_timeout: Option<Duration>,
    /// Whether a Python node's running code may be interrupted at the soft
    /// deadline. Unset, the runtime decides (see
    /// [`NodeSpec::effective_policy`](crate::NodeSpec::effective_policy)):
    /// on in the RustPython sandbox, where it costs about 0.1% (an
    /// interruption checkpoint in the interpreter); off on `wasm-cpython`,
    /// whose only hook is `sys.monitoring` (slower on loop-heavy code), and
    /// on the un-sandboxed runtimes, whose hard deadline already raises in
    /// the running code. Where a node is made without a spec, unset is off.
    pub interruptible: Option<bool>,
    /// Deadline for creating the node (starting the interpreter, loading
    /// the module, running `__init__`); on the un-sandboxed Python runtimes,
    /// for loading the module and running `__init__`, as `timeout` is kept
    /// there.
    #[serde(deserialize_with = "de_duration")]
    pub init_timeout: Duration,
    /// Deterministic budget per call, in wasm fuel units (about one per
    /// instruction); none by default. Nodes with fuel run on an engine that
    /// counts it, which is slower.
    pub fuel: Option<u64>,
    /// Most native stack the node's wasm code may use (bytes); the engine's
    /// default ([`DEFAULT_WASM_STACK`]) when absent.
    #[serde(deserialize_with = "de_opt_bytes_usize")]
    pub max_wasm_stack: Option<usize>,
    /// Most outputs one input may give.
    pub max_outputs: u32,
    /// Most bytes one output may hold (strings, bytes and buffers counted by
    /// their size, containers by their entries).
    #[serde(deserialize_with = "de_bytes")]
    pub max_output_bytes: u64,
    /// Most bytes of log text and guest stdout/stderr kept per call; the
    /// rest is dropped with a warning.
    #[serde(deserialize_with = "de_bytes_usize")]
    pub max_log_bytes: usize,
    /// Host directories the node may open, read-only unless `writable`.
    pub dirs: Vec<DirGrant>,
    /// Host environment variables the node may read (by name; their values
    /// are taken from the host's environment when the node is created).
    pub env: Vec<String>,
    /// Most bytes the node's private `/tmp` may hold (`"16MiB"` in
    /// manifests; 0, the default, for no `/tmp`: making and removing the
    /// directory costs each instance about 0.2 ms, six times a bare
    /// instantiation, and the default grants nothing). With it, each node
    /// instance gets a fresh empty
    /// host directory there, removed with the instance; files count by
    /// their length rounded up to 4 KiB, directories and links 4 KiB each.
    /// A write past the bound traps and the node fails with `Limit::Tmp`.
    /// Sandboxed runtimes only (an un-sandboxed node has the host's own).
    #[serde(deserialize_with = "de_bytes")]
    pub tmp: u64,
}

/// A host directory made visible to a node.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DirGrant {
    /// The directory on the host (relative to the manifest in manifests).
    pub host: std::path::PathBuf,
    /// Where the node sees it, e.g. `/data`.
    pub guest: String,
    /// Whether the node may create, change and delete files in it.
    #[serde(default)]
    pub writable: bool,
}

/// Largest `max_wasm_stack` a policy may ask for: node threads have 32 MiB.
pub const MAX_WASM_STACK_LIMIT: usize = 16 << 20;

/// The native stack a node's wasm code may use unless its policy says
/// otherwise. The RustPython guest needs about as much of it as of its own
/// 8 MiB stack in linear memory (recursion through `functools.lru_cache`
/// takes more of this one than of its own): with this much, a Python
/// recursion too deep for the guest raises `RecursionError` in Python,
/// where with 8 MiB it trapped first and lost the instance.
pub const DEFAULT_WASM_STACK: usize = MAX_WASM_STACK_LIMIT;

/// The upper bounds of every policy field: a manifest may ask for less, never
/// more. They keep every deadline and size within what the host can
/// represent and hold (a deadline of `u64::MAX` seconds would overflow the
/// clock), whatever a manifest says.
pub mod bounds {
    use std::time::Duration;

    /// Linear memory: all a wasm32 memory can address.
    pub const MEMORY: u64 = 4 << 30;
    /// `timeout`, `soft_timeout` and `init_timeout`.
    pub const TIMEOUT: Duration = Duration::from_secs(24 * 3600);
    /// Fuel per call.
    pub const FUEL: u64 = 1 << 50;
    /// Outputs per input.
    pub const MAX_OUTPUTS: u32 = 10_000_000;
    /// Bytes of one output.
    pub const MAX_OUTPUT_BYTES: u64 = 1 << 30;
    /// Bytes of log per call.
    pub const MAX_LOG_BYTES: usize = 64 << 20;
    /// Granted directories and environment variables, each.
    pub const GRANTS: usize = 64;
    /// Bytes in a node's `/tmp`.
    pub const TMP: u64 = 4 << 30;
}

impl Default for SandboxPolicy {
    fn default() -> Self {
        SandboxPolicy {
            memory: 256 << 20,
            timeout: Duration::from_secs(1),
            soft_timeout: None,
            interruptible: None,
            init_timeout: Duration::from_secs(30),
            fuel: None,
            max_wasm_stack: None,
            max_outputs: 100_000,
            max_output_bytes: 64 << 20,
            max_log_bytes: 64 << 10,
            dirs: Vec::new(),
            env: Vec::new(),
            tmp: 0,
        }
    }
}

impl SandboxPolicy {
    /// Whether running code is to be interrupted at the soft deadline
    /// (`interruptible` unset counts as no: a
    /// [`NodeSpec`](crate::NodeSpec) decides it per runtime before the node
    /// is made).
    pub fn is_interruptible(&self) -> bool {
        self.interruptible == Some(true)
    }

    /// The soft deadline: as given, or 80% of the hard one.
    pub fn soft_deadline(&self) -> Duration {
        self.soft_timeout.unwrap_or(self.timeout * 4 / 5)
    }

    /// Check that the limits make sense together.
    ///
    /// # Errors
    /// What is wrong, in words for the manifest's author.
    pub fn check(&self) -> Result<(), String> {
        if self.memory < 1 << 20 {
            return Err(format!("memory {} is below the 1 MiB a node needs", self.memory));
        }
        if self.memory > bounds::MEMORY {
            return Err(format!("memory {} is above the limit of 4 GiB (all a wasm32 node can address)", self.memory));
        }
        if self.timeout.is_zero() || self.init_timeout.is_zero() {
            return Err("timeouts must be above zero".into());
        }
        let longest = [Some(self.timeout), self.soft_timeout, Some(self.init_timeout)].into_iter().flatten().max();
        if let Some(t) = longest.filter(|t| *t > bounds::TIMEOUT) {
            return Err(format!("a timeout of {t:?} is above the limit of {:?}", bounds::TIMEOUT));
        }
        if self.fuel.is_some_and(|f| f > bounds::FUEL) {
            return Err(format!("fuel is above the limit of {}", bounds::FUEL));
        }
        if self.max_outputs > bounds::MAX_OUTPUTS {
            return Err(format!("max_outputs is above the limit of {}", bounds::MAX_OUTPUTS));
        }
        if self.max_output_bytes > bounds::MAX_OUTPUT_BYTES {
            return Err(format!("max_output_bytes is above the limit of {} bytes", bounds::MAX_OUTPUT_BYTES));
        }
        if self.max_log_bytes > bounds::MAX_LOG_BYTES {
            return Err(format!("max_log_bytes is above the limit of {} bytes", bounds::MAX_LOG_BYTES));
        }
        if self.tmp > bounds::TMP {
            return Err(format!("tmp is above the limit of {} bytes", bounds::TMP));
        }
        if self.dirs.len() > bounds::GRANTS || self.env.len() > bounds::GRANTS {
            return Err(format!("granted directories or variables are above the limit of {} each", bounds::GRANTS));
        }
        if let Some(soft) = self.soft_timeout
            && soft >= self.timeout
        {
            return Err(format!("soft_timeout {soft:?} must be below timeout {:?}", self.timeout));
        }
        if let Some(stack) = self.max_wasm_stack
            && !(64 << 10..=MAX_WASM_STACK_LIMIT).contains(&stack)
        {
            return Err(format!("max_wasm_stack must be 64KiB..16MiB, got {stack} bytes"));
        }
        if self.max_outputs == 0 {
            return Err("max_outputs must be at least 1".into());
        }
        for dir in &self.dirs {
            if !dir.guest.starts_with('/') {
                return Err(format!("granted directory '{}' needs an absolute guest path", dir.guest));
            }
        }
        Ok(())
    }
}

/// Parse a size: a number of bytes, or a number with a unit (`B`, `KB`,
/// `KiB`, `MB`, `MiB`, `GB`, `GiB`).
pub fn parse_bytes(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let number: f64 = number.parse().map_err(|_| format!("'{text}' is not a size like \"64MiB\""))?;
    let scale: u64 = match unit.trim() {
        "" | "B" => 1,
        "KB" | "kB" => 1_000,
        "KiB" => 1 << 10,
        "MB" => 1_000_000,
        "MiB" => 1 << 20,
        "GB" => 1_000_000_000,
        "GiB" => 1 << 30,
        other => return Err(format!("unknown size unit '{other}' in '{text}' (B, KiB, MiB, GiB, KB, MB, GB)")),
    };
    let bytes = number * scale as f64;
    if !(0.0..=u64::MAX as f64).contains(&bytes) {
        return Err(format!("size '{text}' is out of range"));
    }
    Ok(bytes as u64)
}

/// Parse a duration: `"250ms"`, `"1.5s"`, `"2m"`, `"100us"`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let number: f64 = number.parse().map_err(|_| format!("'{text}' is not a duration like \"250ms\""))?;
    let seconds = match unit.trim() {
        "s" => number,
        "ms" => number / 1e3,
        "us" | "µs" => number / 1e6,
        "m" | "min" => number * 60.0,
        "" => return Err(format!("duration '{text}' needs a unit (ms, s, m)")),
        other => return Err(format!("unknown duration unit '{other}' in '{text}' (us, ms, s, m)")),
    };
    Duration::try_from_secs_f64(seconds).map_err(|_| format!("duration '{text}' is out of range"))
}

#[derive(Deserialize)]
#[serde(untagged)]
enum NumberOrText {
    Number(u64),
    Text(String),
}

fn de_bytes<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    match NumberOrText::deserialize(d)? {
        NumberOrText::Number(n) => Ok(n),
        NumberOrText::Text(t) => parse_bytes(&t).map_err(serde::de::Error::custom),
    }
}

fn de_bytes_usize<'de, D: Deserializer<'de>>(d: D) -> Result<usize, D::Error> {
    de_bytes(d).and_then(|n| usize::try_from(n).map_err(serde::de::Error::custom))
}

fn de_opt_bytes_usize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<usize>, D::Error> {
    de_bytes_usize(d).map(Some)
}

fn de_opt_duration<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    de_duration(d).map(Some)
}

fn de_duration<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let text = String::deserialize(d)?;
    parse_duration(&text).map_err(serde::de::Error::custom)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_bytes("64MiB"), Ok(64 << 20));
        assert_eq!(parse_bytes("1.5 KiB"), Ok(1536));
        assert_eq!(parse_bytes("1000"), Ok(1000));
        assert!(parse_bytes("12 parsecs").unwrap_err().contains("unknown size unit"));
        assert!(parse_bytes("lots").is_err());
    }

    #[test]
    fn policies_are_checked() {
        assert!(SandboxPolicy::default().check().is_ok());
        let p = SandboxPolicy { soft_timeout: Some(Duration::from_secs(2)), ..Default::default() };
        assert!(p.check().unwrap_err().contains("must be below timeout"));
        let p = SandboxPolicy { max_wasm_stack: Some(1 << 30), ..Default::default() };
        assert!(p.check().unwrap_err().contains("max_wasm_stack"));
        assert_eq!(SandboxPolicy::default().soft_deadline(), Duration::from_millis(800));
    }

    #[test]
    fn every_field_has_an_upper_bound() {
        let huge = parse_duration("18000000000000000000s").unwrap();
        for p in [
            SandboxPolicy { timeout: huge, ..Default::default() },
            SandboxPolicy { init_timeout: huge, ..Default::default() },
            SandboxPolicy { timeout: huge, soft_timeout: Some(huge / 2), ..Default::default() },
            SandboxPolicy { memory: u64::MAX, ..Default::default() },
            SandboxPolicy { fuel: Some(u64::MAX), ..Default::default() },
            SandboxPolicy { max_outputs: u32::MAX, ..Default::default() },
            SandboxPolicy { max_output_bytes: u64::MAX, ..Default::default() },
            SandboxPolicy { max_log_bytes: usize::MAX, ..Default::default() },
            SandboxPolicy { env: vec!["X".into(); 65], ..Default::default() },
            SandboxPolicy { tmp: u64::MAX, ..Default::default() },
        ] {
            assert!(p.check().unwrap_err().contains("limit"), "{p:?}");
        }
        let longest = SandboxPolicy { timeout: bounds::TIMEOUT, init_timeout: bounds::TIMEOUT, ..Default::default() };
        assert!(longest.check().is_ok());
        // The longest deadline can be armed without overflowing the clock.
        let _ = std::time::Instant::now() + bounds::TIMEOUT;
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert!(parse_duration("5").unwrap_err().contains("needs a unit"));
    }
}
