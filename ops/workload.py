"""A generated shop for the examples: contacts and a stream of events that looks like a real one
(``parcours demo``, the service's tests, the benchmarks).

A shop's stream, per 1,000 events: 620 events no program names (product and screen views,
searches, sessions), 300 page views (3 of them the pricing page, which alerts sales), 30
delivery and open reports, and 50 that programs react to (carts, orders, forms, scores,
meetings). The same seed gives the same contacts and events.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

from parcours.core.events import Event

#: (weight per 1,000, event name, properties)
MIX: list[tuple[int, str, dict[str, Any]]] = [
    (250, "product.viewed", {"sku": "A-1"}),
    (150, "screen.viewed", {"screen": "home"}),
    (120, "search.performed", {"query": "shoes"}),
    (100, "session.started", {}),
    (297, "page.viewed", {"path": "/blog"}),
    (3, "page.viewed", {"path": "/pricing"}),
    (20, "email.delivered", {"program": "welcome-coupon", "message": "welcome"}),
    (10, "email.opened", {"program": "welcome-coupon", "message": "welcome"}),
    (15, "cart.updated", {"items": 2, "total": 80}),
    (10, "order.completed", {"total": 120, "order_id": "o1"}),
    (15, "form.submitted", {"form": "newsletter"}),
    (5, "score.changed", {"score": 60}),
    (5, "meeting.booked", {}),
]
#: the events of :data:`MIX` that no example program names
UNNAMED = {name for _, name, _ in MIX[:4]}
FIRST_NAMES = ["Ana", "Louis", "Emma", "Noah", "Jade", "Hugo", "Léa", "Malik"]
CITIES = ["Paris", "Lyon", "Marseille", "Lille", "Nantes", "Bordeaux"]
#: groups the examples read, with the share of contacts in each
GROUPS = {"customers": 0.4, "newsletter": 0.6, "prospects": 0.3}


def contact_id(number: int) -> str:
    return f"c{number}"


def contacts(count: int, seed: int = 7) -> Iterator[tuple[str, dict[str, Any]]]:
    """``count`` contacts: (id, fields) with the fields and groups the examples read."""
    rng = random.Random(seed)
    for number in range(count):
        yield (
            contact_id(number),
            {
                "email": f"{contact_id(number)}@example.com",
                "phone": f"+336{number % 10**8:08d}",
                "first_name": rng.choice(FIRST_NAMES),
                "city": rng.choice(CITIES),
                "country": "FR",
                "birthday": f"{rng.randrange(1950, 2005)}-{rng.randrange(1, 13):02d}-"
                f"{rng.randrange(1, 29):02d}",
                "sms_opt_in": rng.random() < 0.5,
                "groups": [group for group, share in GROUPS.items() if rng.random() < share],
            },
        )


def stream(contacts: int, count: int, start: float, span: float, seed: int = 11) -> list[Event]:
    """``count`` events of the :data:`MIX` from ``contacts`` contacts, spread over ``span``
    seconds from ``start``, in time order."""
    rng = random.Random(seed)
    weights = [weight for weight, _, _ in MIX]
    picks = rng.choices(range(len(MIX)), weights, k=count)
    times = sorted(start + rng.random() * span for _ in range(count))
    return [
        Event(contact_id(rng.randrange(contacts)), MIX[pick][1], at, MIX[pick][2])
        for pick, at in zip(picks, times, strict=True)
    ]
