"""Spreading tasks over people by workload (out of office, bulk redistribution)."""

from __future__ import annotations

import heapq


def distribute(task_ids: list[str], open_tasks: dict[str, int]) -> dict[str, str]:
    """Give each task to whoever carries the fewest open tasks at that moment (ties: the
    lower user id), counting the tasks handed out so far. Empty when nobody can take them."""
    if not open_tasks:
        return {}
    heap = [(load, user) for user, load in open_tasks.items()]
    heapq.heapify(heap)
    assignment = {}
    for task_id in task_ids:
        load, user = heapq.heappop(heap)
        assignment[task_id] = user
        heapq.heappush(heap, (load + 1, user))
    return assignment
