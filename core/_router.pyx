# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""The event router, compiled: ``router.py``'s scan with no interpreter between events.

An event that concerns no program costs two reads of typed columns (time, name code), one hash
lookup of its contact id and a look at its name's plan, against several microseconds through
the engine's Python path. Guards (text equalities and prefixes on properties) are tested here
too; only events that reach a live enrollment or a goal call back into Python, to the pair
indexes.
"""

from cpython.dict cimport PyDict_GetItem
from cpython.list cimport PyList_Check
from cpython.object cimport PyObject
from cpython.unicode cimport PyUnicode_Check, PyUnicode_Tailmatch
from libc.stdint cimport int64_t

from .bytecode import NONE
from .events import LATE_LIMIT
from .pairs import NO_SLOT
from .router import FULL, INERT, Scanned
from .routing import FEEDBACK

cdef double LATE = LATE_LIMIT
cdef Py_ssize_t TO_THE_END = 2 ** 62


cdef class Router:
    """Events that need nothing, let through in one pass (see router.py)."""

    cdef dict _ids
    cdef dict _table
    cdef dict _contacts
    cdef object _live
    cdef object _past
    cdef frozenset _feedback
    cdef object _full
    cdef object _inert_step
    # the last batch scanned, its columns as typed views, and its names' plan
    cdef object _batch
    cdef const int[:] _codes
    cdef const double[:] _times
    cdef list _steps

    def __init__(self, event_ids, table, contacts, live, past):
        if type(event_ids) is not dict or type(contacts) is not dict:
            raise TypeError("the compiled router reads plain dicts of event ids and contacts")
        self._ids = event_ids
        self._table = dict(table)
        self._contacts = contacts
        self._live, self._past = live, past
        self._feedback = FEEDBACK
        self._full, self._inert_step = FULL, INERT
        self._batch = None

    def scan(self, batch, int64_t start, double now, double until, double horizon,
             set deleted, seen):
        """Take events from ``start`` while they need nothing (see router.py)."""
        cdef list contacts = batch.contacts, properties = batch.properties
        cdef list message_ids = batch.message_ids
        cdef int64_t index, count = len(contacts), accepted = 0, late = 0
        cdef double time, moment
        cdef bint is_late
        cdef object message_id, contact, step
        cdef PyObject* slot
        cdef bint check_deleted = len(deleted) > 0
        self._take(batch)
        for index in range(start, count):
            contact = contacts[index]
            if check_deleted and contact in deleted:
                break
            time = self._times[index]
            if time > horizon or (time > now and time >= until):
                break
            message_id = message_ids[index]
            if message_id is not None and message_id in seen:
                break
            slot = PyDict_GetItem(self._contacts, contact)
            if slot == NULL:
                break
            step = self._steps[self._codes[index]]
            if step is self._full:
                break
            is_late = time < now - LATE
            moment = now if now > time else time
            if step is not self._inert_step and not self._shut_all(
                <tuple>step, properties[index], <object>slot, moment, is_late
            ):
                break
            now = moment
            if is_late:
                late += 1
            else:
                accepted += 1
            if message_id is not None:
                seen[message_id] = now
        else:
            index = count
        return Scanned(index, accepted, late, now)

    cdef int _take(self, object batch) except -1:
        """Views of the batch's columns and its names' plan, once per batch."""
        if batch is self._batch and len(self._steps) == len(batch.names):
            return 0
        self._codes = batch.codes
        self._times = batch.times
        self._steps = [self._plan(name) for name in batch.names]
        self._batch = batch
        return 0

    cdef object _plan(self, object name):
        if name in self._feedback:
            return self._full
        cdef PyObject* event_id = PyDict_GetItem(self._ids, name)
        if event_id == NULL:
            return self._inert_step
        cdef PyObject* gates = PyDict_GetItem(self._table, <object>event_id)
        if gates == NULL:
            return self._inert_step
        if <object>gates is None:
            return self._full  # history keeps every such event, late or not
        return <object>gates

    cdef bint _shut_all(self, tuple gates, object props, object slot, double now,
                        bint is_late) except -1:
        for gate in gates:
            if is_late and gate[0] != NONE:
                continue  # a late event triggers nothing; history may still keep it
            if not self._shut(<tuple>gate, props, slot, now):
                return False
        return True

    cdef bint _shut(self, tuple gate, object props, object slot, double now) except -1:
        program, active_from, active_until, live, last, entries = gate
        if not active_from <= now < active_until:
            return True
        if live and self._live.get(slot, program) != NO_SLOT:
            return False
        if last and (self._live.get(slot, program) != NO_SLOT
                     or self._past.get(slot, program) is not None):
            return False
        for guard in <tuple>entries:
            if guard is None or _passes(<tuple>guard, props):
                return False
        return True


cdef bint _passes(tuple guard, object props) except -1:
    """routing.passes, compiled: whether the properties may satisfy the guard."""
    cdef object value
    cdef PyObject* found
    for term in guard:
        name, exact, prefixes = <tuple>term
        if type(props) is dict:
            found = PyDict_GetItem(props, name)
            value = None if found == NULL else <object>found
        else:
            value = props.get(name)
        if PyList_Check(value):
            continue  # one member of a list might match
        if not PyUnicode_Check(value):
            return False
        if not (value in <tuple>exact or _starts_with(value, <tuple>prefixes)):
            return False
    return True


cdef bint _starts_with(object text, tuple prefixes) except -1:
    for prefix in prefixes:
        if PyUnicode_Tailmatch(text, prefix, 0, TO_THE_END, -1):
            return True
    return False
