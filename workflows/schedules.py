"""Making sure a Temporal Schedule exists as the code wants it. Every worker does this at
start; an operator may have paused a schedule, so its state is kept."""

from __future__ import annotations

import dataclasses
import logging

from temporalio.client import (
    Client,
    Schedule,
    ScheduleAlreadyRunningError,
    ScheduleUpdate,
    ScheduleUpdateInput,
)
from temporalio.service import RPCError, RPCStatusCode

log = logging.getLogger(__name__)


async def ensure_schedule(
    client: Client, schedule_id: str, wanted: Schedule, without_schedules: str
) -> bool:
    """Create the schedule, or bring it up to date keeping its paused state; False (logging
    `without_schedules`, what is lost) when the server has no schedules (the time-skipping
    test server)."""
    try:
        await client.create_schedule(schedule_id, wanted)
    except ScheduleAlreadyRunningError:

        def keep_state(current: ScheduleUpdateInput) -> ScheduleUpdate:
            state = current.description.schedule.state
            return ScheduleUpdate(schedule=dataclasses.replace(wanted, state=state))

        try:
            await client.get_schedule_handle(schedule_id).update(keep_state)
        except RPCError as exc:  # another worker starting at the same moment updated it
            log.info("schedule %s left as another worker set it: %s", schedule_id, exc.status)
    except RPCError as exc:
        if exc.status is not RPCStatusCode.UNIMPLEMENTED:
            raise
        log.warning("Temporal has no schedules: %s", without_schedules)
        return False
    return True
