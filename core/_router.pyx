# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""The event router, compiled: ``router.py``'s scan with no interpreter between events.

An event that concerns no program costs a type check, four attribute reads and three hash
lookups on strings whose hashes are cached, against several microseconds through the
engine's Python path. The gates stay Python tuples, read with routing.py's own functions:
only routed events get that far.
"""

from cpython.dict cimport PyDict_GetItem
from cpython.object cimport PyObject
from libc.stdint cimport int64_t

from .events import LATE_LIMIT, Event
from .bytecode import NONE
from .pairs import NO_SLOT
from .router import Scanned
from .routing import FEEDBACK, passes

cdef double LATE = LATE_LIMIT


cdef class Router:
    """Events that need nothing, let through in one pass (see router.py)."""

    cdef dict _ids
    cdef dict _table
    cdef dict _contacts
    cdef object _live
    cdef object _past
    cdef frozenset _feedback
    cdef type _event

    def __init__(self, event_ids, table, contacts, live, past):
        if type(event_ids) is not dict or type(contacts) is not dict:
            raise TypeError("the compiled router reads plain dicts of event ids and contacts")
        self._ids = event_ids
        self._table = dict(table)
        self._contacts = contacts
        self._live, self._past = live, past
        self._feedback = FEEDBACK
        self._event = Event

    def scan(self, list events, int64_t start, double now, double until, double horizon,
             set deleted, seen):
        """Take events from ``start`` while they need nothing (see router.py)."""
        cdef int64_t index, count = len(events), accepted = 0, late = 0
        cdef double time, moment
        cdef bint is_late
        cdef object event, message_id, contact
        cdef PyObject* slot
        cdef bint check_deleted = len(deleted) > 0
        for index in range(start, count):
            event = events[index]
            if type(event) is not self._event:
                break
            contact = event.contact
            if check_deleted and contact in deleted:
                break
            time = event.time
            if time > horizon or (time > now and time >= until):
                break
            message_id = event.message_id
            if message_id is not None and message_id in seen:
                break
            slot = PyDict_GetItem(self._contacts, contact)
            if slot == NULL:
                break
            is_late = time < now - LATE
            moment = now if now > time else time
            if not self._inert(event, <object>slot, moment, is_late):
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

    cdef bint _inert(self, object event, object slot, double now, bint is_late) except -1:
        cdef object name = event.name
        if name in self._feedback:
            return False
        cdef PyObject* event_id = PyDict_GetItem(self._ids, name)
        if event_id == NULL:
            return True
        cdef PyObject* gates = PyDict_GetItem(self._table, <object>event_id)
        if gates == NULL:
            return True
        if <object>gates is None:
            return False  # history keeps every such event, late or not
        for gate in <tuple>gates:
            if is_late and gate[0] != NONE:
                continue  # a late event triggers nothing; history may still keep it
            if not self._shut(gate, event.properties, slot, now):
                return False
        return True

    cdef bint _shut(self, object gate, object props, object slot, double now) except -1:
        program, active_from, active_until, live, last, entries = gate
        if not active_from <= now < active_until:
            return True
        if live and self._live.get(slot, program) != NO_SLOT:
            return False
        if last and (self._live.get(slot, program) != NO_SLOT
                     or self._past.get(slot, program) is not None):
            return False
        for guard in <tuple>entries:
            if guard is None or passes(guard, props):
                return False
        return True

