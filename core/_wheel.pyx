# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""The hierarchical timer wheel, compiled: the algorithm of Varghese & Lauck over C arrays.

Four levels of 64 one-second slots (1 s, 64 s, 68 min, 3 days per slot) cover 2^24 s; later
timers wait in an overflow bucket and cascade down. Each bucket is a contiguous vector of
(due, handle) entries, so cascading and expiring read memory in order; per handle the wheel
keeps its bucket and its index there, so a cancel is O(1) (swap with the bucket's last entry).
A pending timer costs 16 bytes of entry and 6 of index. Expired handles come out in due order,
ties by handle, exactly as the pure twin (wheel.py) gives them.
"""

from cpython.mem cimport PyMem_Free, PyMem_Malloc, PyMem_Realloc
from libc.stdint cimport int16_t, int32_t, int64_t, uint64_t
from libc.stdlib cimport qsort
from libc.string cimport memcpy, memset

import numpy as np

cdef extern from *:
    int __builtin_ctzll(unsigned long long) nogil

#: buckets keep their memory while small; a larger one is freed once emptied
cdef int64_t KEEP_CAPACITY = 4096
cdef int64_t MAX_HANDLE = 2147483646
#: chunks at least this long are radix-sorted
cdef int64_t RADIX_FROM = 65536


cdef int _by_value(const void* a, const void* b) noexcept nogil:
    cdef int64_t x = (<const int64_t*>a)[0]
    cdef int64_t y = (<const int64_t*>b)[0]
    return (x > y) - (x < y)


cdef int _by_due_then_handle(const void* a, const void* b) noexcept nogil:
    cdef const Entry* x = <const Entry*>a
    cdef const Entry* y = <const Entry*>b
    if x.due != y.due:
        return -1 if x.due < y.due else 1
    return (x.handle > y.handle) - (x.handle < y.handle)


cdef class TimerWheel:
    """Pending timers: ``schedule`` a batch, ``cancel`` one, ``advance`` to an instant."""

    def __cinit__(self, int64_t now=0):
        self.now = now
        self._where = NULL
        self._position = NULL
        self._capacity = 0
        self._count = 0
        memset(self._buckets, 0, sizeof(self._buckets))
        memset(self._masks, 0, sizeof(self._masks))
        self._out = NULL
        self._out_len = 0
        self._out_cap = 0
        self._scratch = NULL
        self._scratch_cap = 0

    def __dealloc__(self):
        cdef int i
        for i in range(BUCKETS):
            PyMem_Free(self._buckets[i].items)
        PyMem_Free(self._where)
        PyMem_Free(self._position)
        PyMem_Free(self._out)
        PyMem_Free(self._scratch)

    def __len__(self):
        return self._count

    def schedule(self, handles, dues):
        """Schedule (or move) each handle at its due second."""
        cdef const int64_t[::1] hs = np.ascontiguousarray(handles, dtype=np.int64)
        cdef const int64_t[::1] ds = np.ascontiguousarray(dues, dtype=np.int64)
        cdef Py_ssize_t i, n = hs.shape[0]
        cdef int64_t top = -1
        if ds.shape[0] != n:
            raise ValueError("handles and dues differ in length")
        for i in range(n):
            if hs[i] < 0 or hs[i] > MAX_HANDLE:
                raise ValueError(f"handle {hs[i]} is not in 0..2^31-2")
            if hs[i] > top:
                top = hs[i]
        if top >= 0:
            self._grow(top)
        for i in range(n):
            self._set(hs[i], ds[i])

    cpdef void schedule_one(self, int64_t handle, int64_t due) except *:
        """Schedule (or move) one handle."""
        if handle < 0 or handle > MAX_HANDLE:
            raise ValueError(f"handle {handle} is not in 0..2^31-2")
        self._grow(handle)
        self._set(handle, due)

    cdef void _set(self, int64_t handle, int64_t due) except *:
        if self._where[handle] != NOWHERE:
            self._remove(handle)
        else:
            self._count += 1
        self._push(self._bucket(due), handle, due)

    cpdef bint cancel(self, int64_t handle):
        """Forget a handle's timer; return whether it had one. O(1)."""
        if handle < 0 or handle >= self._capacity or self._where[handle] == NOWHERE:
            return False
        self._remove(handle)
        self._where[handle] = NOWHERE
        self._count -= 1
        return True

    def due(self, int64_t handle):
        if handle < 0 or handle >= self._capacity or self._where[handle] == NOWHERE:
            return None
        cdef Bucket* bucket = &self._buckets[self._where[handle]]
        return bucket.items[self._position[handle]].due

    def dues(self, int64_t start, int64_t stop):
        """The due second of handles ``start`` to ``stop`` (0 for a handle with no timer)."""
        found = np.zeros(max(stop - start, 0), dtype=np.int64)
        cdef int64_t[::1] due = found
        cdef int64_t handle
        cdef Bucket* bucket
        for handle in range(max(start, 0), min(stop, self._capacity)):
            if self._where[handle] != NOWHERE:
                bucket = &self._buckets[self._where[handle]]
                due[handle - start] = bucket.items[self._position[handle]].due
        return found

    def next_due(self):
        """The earliest due second among pending timers (None when there is none)."""
        cdef int level
        if self._buckets[READY].size:
            return self._min_due(READY)
        for level in range(LEVELS):
            if self._masks[level]:
                return self._min_due(level * SLOTS + __builtin_ctzll(self._masks[level]))
        if self._buckets[OVERFLOW].size:
            return self._min_due(OVERFLOW)
        return None

    def next_moment(self):
        """The next second at which the wheel has work (a timer due, or a bucket to cascade):
        a lower bound of :meth:`next_due`, found in O(levels)."""
        cdef int64_t moment
        if self._buckets[READY].size:
            return self.now
        if self._next_moment(&moment):
            return moment
        return None

    def advance(self, int64_t now):
        """Move the wheel's time to ``now``; return the handles due by then, in due order."""
        cdef int64_t moment, first
        cdef Bucket* ready = &self._buckets[READY]
        self._out_len = 0
        if ready.size:  # scheduled in the past: various dues
            qsort(ready.items, ready.size, sizeof(Entry), _by_due_then_handle)
            self._take(READY)
        while self._next_moment(&moment) and moment <= now:
            self.now = moment
            self._cascade()
            first = self._out_len
            self._take(READY)  # cascaded timers due this very second
            self._take(<int>(moment & MASK))
            if self._out_len - first > 1:  # one second's timers, in handle order
                self._sort_handles(first, self._out_len)
        if now > self.now:
            self.now = now
        result = np.empty(self._out_len, dtype=np.int64)
        cdef int64_t[::1] view = result
        if self._out_len:
            memcpy(&view[0], self._out, self._out_len * sizeof(int64_t))
        return result

    # -- internals -------------------------------------------------------------------------

    cdef void _grow(self, int64_t handle) except *:
        if handle < self._capacity:
            return
        cdef int64_t size = max(handle + 1, self._capacity * 2, 1024)
        cdef int16_t* where = <int16_t*>PyMem_Realloc(self._where, size * sizeof(int16_t))
        if where == NULL:
            raise MemoryError()
        self._where = where
        cdef int32_t* position = <int32_t*>PyMem_Realloc(self._position, size * sizeof(int32_t))
        if position == NULL:
            raise MemoryError()
        self._position = position
        cdef int64_t i
        for i in range(self._capacity, size):
            self._where[i] = NOWHERE
        self._capacity = size

    cdef int _bucket(self, int64_t due) noexcept nogil:
        cdef int level, parent
        if due <= self.now:
            return READY
        for level in range(LEVELS):
            parent = BITS * (level + 1)
            if (due >> parent) == (self.now >> parent):
                return level * SLOTS + <int>((due >> (BITS * level)) & MASK)
        return OVERFLOW

    cdef void _push(self, int index, int64_t handle, int64_t due) except *:
        cdef Bucket* bucket = &self._buckets[index]
        cdef Entry* items
        if bucket.size == bucket.capacity:
            bucket.capacity = max(16, bucket.capacity * 2)
            items = <Entry*>PyMem_Realloc(bucket.items, bucket.capacity * sizeof(Entry))
            if items == NULL:
                raise MemoryError()
            bucket.items = items
        bucket.items[bucket.size].due = due
        bucket.items[bucket.size].handle = handle
        self._where[handle] = <int16_t>index
        self._position[handle] = <int32_t>bucket.size
        bucket.size += 1
        if index < OVERFLOW:
            self._masks[index >> BITS] |= (<uint64_t>1) << (index & MASK)

    cdef void _remove(self, int64_t handle) noexcept nogil:
        """Take a handle out of its bucket: its place goes to the bucket's last entry."""
        cdef int index = self._where[handle]
        cdef Bucket* bucket = &self._buckets[index]
        cdef int32_t position = self._position[handle]
        bucket.size -= 1
        if position != bucket.size:
            bucket.items[position] = bucket.items[bucket.size]
            self._position[bucket.items[position].handle] = position
        if bucket.size == 0 and index < OVERFLOW:
            self._masks[index >> BITS] &= ~((<uint64_t>1) << (index & MASK))

    cdef void _ensure_out(self, int64_t more) except *:
        if self._out_len + more <= self._out_cap:
            return
        cdef int64_t size = max(self._out_len + more, self._out_cap * 2, 1024)
        cdef int64_t* out = <int64_t*>PyMem_Realloc(self._out, size * sizeof(int64_t))
        if out == NULL:
            raise MemoryError()
        self._out = out
        self._out_cap = size

    cdef void _take(self, int index) except *:
        cdef Bucket* bucket = &self._buckets[index]
        cdef int64_t i, handle
        if bucket.size == 0:
            return
        self._ensure_out(bucket.size)
        for i in range(bucket.size):
            handle = bucket.items[i].handle
            self._out[self._out_len + i] = handle
            self._where[handle] = NOWHERE
        self._out_len += bucket.size
        self._count -= bucket.size
        bucket.size = 0
        if bucket.capacity > KEEP_CAPACITY:
            PyMem_Free(bucket.items)
            bucket.items = NULL
            bucket.capacity = 0
        if index < OVERFLOW:
            self._masks[index >> BITS] &= ~((<uint64_t>1) << (index & MASK))

    cdef bint _next_moment(self, int64_t* moment) noexcept nogil:
        """The next second at which a bucket falls due or must cascade (False if none)."""
        cdef int level, position, slot, parent
        cdef uint64_t later
        cdef int64_t start
        cdef bint found = False
        for level in range(LEVELS):
            position = <int>((self.now >> (BITS * level)) & MASK)
            if position == MASK:
                continue
            later = self._masks[level] >> (position + 1)
            if later:
                slot = position + 1 + __builtin_ctzll(later)
                parent = BITS * (level + 1)
                start = ((self.now >> parent) << parent) + ((<int64_t>slot) << (BITS * level))
                if not found or start < moment[0]:
                    moment[0] = start
                    found = True
        if self._buckets[OVERFLOW].size:
            start = ((self.now >> (BITS * LEVELS)) + 1) << (BITS * LEVELS)
            if not found or start < moment[0]:
                moment[0] = start
                found = True
        return found

    cdef void _cascade(self) except *:
        """At a slot's start, its timers move down to the level that now holds them."""
        cdef int level
        if (self.now & (((<int64_t>1) << (BITS * LEVELS)) - 1)) == 0:
            self._replace(OVERFLOW)
        for level in range(LEVELS - 1, 0, -1):
            if (self.now & (((<int64_t>1) << (BITS * level)) - 1)) == 0:
                self._replace(level * SLOTS + <int>((self.now >> (BITS * level)) & MASK))

    cdef void _replace(self, int index) except *:
        cdef Bucket moving = self._buckets[index]
        cdef int64_t i
        if moving.size == 0:
            return
        self._buckets[index].items = NULL  # the entries move out; the bucket starts afresh
        self._buckets[index].size = 0
        self._buckets[index].capacity = 0
        if index < OVERFLOW:
            self._masks[index >> BITS] &= ~((<uint64_t>1) << (index & MASK))
        try:
            for i in range(moving.size):
                self._push(self._bucket(moving.items[i].due), moving.items[i].handle, moving.items[i].due)
        finally:
            PyMem_Free(moving.items)

    cdef void _sort_handles(self, int64_t first, int64_t last) except *:
        """Sort out[first:last] (one second's handles, all below 2^31) with a radix sort."""
        cdef int64_t n = last - first, i, pass_shift
        cdef int64_t* data = self._out + first
        cdef int64_t counts[65537]
        cdef int64_t j, key
        if n >= RADIX_FROM and n > self._scratch_cap:
            scratch = <int64_t*>PyMem_Realloc(self._scratch, n * sizeof(int64_t))
            if scratch == NULL:
                raise MemoryError()
            self._scratch = scratch
            self._scratch_cap = n
        if n < 32:  # insertion sort
            for i in range(1, n):
                key = data[i]
                j = i - 1
                while j >= 0 and data[j] > key:
                    data[j + 1] = data[j]
                    j -= 1
                data[j + 1] = key
            return
        if n < RADIX_FROM:  # the radix sort's counters cost more than they save here
            qsort(data, n, sizeof(int64_t), _by_value)
            return
        for pass_shift in range(0, 32, 16):
            memset(counts, 0, sizeof(counts))
            for i in range(n):
                counts[((data[i] >> pass_shift) & 0xFFFF) + 1] += 1
            for j in range(1, 65537):
                counts[j] += counts[j - 1]
            for i in range(n):
                key = (data[i] >> pass_shift) & 0xFFFF
                self._scratch[counts[key]] = data[i]
                counts[key] += 1
            memcpy(data, self._scratch, n * sizeof(int64_t))

    cdef int64_t _min_due(self, int index) noexcept nogil:
        cdef Bucket* bucket = &self._buckets[index]
        cdef int64_t best = bucket.items[0].due
        cdef int64_t i
        for i in range(1, bucket.size):
            if bucket.items[i].due < best:
                best = bucket.items[i].due
        return best
