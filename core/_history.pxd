# The history arena of core/history.py as compiled code reads it: structs of pointers into its
# numpy arrays, their binding, and the two reads conditions make (``did`` counts, a message's
# status). Inline functions only: they compile into each module that cimports them, so this
# has no extension of its own.
from libc.stdint cimport int32_t, int64_t, uint8_t

cdef enum:
    NO_ID = -1  # bytecode.NONE: no message, no program, no window, no bound

ctypedef struct Runs:
    # arena.Runs: per contact slot, the first row and the length of its run (NULL: no table)
    const int32_t* start
    const int32_t* count
    int64_t slots

ctypedef struct Events:
    # History.rows: every kept event; each run is in time order
    const double* time
    const int32_t* program
    const int32_t* message
    int64_t rows

ctypedef struct Statuses:
    # History.statuses: per contact slot, a run of (message, best status)
    Runs runs
    const int32_t* message
    const uint8_t* status
    int64_t rows

ctypedef struct Did:
    # a DID instruction: its history query row, and the runs of the event it counts
    Runs runs
    const double* sums          # per row: what ``sum`` adds (NULL: the query has no sum)
    int32_t program, message    # NO_ID for any
    int64_t window              # seconds back from now, or NO_ID
    bint since_entry
    int32_t at_least, at_most   # at_most: NO_ID for no bound
    int32_t sum_cmp, sum_const


cdef inline int64_t run_of(const Runs* runs, int64_t slot, int64_t rows, int64_t* end) noexcept nogil:
    """The first row of the slot's run, its end in ``end``: empty when it has none, or when the
    run lies beyond ``rows`` (a binding older than the arena's last growth)."""
    cdef int64_t first
    end[0] = 0
    if runs.start == NULL or slot >= runs.slots or runs.count[slot] <= 0:
        return 0
    first = runs.start[slot]
    end[0] = first + runs.count[slot]
    if first < 0 or end[0] > rows:
        end[0] = first
    return first


cdef inline int64_t matching(const Did* query, const Events* events, int64_t slot, double since,
                             double now, double* total) noexcept nogil:
    """How many of the contact's events in [since, now] match the query; their ``sum`` is added
    to ``total`` oldest first, the order in which evaluator._did adds (the same rounding). The
    run is in time order: the window is a range of it, found from the newest end."""
    cdef int64_t end, i, count = 0
    cdef int64_t first = run_of(&query.runs, slot, events.rows, &end)
    while end > first and events.time[end - 1] > now:
        end -= 1
    i = end
    while i > first and events.time[i - 1] >= since:
        i -= 1
    for i in range(i, end):
        if query.program != NO_ID and events.program[i] != query.program:
            continue
        if query.message != NO_ID and events.message[i] != query.message:
            continue
        count += 1
        if query.sums != NULL:
            total[0] += query.sums[i]
    return count


cdef inline int status_of(const Statuses* statuses, int64_t slot, int32_t message) noexcept nogil:
    """The best status ``message`` reached for the contact (0: never sent)."""
    cdef int64_t end, i
    cdef int64_t first = run_of(&statuses.runs, slot, statuses.rows, &end)
    for i in range(first, end):
        if statuses.message[i] == message:
            return statuses.status[i]
    return 0


cdef inline bind_events(Events* events, columns, list keep):
    events.time = doubles(columns["time"], keep)
    events.program = int32s(columns["program"], keep)
    events.message = int32s(columns["message"], keep)
    events.rows = len(columns["time"])


cdef inline bind_statuses(Statuses* statuses, runs, list keep):
    bind_runs(&statuses.runs, runs, keep)
    statuses.message = int32s(runs.arena.columns["message"], keep)
    statuses.status = uint8s(runs.arena.columns["status"], keep)
    statuses.rows = len(runs.arena.columns["message"])


cdef inline bind_did(Did* did, history, queries, int64_t row, list keep):
    """A DID instruction's query row, with the runs of its event and the column its sum reads."""
    runs = history.runs(int(queries.event[row]))
    if runs is not None:
        bind_runs(&did.runs, runs, keep)
    if queries.sum_prop[row] != NO_ID:
        did.sums = doubles(history.sums(int(queries.sum_prop[row])), keep)
    did.program, did.message = queries.program[row], queries.message[row]
    did.window, did.since_entry = queries.window[row], queries.since_entry[row]
    did.at_least, did.at_most = queries.at_least[row], queries.at_most[row]
    did.sum_cmp, did.sum_const = queries.sum_cmp[row], queries.sum_const[row]


cdef inline bind_runs(Runs* bound, runs, list keep):
    bound.start, bound.count = int32s(runs.start, keep), int32s(runs.count, keep)
    bound.slots = len(runs.count)


# The first element of an array for C, checked contiguous and of its type by the memoryview;
# ``keep`` holds the array, so the pointer outlives the view.
cdef inline const double* doubles(array, list keep) except NULL:
    cdef const double[::1] view = array
    keep.append(array)
    return &view[0]


cdef inline const int32_t* int32s(array, list keep) except NULL:
    cdef const int32_t[::1] view = array
    keep.append(array)
    return &view[0]


cdef inline const uint8_t* uint8s(array, list keep) except NULL:
    cdef const uint8_t[::1] view = array
    keep.append(array)
    return &view[0]
