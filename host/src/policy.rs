//! [`SandboxPolicy`]: what one node may use. The defaults deny everything a
//! node does not need: no files, no environment, no network, no stdin.

use std::time::Duration;

use serde::{Deserialize, Deserializer};

/// Limits and grants for one node. Every field has a safe default, so a
/// manifest names only what it changes:
///
/// ```toml
/// [nodes.policy]
/// memory = "64MiB"
/// timeout = "250ms"
/// ```
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SandboxPolicy {
    /// Most linear memory the node may have (bytes; `"64MiB"` in manifests).
    #[serde(deserialize_with = "de_bytes")]
    pub memory: u64,
    /// CPU deadline of one call (process or flush), enforced by epoch
    /// interruption (`"1s"`, `"250ms"` in manifests).
    #[serde(deserialize_with = "de_duration")]
    pub timeout: Duration,
    /// Deadline for creating the node (starting the interpreter, loading
    /// the module, running `__init__`).
    #[serde(deserialize_with = "de_duration")]
    pub init_timeout: Duration,
    /// Most outputs one input may give.
    pub max_outputs: usize,
    /// Most bytes of log text and guest stdout/stderr kept per call; the
    /// rest is dropped with a warning.
    #[serde(deserialize_with = "de_bytes_usize")]
    pub max_log_bytes: usize,
}

impl Default for SandboxPolicy {
    fn default() -> Self {
        SandboxPolicy {
            memory: 256 << 20,
            timeout: Duration::from_secs(1),
            init_timeout: Duration::from_secs(30),
            max_outputs: 100_000,
            max_log_bytes: 64 << 10,
        }
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
    fn durations() {
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert!(parse_duration("5").unwrap_err().contains("needs a unit"));
    }
}
