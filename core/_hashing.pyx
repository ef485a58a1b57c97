# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""A contact id's stable 64-bit hash, compiled, and the grouping of events by partition that ingest
does with it. The hash: BLAKE2b (RFC 7693) with an 8-byte digest over
the id's UTF-8 bytes, read little-endian, as ``hashing.py`` (its pure twin) gets it from
hashlib. Ingest hashes every event's contact, and hashlib builds an object per call: here one
call reads the id's UTF-8 bytes in place (CPython keeps them for ASCII text) and runs the
compression function in C.
"""

cimport cython
from cpython.unicode cimport PyUnicode_AsUTF8AndSize
from libc.stdint cimport uint8_t, uint64_t
from libc.string cimport memcpy, memset

cdef uint64_t[8] IV = [
    0x6a09e667f3bcc908ULL, 0xbb67ae8584caa73bULL, 0x3c6ef372fe94f82bULL, 0xa54ff53a5f1d36f1ULL,
    0x510e527fade682d1ULL, 0x9b05688c2b3e6c1fULL, 0x1f83d9abfb41bd6bULL, 0x5be0cd19137e2179ULL,
]
#: the message word order of the rounds (round i takes row i mod 10)
cdef uint8_t[10][16] SIGMA = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
    [14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3],
    [11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4],
    [7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8],
    [9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13],
    [2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9],
    [12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11],
    [13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10],
    [6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5],
    [10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0],
]
#: the parameter block's first word: digest length 8, no key, fanout 1, depth 1
cdef uint64_t PARAMETERS = 0x01010000ULL | 8


cdef inline uint64_t _rotr(uint64_t word, int bits) noexcept nogil:
    return (word >> bits) | (word << (64 - bits))


cdef inline void _mix(uint64_t* v, int a, int b, int c, int d, uint64_t x, uint64_t y) noexcept nogil:
    v[a] = v[a] + v[b] + x
    v[d] = _rotr(v[d] ^ v[a], 32)
    v[c] = v[c] + v[d]
    v[b] = _rotr(v[b] ^ v[c], 24)
    v[a] = v[a] + v[b] + y
    v[d] = _rotr(v[d] ^ v[a], 16)
    v[c] = v[c] + v[d]
    v[b] = _rotr(v[b] ^ v[c], 63)


cdef void _compress(uint64_t* h, const uint8_t* block, uint64_t counted, bint last) noexcept nogil:
    cdef uint64_t[16] m
    cdef uint64_t[16] v
    cdef int i, j
    cdef const uint8_t* s
    for i in range(16):  # little-endian words, whatever the machine's order
        m[i] = 0
        for j in range(8):
            m[i] |= (<uint64_t>block[i * 8 + j]) << (8 * j)
    for i in range(8):
        v[i] = h[i]
        v[i + 8] = IV[i]
    v[12] ^= counted  # the byte counter's low word (ids stay far below 2**64 bytes)
    if last:
        v[14] = ~v[14]
    for i in range(12):
        s = SIGMA[i % 10]
        _mix(v, 0, 4, 8, 12, m[s[0]], m[s[1]])
        _mix(v, 1, 5, 9, 13, m[s[2]], m[s[3]])
        _mix(v, 2, 6, 10, 14, m[s[4]], m[s[5]])
        _mix(v, 3, 7, 11, 15, m[s[6]], m[s[7]])
        _mix(v, 0, 5, 10, 15, m[s[8]], m[s[9]])
        _mix(v, 1, 6, 11, 12, m[s[10]], m[s[11]])
        _mix(v, 2, 7, 8, 13, m[s[12]], m[s[13]])
        _mix(v, 3, 4, 9, 14, m[s[14]], m[s[15]])
    for i in range(8):
        h[i] ^= v[i] ^ v[i + 8]


cdef uint64_t _blake2b_8(const uint8_t* data, Py_ssize_t size) noexcept nogil:
    cdef uint64_t[8] h
    cdef uint8_t[128] last
    cdef Py_ssize_t done = 0
    cdef int i
    for i in range(8):
        h[i] = IV[i]
    h[0] ^= PARAMETERS
    while size - done > 128:  # every full block but the last
        _compress(h, data + done, done + 128, False)
        done += 128
    memset(last, 0, 128)
    memcpy(last, data + done, size - done)
    _compress(h, last, size, True)
    return h[0]  # the 8-byte digest is the first state word, little-endian


def contact_hash(str contact):
    """A stable 64-bit hash of a contact id."""
    cdef Py_ssize_t size
    cdef const char* data = PyUnicode_AsUTF8AndSize(contact, &size)
    return _blake2b_8(<const uint8_t*>data, size)


@cython.boundscheck(True)  # a row without a first item raises, as in the twin
def partition_shares(rows, Py_ssize_t partitions):
    """Which rows go to which partition: partition -> the indexes of its rows, in order, for
    rows whose first item is a contact id (ingest groups every event so: one call, no Python
    step per event).

    Raises:
        ValueError: fewer than 1 partition.
        TypeError: a row's first item is not text.
    """
    if partitions < 1:
        raise ValueError(f"rows cannot be shared out to {partitions} partitions (1 or more)")
    cdef dict shares = {}
    cdef Py_ssize_t index, size
    cdef const char* data
    cdef object contact, partition, mine
    for index in range(len(rows)):
        contact = rows[index][0]  # held while the hash reads its bytes
        data = PyUnicode_AsUTF8AndSize(contact, &size)
        partition = <Py_ssize_t>(_blake2b_8(<const uint8_t*>data, size) % <uint64_t>partitions)
        mine = shares.get(partition)
        if mine is None:
            shares[partition] = [index]
        else:
            (<list>mine).append(index)
    return shares
