"""Implementations of :class:`parcours.core.store.Store`."""
