"""Data for local development only: subscriptions loaded into the local D1."""

from __future__ import annotations

from pydantic import Field

from infra.settings.base import SettingModel
from infra.worker_contract import USER_ID_PATTERN, SubscriptionStatus


class DevSubscription(SettingModel):
    """A subscription loaded into the local D1 only, so `wrangler dev` has data to serve."""

    user_id: str = Field(pattern=USER_ID_PATTERN)
    tier: str
    status: SubscriptionStatus = "active"


DEFAULT_DEV_SUBSCRIPTIONS = (
    DevSubscription(user_id="user-free", tier="free"),
    DevSubscription(user_id="user-pro", tier="pro"),
    DevSubscription(user_id="user-premium", tier="premium"),
)
