# Declarations of the compiled column evaluator (see _conditions.pyx; the twin is conditions.py).
from libc.stdint cimport int8_t, int32_t, int64_t, uint8_t, uint64_t

from parcours.core._history cimport Did, Events, Statuses

# opcodes, comparators, constant and cell kinds: the values of bytecode.py and columns.py
cdef enum:
    OP_RETURN = 0
    OP_FIELD = 1
    OP_IN_GROUP = 3
    OP_DID = 4
    OP_STATUS = 5
    OP_NOT = 6
    OP_JUMP_IF_FALSE_OR_POP = 7
    OP_JUMP_IF_TRUE_OR_POP = 8
    EQ = 0
    NE = 1
    IN = 2
    NOT_IN = 3
    CONTAINS = 4
    NOT_CONTAINS = 5
    STARTS_WITH = 6
    ENDS_WITH = 7
    GT = 8
    GTE = 9
    LT = 10
    LTE = 11
    BETWEEN = 12
    EXISTS = 13
    MISSING = 14
    MONTH_DAY = 15
    C_NONE = 0
    C_NUMBER = 1
    C_STRING = 2
    C_BOOL = 3
    C_INSTANT = 4
    C_RELATIVE = 5
    C_SET = 6
    K_MISSING = 0
    K_NUMBER = 1
    K_TEXT = 2
    K_BOOL = 3
    K_LIST = 4
    STACK = 256
    WORDS_C = 4  # words per instruction, as bytecode.WORDS

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
    cdef Did* _dids             # per instruction
    cdef int64_t _steps
    cdef const uint64_t* _groups
    cdef int64_t _group_words
    cdef const int64_t* _offsets
    cdef const uint8_t* _bytes
    cdef const uint8_t* _m_kind
    cdef const double* _m_number
    cdef const double* _m_epoch
    cdef const int32_t* _m_symbol
    cdef Events _events         # the history's rows (all NULL without a history)
    cdef Statuses _statuses
    cdef object _keep           # the arrays the pointers point into
    cdef double _now
    cdef double _entry          # when the contact's enrollment began (-inf: not enrolled)
    cdef int _month, _day
    cdef bint _leap

    cpdef bint evaluate(
        self, int64_t slot, double now, int month, int day, bint leap, double entry_time=*)
    cdef bint _run(self, int64_t slot) noexcept nogil
    cdef bint _did(self, Did* query, int64_t slot) noexcept nogil
    cdef double _window_start(self, Did* query) noexcept nogil
    cdef bint _compare(self, int cmp, Cell* value, int64_t c) noexcept nogil
    cdef bint _scalar(self, int cmp, Cell* value, int64_t c) noexcept nogil
    cdef bint _equal(self, Cell* value, int64_t c) noexcept nogil
    cdef bint _order(self, int cmp, Cell* value, int64_t c) noexcept nogil
    cdef bint _text(self, int cmp, int32_t value, int32_t operand) noexcept nogil
    cdef bint _anniversary(self, double epoch) noexcept nogil
