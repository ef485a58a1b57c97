"""Type stub of the compiled contact hash (the pure twin, core/hashing.py, has the same
interface)."""

def contact_hash(contact: str) -> int: ...
