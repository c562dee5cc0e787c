//! A `process-many` call on the host: the batch's state, kept in the node's
//! store ([`Batch`]), and the host side of `host.next-input`, where the node
//! hands over each input's answer and gets the next input. Each input is
//! one call as far as the policy goes: its answer is checked against the
//! output limits before it is decoded, and the deadlines, fuel and log
//! budget start afresh for the next input.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use nodehost_sdk::Value;
use wasmtime::StoreContextMut;

use crate::error::NodeFailure;
use crate::node::ItemAnswer;
use crate::sandbox::bindings::types;
use crate::sandbox::call::{CallLimits, arm_call_at, take_answer};
use crate::sandbox::codec;
use crate::sandbox::store::HostState;

/// The state of the running `process-many` call, if any.
#[derive(Default)]
pub(crate) struct Batch {
    /// Inputs not given to the node yet.
    pub(crate) inputs: VecDeque<Value>,
    /// The outputs of the inputs answered, in order.
    pub(crate) out: Vec<Value>,
    /// The answers so far, one per input given.
    pub(crate) answers: Vec<ItemAnswer>,
    /// The limits of each input's call.
    limits: Option<CallLimits>,
    /// No input is given after this instant.
    ends: Option<Instant>,
    /// When the node was given the input it has now.
    item_started: Option<Instant>,
    /// Whether the node has an input it has not answered: only then may
    /// it call `next-input`.
    pub(crate) open: bool,
}

impl Batch {
    /// Start a batch whose first input the node is about to get; the rest
    /// are in `inputs`, and none is given after `budget`.
    pub(crate) fn begin(&mut self, limits: &CallLimits, budget: Duration) {
        let now = Instant::now();
        self.out.clear();
        self.answers.clear();
        self.limits = Some(limits.clone());
        self.ends = Some(now + budget);
        self.item_started = Some(now);
        self.open = true;
    }
}

/// A call of `host.next-input` the node interface does not allow: outside a
/// `process-many` call, or after the batch was over. The call traps.
#[derive(Debug, thiserror::Error)]
#[error("the node called host.next-input with no input to answer (outside process-many, or after the batch was over)")]
pub(crate) struct NextInputOutOfTurn;

/// `host.next-input`: take the answer to the input the node has, and give
/// it the next one with its call armed, or none to end the batch (no inputs
/// left, the answer was a failure, the batch's time is up, or the call is
/// being cancelled).
pub(crate) fn next_input(
    mut store: StoreContextMut<'_, HostState>,
    answer: Result<types::Outputs, types::NodeError>,
) -> wasmtime::Result<Option<types::Value>> {
    let data = store.data_mut();
    let cancelled = data.cancel.is_cancelled();
    let data_forms = data.value_forms;
    let staging = data.value_forms.staged_bytes.then_some(&data.staging);
    let batch = &mut data.batch;
    let (true, Some(limits), Some(started), Some(ends)) = (batch.open, batch.limits.as_ref(), batch.item_started, batch.ends)
    else {
        return Err(wasmtime::Error::new(NextInputOutOfTurn));
    };
    let before = batch.out.len();
    let result = take_answer(answer, limits, "process", staging, &mut batch.out);
    let failed = result.is_err();
    // One clock read per input: its end is the next one's start.
    let now = Instant::now();
    batch.answers.push(ItemAnswer::new(batch.out.len() - before, result, now - started));
    batch.open = false;
    if failed || cancelled || now >= ends {
        return Ok(None);
    }
    let Some(input) = batch.inputs.pop_front() else {
        return Ok(None);
    };
    match codec::to_wit_as(input, data_forms) {
        Ok(input) => {
            batch.open = true;
            batch.item_started = Some(now);
            let (soft, timeout, fuel) = (limits.soft, limits.timeout, limits.fuel);
            arm_call_at(&mut store, now, soft, timeout, fuel).map_err(wasmtime::Error::new)?;
            Ok(Some(input))
        }
        Err(e) => {
            batch.answers.push(ItemAnswer::failed(NodeFailure::Guest(e)));
            Ok(None)
        }
    }
}
