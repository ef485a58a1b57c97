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
    NIL = -1            # end of a bucket list
    NOWHERE = -1        # a handle with no timer

ctypedef struct Expired:
    int64_t due
    int64_t handle

cdef class TimerWheel:
    cdef public int64_t now
    cdef int64_t* _due
    cdef int32_t* _next
    cdef int32_t* _prev
    cdef int16_t* _where
    cdef int64_t _capacity
    cdef int64_t _count
    cdef int32_t _heads[BUCKETS]
    cdef uint64_t _masks[LEVELS]
    cdef Expired* _out
    cdef int64_t _out_len
    cdef int64_t _out_cap

    cpdef void schedule_one(self, int64_t handle, int64_t due) except *
    cdef void _set(self, int32_t handle, int64_t due) noexcept
    cpdef bint cancel(self, int64_t handle)
    cdef void _grow(self, int64_t handle) except *
    cdef int _bucket(self, int64_t due) noexcept nogil
    cdef void _place(self, int32_t handle) noexcept nogil
    cdef void _unlink(self, int32_t handle) noexcept nogil
    cdef void _take(self, int bucket) except *
    cdef bint _next_moment(self, int64_t* moment) noexcept nogil
    cdef void _cascade(self) noexcept nogil
    cdef void _replace(self, int bucket) noexcept nogil
    cdef int64_t _min_due(self, int bucket) noexcept nogil
