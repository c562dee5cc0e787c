//! The channel between two nodes (or the input and a node): bounded by
//! items ([`CHANNEL_CAPACITY`](super::CHANNEL_CAPACITY)) and by bytes
//! ([`CHANNEL_BYTES`]), so a fast producer of large values cannot fill the
//! host's memory ahead of a slow consumer.
//!
//! Values move in batches without waiting for a batch to fill: a sender
//! puts in whatever it has ready ([`Sender::send_batch`]) and the receiver
//! takes out what is queued, up to [`BATCH_ITEMS`](super::BATCH_ITEMS) at
//! once ([`Receiver::recv_batch`]). A batch that fits goes in as its
//! buffer, and comes out so: its values are not copied on the way (the
//! copies in and out of a shared queue were a tenth of a chain of cheap
//! native nodes' time); emptied buffers go back to the senders. A thread
//! is woken only when it sleeps: a busy receiver finds the next batch
//! waiting, and a sender blocks only while the channel is full. A sender
//! that waits for room is woken once the channel is half empty (or empty),
//! not at every batch taken, so under load one wake-up moves half a
//! channel of items, and the receiver still
//! has the other half to work on while the sender refills; at low load a
//! batch is one item and nothing waits. (A wake-up between threads costs
//! this machine several microseconds: with a wake-up per 256 items it was
//! a tenth of a chain of cheap native nodes' time.)
//!
//! A value counts its [`host_size`] against the byte budget while it is in
//! the channel. A value larger than the whole budget enters only an empty
//! channel, so it passes alone. Each edge has its own budget; fan-out sends
//! a copy down each.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use nodehost_sdk::{ArrayData, Value};

/// Most bytes of values (as [`host_size`] counts them) waiting in one
/// channel between nodes; a single larger value passes alone.
pub const CHANNEL_BYTES: u64 = 64 << 20;

/// The channel is closed: its receiver is gone (the node stopped).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Closed;

/// Values sent together, and their bytes (as [`host_size`] counts them).
/// A batch moves through the channel whole, as its buffer: a sender's
/// values are not copied on the way in, nor the receiver's on the way out.
#[derive(Debug)]
struct Batch {
    values: Vec<Value>,
    bytes: u64,
}

/// What a sender has left to send: a whole batch, in the caller's buffer,
/// or what is left of one that goes in part by part.
enum Outgoing<'a> {
    Whole(&'a mut Vec<Value>),
    Rest(std::vec::IntoIter<Value>),
}

/// How many emptied buffers a channel keeps for its senders to fill next...
const SPARE_BUFFERS: usize = 4;

/// ...and the largest (in values) it keeps.
const SPARE_BUFFER_ITEMS: usize = 4 * super::BATCH_ITEMS;

/// What the two ends share.
#[derive(Debug)]
struct Shared {
    state: Mutex<State>,
    /// The receiver waits here for values.
    readable: Condvar,
    /// Senders wait here for room...
    writable: Condvar,
    /// ...and async senders here.
    room: tokio::sync::Notify,
    items: usize,
    /// The most values a receiver takes at once.
    take: usize,
    bytes: u64,
}

#[derive(Debug, Default)]
struct State {
    /// The batches waiting, oldest first.
    queue: VecDeque<Batch>,
    /// Values waiting (in all batches), and their bytes; the most bytes
    /// there ever were.
    items: usize,
    bytes: u64,
    peak: u64,
    /// Buffers the receiver emptied, for senders to fill again.
    spare: Vec<Vec<Value>>,
    senders: usize,
    receiver_gone: bool,
    receiver_waiting: bool,
    senders_waiting: usize,
    async_senders_waiting: usize,
}

/// The sending end; clone it for several senders (fan-in).
#[derive(Debug)]
pub(crate) struct Sender {
    shared: Arc<Shared>,
}

/// The receiving end.
#[derive(Debug)]
pub(crate) struct Receiver {
    shared: Arc<Shared>,
}

/// A channel of at most `items` values and `bytes` bytes, whose receiver
/// takes at most `take` values at once.
pub(crate) fn channel(items: usize, take: usize, bytes: u64) -> (Sender, Receiver) {
    let shared = Arc::new(Shared {
        state: Mutex::new(State { senders: 1, ..State::default() }),
        readable: Condvar::new(),
        writable: Condvar::new(),
        room: tokio::sync::Notify::new(),
        items: items.max(1),
        take: take.max(1),
        bytes: bytes.max(1),
    });
    (Sender { shared: Arc::clone(&shared) }, Receiver { shared })
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves the queue consistent (every
        // change is a push or a take): go on with it.
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Queue what of `outgoing` fits now, in order, taking it out of
    /// `outgoing`; `bytes` is what `outgoing` holds, and is kept so. A value
    /// fits while the channel is under its item bound and stays within its
    /// byte budget with it, or when the channel is empty. Returns whether
    /// all of it went in.
    fn admit(&self, state: &mut State, outgoing: &mut Outgoing<'_>, bytes: &mut u64) -> bool {
        if let Outgoing::Whole(out) = outgoing {
            if out.is_empty() {
                return true;
            }
            if state.items + out.len() <= self.items && state.bytes.saturating_add(*bytes) <= self.bytes {
                // All of it: its buffer goes in, and the sender fills a spare.
                let values = std::mem::replace(*out, state.spare.pop().unwrap_or_default());
                Self::push(state, Batch { values, bytes: std::mem::take(bytes) });
                return true;
            }
            // Part of it: from here on its values go in part by part, each
            // part moved out of the front (splitting the buffer instead
            // would copy everything after the part, again for every part).
            *outgoing = Outgoing::Rest(std::mem::take(*out).into_iter());
        }
        let Outgoing::Rest(rest) = outgoing else { unreachable!("a whole batch went in or became the rest") };
        let (mut n, mut taken) = (0usize, 0u64);
        for value in rest.as_slice() {
            let size = host_size(value);
            let queued = state.items + n;
            if queued > 0 && (queued >= self.items || state.bytes.saturating_add(taken).saturating_add(size) > self.bytes) {
                break;
            }
            n += 1;
            taken += size;
        }
        if n > 0 {
            let values: Vec<Value> = rest.by_ref().take(n).collect();
            Self::push(state, Batch { values, bytes: taken });
            *bytes -= taken;
        }
        rest.len() == 0
    }

    fn push(state: &mut State, batch: Batch) {
        state.items += batch.values.len();
        state.bytes += batch.bytes;
        state.peak = state.peak.max(state.bytes);
        state.queue.push_back(batch);
    }

    /// Move queued values into `into`, oldest first, at most
    /// [`take`](Self::take) of them (at least one: a batch larger than that
    /// gives its first values).
    fn take_into(&self, state: &mut State, into: &mut Vec<Value>) {
        let (mut taken, mut bytes) = (0usize, 0u64);
        while let Some(front) = state.queue.front_mut() {
            let room = self.take - taken;
            if front.values.len() > room {
                if taken == 0 {
                    let part: u64 = front.values[..room].iter().map(host_size).sum();
                    into.extend(front.values.drain(..room));
                    front.bytes -= part;
                    (taken, bytes) = (room, part);
                }
                break;
            }
            let Batch { mut values, bytes: batch_bytes } = state.queue.pop_front().expect("a front batch");
            taken += values.len();
            bytes += batch_bytes;
            if into.is_empty() {
                std::mem::swap(into, &mut values);
            } else {
                into.append(&mut values);
            }
            if values.capacity() > 0 && values.capacity() <= SPARE_BUFFER_ITEMS && state.spare.len() < SPARE_BUFFERS {
                state.spare.push(values);
            }
        }
        state.items -= taken;
        state.bytes -= bytes;
    }

    /// Room was made: wake the senders that wait for it, once the channel
    /// is down to half its bounds (or empty: a value too large for half
    /// the byte budget then fits).
    fn made_room(&self, state: &State) {
        let low = state.items == 0 || (state.items <= self.items / 2 && state.bytes <= self.bytes / 2);
        if !low {
            return;
        }
        if state.senders_waiting > 0 {
            self.writable.notify_all();
        }
        if state.async_senders_waiting > 0 {
            self.room.notify_waiters();
        }
    }
}

impl Sender {
    /// Send every value of `batch`, in order, blocking while the channel is
    /// full by items or by bytes; `batch` is left empty (with a buffer to
    /// fill again). Blocks the calling thread: call it from a node's thread
    /// or a blocking task, not from async code.
    pub(crate) fn send_batch(&self, batch: &mut Vec<Value>) -> Result<(), Closed> {
        let mut bytes: u64 = batch.iter().map(host_size).sum();
        let mut outgoing = Outgoing::Whole(batch);
        let shared = &*self.shared;
        let mut state = shared.lock();
        loop {
            if state.receiver_gone {
                return Err(Closed);
            }
            let done = shared.admit(&mut state, &mut outgoing, &mut bytes);
            // A sleeping receiver takes what is there (while a full
            // channel makes this sender wait).
            if state.receiver_waiting {
                shared.readable.notify_one();
            }
            if done {
                return Ok(());
            }
            state.senders_waiting += 1;
            state = shared.writable.wait(state).unwrap_or_else(std::sync::PoisonError::into_inner);
            state.senders_waiting -= 1;
        }
    }

    /// [`send_batch`](Self::send_batch) for async code: waits for room
    /// without blocking its thread (the pipeline's input is fed from a task
    /// of the async runtime, with no thread of its own in between).
    pub(crate) async fn send_batch_async(&self, batch: &mut Vec<Value>) -> Result<(), Closed> {
        let mut bytes: u64 = batch.iter().map(host_size).sum();
        let mut outgoing = Outgoing::Whole(batch);
        let shared = &*self.shared;
        loop {
            // Registered before the check, so room made in between is seen.
            let room = shared.room.notified();
            tokio::pin!(room);
            room.as_mut().enable();
            {
                let mut state = shared.lock();
                if state.receiver_gone {
                    return Err(Closed);
                }
                let done = shared.admit(&mut state, &mut outgoing, &mut bytes);
                if state.receiver_waiting {
                    shared.readable.notify_one();
                }
                if done {
                    return Ok(());
                }
                state.async_senders_waiting += 1;
            }
            room.await;
            shared.lock().async_senders_waiting -= 1;
        }
    }

    /// Send one value (see [`send_batch`](Self::send_batch)).
    #[cfg(test)]
    pub(crate) fn send(&self, value: Value) -> Result<(), Closed> {
        self.send_batch(&mut vec![value])
    }
}

impl Clone for Sender {
    fn clone(&self) -> Self {
        self.shared.lock().senders += 1;
        Sender { shared: Arc::clone(&self.shared) }
    }
}

impl Drop for Sender {
    /// The last sender gone ends the stream: wake the receiver to see it.
    fn drop(&mut self) {
        let mut state = self.shared.lock();
        state.senders -= 1;
        if state.senders == 0 && state.receiver_waiting {
            self.shared.readable.notify_one();
        }
    }
}

impl Receiver {
    /// Wait for values and append what is queued, up to the channel's
    /// batch size, to `into`; false (with nothing appended) when every
    /// sender is gone and the channel is empty.
    pub(crate) fn recv_batch(&self, into: &mut Vec<Value>) -> bool {
        let shared = &*self.shared;
        let mut state = shared.lock();
        loop {
            if state.items > 0 {
                shared.take_into(&mut state, into);
                shared.made_room(&state);
                return true;
            }
            if state.senders == 0 {
                return false;
            }
            state.receiver_waiting = true;
            state = shared.readable.wait(state).unwrap_or_else(std::sync::PoisonError::into_inner);
            state.receiver_waiting = false;
        }
    }

    /// Whether nothing is queued now (more may come).
    pub(crate) fn is_empty(&self) -> bool {
        self.shared.lock().items == 0
    }

    /// The most bytes that were in the channel at once.
    pub(crate) fn peak_bytes(&self) -> u64 {
        self.shared.lock().peak
    }
}

impl Drop for Receiver {
    /// Senders waiting for room give up at once.
    fn drop(&mut self) {
        let mut state = self.shared.lock();
        state.receiver_gone = true;
        state.queue.clear();
        state.spare.clear();
        (state.items, state.bytes) = (0, 0);
        self.shared.made_room(&state);
    }
}

/// Bytes the host holds for `value`: every value its slot in a list or
/// map, every string, byte string or buffer its length, every map key its
/// string. The size a channel's byte budget counts; it walks the value
/// without recursion.
pub fn host_size(value: &Value) -> u64 {
    // Most values sent are scalars or strings: no walk (and no stack to
    // allocate) for them.
    if !matches!(value, Value::List(_) | Value::Map(_)) {
        return own_size(value);
    }
    let mut total = 0u64;
    let mut stack = vec![value];
    while let Some(v) = stack.pop() {
        total += own_size(v);
        match v {
            Value::List(items) => stack.extend(items),
            Value::Map(map) => stack.extend(map.iter().map(|(_, v)| v)),
            _ => {}
        }
    }
    total
}

/// Bytes `value` holds itself: its slot, its payload, a map's keys (not
/// what a list or map holds).
fn own_size(value: &Value) -> u64 {
    const SLOT: u64 = size_of::<Value>() as u64;
    SLOT + match value {
        Value::Null | Value::Bool(_) | Value::Int(_) | Value::Float(_) | Value::List(_) => 0,
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
        Value::Map(map) => map.iter().map(|(k, _)| (size_of::<String>() + k.len()) as u64).sum(),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use proptest::prelude::*;

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

    /// Receive everything with a pause after each batch; the lengths of the
    /// byte values received, and the batches' sizes.
    fn slow_receiver(rx: Receiver, pause: Duration) -> std::thread::JoinHandle<(Vec<usize>, Vec<usize>, u64)> {
        std::thread::spawn(move || {
            let (mut got, mut batches, mut batch) = (Vec::new(), Vec::new(), Vec::new());
            while rx.recv_batch(&mut batch) {
                batches.push(batch.len());
                for v in batch.drain(..) {
                    let Value::Bytes(b) = v else { panic!("not bytes") };
                    got.push(b.len());
                }
                std::thread::sleep(pause);
            }
            (got, batches, rx.peak_bytes())
        })
    }

    #[test]
    fn bytes_in_flight_stay_within_the_budget_and_a_huge_value_passes_alone() {
        const BUDGET: u64 = 10_000;
        let slot = size_of::<Value>() as u64;
        let sizes = [3000, 3000, 3000, 3000, 50_000, 10, 3000, 3000];
        let (tx, rx) = channel(1000, 1000, BUDGET);
        let receiver = slow_receiver(rx, Duration::from_millis(5));
        for n in sizes {
            tx.send_batch(&mut vec![bytes(n)]).expect("send");
        }
        drop(tx);
        let (got, _, peak) = receiver.join().expect("receiver");
        assert_eq!(got, sizes);
        // Never more than the budget, except the one huge value alone.
        assert_eq!(peak, 50_000 + slot, "the huge value was not alone");

        // Without the byte budget, the 1000-item channel would have held
        // every value at once.
        let (tx, rx) = channel(1000, 1000, BUDGET);
        let receiver = slow_receiver(rx, Duration::from_millis(2));
        for _ in 0..20 {
            tx.send(bytes(3000)).expect("send");
        }
        drop(tx);
        let (got, _, peak) = receiver.join().expect("receiver");
        assert_eq!(got.len(), 20);
        assert!(peak <= BUDGET, "{peak} bytes in flight");
        assert!(peak >= 3 * (3000 + slot), "the slow receiver let the queue fill: {peak}");
    }

    #[test]
    fn a_batch_moves_as_its_buffer_and_emptied_buffers_go_back_to_the_sender() {
        let (tx, rx) = channel(64, 64, CHANNEL_BYTES);
        let mut batch: Vec<Value> = Vec::with_capacity(16);
        batch.extend((0..10).map(Value::Int));
        let sent = batch.as_ptr();
        tx.send_batch(&mut batch).expect("send");
        assert!(batch.is_empty());
        let mut got = Vec::with_capacity(16);
        let receivers = got.as_ptr();
        assert!(rx.recv_batch(&mut got));
        assert_eq!(got, (0..10).map(Value::Int).collect::<Vec<_>>());
        assert_eq!(got.as_ptr(), sent, "the values were copied on the way");
        // The receiver's emptied buffer is the one the sender fills next.
        assert_eq!(batch.capacity(), 0, "no spare buffer before the receiver emptied one");
        batch.push(Value::Int(10));
        tx.send_batch(&mut batch).expect("send");
        assert_eq!(batch.as_ptr(), receivers, "the sender did not get the receiver's buffer");
        // A second batch queued behind the first is appended to it.
        batch.push(Value::Int(11));
        tx.send_batch(&mut batch).expect("send");
        got.clear();
        assert!(rx.recv_batch(&mut got));
        assert_eq!(got, [Value::Int(10), Value::Int(11)]);
    }

    #[test]
    fn a_batch_far_over_the_bound_goes_in_part_by_part_in_order() {
        let (tx, rx) = channel(64, 16, CHANNEL_BYTES);
        let receiver = std::thread::spawn(move || {
            let (mut got, mut batch, mut largest) = (Vec::new(), Vec::new(), 0);
            while rx.recv_batch(&mut batch) {
                largest = largest.max(batch.len());
                got.append(&mut batch);
            }
            (got, largest)
        });
        let mut batch: Vec<Value> = (0..100_000).map(Value::Int).collect();
        tx.send_batch(&mut batch).expect("send");
        assert!(batch.is_empty());
        drop(tx);
        let (got, largest) = receiver.join().expect("receiver");
        assert_eq!(got, (0..100_000).map(Value::Int).collect::<Vec<_>>());
        assert!(largest <= 16, "took {largest} at once");
    }

    #[test]
    fn a_slow_receiver_takes_what_queued_as_one_batch_within_the_item_bound() {
        let (tx, rx) = channel(16, 8, CHANNEL_BYTES);
        let receiver = slow_receiver(rx, Duration::from_millis(20));
        for _ in 0..40 {
            tx.send_batch(&mut vec![bytes(1)]).expect("send");
        }
        drop(tx);
        let (got, batches, peak) = receiver.join().expect("receiver");
        assert_eq!(got.len(), 40);
        assert!(batches.iter().all(|&n| n <= 8), "a batch past the batch size: {batches:?}");
        assert!(batches.len() < 40, "every item came alone: {batches:?}");
        let slot = size_of::<Value>() as u64 + 1;
        assert!(peak <= 16 * slot, "more than the item bound queued: {} bytes", peak);
    }

    #[test]
    fn a_sender_waiting_for_room_is_woken_when_the_channel_is_half_empty() {
        let (tx, rx) = channel(8, 2, CHANNEL_BYTES);
        tx.send_batch(&mut (0..8).map(|_| bytes(1)).collect()).expect("fills the channel");
        let sent = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let sender = {
            let sent = Arc::clone(&sent);
            std::thread::spawn(move || {
                tx.send(bytes(1)).expect("send");
                sent.store(true, std::sync::atomic::Ordering::SeqCst);
            })
        };
        let mut batch = Vec::new();
        std::thread::sleep(Duration::from_millis(30));
        assert!(rx.recv_batch(&mut batch));
        assert_eq!(batch.len(), 2, "takes at most its batch size");
        std::thread::sleep(Duration::from_millis(50));
        assert!(!sent.load(std::sync::atomic::Ordering::SeqCst), "woken with the channel three quarters full");
        assert!(rx.recv_batch(&mut batch));
        // Four of eight left: half empty, the sender goes on.
        sender.join().expect("sender");
        assert!(sent.load(std::sync::atomic::Ordering::SeqCst));
        while batch.len() < 9 {
            assert!(rx.recv_batch(&mut batch));
        }
        assert!(!rx.recv_batch(&mut batch), "the stream ends after the nine values");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_async_sender_waits_for_room_and_keeps_order() {
        let (tx, rx) = channel(4, 4, CHANNEL_BYTES);
        let receiver = slow_receiver(rx, Duration::from_millis(5));
        for chunk in 0..10 {
            let mut batch: Vec<_> = (0..7).map(|k| bytes(chunk * 7 + k)).collect();
            tx.send_batch_async(&mut batch).await.expect("send");
        }
        drop(tx);
        let (got, batches, _) = tokio::task::spawn_blocking(move || receiver.join().expect("receiver")).await.unwrap();
        assert_eq!(got, (0..70).collect::<Vec<_>>());
        assert!(batches.iter().all(|&n| n <= 4), "{batches:?}");
        // And it gives up when the receiver goes.
        let (tx, rx) = channel(1, 1, CHANNEL_BYTES);
        tx.send_batch_async(&mut vec![bytes(1)]).await.expect("the first fits");
        let waiting = tokio::spawn(async move { tx.send_batch_async(&mut vec![bytes(1)]).await });
        tokio::time::sleep(Duration::from_millis(50)).await;
        drop(rx);
        assert_eq!(waiting.await.unwrap(), Err(Closed));
    }

    #[test]
    fn a_sender_waiting_for_room_gives_up_when_the_receiver_goes() {
        let (tx, rx) = channel(10, 10, 100);
        tx.send(bytes(50)).expect("the first fits");
        let waiting = std::thread::spawn(move || tx.send(bytes(50)));
        std::thread::sleep(Duration::from_millis(50));
        drop(rx);
        assert_eq!(waiting.join().expect("sender"), Err(Closed));
    }

    #[test]
    fn a_waiting_receiver_sees_the_end_when_the_last_sender_goes() {
        let (tx, rx) = channel(10, 10, 100);
        let other = tx.clone();
        let receiver = std::thread::spawn(move || {
            let mut batch = Vec::new();
            let mut n = 0;
            while rx.recv_batch(&mut batch) {
                n += batch.len();
                batch.clear();
            }
            n
        });
        tx.send(Value::Int(1)).expect("send");
        drop(tx);
        std::thread::sleep(Duration::from_millis(20));
        other.send(Value::Int(2)).expect("the clone still sends");
        drop(other);
        assert_eq!(receiver.join().expect("receiver"), 2);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// Any number of senders with any batches: every value arrives once,
        /// each sender's in its order, and the queue never holds more than
        /// its bounds (a value over the byte budget alone).
        #[test]
        fn every_value_arrives_once_in_order_within_the_bounds(
            senders in proptest::collection::vec(
                proptest::collection::vec(proptest::collection::vec(0usize..400, 1..6), 0..12), 1..4),
            items in 1usize..6,
            take in 1usize..6,
            budget in 1u64..1500,
        ) {
            let slot = size_of::<Value>() as u64;
            let (tx, rx) = channel(items, take, budget);
            let threads: Vec<_> = senders.iter().enumerate().map(|(id, batches)| {
                let tx = tx.clone();
                let batches = batches.clone();
                std::thread::spawn(move || {
                    let mut seq = 0i64;
                    for batch in batches {
                        let mut values: Vec<_> = batch.iter().map(|&n| {
                            seq += 1;
                            Value::List(vec![Value::Int(id as i64), Value::Int(seq), bytes(n)])
                        }).collect();
                        tx.send_batch(&mut values).expect("send");
                    }
                })
            }).collect();
            drop(tx);
            let largest = senders.iter().flatten().flatten().map(|&n| 4 * slot + n as u64).max().unwrap_or(0);
            let mut last = vec![0i64; senders.len()];
            let (mut total, mut batch) = (0usize, Vec::new());
            while rx.recv_batch(&mut batch) {
                prop_assert!(batch.len() <= items.min(take), "{} items in one batch", batch.len());
                for v in batch.drain(..) {
                    let Value::List(parts) = v else { panic!("not a list") };
                    let (Value::Int(id), Value::Int(seq)) = (&parts[0], &parts[1]) else { panic!("bad value") };
                    prop_assert_eq!(*seq, last[*id as usize] + 1, "out of order");
                    last[*id as usize] = *seq;
                    total += 1;
                }
            }
            for t in threads {
                t.join().expect("sender");
            }
            prop_assert_eq!(total, senders.iter().flatten().map(Vec::len).sum::<usize>());
            prop_assert!(rx.peak_bytes() <= budget.max(largest), "peak {} over {}", rx.peak_bytes(), budget);
        }
    }
}
