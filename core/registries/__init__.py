"""Implementations of :class:`parcours.core.registry.Registry`."""
