"""Workers Logs is billed by volume: the bytes the cost model gives each of the Worker's own log
lines (infra/cost/estimate.py WORKER_LOG_LINE_BYTES) are measured here from its real lines on workerd."""

from __future__ import annotations

import json

import pytest
from local_worker import worker_env
from test_observability import logged
from test_worker_api import subscribe

from infra.cost import estimate as cost

pytestmark = pytest.mark.e2e


def test_the_models_bytes_per_log_line_cover_the_workers_real_lines(worker, user_id):
    subscribe(worker, user_id)
    with worker.sending(worker_env(ROUTINE_LOG_SAMPLE_RATE=1)):
        responses = [
            worker.put(f"/subscriptions/{user_id}", {"tier": "premium"}),  # a write
            worker.get(f"/subscriptions/{user_id}"),  # a miss (the put cleared the entry)
            worker.get(f"/subscriptions/{user_id}"),  # a hit
            worker.get(f"/subscriptions/{user_id}-nobody"),  # no subscription
            worker.post(f"/usage/{user_id}"),  # a counted use
            worker.get("/tiers"),
            worker.get("/health"),
        ]
    lines = logged(worker, responses)
    assert len(lines) == len(responses)
    # The Worker writes JSON.stringify(line): compact JSON, as measured here.
    sizes = [len(json.dumps(line, separators=(",", ":")).encode()) for line in lines]
    # Big enough for the longest line seen, and not so big that the estimate overstates the bill.
    assert max(sizes) <= cost.WORKER_LOG_LINE_BYTES <= 1.25 * max(sizes), sizes
