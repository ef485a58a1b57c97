# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Which enrollment a (contact, program) pair has, compiled: open-addressing tables in C.

``LiveIndex`` keeps each slot's pair (contact int32, program int16) and a table of 4-byte
buckets holding slots: the key is read back from the slot's pair, so a bucket needs no copy of
it. A live enrollment costs 6 bytes plus one bucket (the table stays between 35 % and 70 %
full). ``PastIndex`` keeps, per pair whose last enrollment ended, its entry and exit instants and
whether it converted, in 24-byte buckets. Both probe linearly and delete by shifting back, so no
tombstones build up. ``pairs.py`` is the pure twin.
"""

from cpython.mem cimport PyMem_Free, PyMem_Malloc, PyMem_Realloc
from libc.stdint cimport int16_t, int32_t, int64_t, uint64_t
from libc.string cimport memset

import numpy as np

from .pairs import NO_SLOT, Past

cdef int64_t FIRST_CAPACITY = 16
#: a program index must fit the int16 pair column
cdef int64_t MAX_PROGRAM = 32767
cdef int64_t MAX_CONTACT = 2147483647


cdef inline uint64_t _mix(int64_t contact, int64_t program) noexcept nogil:
    """splitmix64's finaliser over the pair: neighbouring contacts land far apart."""
    cdef uint64_t z = (<uint64_t>contact << 16) ^ <uint64_t>program
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL
    return z ^ (z >> 31)


cdef void* _grow(void* block, int64_t size) except NULL:
    cdef void* moved = PyMem_Realloc(block, size)
    if moved == NULL:
        raise MemoryError()
    return moved


cdef _check_pair(int64_t contact, int64_t program):
    if not 0 <= contact <= MAX_CONTACT or not 0 <= program <= MAX_PROGRAM:
        raise OverflowError(f"pair ({contact}, {program}) is out of the index's range")


cdef class LiveIndex:
    """(contact, program) -> slot of the live enrollment, and slot -> its pair."""

    cdef int32_t* _buckets
    cdef int64_t _mask
    cdef int64_t _count
    cdef int32_t* _contacts
    cdef int16_t* _programs
    cdef int64_t _slot_capacity

    def __cinit__(self):
        self._buckets = <int32_t*>PyMem_Malloc(FIRST_CAPACITY * sizeof(int32_t))
        if self._buckets == NULL:
            raise MemoryError()
        memset(self._buckets, 0xFF, FIRST_CAPACITY * sizeof(int32_t))  # every bucket -1
        self._mask = FIRST_CAPACITY - 1
        self._count = 0
        self._contacts = NULL
        self._programs = NULL
        self._slot_capacity = 0

    def __dealloc__(self):
        PyMem_Free(self._buckets)
        PyMem_Free(self._contacts)
        PyMem_Free(self._programs)

    def __len__(self):
        return self._count

    @property
    def nbytes(self):
        """Memory held, in bytes."""
        return (self._mask + 1) * sizeof(int32_t) + self._slot_capacity * 6

    cdef int64_t _find(self, int64_t contact, int64_t program) noexcept:
        """The bucket holding the pair, or the empty bucket where it would go."""
        cdef int64_t i = <int64_t>(_mix(contact, program) & <uint64_t>self._mask)
        cdef int32_t slot
        while True:
            slot = self._buckets[i]
            if slot < 0 or (self._contacts[slot] == contact and self._programs[slot] == program):
                return i
            i = (i + 1) & self._mask

    def get(self, int64_t contact, int64_t program):
        """The pair's live slot, or ``NO_SLOT``."""
        if not 0 <= contact <= MAX_CONTACT or not 0 <= program <= MAX_PROGRAM:
            return NO_SLOT
        return self._buckets[self._find(contact, program)]

    def add(self, int64_t slot, int64_t contact, int64_t program):
        """Record a new live enrollment; a pair has at most one."""
        _check_pair(contact, program)
        if not 0 <= slot <= MAX_CONTACT:
            raise OverflowError(f"slot {slot} is out of the index's range")
        cdef int64_t i = self._find(contact, program)
        if self._buckets[i] >= 0:
            raise KeyError(f"contact {contact} already has a live enrollment in program {program}")
        self._reserve_slot(slot)
        self._contacts[slot] = <int32_t>contact
        self._programs[slot] = <int16_t>program
        self._buckets[i] = <int32_t>slot
        self._count += 1
        if self._count * 10 > (self._mask + 1) * 7:
            self._rehash((self._mask + 1) * 2)

    def get_many(self, contacts, int64_t program):
        """:meth:`get` of each contact in one program."""
        cdef const int64_t[::1] wanted = np.ascontiguousarray(contacts, dtype=np.int64)
        found = np.empty(wanted.shape[0], dtype=np.int64)
        cdef int64_t[::1] slots = found
        cdef Py_ssize_t i
        for i in range(wanted.shape[0]):
            if 0 <= wanted[i] <= MAX_CONTACT and 0 <= program <= MAX_PROGRAM:
                slots[i] = self._buckets[self._find(wanted[i], program)]
            else:
                slots[i] = NO_SLOT
        return found

    def add_many(self, slots, contacts, int64_t program):
        """:meth:`add` of each (slot, contact) in one program."""
        cdef const int64_t[::1] s = np.ascontiguousarray(slots, dtype=np.int64)
        cdef const int64_t[::1] c = np.ascontiguousarray(contacts, dtype=np.int64)
        if s.shape[0] != c.shape[0]:
            raise ValueError("slots and contacts differ in length")
        cdef Py_ssize_t i
        for i in range(s.shape[0]):
            self.add(s[i], c[i], program)

    def pairs_of(self, int64_t start, int64_t stop):
        """(contacts, programs) of slots ``start`` to ``stop``; -1 for a slot never used."""
        contacts = np.full(stop - start, -1, dtype=np.int64)
        programs = np.full(stop - start, -1, dtype=np.int64)
        cdef int64_t[::1] c = contacts, p = programs
        cdef int64_t slot
        for slot in range(max(start, 0), min(stop, self._slot_capacity)):
            if self._programs[slot] >= 0:
                c[slot - start] = self._contacts[slot]
                p[slot - start] = self._programs[slot]
        return contacts, programs

    def remove(self, int64_t slot):
        """The enrollment in ``slot`` ended; its pair is still readable until the slot is reused."""
        if not 0 <= slot < self._slot_capacity or self._programs[slot] < 0:
            raise KeyError(f"slot {slot} holds no live enrollment")
        cdef int64_t i = self._find(self._contacts[slot], self._programs[slot])
        if self._buckets[i] != slot:
            raise KeyError(f"slot {slot} holds no live enrollment")
        self._delete_at(i)
        self._count -= 1

    def contact(self, int64_t slot):
        self._check_slot(slot)
        return self._contacts[slot]

    def program(self, int64_t slot):
        self._check_slot(slot)
        return self._programs[slot]

    def slots(self, int64_t program=NO_SLOT):
        """Live slots, of one program or of all, in slot order (deterministic in both twins)."""
        cdef list found = []
        cdef int64_t i
        cdef int32_t slot
        for i in range(self._mask + 1):
            slot = self._buckets[i]
            if slot >= 0 and (program == NO_SLOT or self._programs[slot] == program):
                found.append(slot)
        found.sort()
        return found

    cdef _check_slot(self, int64_t slot):
        if not 0 <= slot < self._slot_capacity or self._programs[slot] < 0:
            raise KeyError(f"slot {slot} never held an enrollment")

    cdef _reserve_slot(self, int64_t slot):
        cdef int64_t capacity = self._slot_capacity
        if slot < capacity:
            return
        capacity = max(FIRST_CAPACITY, capacity + capacity // 8, slot + 1)  # as array.array grows
        self._contacts = <int32_t*>_grow(self._contacts, capacity * sizeof(int32_t))
        self._programs = <int16_t*>_grow(self._programs, capacity * sizeof(int16_t))
        memset(&self._programs[self._slot_capacity], 0xFF, (capacity - self._slot_capacity) * sizeof(int16_t))
        self._slot_capacity = capacity

    cdef void _delete_at(self, int64_t hole) noexcept:
        """Empty a bucket, then shift back the entries of its run that probed past it."""
        cdef int64_t i = hole, home
        cdef int32_t slot
        while True:
            i = (i + 1) & self._mask
            slot = self._buckets[i]
            if slot < 0:
                break
            home = <int64_t>(_mix(self._contacts[slot], self._programs[slot]) & <uint64_t>self._mask)
            if (i - home) & self._mask >= (i - hole) & self._mask:  # home is not in (hole, i]
                self._buckets[hole] = slot
                hole = i
        self._buckets[hole] = -1

    cdef _rehash(self, int64_t capacity):
        cdef int32_t* old = self._buckets
        cdef int64_t old_capacity = self._mask + 1, i
        cdef int32_t slot
        self._buckets = <int32_t*>PyMem_Malloc(capacity * sizeof(int32_t))
        if self._buckets == NULL:
            self._buckets = old
            raise MemoryError()
        memset(self._buckets, 0xFF, capacity * sizeof(int32_t))
        self._mask = capacity - 1
        for i in range(old_capacity):
            slot = old[i]
            if slot >= 0:
                self._buckets[self._find(self._contacts[slot], self._programs[slot])] = slot
        PyMem_Free(old)


cdef struct PastEntry:
    int64_t pair  # contact << 16 | program; -1 when the bucket is empty
    double entered_at
    double exited_at


cdef class PastIndex:
    """(contact, program) -> :class:`Past` of its last ended enrollment."""

    cdef PastEntry* _buckets
    cdef unsigned char* _converted
    cdef int64_t _mask
    cdef int64_t _count

    def __cinit__(self):
        self._buckets = NULL
        self._converted = NULL
        self._allocate(FIRST_CAPACITY)
        self._count = 0

    def __dealloc__(self):
        PyMem_Free(self._buckets)
        PyMem_Free(self._converted)

    def __len__(self):
        return self._count

    @property
    def nbytes(self):
        return (self._mask + 1) * (sizeof(PastEntry) + 1)

    cdef _allocate(self, int64_t capacity):
        self._buckets = <PastEntry*>PyMem_Malloc(capacity * sizeof(PastEntry))
        self._converted = <unsigned char*>PyMem_Malloc(capacity)
        if self._buckets == NULL or self._converted == NULL:
            raise MemoryError()
        cdef int64_t i
        for i in range(capacity):
            self._buckets[i].pair = -1
        memset(self._converted, 0, capacity)
        self._mask = capacity - 1

    cdef int64_t _find(self, int64_t contact, int64_t program) noexcept:
        cdef int64_t pair = (contact << 16) | program
        cdef int64_t i = <int64_t>(_mix(contact, program) & <uint64_t>self._mask)
        while self._buckets[i].pair != -1 and self._buckets[i].pair != pair:
            i = (i + 1) & self._mask
        return i

    def get(self, int64_t contact, int64_t program):
        if not 0 <= contact <= MAX_CONTACT or not 0 <= program <= MAX_PROGRAM:
            return None
        cdef int64_t i = self._find(contact, program)
        if self._buckets[i].pair == -1:
            return None
        return Past(self._buckets[i].entered_at, self._buckets[i].exited_at, self._converted[i] != 0)

    def set(self, int64_t contact, int64_t program, double entered_at, double exited_at, bint converted):
        _check_pair(contact, program)
        cdef int64_t i = self._find(contact, program)
        if self._buckets[i].pair == -1:
            self._buckets[i].pair = (contact << 16) | program
            self._count += 1
        self._buckets[i].entered_at = entered_at
        self._buckets[i].exited_at = exited_at
        self._converted[i] = converted
        if self._count * 10 > (self._mask + 1) * 7:
            self._rehash((self._mask + 1) * 2)

    def convert(self, int64_t contact, int64_t program):
        """The goal came after the enrollment ended (within the attribution window)."""
        _check_pair(contact, program)
        cdef int64_t i = self._find(contact, program)
        if self._buckets[i].pair == -1:
            raise KeyError(f"contact {contact} has no ended enrollment in program {program}")
        self._converted[i] = 1

    def remove(self, int64_t contact, int64_t program):
        """Forget the pair (a new enrollment began, the contact was deleted)."""
        if not 0 <= contact <= MAX_CONTACT or not 0 <= program <= MAX_PROGRAM:
            return False
        cdef int64_t hole = self._find(contact, program), i, home
        if self._buckets[hole].pair == -1:
            return False
        i = hole
        while True:  # shift back the entries of the run that probed past the hole
            i = (i + 1) & self._mask
            if self._buckets[i].pair == -1:
                break
            home = <int64_t>(_mix(self._buckets[i].pair >> 16, self._buckets[i].pair & 0xFFFF) & <uint64_t>self._mask)
            if (i - home) & self._mask >= (i - hole) & self._mask:
                self._buckets[hole] = self._buckets[i]
                self._converted[hole] = self._converted[i]
                hole = i
        self._buckets[hole].pair = -1
        self._converted[hole] = 0
        self._count -= 1
        return True

    def exited_many(self, contacts, int64_t program):
        """When each contact's last enrollment in the program ended (NaN: it has none)."""
        cdef const int64_t[::1] wanted = np.ascontiguousarray(contacts, dtype=np.int64)
        found = np.full(wanted.shape[0], np.nan, dtype=np.float64)
        cdef double[::1] exited = found
        cdef Py_ssize_t i
        cdef int64_t j
        for i in range(wanted.shape[0]):
            if 0 <= wanted[i] <= MAX_CONTACT and 0 <= program <= MAX_PROGRAM:
                j = self._find(wanted[i], program)
                if self._buckets[j].pair != -1:
                    exited[i] = self._buckets[j].exited_at
        return found

    def remove_many(self, contacts, int64_t program):
        """:meth:`remove` of each contact in one program; whether each had an entry."""
        cdef const int64_t[::1] wanted = np.ascontiguousarray(contacts, dtype=np.int64)
        found = np.zeros(wanted.shape[0], dtype=np.bool_)
        if self._count == 0:
            return found  # the common case of a first mass entry: nothing to look up
        cdef Py_ssize_t i
        for i in range(wanted.shape[0]):
            found[i] = self.remove(wanted[i], program)
        return found

    cdef _rehash(self, int64_t capacity):
        cdef PastEntry* old = self._buckets
        cdef unsigned char* old_converted = self._converted
        cdef int64_t old_capacity = self._mask + 1, i, j
        try:
            self._allocate(capacity)
        except MemoryError:
            PyMem_Free(self._buckets)
            PyMem_Free(self._converted)
            self._buckets, self._converted, self._mask = old, old_converted, old_capacity - 1
            raise
        for i in range(old_capacity):
            if old[i].pair != -1:
                j = self._find(old[i].pair >> 16, old[i].pair & 0xFFFF)
                self._buckets[j] = old[i]
                self._converted[j] = old_converted[i]
        PyMem_Free(old)
        PyMem_Free(old_converted)
