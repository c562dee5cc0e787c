//! [`SmallBlocks`]: a free list per size class in front of the guest's
//! allocator, for the small blocks the interpreter makes and drops by the
//! million (an `int` object per input, a `str` and its buffer per output, a
//! frame's values, a builtin call's argument vector).
//!
//! A small block freed goes onto its class's list, and the next request of
//! that class takes it back: a few instructions, where talc looks up a bin,
//! splits and coalesces chunks. In a node formatting each input into text
//! (the corpus chain's `Format`) the allocator was a seventh of the
//! sandbox's time (perf, wasmtime's perf map). Blocks are requested from the
//! allocator below at their class's size, so any block of a class serves
//! any request of it; a list keeps at most [`LIST_BYTES`] of blocks, and
//! frees past that go back below, so what the lists hold stays under
//! [`CLASSES`] times that whatever the node frees. Larger or more aligned
//! requests, and every `realloc` between large sizes, go straight below
//! (a string growing in place, for one).
//!
//! The guest has one thread (`wasm32-wasip2` without the atomics feature,
//! which the `global_allocator` item's `cfg` requires), so the lists need
//! no lock.

use core::alloc::{GlobalAlloc, Layout};
use core::cell::UnsafeCell;
use core::ptr;

/// Class sizes step by this many bytes, which is also the alignment every
/// cached block has.
const GRAIN: usize = 8;

/// Classes: blocks of `GRAIN`, `2 * GRAIN`, ... up to `CLASSES * GRAIN`
/// (256) bytes.
const CLASSES: usize = 32;

/// The most bytes of free blocks one class's list keeps.
const LIST_BYTES: usize = 64 << 10;

/// A free block, holding the next one's address.
struct FreeBlock {
    next: *mut FreeBlock,
}

#[derive(Clone, Copy)]
struct List {
    head: *mut FreeBlock,
    len: usize,
}

/// The allocator `A` with a free list per small size class in front.
pub struct SmallBlocks<A> {
    below: A,
    lists: UnsafeCell<[List; CLASSES]>,
}

// SAFETY: the guest is single-threaded (see the module docs); the lists are
// never touched from two threads.
unsafe impl<A: Sync> Sync for SmallBlocks<A> {}

impl<A> SmallBlocks<A> {
    /// `below`, with empty lists.
    pub const fn new(below: A) -> Self {
        SmallBlocks { below, lists: UnsafeCell::new([List { head: ptr::null_mut(), len: 0 }; CLASSES]) }
    }
}

/// The class of `layout`, when its blocks are cached.
#[inline(always)]
fn class_of(layout: Layout) -> Option<usize> {
    let size = layout.size();
    (size <= CLASSES * GRAIN && layout.align() <= GRAIN).then(|| size.max(1).div_ceil(GRAIN) - 1)
}

/// The layout a block of class `class` is requested from below with.
#[inline(always)]
fn class_layout(class: usize) -> Layout {
    // SAFETY: a multiple of GRAIN, at most 256 bytes; GRAIN is a power of two.
    unsafe { Layout::from_size_align_unchecked((class + 1) * GRAIN, GRAIN) }
}

impl<A: GlobalAlloc> SmallBlocks<A> {
    /// Take a block of `class`: from its list, else from below.
    ///
    /// # Safety
    /// As [`GlobalAlloc::alloc`], for [`class_layout`]`(class)`.
    #[inline(always)]
    unsafe fn take(&self, class: usize) -> *mut u8 {
        // SAFETY: one thread, and no reference to the lists outlives this call.
        let list = unsafe { &mut (*self.lists.get())[class] };
        let block = list.head;
        if block.is_null() {
            // SAFETY: a class layout has a non-zero size.
            return unsafe { self.below.alloc(class_layout(class)) };
        }
        // SAFETY: a block on the list is free and holds the next one's address.
        list.head = unsafe { (*block).next };
        list.len -= 1;
        block.cast()
    }

    /// Give back a block of `class`: onto its list, or below when the list
    /// is full.
    ///
    /// # Safety
    /// `block` was taken with [`take`](Self::take) for `class` and is not
    /// used again.
    #[inline(always)]
    unsafe fn give(&self, block: *mut u8, class: usize) {
        // SAFETY: as in `take`.
        let list = unsafe { &mut (*self.lists.get())[class] };
        if (list.len + 1) * (class + 1) * GRAIN > LIST_BYTES {
            // SAFETY: every block of a class came from below with its class layout.
            return unsafe { self.below.dealloc(block, class_layout(class)) };
        }
        let block = block.cast::<FreeBlock>();
        // SAFETY: the block is ours now, at least GRAIN bytes and aligned to GRAIN.
        unsafe { block.write(FreeBlock { next: list.head }) };
        list.head = block;
        list.len += 1;
    }
}

// SAFETY: every block handed out is at least the size and alignment asked
// for (a class's blocks are its full size, aligned to GRAIN, and only
// requests of at most that alignment are served from classes); a block goes
// back below with the layout it was taken with.
unsafe impl<A: GlobalAlloc> GlobalAlloc for SmallBlocks<A> {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        match class_of(layout) {
            // SAFETY: the caller's contract, passed on.
            Some(class) => unsafe { self.take(class) },
            // SAFETY: the caller's contract, passed on.
            None => unsafe { self.below.alloc(layout) },
        }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        match class_of(layout) {
            // SAFETY: a layout of this class was served from the class.
            Some(class) => unsafe { self.give(ptr, class) },
            // SAFETY: a layout of no class was served from below as it is.
            None => unsafe { self.below.dealloc(ptr, layout) },
        }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        match class_of(layout) {
            Some(class) => {
                // SAFETY: the caller's contract, passed on.
                let block = unsafe { self.take(class) };
                if !block.is_null() {
                    // SAFETY: the block holds at least `layout.size()` bytes.
                    unsafe { block.write_bytes(0, layout.size()) };
                }
                block
            }
            // SAFETY: the caller's contract, passed on.
            None => unsafe { self.below.alloc_zeroed(layout) },
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller gives a valid size for this alignment.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        match (class_of(layout), class_of(new_layout)) {
            // The block is already its class's full size.
            (Some(old), Some(new)) if old == new => ptr,
            // SAFETY: both sizes are served from below as they are.
            (None, None) => unsafe { self.below.realloc(ptr, layout, new_size) },
            _ => {
                // SAFETY: the caller's contract, passed on.
                let moved = unsafe { self.alloc(new_layout) };
                if !moved.is_null() {
                    // SAFETY: both blocks hold the bytes copied, and they are
                    // distinct blocks; the old one is not used after.
                    unsafe {
                        ptr::copy_nonoverlapping(ptr, moved, layout.size().min(new_size));
                        self.dealloc(ptr, layout);
                    }
                }
                moved
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::alloc::System;

    #[test]
    fn classes_cover_their_sizes_and_alignments() {
        assert_eq!(class_of(Layout::from_size_align(0, 1).unwrap()), Some(0));
        assert_eq!(class_of(Layout::from_size_align(8, 8).unwrap()), Some(0));
        assert_eq!(class_of(Layout::from_size_align(9, 4).unwrap()), Some(1));
        assert_eq!(class_of(Layout::from_size_align(256, 8).unwrap()), Some(31));
        assert_eq!(class_of(Layout::from_size_align(257, 8).unwrap()), None);
        assert_eq!(class_of(Layout::from_size_align(16, 16).unwrap()), None);
        for size in 1..=256 {
            let class = class_of(Layout::from_size_align(size, 1).unwrap()).unwrap();
            assert!(class_layout(class).size() >= size && class_layout(class).size() < size + GRAIN);
        }
    }

    #[test]
    fn freed_blocks_are_reused_and_lists_stay_bounded() {
        // One thread here too: the lists are only touched by this test's thread.
        let cache = SmallBlocks::new(System);
        let small = Layout::from_size_align(24, 8).unwrap();
        // SAFETY: every block is used within the size it was asked for, and
        // freed once, with its layout.
        unsafe {
            let a = cache.alloc(small);
            a.write_bytes(0xab, 24);
            cache.dealloc(a, small);
            let b = cache.alloc(Layout::from_size_align(20, 4).unwrap());
            assert_eq!(a, b, "a freed block of the class is taken back");
            // Growing within the class keeps the block; past it moves and copies.
            b.write_bytes(7, 20);
            assert_eq!(cache.realloc(b, Layout::from_size_align(20, 4).unwrap(), 24), b);
            let c = cache.realloc(b, small, 1000);
            assert!(std::slice::from_raw_parts(c, 20).iter().all(|&x| x == 7));
            let c = cache.realloc(c, Layout::from_size_align(1000, 8).unwrap(), 16);
            assert!(std::slice::from_raw_parts(c, 16).iter().all(|&x| x == 7));
            cache.dealloc(c, Layout::from_size_align(16, 8).unwrap());
            // Many frees of one class: the list keeps at most LIST_BYTES.
            let blocks: Vec<*mut u8> = (0..10_000).map(|_| cache.alloc(small)).collect();
            for block in blocks {
                cache.dealloc(block, small);
            }
            let kept = (*cache.lists.get())[2].len;
            assert!(kept * 24 <= LIST_BYTES && kept > 0, "{kept}");
            // Zeroed blocks are zero even when taken from a list.
            let z = cache.alloc_zeroed(small);
            assert!(std::slice::from_raw_parts(z, 24).iter().all(|&x| x == 0));
            cache.dealloc(z, small);
        }
    }
}
