//! The channel between two nodes (or the input and a node): bounded by
//! items ([`CHANNEL_CAPACITY`](super::CHANNEL_CAPACITY)) and by bytes
//! ([`CHANNEL_BYTES`]), so a fast producer of large values cannot fill the
//! host's memory ahead of a slow consumer.
//!
//! The byte budget is a semaphore of bytes: a sender takes a value's
//! [`host_size`] from it before the value enters the channel (waiting while
//! the channel holds too much), and the receiver gives it back when it takes
//! the value out. A value larger than the whole budget takes all of it, so
//! it passes alone. Each edge has its own budget; fan-out sends a copy down
//! each.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use nodehost_sdk::{ArrayData, Value};
use tokio::sync::{Semaphore, mpsc};

/// Most bytes of values (as [`host_size`] counts them) waiting in one
/// channel between nodes; a single larger value passes alone.
pub const CHANNEL_BYTES: u64 = 64 << 20;

/// The channel is closed: its receiver is gone (the node stopped).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Closed;

/// What the two ends share: the byte budget and its accounting.
#[derive(Debug)]
struct Budget {
    bytes: Semaphore,
    /// The budget in permits (one per byte, at most `u32::MAX`).
    limit: u32,
    /// Bytes of the values that hold permits now (in the channel, or about
    /// to enter it), and the most there ever were.
    queued: AtomicU64,
    peak: AtomicU64,
}

/// The sending end; clone it for several senders (fan-in).
#[derive(Debug, Clone)]
pub(crate) struct Sender {
    tx: mpsc::Sender<(Value, u64)>,
    budget: Arc<Budget>,
}

/// The receiving end.
#[derive(Debug)]
pub(crate) struct Receiver {
    rx: mpsc::Receiver<(Value, u64)>,
    budget: Arc<Budget>,
}

/// A channel of at most `items` values and `bytes` bytes (up to 4 GiB).
pub(crate) fn channel(items: usize, bytes: u64) -> (Sender, Receiver) {
    let limit = u32::try_from(bytes).unwrap_or(u32::MAX).max(1);
    let budget = Arc::new(Budget {
        bytes: Semaphore::new(limit as usize),
        limit,
        queued: AtomicU64::new(0),
        peak: AtomicU64::new(0),
    });
    let (tx, rx) = mpsc::channel(items);
    (Sender { tx, budget: Arc::clone(&budget) }, Receiver { rx, budget })
}

impl Budget {
    /// Permits a value of `size` bytes holds while in the channel.
    fn permits(&self, size: u64) -> u32 {
        u32::try_from(size).unwrap_or(u32::MAX).min(self.limit)
    }

    fn entered(&self, size: u64) {
        let now = self.queued.fetch_add(size, Ordering::Relaxed) + size;
        self.peak.fetch_max(now, Ordering::Relaxed);
    }

    fn left(&self, size: u64) {
        self.queued.fetch_sub(size, Ordering::Relaxed);
        self.bytes.add_permits(self.permits(size) as usize);
    }
}

impl Sender {
    /// Send `value`, whose [`host_size`] is `size`, waiting while the
    /// channel is full by items or by bytes.
    pub(crate) async fn send(&self, value: Value, size: u64) -> Result<(), Closed> {
        let permits = self.budget.permits(size);
        self.budget.bytes.acquire_many(permits).await.map_err(|_| Closed)?.forget();
        self.budget.entered(size);
        let sent = self.tx.send((value, size)).await;
        self.check(sent.is_ok(), size)
    }

    /// [`send`](Self::send) from a thread outside the async runtime (a
    /// node's thread), blocking it.
    pub(crate) fn blocking_send(&self, value: Value, size: u64) -> Result<(), Closed> {
        let permits = self.budget.permits(size);
        match self.budget.bytes.try_acquire_many(permits) {
            Ok(permit) => permit.forget(),
            Err(tokio::sync::TryAcquireError::Closed) => return Err(Closed),
            Err(tokio::sync::TryAcquireError::NoPermits) => {
                futures_executor::block_on(self.budget.bytes.acquire_many(permits)).map_err(|_| Closed)?.forget();
            }
        }
        self.budget.entered(size);
        let sent = match self.tx.try_send((value, size)) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(item)) => self.tx.blocking_send(item).is_ok(),
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        };
        self.check(sent, size)
    }

    /// The bytes of a value that holds its permits are counted (before it
    /// enters the channel, so the receiver never takes away what was not
    /// added); give them back when it could not be sent.
    fn check(&self, sent: bool, size: u64) -> Result<(), Closed> {
        if sent {
            Ok(())
        } else {
            self.budget.left(size);
            Err(Closed)
        }
    }
}

impl Receiver {
    /// The next value, waiting for one; `None` when every sender is gone
    /// and the channel is empty.
    pub(crate) fn blocking_recv(&mut self) -> Option<Value> {
        let (value, size) = self.rx.blocking_recv()?;
        self.budget.left(size);
        Some(value)
    }

    /// The next value (async).
    #[cfg(test)]
    pub(crate) async fn recv(&mut self) -> Option<Value> {
        let (value, size) = self.rx.recv().await?;
        self.budget.left(size);
        Some(value)
    }

    /// The most bytes that were in the channel at once.
    pub(crate) fn peak_bytes(&self) -> u64 {
        self.budget.peak.load(Ordering::Relaxed)
    }
}

impl Drop for Receiver {
    /// Senders waiting for bytes give up at once.
    fn drop(&mut self) {
        self.budget.bytes.close();
    }
}

/// Bytes the host holds for `value`: every value its slot in a list or
/// map, every string, byte string or buffer its length, every map key its
/// string. The size a channel's byte budget counts; it walks the value
/// without recursion.
pub fn host_size(value: &Value) -> u64 {
    const SLOT: u64 = size_of::<Value>() as u64;
    let mut total = 0u64;
    let mut stack = vec![value];
    while let Some(v) = stack.pop() {
        total += SLOT
            + match v {
                Value::Null | Value::Bool(_) | Value::Int(_) | Value::Float(_) => 0,
                Value::BigInt(i) => i.bits().div_ceil(64) * 8,
                Value::Str(s) => s.len() as u64,
                Value::Bytes(b) => b.len() as u64,
                Value::Audio(a) => 4 * a.samples.len() as u64,
                Value::Array(a) => {
                    let item = match a.data {
                        ArrayData::F32(_) => 4,
                        ArrayData::F64(_) | ArrayData::I64(_) => 8,
                    };
                    item * a.data.len() as u64 + 4 * a.shape.len() as u64
                }
                Value::List(items) => {
                    stack.extend(items);
                    0
                }
                Value::Map(map) => {
                    stack.extend(map.iter().map(|(_, v)| v));
                    map.iter().map(|(k, _)| (size_of::<String>() + k.len()) as u64).sum()
                }
            };
    }
    total
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn bytes(n: usize) -> Value {
        Value::Bytes(vec![0; n])
    }

    #[test]
    fn sizes_count_payloads_and_slots() {
        let slot = size_of::<Value>() as u64;
        assert_eq!(host_size(&Value::Int(1)), slot);
        assert_eq!(host_size(&bytes(1000)), slot + 1000);
        let list = Value::List(vec![bytes(10), Value::Str("abc".into())]);
        assert_eq!(host_size(&list), 3 * slot + 13);
        let mut map = nodehost_sdk::Map::new();
        map.insert("key", bytes(5));
        assert_eq!(host_size(&Value::Map(map)), 2 * slot + size_of::<String>() as u64 + 3 + 5);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn bytes_in_flight_stay_within_the_budget_and_a_huge_value_passes_alone() {
        const BUDGET: u64 = 10_000;
        let (tx, mut rx) = channel(1000, BUDGET);
        let producer = tokio::spawn(async move {
            for n in [3000, 3000, 3000, 3000, 50_000, 10, 3000, 3000] {
                let v = bytes(n);
                let size = host_size(&v);
                tx.send(v, size).await.expect("send");
            }
        });
        let consumer = std::thread::spawn(move || {
            let mut got = Vec::new();
            while let Some(v) = rx.blocking_recv() {
                std::thread::sleep(Duration::from_millis(5));
                let Value::Bytes(b) = v else { panic!() };
                got.push(b.len());
            }
            (got, rx.peak_bytes())
        });
        producer.await.expect("producer");
        let (got, peak) = consumer.join().expect("consumer");
        assert_eq!(got, [3000, 3000, 3000, 3000, 50_000, 10, 3000, 3000]);
        let slot = size_of::<Value>() as u64;
        // Never more than the budget, except the one huge value alone.
        assert_eq!(peak, 50_000 + slot, "the huge value was not alone");
        // Without the byte budget, the 1000-item channel would have held
        // every value at once.
        let (tx, mut rx) = channel(1000, BUDGET);
        let sender = std::thread::spawn(move || {
            for _ in 0..20 {
                tx.blocking_send(bytes(3000), 3000 + slot).expect("send");
            }
        });
        let mut n = 0;
        while rx.recv().await.is_some() {
            tokio::time::sleep(Duration::from_millis(2)).await;
            n += 1;
        }
        sender.join().expect("sender");
        assert_eq!(n, 20);
        assert!(rx.peak_bytes() <= BUDGET, "{} bytes in flight", rx.peak_bytes());
        assert!(rx.peak_bytes() >= 3 * (3000 + slot), "the slow receiver let the queue fill: {}", rx.peak_bytes());
    }

    #[test]
    fn a_sender_waiting_for_bytes_gives_up_when_the_receiver_goes() {
        let (tx, rx) = channel(10, 100);
        tx.blocking_send(bytes(50), 100).expect("the first fits");
        let waiting = std::thread::spawn(move || tx.blocking_send(bytes(50), 100));
        std::thread::sleep(Duration::from_millis(50));
        drop(rx);
        assert_eq!(waiting.join().expect("sender"), Err(Closed));
    }
}
