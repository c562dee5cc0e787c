//! Run statistics: per-node counts and call latencies, the project's one
//! percentile function ([`LatencyHistogram`], over `hdrhistogram`) and its
//! one duration formatter ([`format_duration`]); the run report and the
//! benchmark report both use them.

use std::fmt;
use std::time::Duration;

use hdrhistogram::Histogram;

use crate::factory::Runtime;

/// Significant decimal digits the histogram keeps: quantiles are within
/// 0.1% of the recorded value.
const SIGNIFICANT_FIGURES: u8 = 3;

/// Calls shorter than this many nanoseconds are counted in a plain array
/// before they reach the histogram: below 2,048 ns a 3-significant-figure
/// HDR histogram keeps every nanosecond apart anyway, so the array loses
/// nothing, and a count in it costs a few instructions where
/// `Histogram::record` costs about 70 (a third of a cheap native chain's
/// per-item overhead, three nodes each recording every item).
const SHORT_NS: usize = 2_048;

/// Latencies in nanoseconds in an auto-resizing HDR histogram (3
/// significant figures, so memory grows with the log of the longest call,
/// not with the number of calls), with the exact count, total, minimum and
/// maximum kept beside it. Calls under [`SHORT_NS`] are counted per
/// nanosecond beside the histogram and merged into it when quantiles are
/// asked for.
#[derive(Debug, Clone)]
pub struct LatencyHistogram {
    histogram: Histogram<u64>,
    /// `short[n]`: calls of exactly `n` ns not yet in `histogram`.
    short: Box<[u64; SHORT_NS]>,
    count: u64,
    /// Nanoseconds: recording is on every item's path, and plain integers
    /// cost less there than `Duration`'s normalizing arithmetic.
    total_ns: u128,
    min_ns: u64,
    max_ns: u64,
}

impl Default for LatencyHistogram {
    fn default() -> Self {
        LatencyHistogram {
            histogram: Histogram::new(SIGNIFICANT_FIGURES).expect("3 significant figures is a valid histogram precision"),
            short: Box::new([0; SHORT_NS]),
            count: 0,
            total_ns: 0,
            min_ns: u64::MAX,
            max_ns: 0,
        }
    }
}

impl LatencyHistogram {
    /// Record one call.
    #[inline]
    pub fn record(&mut self, d: Duration) {
        let ns = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        match self.short.get_mut(ns as usize) {
            Some(n) if ns < SHORT_NS as u64 => *n += 1,
            _ => self.record_long(ns),
        }
        self.count += 1;
        self.total_ns += u128::from(ns);
        self.min_ns = self.min_ns.min(ns);
        self.max_ns = self.max_ns.max(ns);
    }

    fn record_long(&mut self, ns: u64) {
        if self.histogram.record(ns).is_err() {
            // Past what the histogram can grow to (over a century): count
            // it at the top instead.
            self.histogram.saturating_record(ns);
        }
    }

    /// Number of calls recorded.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Sum of all calls.
    pub fn total(&self) -> Duration {
        duration_ns(self.total_ns)
    }

    /// Shortest call (zero when none was recorded).
    pub fn min(&self) -> Duration {
        if self.count == 0 { Duration::ZERO } else { Duration::from_nanos(self.min_ns) }
    }

    /// Longest call.
    pub fn max(&self) -> Duration {
        Duration::from_nanos(self.max_ns)
    }

    /// Mean call time (exact: the total over the count).
    pub fn mean(&self) -> Duration {
        if self.count == 0 {
            return Duration::ZERO;
        }
        duration_ns(self.total_ns / u128::from(self.count))
    }

    /// The latency below which `q` (0..=1) of the calls fall (nearest rank,
    /// rounded up to the histogram's precision, never above [`max`](Self::max)).
    pub fn quantile(&self, q: f64) -> Duration {
        if self.count == 0 {
            return Duration::ZERO;
        }
        let q = q.clamp(0.0, 1.0);
        let at = if self.short.iter().all(|&n| n == 0) {
            self.histogram.value_at_quantile(q)
        } else {
            let mut merged = self.histogram.clone();
            for (ns, &n) in self.short.iter().enumerate().filter(|(_, n)| **n > 0) {
                // Within the histogram's range by construction (it grows to
                // hold any value), so only a count past u64 could refuse it.
                merged.saturating_record_n(ns as u64, n);
            }
            merged.value_at_quantile(q)
        };
        Duration::from_nanos(at.clamp(self.min_ns, self.max_ns))
    }
}

/// `ns` nanoseconds, or the longest `Duration` of whole nanoseconds past it.
fn duration_ns(ns: u128) -> Duration {
    Duration::from_nanos(u64::try_from(ns).unwrap_or(u64::MAX))
}

/// A duration for people, to about three significant digits: `435 ns`,
/// `1.75 µs`, `110.82 ms`, `2.50 s`.
pub fn format_duration(d: Duration) -> String {
    let ns = d.as_nanos();
    // Thresholds where the value would round up to 1000 of the smaller unit.
    if ns < 1_000 {
        format!("{ns} ns")
    } else if ns < 999_995 {
        format!("{:.2} µs", ns as f64 / 1e3)
    } else if ns < 999_995_000 {
        format!("{:.2} ms", ns as f64 / 1e6)
    } else {
        format!("{:.2} s", ns as f64 / 1e9)
    }
}

/// A byte count for people: `512 B`, `3.2 KiB`, `64.0 MiB`.
fn format_bytes(n: u64) -> String {
    if n < 1 << 10 {
        format!("{n} B")
    } else if n < 1 << 20 {
        format!("{:.1} KiB", n as f64 / 1024.0)
    } else if n < 1 << 30 {
        format!("{:.1} MiB", n as f64 / f64::from(1u32 << 20))
    } else {
        format!("{:.1} GiB", n as f64 / f64::from(1u32 << 30))
    }
}

/// What one node did during a run.
#[derive(Debug, Clone)]
pub struct NodeStats {
    /// The node's id.
    pub id: String,
    /// The runtime the node ran on.
    pub runtime: Runtime,
    /// Which of the run's threads ran it (nodes fused into one chain share
    /// a thread).
    pub thread: usize,
    /// Time to create the node (start its sandbox, load its code).
    pub create: Duration,
    /// Items the node received.
    pub items_in: u64,
    /// Outputs the node gave, flush included.
    pub items_out: u64,
    /// Per-call time of `process` (flush excluded).
    pub latency: LatencyHistogram,
    /// Items that failed and were skipped (with `on_error` skip or restart).
    pub failed: u64,
    /// Times the node was created afresh after a failure.
    pub restarts: u64,
    /// The most bytes of values (as [`host_size`](crate::pipeline::host_size)
    /// counts them) that waited for the node in its input channel at once:
    /// at most [`CHANNEL_BYTES`](crate::pipeline::CHANNEL_BYTES), or one
    /// larger value alone.
    pub input_peak_bytes: u64,
}

/// What a pipeline run did.
#[derive(Debug)]
pub struct RunReport {
    /// Each node's stats, in the pipeline's node order.
    pub nodes: Vec<NodeStats>,
    /// The items that failed without stopping the run (nodes with
    /// `on_error` skip or restart), in the order they failed: the first
    /// [`MAX_KEPT_FAILURES`](crate::pipeline::MAX_KEPT_FAILURES) of them.
    pub failures: Vec<crate::Error>,
    /// How many more items failed than `failures` keeps.
    pub failures_not_kept: u64,
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

impl fmt::Display for RunReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} inputs, {} outputs in {} (nodes ready after {}, first output after {})",
            self.inputs,
            self.outputs,
            format_duration(self.elapsed),
            format_duration(self.startup),
            self.first_output.map_or_else(|| "-".into(), format_duration),
        )?;
        writeln!(
            f,
            "{:<16} {:<18} {:>6} {:>9} {:>7} {:>7} {:>6} {:>10} {:>10} {:>10} {:>10} {:>10}",
            "node", "runtime", "thread", "create", "in", "out", "failed", "mean", "p50", "p99", "max", "queued"
        )?;
        for n in &self.nodes {
            writeln!(
                f,
                "{:<16} {:<18} {:>6} {:>9} {:>7} {:>7} {:>6} {:>10} {:>10} {:>10} {:>10} {:>10}",
                n.id,
                n.runtime.as_str(),
                n.thread,
                format_duration(n.create),
                n.items_in,
                n.items_out,
                n.failed,
                format_duration(n.latency.mean()),
                format_duration(n.latency.quantile(0.5)),
                format_duration(n.latency.quantile(0.99)),
                format_duration(n.latency.max()),
                format_bytes(n.input_peak_bytes),
            )?;
        }
        for e in &self.failures {
            writeln!(f, "failed: {}", e.to_string().lines().next().unwrap_or_default())?;
        }
        if self.failures_not_kept > 0 {
            writeln!(f, "... and {} more failed items, not kept", self.failures_not_kept)?;
        }
        Ok(())
    }
}


#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(h.min(), Duration::from_micros(1));
        assert_eq!(h.count(), 1000);
        assert_eq!(h.mean(), Duration::from_nanos(500_500));
    }

    #[test]
    fn quantiles_within_a_thousandth() {
        for ns in [1u64, 7, 999, 2_047, 123_456, 10_000_000_000, 3_600_000_000_000] {
            let mut h = LatencyHistogram::default();
            // A long call among short ones: p100 is the long one, p50 the short.
            h.record(Duration::from_nanos(1));
            h.record(Duration::from_nanos(ns));
            h.record(Duration::from_nanos(ns));
            let got = h.quantile(0.5).as_nanos() as u64;
            assert!(got >= ns && got <= ns + ns / 1000, "{ns} came back as {got}");
            assert_eq!(h.quantile(1.0), Duration::from_nanos(ns));
            assert_eq!(h.quantile(0.0), Duration::from_nanos(1));
        }
    }

    proptest::proptest! {
        /// The short calls' array is invisible: every quantile, the mean,
        /// minimum and maximum are what one HDR histogram of every call
        /// gives, short and long calls mixed in any order.
        #[test]
        fn short_calls_counted_apart_give_the_histogram_s_quantiles(
            calls in proptest::collection::vec(proptest::prop_oneof![0u64..4_096, 0u64..10_000_000_000], 1..400),
            q in 0.0f64..=1.0,
        ) {
            let mut ours = LatencyHistogram::default();
            let mut plain = Histogram::<u64>::new(SIGNIFICANT_FIGURES).unwrap();
            for &ns in &calls {
                ours.record(Duration::from_nanos(ns));
                plain.record(ns).unwrap();
            }
            let (min, max) = (*calls.iter().min().unwrap(), *calls.iter().max().unwrap());
            for q in [q, 0.0, 0.5, 0.99, 1.0] {
                proptest::prop_assert_eq!(ours.quantile(q), Duration::from_nanos(plain.value_at_quantile(q).clamp(min, max)));
            }
            proptest::prop_assert_eq!(ours.count(), calls.len() as u64);
            proptest::prop_assert_eq!((ours.min(), ours.max()), (Duration::from_nanos(min), Duration::from_nanos(max)));
            let total: u64 = calls.iter().sum();
            proptest::prop_assert_eq!(ours.mean(), Duration::from_nanos(total / calls.len() as u64));
        }
    }

    #[test]
    fn empty_histogram() {
        let h = LatencyHistogram::default();
        assert_eq!(h.count(), 0);
        assert_eq!(h.mean(), Duration::ZERO);
        assert_eq!(h.min(), Duration::ZERO);
        assert_eq!(h.quantile(0.99), Duration::ZERO);
    }

    #[test]
    fn durations_for_people() {
        let cases = [
            (0, "0 ns"),
            (435, "435 ns"),
            (999, "999 ns"),
            (1_000, "1.00 µs"),
            (1_749, "1.75 µs"),
            (999_994, "999.99 µs"),
            (999_995, "1.00 ms"),
            (110_820_000, "110.82 ms"),
            (999_995_000, "1.00 s"),
            (2_500_000_000, "2.50 s"),
        ];
        for (ns, text) in cases {
            assert_eq!(format_duration(Duration::from_nanos(ns)), text, "{ns} ns");
        }
    }
}
