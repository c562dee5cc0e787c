//! The edits that give RustPython's sets CPython's iteration order
//! (`guest-python/component/rustpython-patch/nodehost_set_order.rs` says
//! why and how): each set keeps a `Table` laid out as CPython's, told of
//! every element added and removed, and asked for the order wherever a set
//! is read in order; and the set operations whose order CPython fixes by
//! its algorithm (`a | b`, `a ^ b`, `s.update(t)`, `{*t}`, `s.pop()`,
//! `s -= t`, a set literal's constant) take CPython's steps.

/// The module's name in `src/`, and where it is under the component.
pub const MODULE: (&str, &str) = ("nodehost_set_order.rs", "rustpython-patch/nodehost_set_order.rs");

/// (file, anchor, text inserted after the anchor)
pub const EDITS: &[(&str, &str, &str)] = &[
    ("src/lib.rs", "pub mod warn;\n", "mod nodehost_set_order;\n"),
    // The table, in the set's own table (`Dict<()>`: only sets use it), so
    // it changes under the same lock as the elements.
    (
        "src/dict_inner.rs",
        "    indices: Vec<IndexEntry>,\n    entries: Vec<Option<DictEntry<T>>>,\n",
        "    /// nodehost: a set's elements as CPython lays them out.\n    order: Option<Box<crate::nodehost_set_order::Table>>,\n",
    ),
    (
        "src/dict_inner.rs",
        "                    v.value.traverse(tracer_fn);\n                }\n            })\n            .count();\n",
        "        if let Some(order) = &self.order {\n            order.keys().for_each(|key| key.traverse(tracer_fn));\n        }\n",
    ),
    // A copy (the table's clone is a copy's table, as CPython lays it out).
    ("src/dict_inner.rs", "                entries: Vec::with_capacity(inner.used),\n", "                order: inner.order.clone(),\n"),
    ("src/dict_inner.rs", "                indices: vec![IndexEntry::FREE; 8],\n                entries: Vec::new(),\n", "                order: None,\n"),
    // Every element added, removed, or cleared away. Each check starts with
    // `size_of::<T>() == 0` (a set's `T` is `()`), so a dict's code has none.
    (
        "src/dict_inner.rs",
        "        index_entry: IndexEntry,\n    ) -> usize {\n",
        "        if size_of::<T>() == 0 {\n            self.order.get_or_insert_with(Default::default).add(hash_value, key.clone());\n        }\n",
    ),
    (
        "src/dict_inner.rs",
        "        let removed = slot.take();\n",
        "        if size_of::<T>() == 0\n            && let (Some(order), Some(entry)) = (inner.order.as_deref_mut(), &removed)\n        {\n            order.remove(entry.hash, &entry.key);\n        }\n",
    ),
    (
        "src/dict_inner.rs",
        "            inner.indices.get_unchecked_mut(entry.index)\n        } = IndexEntry::DUMMY;\n",
        "        if size_of::<T>() == 0\n            && let Some(order) = inner.order.as_deref_mut()\n        {\n            order.remove(entry.hash, &entry.key);\n        }\n",
    ),
    (
        "src/dict_inner.rs",
        "            inner.filled = 0;\n            // defer dec rc\n",
        "            if size_of::<T>() == 0\n                && let Some(order) = inner.order.as_deref_mut()\n            {\n                order.clear();\n            }\n",
    ),
    (
        "src/dict_inner.rs",
        "        inner.indices.iter_mut().for_each(|i| *i = IndexEntry::FREE);\n",
        "        inner.order = None;\n",
    ),
    // Read in CPython's order.
    (
        "src/dict_inner.rs",
        "    pub(crate) fn keys(&self) -> Vec<PyObjectRef> {\n",
        "        if size_of::<T>() == 0\n            && let Some(order) = self.read().order.as_deref()\n        {\n            return order.keys().cloned().collect();\n        }\n",
    ),
    (
        "src/dict_inner.rs",
        "    pub(crate) fn keys_with_hashes(&self) -> Vec<(PyObjectRef, HashValue)> {\n",
        "        if size_of::<T>() == 0\n            && let Some(order) = self.read().order.as_deref()\n        {\n            return order.elements().map(|(key, hash)| (key.clone(), hash)).collect();\n        }\n",
    ),
    (
        "src/dict_inner.rs",
        "    pub(crate) fn next_entry_checked<R>(\n        &self,\n        mut position: EntryIndex,\n        old: &DictSize,\n        project: impl FnOnce(&PyObject, &T) -> R,\n    ) -> Result<Option<(usize, R)>, DictChanged> {\n",
        NEXT_IN_ORDER,
    ),
    ("src/dict_inner.rs", "type LookupResult = (IndexEntry, IndexIndex);\n", SET_DICT_METHODS),
    // The set operations.
    ("src/builtins/set.rs", "pub(crate) type SetContentType = dict_inner::Dict<()>;\n", SET_METHODS),
    (
        "src/builtins/set.rs",
        "    pub(super) fn union(&self, other: ArgIterable, vm: &VirtualMachine) -> PyResult<Self> {\n",
        "        // nodehost: as CPython's `set_update_internal` (a set merged in\n        // one step, a dict after one resize).\n        if true {\n            let set = self.clone();\n            set.update_internal(other.as_object().to_owned(), vm)?;\n            return Ok(set);\n        }\n",
    ),
    (
        "src/builtins/set.rs",
        "    fn merge_set(&self, any_set: AnySet, vm: &VirtualMachine) -> PyResult<()> {\n",
        "        if true {\n            return self.content.nodehost_merge_set(vm, &any_set.as_inner().content);\n        }\n",
    ),
    (
        "src/builtins/set.rs",
        "    fn merge_dict(&self, dict: &Py<PyDict>, vm: &VirtualMachine) -> PyResult<()> {\n",
        "        self.content.nodehost_presize(dict._as_dict_inner().len());\n",
    ),
    (
        "src/builtins/set.rs",
        "    fn pop(&self, vm: &VirtualMachine) -> PyResult {\n",
        "        if let Some(key) = self.content.nodehost_pop() {\n            return Ok(key);\n        }\n",
    ),
    (
        "src/builtins/set.rs",
        "                    self.content.delete_if_exists_known_hash(vm, &*item, hash)?;\n                }\n",
        "                self.content.nodehost_after_difference();\n",
    ),
    (
        "src/builtins/set.rs",
        "                self.content.delete_if_exists(vm, &*item?)?;\n            }\n",
        "            self.content.nodehost_after_difference();\n",
    ),
    (
        "src/builtins/set.rs",
        "            if let Some(elements) = Self::cached_hashes(iterable.as_object(), vm) {\n                // the source is already duplicate-free\n",
        "                if extract_set(iterable.as_object()).is_some_and(|set| PyRc::ptr_eq(&self.content, &set.content)) {\n                    self.clear();\n                    continue;\n                }\n",
    ),
    // `a ^ b`, `a.symmetric_difference(b)`: on `a` itself, not on a copy.
    (
        "src/builtins/set.rs",
        "    #[must_use]\n    pub fn elements(&self) -> Vec<PyObjectRef> {\n        self.inner.elements()\n    }\n\n    fn fold_op(\n        &self,\n        others: impl core::iter::Iterator<Item = ArgIterable>,\n        op: fn(&PySetInner, ArgIterable, &VirtualMachine) -> PyResult<PySetInner>,\n        vm: &VirtualMachine,\n    ) -> PyResult<Self> {\n",
        XOR_FOLD,
    ),
    (
        "src/builtins/set.rs",
        "            inner: self.inner.fold_op(others, op, vm)?,\n        })\n    }\n\n    fn op(\n        &self,\n        other: AnySet,\n        op: fn(&PySetInner, ArgIterable, &VirtualMachine) -> PyResult<PySetInner>,\n        vm: &VirtualMachine,\n    ) -> PyResult<Self> {\n",
        XOR_OP,
    ),
    (
        "src/builtins/set.rs",
        "        // FIXME: empty set check\n        Ok(Self {\n            inner,\n            ..Default::default()\n        })\n    }\n\n    pub fn elements(&self) -> Vec<PyObjectRef> {\n        self.inner.elements()\n    }\n\n    fn fold_op(\n        &self,\n        others: impl core::iter::Iterator<Item = ArgIterable>,\n        op: fn(&PySetInner, ArgIterable, &VirtualMachine) -> PyResult<PySetInner>,\n        vm: &VirtualMachine,\n    ) -> PyResult<Self> {\n",
        XOR_FOLD,
    ),
    (
        "src/builtins/set.rs",
        "            ..Default::default()\n        })\n    }\n\n    fn op(\n        &self,\n        other: AnySet,\n        op: fn(&PySetInner, ArgIterable, &VirtualMachine) -> PyResult<PySetInner>,\n        vm: &VirtualMachine,\n    ) -> PyResult<Self> {\n",
        XOR_OP,
    ),
    // A set literal's frozenset constant as CPython's compiler leaves it.
    (
        "src/builtins/code.rs",
        "                PyFrozenSet::from_iter(vm, elements)\n                    .unwrap()\n",
        "                    .nodehost_rebuilt(vm)\n",
    ),
    // `{*a}` as `set.update(a)`, as CPython's `SET_UPDATE` does it.
    (
        "src/frame.rs",
        "            Instruction::SetUpdate { i } => {\n                let iterable = self.pop_value();\n                let obj = self.nth_value(i.get(arg) - 1);\n                let set: &Py<PySet> = unsafe {\n                    // SAFETY: compiler guarantees correct type\n                    obj.downcast_unchecked_ref()\n                };\n",
        "                if true {\n                    set.nodehost_update(iterable, vm)?;\n                    return Ok(None);\n                }\n",
    ),
];

/// The set iterator's step, over the table's slots.
const NEXT_IN_ORDER: &str = "        if size_of::<T>() == 0 {
            let inner = self.read();
            if let Some(order) = inner.order.as_deref() {
                if inner.size() != *old {
                    return Err(DictChanged);
                }
                // SAFETY: `T` is zero-sized: a dangling, aligned pointer is a valid `&T`.
                let unit: &T = unsafe { core::ptr::NonNull::dangling().as_ref() };
                return Ok(order.next_from(position).map(|(next, key)| (next, project(&**key, unit))));
            }
        }
";

/// What the set code asks of its table.
const SET_DICT_METHODS: &str = "
/// nodehost: the set operations CPython's order needs (see `crate::nodehost_set_order`).
impl Dict<()> {
    /// Before `adding` elements of a dict are merged in.
    pub(crate) fn nodehost_presize(&self, adding: usize) {
        self.write().order.get_or_insert_with(Default::default).presize(adding);
    }

    /// Merge the set `other` in, as CPython's `set_merge` does.
    pub(crate) fn nodehost_merge_set(&self, vm: &VirtualMachine, other: &Self) -> PyResult<()> {
        if core::ptr::eq(self, other) {
            return Ok(());
        }
        let (elements, (size, clean)) = match other.read().order.as_deref() {
            Some(order) if order.len() > 0 => (order.active().collect::<Vec<_>>(), order.shape()),
            _ => return Ok(()),
        };
        let placed = {
            let mut inner = self.write();
            let order = inner.order.get_or_insert_with(Default::default);
            order.presize(elements.len());
            let fast = order.takes_merge_fast_path();
            if fast {
                order.place_merged(size, clean, elements.iter().cloned());
            }
            fast
        };
        let added = elements.iter().try_for_each(|(_, hash, key)| self.insert_known_hash(vm, &**key, *hash, ()));
        if placed {
            let mut inner = self.write();
            match (inner.order.as_deref_mut(), &added) {
                (Some(order), Ok(())) => order.end_placing(),
                // A comparison raised: the elements are not all in. Lay out
                // the ones that are.
                _ => {
                    let mut order = crate::nodehost_set_order::Table::default();
                    for entry in inner.entries.iter().flatten() {
                        order.add(entry.hash, entry.key.clone());
                    }
                    inner.order = Some(Box::new(order));
                }
            }
        }
        added
    }

    /// After elements were removed by `difference_update`.
    pub(crate) fn nodehost_after_difference(&self) {
        if let Some(order) = self.write().order.as_deref_mut() {
            order.after_difference();
        }
    }

    /// `set.pop()`: remove the element CPython would, if the set has any.
    pub(crate) fn nodehost_pop(&self) -> Option<PyObjectRef> {
        let removed;
        let key = {
            let inner = &mut *self.write();
            let (hash, key) = inner.order.as_deref_mut()?.pop()?;
            let mut probe = GenIndexes::new(hash, (inner.indices.len() - 1) as i64);
            let found = loop {
                let index_index = probe.next();
                match inner.indices[index_index] {
                    IndexEntry::FREE => break None,
                    IndexEntry::DUMMY => {}
                    index => {
                        let at = index.index().unwrap();
                        if inner.entries[at].as_ref().is_some_and(|entry| entry.key.is(&key)) {
                            break Some((index_index, at));
                        }
                    }
                }
            };
            let (index_index, at) = found.expect(\"a set's order table holds only its elements\");
            inner.indices[index_index] = IndexEntry::DUMMY;
            inner.used -= 1;
            removed = inner.entries[at].take();
            self.invalidate_keys_version();
            key
        };
        drop(removed);
        Some(key)
    }
}
";

/// Set methods the edits call.
const SET_METHODS: &str = "
impl PySet {
    /// nodehost: `{*iterable}` (`SET_UPDATE`), as `set.update(iterable)`.
    pub(crate) fn nodehost_update(&self, iterable: PyObjectRef, vm: &VirtualMachine) -> PyResult<()> {
        self.inner.update_internal(iterable, vm)
    }
}

impl PyFrozenSet {
    /// nodehost: a frozenset constant (`{1, 2, 3}` compiles to one) as
    /// CPython's compiler leaves it: made from the literal's elements, then
    /// made again from its own iteration order when constants are merged.
    pub(crate) fn nodehost_rebuilt(self, vm: &VirtualMachine) -> Self {
        Self::from_iter(vm, self.elements()).unwrap_or(self)
    }
}

impl PySetInner {
    /// nodehost: `a ^ b` as CPython builds it: a new set of `b`, then each
    /// element of `a` (itself, not a copy) removed from it or added.
    fn nodehost_symmetric_difference(
        &self,
        others: impl core::iter::Iterator<Item = ArgIterable>,
        vm: &VirtualMachine,
    ) -> PyResult<Self> {
        let mut result: Option<Self> = None;
        for other in others {
            let left = result.as_ref().unwrap_or(self);
            let next = Self::default();
            next.update_internal(other.as_object().to_owned(), vm)?;
            for (item, hash) in left.content.keys_with_hashes() {
                next.content.delete_or_insert_known_hash(vm, &item, hash, ())?;
            }
            result = Some(next);
        }
        Ok(result.unwrap_or_else(|| self.copy()))
    }

    /// nodehost: whether a set operation is `symmetric_difference`.
    fn nodehost_is_symmetric_difference(op: fn(&Self, ArgIterable, &VirtualMachine) -> PyResult<Self>) -> bool {
        op as usize == Self::symmetric_difference as usize
    }
}
";

/// At the start of `fold_op` (`a.symmetric_difference(b)`).
const XOR_FOLD: &str = "        if PySetInner::nodehost_is_symmetric_difference(op) {
            return Ok(Self { inner: self.inner.nodehost_symmetric_difference(others, vm)?, ..Default::default() });
        }
";

/// At the start of `op` (`a ^ b`).
const XOR_OP: &str = "        if PySetInner::nodehost_is_symmetric_difference(op) {
            let others = core::iter::once(other.into_iterable(vm)?);
            return Ok(Self { inner: self.inner.nodehost_symmetric_difference(others, vm)?, ..Default::default() });
        }
";
