# Declarations of the compiled column evaluator (see _conditions.pyx; the twin is conditions.py).
from libc.stdint cimport int8_t, int32_t, int64_t, uint8_t, uint64_t

ctypedef struct Cell:
    uint8_t kind
    double number
    double epoch
    int32_t symbol
    int32_t count

ctypedef struct Leaf:
    # the column a FIELD instruction reads (NULL pointers for a field no contact has)
    const uint8_t* kind
    const double* number
    const double* epoch
    const int32_t* symbol
    const int32_t* count

cdef class BoundCondition:
    cdef const int32_t[::1] _code
    cdef const int8_t[::1] _const_kind
    cdef const double[::1] _const_value
    cdef int64_t _pc
    cdef Leaf* _leaves          # per instruction
    cdef int64_t _steps
    cdef const uint64_t* _groups
    cdef int64_t _group_words
    cdef const int64_t* _offsets
    cdef const uint8_t* _bytes
    cdef const uint8_t* _m_kind
    cdef const double* _m_number
    cdef const double* _m_epoch
    cdef const int32_t* _m_symbol
    cdef object _keep           # the arrays the pointers point into
    cdef double _now
    cdef int _month, _day
    cdef bint _leap

    cpdef bint evaluate(self, int64_t slot, double now, int month, int day, bint leap)
    cdef bint _run(self, int64_t slot) noexcept nogil
    cdef bint _compare(self, int cmp, Cell* value, int64_t c) noexcept nogil
    cdef bint _scalar(self, int cmp, Cell* value, int64_t c) noexcept nogil
    cdef bint _equal(self, Cell* value, int64_t c) noexcept nogil
    cdef bint _order(self, int cmp, Cell* value, int64_t c) noexcept nogil
    cdef bint _text(self, int cmp, int32_t value, int32_t operand) noexcept nogil
    cdef bint _anniversary(self, double epoch) noexcept nogil
