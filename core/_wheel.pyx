# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""The hierarchical timer wheel, compiled: the same algorithm as wheel.py, over C arrays.

Per pending timer: its due second (8 bytes), its neighbours in its bucket list (4 + 4 bytes)
and its bucket (2 bytes): 18 bytes, indexed by handle.
"""

from cpython.mem cimport PyMem_Free, PyMem_Malloc, PyMem_Realloc
from libc.stdint cimport int16_t, int32_t, int64_t, uint64_t
from libc.stdlib cimport qsort
from libc.string cimport memset

import numpy as np

cdef extern from *:
    int __builtin_ctzll(unsigned long long) nogil


cdef int _compare(const void* a, const void* b) noexcept nogil:
    cdef const Expired* x = <const Expired*>a
    cdef const Expired* y = <const Expired*>b
    if x.due != y.due:
        return -1 if x.due < y.due else 1
    if x.handle != y.handle:
        return -1 if x.handle < y.handle else 1
    return 0


cdef class TimerWheel:
    """Pending timers: ``schedule`` a batch, ``cancel`` one, ``advance`` to an instant."""

    def __cinit__(self, int64_t now=0):
        cdef int i
        self.now = now
        self._due = NULL
        self._next = NULL
        self._prev = NULL
        self._where = NULL
        self._capacity = 0
        self._count = 0
        for i in range(BUCKETS):
            self._heads[i] = NIL
        for i in range(LEVELS):
            self._masks[i] = 0
        self._out_cap = 1024
        self._out_len = 0
        self._out = <Expired*>PyMem_Malloc(self._out_cap * sizeof(Expired))
        if self._out == NULL:
            raise MemoryError()

    def __dealloc__(self):
        PyMem_Free(self._due)
        PyMem_Free(self._next)
        PyMem_Free(self._prev)
        PyMem_Free(self._where)
        PyMem_Free(self._out)

    def __len__(self):
        return self._count

    def schedule(self, handles, dues):
        """Schedule (or move) each handle at its due second."""
        cdef const int64_t[::1] hs = np.ascontiguousarray(handles, dtype=np.int64)
        cdef const int64_t[::1] ds = np.ascontiguousarray(dues, dtype=np.int64)
        cdef Py_ssize_t i, n = hs.shape[0]
        if ds.shape[0] != n:
            raise ValueError("handles and dues differ in length")
        if n == 0:
            return
        cdef int64_t top = 0
        for i in range(n):
            if hs[i] < 0 or hs[i] > 2147483646:
                raise ValueError(f"handle {hs[i]} is not in 0..2^31-2")
            if hs[i] > top:
                top = hs[i]
        self._grow(top)
        for i in range(n):
            self._set(<int32_t>hs[i], ds[i])

    cpdef void schedule_one(self, int64_t handle, int64_t due) except *:
        """Schedule (or move) one handle."""
        if handle < 0 or handle > 2147483646:
            raise ValueError(f"handle {handle} is not in 0..2^31-2")
        self._grow(handle)
        self._set(<int32_t>handle, due)

    cdef void _set(self, int32_t handle, int64_t due) noexcept:
        if self._where[handle] != NOWHERE:
            self._unlink(handle)
        else:
            self._count += 1
        self._due[handle] = due
        self._place(handle)

    cpdef bint cancel(self, int64_t handle):
        """Forget a handle's timer; return whether it had one. O(1)."""
        if handle < 0 or handle >= self._capacity or self._where[handle] == NOWHERE:
            return False
        self._unlink(<int32_t>handle)
        self._where[handle] = NOWHERE
        self._count -= 1
        return True

    def due(self, int64_t handle):
        if handle < 0 or handle >= self._capacity or self._where[handle] == NOWHERE:
            return None
        return self._due[handle]

    def next_due(self):
        """The earliest due second among pending timers (None when there is none)."""
        cdef int level
        if self._heads[READY] != NIL:
            return self._min_due(READY)
        for level in range(LEVELS):
            if self._masks[level]:
                return self._min_due(level * SLOTS + __builtin_ctzll(self._masks[level]))
        if self._heads[OVERFLOW] != NIL:
            return self._min_due(OVERFLOW)
        return None

    def next_moment(self):
        """The next second at which the wheel has work (a timer due, or a bucket to cascade):
        a lower bound of :meth:`next_due`, found in O(levels)."""
        cdef int64_t moment
        if self._heads[READY] != NIL:
            return self.now
        if self._next_moment(&moment):
            return moment
        return None

    def advance(self, int64_t now):
        """Move the wheel's time to ``now``; return the handles due by then, in due order."""
        cdef int64_t moment
        cdef Py_ssize_t i
        self._out_len = 0
        self._take(READY)
        while self._next_moment(&moment) and moment <= now:
            self.now = moment
            self._cascade()
            self._take(READY)
            self._take(<int>(moment & MASK))
        if now > self.now:
            self.now = now
        qsort(self._out, self._out_len, sizeof(Expired), _compare)
        result = np.empty(self._out_len, dtype=np.int64)
        cdef int64_t[::1] view = result
        for i in range(self._out_len):
            view[i] = self._out[i].handle
        return result

    # -- internals -------------------------------------------------------------------------

    cdef void _grow(self, int64_t handle) except *:
        if handle < self._capacity:
            return
        cdef int64_t size = max(handle + 1, self._capacity * 2, 1024)
        cdef int64_t* due = <int64_t*>PyMem_Realloc(self._due, size * sizeof(int64_t))
        if due == NULL:
            raise MemoryError()
        self._due = due
        cdef int32_t* nxt = <int32_t*>PyMem_Realloc(self._next, size * sizeof(int32_t))
        if nxt == NULL:
            raise MemoryError()
        self._next = nxt
        cdef int32_t* prv = <int32_t*>PyMem_Realloc(self._prev, size * sizeof(int32_t))
        if prv == NULL:
            raise MemoryError()
        self._prev = prv
        cdef int16_t* where = <int16_t*>PyMem_Realloc(self._where, size * sizeof(int16_t))
        if where == NULL:
            raise MemoryError()
        self._where = where
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

    cdef void _place(self, int32_t handle) noexcept nogil:
        cdef int bucket = self._bucket(self._due[handle])
        cdef int32_t head = self._heads[bucket]
        self._next[handle] = head
        self._prev[handle] = NIL
        if head != NIL:
            self._prev[head] = handle
        self._heads[bucket] = handle
        self._where[handle] = <int16_t>bucket
        if bucket < OVERFLOW:
            self._masks[bucket >> BITS] |= (<uint64_t>1) << (bucket & MASK)

    cdef void _unlink(self, int32_t handle) noexcept nogil:
        cdef int bucket = self._where[handle]
        cdef int32_t before = self._prev[handle]
        cdef int32_t after = self._next[handle]
        if before != NIL:
            self._next[before] = after
        else:
            self._heads[bucket] = after
            if after == NIL and bucket < OVERFLOW:
                self._masks[bucket >> BITS] &= ~((<uint64_t>1) << (bucket & MASK))
        if after != NIL:
            self._prev[after] = before

    cdef void _take(self, int bucket) except *:
        cdef int32_t handle = self._heads[bucket]
        while handle != NIL:
            if self._out_len == self._out_cap:
                self._out_cap *= 2
                out = <Expired*>PyMem_Realloc(self._out, self._out_cap * sizeof(Expired))
                if out == NULL:
                    raise MemoryError()
                self._out = out
            self._out[self._out_len].due = self._due[handle]
            self._out[self._out_len].handle = handle
            self._out_len += 1
            self._where[handle] = NOWHERE
            self._count -= 1
            handle = self._next[handle]
        self._heads[bucket] = NIL
        if bucket < OVERFLOW:
            self._masks[bucket >> BITS] &= ~((<uint64_t>1) << (bucket & MASK))

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
        if self._heads[OVERFLOW] != NIL:
            start = ((self.now >> (BITS * LEVELS)) + 1) << (BITS * LEVELS)
            if not found or start < moment[0]:
                moment[0] = start
                found = True
        return found

    cdef void _cascade(self) noexcept nogil:
        """At a slot's start, its timers move down to the level that now holds them."""
        cdef int level
        if (self.now & (((<int64_t>1) << (BITS * LEVELS)) - 1)) == 0:
            self._replace(OVERFLOW)
        for level in range(LEVELS - 1, 0, -1):
            if (self.now & (((<int64_t>1) << (BITS * level)) - 1)) == 0:
                self._replace(level * SLOTS + <int>((self.now >> (BITS * level)) & MASK))

    cdef void _replace(self, int bucket) noexcept nogil:
        cdef int32_t handle = self._heads[bucket]
        cdef int32_t following
        self._heads[bucket] = NIL
        if bucket < OVERFLOW:
            self._masks[bucket >> BITS] &= ~((<uint64_t>1) << (bucket & MASK))
        while handle != NIL:
            following = self._next[handle]
            self._place(handle)
            handle = following

    cdef int64_t _min_due(self, int bucket) noexcept nogil:
        cdef int32_t handle = self._heads[bucket]
        cdef int64_t best = self._due[handle]
        while handle != NIL:
            if self._due[handle] < best:
                best = self._due[handle]
            handle = self._next[handle]
        return best
