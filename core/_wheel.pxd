# Declarations of the compiled timer wheel (see _wheel.pyx; the pure twin is wheel.py).
from libc.stdint cimport int16_t, int32_t, int64_t, uint64_t

cdef enum:
    LEVELS = 4
    BITS = 6
    SLOTS = 64
    MASK = 63
    OVERFLOW = 256      # timers beyond the horizon (2^24 s ahead)
    READY = 257         # timers already due
    BUCKETS = 258
    NOWHERE = -1        # a handle with no timer

ctypedef struct Entry:
    int64_t due
    int64_t handle

ctypedef struct Bucket:
    Entry* items
    int64_t size
    int64_t capacity

cdef class TimerWheel:
    cdef public int64_t now
    cdef int16_t* _where      # handle -> its bucket, or NOWHERE
    cdef int32_t* _position   # handle -> its index in that bucket
    cdef int64_t _capacity
    cdef int64_t _count
    cdef Bucket _buckets[BUCKETS]
    cdef uint64_t _masks[LEVELS]
    cdef int64_t* _out
    cdef int64_t _out_len
    cdef int64_t _out_cap
    cdef int64_t* _scratch
    cdef int64_t _scratch_cap

    cpdef void schedule_one(self, int64_t handle, int64_t due) except *
    cpdef bint cancel(self, int64_t handle)
    cdef void _set(self, int64_t handle, int64_t due) except *
    cdef void _grow(self, int64_t handle) except *
    cdef int _bucket(self, int64_t due) noexcept nogil
    cdef void _push(self, int bucket, int64_t handle, int64_t due) except *
    cdef void _remove(self, int64_t handle) noexcept nogil
    cdef void _take(self, int bucket) except *
    cdef void _ensure_out(self, int64_t more) except *
    cdef bint _next_moment(self, int64_t* moment) noexcept nogil
    cdef void _cascade(self) except *
    cdef void _replace(self, int bucket) except *
    cdef void _sort_handles(self, int64_t first, int64_t last) except *
    cdef int64_t _min_due(self, int bucket) noexcept nogil
