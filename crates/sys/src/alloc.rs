//! A global allocator for the static (musl) builds: dlmalloc behind a spin lock.
//!
//! musl's own allocator (mallocng) is built for small footprints, not speed: in the test
//! VM a coldplug spent about a fifth of devmaster's CPU in it — its allocation and free
//! paths, and the pages it maps and unmaps again and again with the page faults that
//! follow. dlmalloc keeps freed memory for reuse (returning it above its trim threshold).
//! Its own `global` feature locks with a pthread mutex, which under musl costs more than
//! the allocation itself; the daemons are single-threaded, so an uncontended atomic flag
//! is all the lock needs to be (other threads, where there are any, spin briefly).
//!
//! A process that forks without exec (devmaster's workers) may do so only while no other
//! thread can hold the lock: `process::fork_worker` already refuses a multi-threaded
//! caller.

use std::alloc::{GlobalAlloc, Layout};
use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicBool, Ordering};

/// dlmalloc as a `#[global_allocator]`.
pub struct Allocator {
    locked: AtomicBool,
    heap: UnsafeCell<dlmalloc::Dlmalloc>,
}

// SAFETY: the heap is only touched with `locked` held (see `with`).
unsafe impl Sync for Allocator {}

impl Allocator {
    /// An empty heap; pages are mapped on first use.
    pub const fn new() -> Allocator {
        Allocator {
            locked: AtomicBool::new(false),
            heap: UnsafeCell::new(dlmalloc::Dlmalloc::new()),
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut dlmalloc::Dlmalloc) -> T) -> T {
        while self
            .locked
            .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            std::hint::spin_loop();
        }
        // SAFETY: `locked` is held, so this is the only reference to the heap.
        let out = f(unsafe { &mut *self.heap.get() });
        self.locked.store(false, Ordering::Release);
        out
    }
}

impl Default for Allocator {
    fn default() -> Self {
        Allocator::new()
    }
}

// SAFETY: every call passes the layout dlmalloc was given for the block (GlobalAlloc's
// contract on the caller), under the lock.
unsafe impl GlobalAlloc for Allocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: see the impl.
        self.with(|h| unsafe { h.malloc(layout.size(), layout.align()) })
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: see the impl.
        self.with(|h| unsafe { h.free(ptr, layout.size(), layout.align()) })
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: see the impl.
        self.with(|h| unsafe { h.calloc(layout.size(), layout.align()) })
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: see the impl.
        self.with(|h| unsafe { h.realloc(ptr, layout.size(), layout.align(), new_size) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_hold_their_bytes_through_growth_and_across_threads() {
        static A: Allocator = Allocator::new();
        let threads: Vec<_> = (0..4u8)
            .map(|t| {
                std::thread::spawn(move || {
                    for round in 0..200usize {
                        let size = 1 + (round * 37) % 5000;
                        let align = [1, 8, 16, 64, 4096][round % 5];
                        let layout = Layout::from_size_align(size, align).unwrap();
                        unsafe {
                            let p = A.alloc(layout);
                            assert!(!p.is_null());
                            assert_eq!(p as usize % align, 0);
                            std::ptr::write_bytes(p, t, size);
                            let bigger = size * 3;
                            let q = A.realloc(p, layout, bigger);
                            assert!(!q.is_null());
                            let kept = std::slice::from_raw_parts(q, size);
                            assert!(kept.iter().all(|&b| b == t));
                            A.dealloc(q, Layout::from_size_align(bigger, align).unwrap());
                            let z = A.alloc_zeroed(layout);
                            assert!(std::slice::from_raw_parts(z, size).iter().all(|&b| b == 0));
                            A.dealloc(z, layout);
                        }
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
    }
}
