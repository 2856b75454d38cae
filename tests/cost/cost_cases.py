"""What the cost tests share: the guide's example traffic, a small app's, settings with traffic, a meter by key."""

from pulumi_mocks import ACCOUNT_ID

from infra.settings import load_settings

DAY_S = 86_400


GUIDE = {"activeUsers": 10_000, "subscriptionChecksPerUserPerDay": 10, "subscriptionUpdatesPerDay": 100}


def settings_with(traffic=None, **raw):
    return load_settings({"accountId": ACCOUNT_ID, "traffic": traffic or {}, **raw}, stack="prod", env={})


def meter(result, key):
    """The estimate of one billed quantity or store, by key."""
    return next(m for m in (*result.meters, *result.storage) if m.key == key)


def daily(result, key):
    return meter(result, key).daily


def small_app(usage_calls_per_user):
    """1,000 users whose subscription checks fit the free plan, recording usage."""
    return {
        "activeUsers": 1_000,
        "subscriptionChecksPerUserPerDay": 10,
        "subscriptionUpdatesPerDay": 10,
        "cacheHitRatio": 0.99,
        "usageCallsPerUserPerDay": usage_calls_per_user,
    }
