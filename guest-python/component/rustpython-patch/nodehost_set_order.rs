//! Added to RustPython by nodehost's build (`host/artifacts/rustpython_patch.rs`):
//! CPython's iteration order for `set` and `frozenset`.
//!
//! Why: RustPython keeps a set's elements in insertion order, CPython in the
//! slots of an open-addressing table. `list({3, 1, 2})` is `[1, 2, 3]` on
//! CPython and `[3, 1, 2]` on RustPython, and so are a graph search over
//! adjacency sets, `set.pop()`, a deduplicated list and every printed set:
//! a node gave other outputs in the sandbox than on CPython. Where the hash
//! of an element is CPython's (ints, floats, tuples of them, None, bools),
//! the order now is too.
//!
//! How: next to its own table, each set keeps a [`Table`] laid out as CPython
//! 3.11's `Objects/setobject.c` lays out its table: the same size, growth
//! and clean-up rules, nine linear probes then perturbed jumps, a deleted
//! slot reused by the next insertion that passes it, `pop` from a finger.
//! RustPython's table still answers membership (and so runs `__eq__` as
//! before); this one only says where each element is. The set code tells
//! it of every element added or removed, and asks it for the order.

use crate::{AsObject, PyObject, PyObjectRef, common::hash::PyHash};

/// A new table's size (CPython's `PySet_MINSIZE`).
const MIN_SIZE: usize = 8;
/// Slots probed one after another before a perturbed jump.
const LINEAR_PROBES: u64 = 9;
/// How far the perturbation shifts at each jump.
const PERTURB_SHIFT: u32 = 5;

#[derive(Clone, Default)]
enum Slot {
    /// Never used since the table was made.
    #[default]
    Empty,
    /// Held an element that was removed (CPython's dummy).
    Dummy,
    /// Holds an element, with its hash.
    Active(PyHash, PyObjectRef),
}

/// The slots of a set as CPython would have them.
pub(crate) struct Table {
    slots: Vec<Slot>,
    /// Slots active or dummy.
    fill: usize,
    /// Slots active.
    used: usize,
    /// Where the next `pop` starts looking.
    finger: usize,
    /// Elements added are not placed: a merge placed them already.
    placed: bool,
}

impl Default for Table {
    fn default() -> Self {
        Self { slots: vec![Slot::Empty; MIN_SIZE], fill: 0, used: 0, finger: 0, placed: false }
    }
}

/// A clone is the table of a copy of the set (`set.copy()`, `set(s)`,
/// `copy.copy(s)`): CPython merges the set into a new one, which lays its
/// elements out anew.
impl Clone for Table {
    fn clone(&self) -> Self {
        let mut copy = Self::default();
        if self.used > 0 {
            copy.presize(self.used);
            let (size, clean) = self.shape();
            copy.place_merged(size, clean, self.active());
            copy.end_placing();
        }
        copy
    }
}

impl Table {
    /// How many elements the set holds.
    pub(crate) fn len(&self) -> usize {
        self.used
    }

    fn mask(&self) -> u64 {
        self.slots.len() as u64 - 1
    }

    /// The first slot of the probe sequence for `hash`, and its perturbation.
    fn start(&self, hash: PyHash) -> (u64, u64) {
        (hash as u64 & self.mask(), hash as u64)
    }

    /// The next run's first slot (CPython's `i * 5 + 1 + perturb`).
    fn jump(&self, i: u64, perturb: &mut u64) -> u64 {
        *perturb >>= PERTURB_SHIFT;
        i.wrapping_mul(5).wrapping_add(1).wrapping_add(*perturb) & self.mask()
    }

    /// How many slots follow `i` in its run.
    fn probes(&self, i: u64) -> u64 {
        if i + LINEAR_PROBES <= self.mask() { LINEAR_PROBES } else { 0 }
    }

    /// A new element (the set did not hold an equal one): where CPython's
    /// `set_add_entry` puts it, growing the table as it would.
    pub(crate) fn add(&mut self, hash: PyHash, key: PyObjectRef) {
        if self.placed {
            return;
        }
        let (mut i, mut perturb) = self.start(hash);
        let mut reusable = None;
        let empty = 'probe: loop {
            for j in i..=i + self.probes(i) {
                match self.slots[j as usize] {
                    Slot::Empty => break 'probe j as usize,
                    // The last removed slot passed is the one reused.
                    Slot::Dummy => reusable = Some(j as usize),
                    Slot::Active(..) => {}
                }
            }
            i = self.jump(i, &mut perturb);
        };
        self.used += 1;
        if let Some(slot) = reusable {
            self.slots[slot] = Slot::Active(hash, key);
            return;
        }
        self.slots[empty] = Slot::Active(hash, key);
        self.fill += 1;
        if self.fill * 5 >= self.mask() as usize * 3 {
            self.resize(if self.used > 50_000 { self.used * 2 } else { self.used * 4 });
        }
    }

    /// An element the set no longer holds: its slot becomes a dummy.
    pub(crate) fn remove(&mut self, hash: PyHash, key: &PyObject) {
        if let Some(slot) = self.find(hash, key) {
            self.slots[slot] = Slot::Dummy;
            self.used -= 1;
        }
    }

    /// The slot holding `key` itself.
    fn find(&self, hash: PyHash, key: &PyObject) -> Option<usize> {
        let holds = |slot: &Slot| matches!(slot, Slot::Active(h, k) if *h == hash && k.is(key));
        let (mut i, mut perturb) = self.start(hash);
        // Every slot is probed within `len` runs unless the table lost track
        // of an element, which a scan of the whole table then covers.
        for _ in 0..self.slots.len() {
            for j in i..=i + self.probes(i) {
                match &self.slots[j as usize] {
                    Slot::Empty => return self.slots.iter().position(holds),
                    slot if holds(slot) => return Some(j as usize),
                    _ => {}
                }
            }
            i = self.jump(i, &mut perturb);
        }
        self.slots.iter().position(holds)
    }

    /// Every element gone, in a new small table (CPython's `set_clear_internal`).
    pub(crate) fn clear(&mut self) {
        *self = Self { finger: self.finger, ..Self::default() };
    }

    /// Remove and return the element `set.pop()` gives: the first active
    /// slot from the finger on.
    pub(crate) fn pop(&mut self) -> Option<(PyHash, PyObjectRef)> {
        if self.used == 0 {
            return None;
        }
        let mut slot = self.finger & self.mask() as usize;
        while !matches!(self.slots[slot], Slot::Active(..)) {
            slot = (slot + 1) & self.mask() as usize;
        }
        let Slot::Active(hash, key) = core::mem::replace(&mut self.slots[slot], Slot::Dummy) else {
            unreachable!("the loop stopped at an active slot")
        };
        self.used -= 1;
        self.finger = slot + 1;
        Some((hash, key))
    }

    /// A table of the smallest size above `min_used` holding the active
    /// elements, reinserted in slot order (CPython's `set_table_resize`).
    pub(crate) fn resize(&mut self, min_used: usize) {
        let mut size = MIN_SIZE;
        while size <= min_used {
            size <<= 1;
        }
        let old = core::mem::replace(&mut self.slots, vec![Slot::Empty; size]);
        for slot in old {
            if let Slot::Active(hash, key) = slot {
                self.insert_clean(hash, key);
            }
        }
        self.fill = self.used;
    }

    /// Put an element in the first empty slot of its probe sequence (the
    /// table has no dummies and room).
    fn insert_clean(&mut self, hash: PyHash, key: PyObjectRef) {
        let (mut i, mut perturb) = self.start(hash);
        loop {
            for j in i..=i + self.probes(i) {
                if let Slot::Empty = self.slots[j as usize] {
                    self.slots[j as usize] = Slot::Active(hash, key);
                    return;
                }
            }
            i = self.jump(i, &mut perturb);
        }
    }

    /// Before `adding` elements are merged in: grow once, as CPython's
    /// `set_merge` and `set_update_internal` (for a dict) do.
    pub(crate) fn presize(&mut self, adding: usize) {
        if (self.fill + adding) * 5 >= self.mask() as usize * 3 {
            self.resize((self.used + adding) * 2);
        }
    }

    /// After [`Self::presize`]: whether merging a set into this one takes
    /// CPython's fast path, which lays out every element of the other set
    /// without a lookup. It does when this table has never been filled.
    pub(crate) fn takes_merge_fast_path(&self) -> bool {
        self.fill == 0
    }

    /// The fast path of merging a set into this empty table: its elements
    /// (`(slot, hash, key)`, in slot order, from a table of `size` slots,
    /// `clean` when it had no dummies) in the same slots when the sizes
    /// match and it had no dummies, else reinserted in slot order. Until
    /// [`Self::end_placing`], elements added are taken as placed here.
    pub(crate) fn place_merged(
        &mut self,
        size: usize,
        clean: bool,
        elements: impl Iterator<Item = (usize, PyHash, PyObjectRef)>,
    ) {
        debug_assert_eq!(self.fill, 0);
        let same_slots = self.slots.len() == size && clean;
        for (slot, hash, key) in elements {
            if same_slots {
                self.slots[slot] = Slot::Active(hash, key);
            } else {
                self.insert_clean(hash, key);
            }
            self.used += 1;
        }
        self.fill = self.used;
        self.placed = true;
    }

    /// The merge's elements are all in the set now: place elements added again.
    pub(crate) fn end_placing(&mut self) {
        self.placed = false;
    }

    /// How many slots the table has, and whether none is a dummy (what
    /// [`Self::place_merged`] needs to know of a table merged).
    pub(crate) fn shape(&self) -> (usize, bool) {
        (self.slots.len(), self.fill == self.used)
    }

    /// The active slots: `(slot, hash, key)`.
    pub(crate) fn active(&self) -> impl Iterator<Item = (usize, PyHash, PyObjectRef)> + '_ {
        self.slots.iter().enumerate().filter_map(|(at, slot)| match slot {
            Slot::Active(hash, key) => Some((at, *hash, key.clone())),
            _ => None,
        })
    }

    /// After `set.difference_update()` removed elements: a table more than a
    /// quarter dummies is rebuilt, as CPython does then.
    pub(crate) fn after_difference(&mut self) {
        if self.fill - self.used > self.mask() as usize / 4 {
            self.resize(if self.used > 50_000 { self.used * 2 } else { self.used * 4 });
        }
    }

    /// The elements in iteration order, with their hashes.
    pub(crate) fn elements(&self) -> impl Iterator<Item = (&PyObjectRef, PyHash)> + '_ {
        self.slots.iter().filter_map(|slot| match slot {
            Slot::Active(hash, key) => Some((key, *hash)),
            _ => None,
        })
    }

    /// The first element at slot `position` or after, and the position after it.
    pub(crate) fn next_from(&self, position: usize) -> Option<(usize, &PyObjectRef)> {
        self.slots.iter().enumerate().skip(position).find_map(|(at, slot)| match slot {
            Slot::Active(_, key) => Some((at + 1, key)),
            _ => None,
        })
    }

    /// Each element held, for the garbage collector.
    pub(crate) fn keys(&self) -> impl Iterator<Item = &PyObjectRef> + '_ {
        self.elements().map(|(key, _)| key)
    }
}
