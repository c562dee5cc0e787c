//! Run statistics: per-node counts and call latencies, with a small
//! log-bucketed histogram for percentiles.

use std::fmt;
use std::time::Duration;

use crate::node::Runtime;

/// Call latencies in buckets of about 9% width (8 per power of two), from
/// 1 ns to about 35 minutes; constant memory whatever the run length.
#[derive(Debug, Clone)]
pub struct LatencyHistogram {
    buckets: Vec<u64>,
    count: u64,
    total: Duration,
    max: Duration,
}

const SUB: u32 = 8;

impl Default for LatencyHistogram {
    fn default() -> Self {
        LatencyHistogram { buckets: vec![0; (41 * SUB) as usize], count: 0, total: Duration::ZERO, max: Duration::ZERO }
    }
}

impl LatencyHistogram {
    /// Record one call.
    pub fn record(&mut self, d: Duration) {
        let ns = d.as_nanos().min(u64::MAX as u128) as u64;
        let i = bucket(ns).min(self.buckets.len() - 1);
        self.buckets[i] += 1;
        self.count += 1;
        self.total += d;
        self.max = self.max.max(d);
    }

    /// Number of calls recorded.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Sum of all calls.
    pub fn total(&self) -> Duration {
        self.total
    }

    /// Longest call.
    pub fn max(&self) -> Duration {
        self.max
    }

    /// Mean call time.
    pub fn mean(&self) -> Duration {
        if self.count == 0 { Duration::ZERO } else { self.total / self.count as u32 }
    }

    /// The latency below which `q` (0..=1) of the calls fall, to bucket precision.
    pub fn quantile(&self, q: f64) -> Duration {
        if self.count == 0 {
            return Duration::ZERO;
        }
        let target = ((q.clamp(0.0, 1.0) * self.count as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (i, &n) in self.buckets.iter().enumerate() {
            seen += n;
            if seen >= target {
                return Duration::from_nanos(upper_bound(i)).min(self.max);
            }
        }
        self.max
    }
}

fn bucket(ns: u64) -> usize {
    if ns < SUB as u64 {
        return ns as usize;
    }
    let exp = 63 - ns.leading_zeros();
    let mantissa = (ns >> (exp - 3)) & (SUB as u64 - 1);
    ((exp - 2) * SUB + mantissa as u32) as usize
}

fn upper_bound(i: usize) -> u64 {
    let i = i as u32;
    if i < SUB {
        return i as u64;
    }
    let exp = i / SUB + 2;
    let mantissa = (i % SUB) as u64;
    ((SUB as u64 + mantissa + 1) << (exp - 3)) - 1
}

/// What one node did during a run.
#[derive(Debug, Clone)]
pub struct NodeStats {
    pub id: String,
    pub runtime: Runtime,
    /// Time to create the node (start its sandbox, load its code).
    pub create: Duration,
    pub items_in: u64,
    pub items_out: u64,
    /// Per-call time of `process` (flush excluded).
    pub latency: LatencyHistogram,
    /// Items that failed and were skipped (with `on_error` skip or restart).
    pub failed: u64,
    /// Times the node was created afresh after a failure.
    pub restarts: u64,
}

/// What a pipeline run did.
#[derive(Debug)]
pub struct RunReport {
    pub nodes: Vec<NodeStats>,
    /// Every item that failed without stopping the run (nodes with
    /// `on_error` skip or restart), in the order they failed.
    pub failures: Vec<crate::Error>,
    /// Inputs fed to the pipeline.
    pub inputs: u64,
    /// Outputs that left the pipeline.
    pub outputs: u64,
    /// From the start of the run until every node was ready.
    pub startup: Duration,
    /// From the start of the run until the first output left the pipeline.
    pub first_output: Option<Duration>,
    /// The whole run.
    pub elapsed: Duration,
}

fn fmt_duration(d: Duration) -> String {
    let ns = d.as_nanos();
    if ns < 10_000 {
        format!("{ns} ns")
    } else if ns < 10_000_000 {
        format!("{:.1} µs", ns as f64 / 1e3)
    } else {
        format!("{:.1} ms", ns as f64 / 1e6)
    }
}

impl fmt::Display for RunReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} inputs, {} outputs in {} (nodes ready after {}, first output after {})",
            self.inputs,
            self.outputs,
            fmt_duration(self.elapsed),
            fmt_duration(self.startup),
            self.first_output.map(fmt_duration).unwrap_or_else(|| "-".into()),
        )?;
        writeln!(
            f,
            "{:<16} {:<18} {:>9} {:>7} {:>7} {:>6} {:>10} {:>10} {:>10} {:>10}",
            "node", "runtime", "create", "in", "out", "failed", "mean", "p50", "p99", "max"
        )?;
        for n in &self.nodes {
            writeln!(
                f,
                "{:<16} {:<18} {:>9} {:>7} {:>7} {:>6} {:>10} {:>10} {:>10} {:>10}",
                n.id,
                n.runtime.as_str(),
                fmt_duration(n.create),
                n.items_in,
                n.items_out,
                n.failed,
                fmt_duration(n.latency.mean()),
                fmt_duration(n.latency.quantile(0.5)),
                fmt_duration(n.latency.quantile(0.99)),
                fmt_duration(n.latency.max()),
            )?;
        }
        for e in &self.failures {
            writeln!(f, "failed: {}", e.to_string().lines().next().unwrap_or_default())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_monotonic_and_bounded() {
        let mut last = 0;
        for ns in [0u64, 1, 7, 8, 9, 15, 16, 100, 1_000, 123_456, 10_000_000_000] {
            let b = bucket(ns);
            assert!(b >= last);
            assert!(upper_bound(b) >= ns, "{ns} above its bucket's bound {}", upper_bound(b));
            assert!(upper_bound(b) <= ns + ns / 8 + 1, "bucket for {ns} too wide");
            last = b;
        }
    }

    #[test]
    fn quantiles() {
        let mut h = LatencyHistogram::default();
        for i in 1..=1000u64 {
            h.record(Duration::from_micros(i));
        }
        let p50 = h.quantile(0.5).as_micros() as f64;
        let p99 = h.quantile(0.99).as_micros() as f64;
        assert!((480.0..=560.0).contains(&p50), "{p50}");
        assert!((960.0..=1000.0).contains(&p99), "{p99}");
        assert_eq!(h.max(), Duration::from_micros(1000));
    }
}
