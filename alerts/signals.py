"""The alerts' subscription to the one change signal (layers.models.catalog.data_changed)."""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger(__name__)


def on_data_changed(sender: Any, **kwargs: Any) -> None:
    """After a committed change: queue one evaluation of the rules (none when no rule is active). A failure
    is logged, never raised: the writer's data is committed and its answer must not become an error."""
    from alerts.evaluate import any_rules
    from alerts.tasks import request_evaluation

    try:
        if any_rules():
            request_evaluation()
    except Exception:  # noqa: BLE001 - see docstring
        logger.exception("evaluation of alert rules not queued after a data change")
