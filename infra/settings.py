"""Everything the program reads from Pulumi config, validated in one pass.

`load_settings` is pure (a dict of config in, `Settings` or `SettingsError`
out) so tests and the CLI use it without the Pulumi engine; `program.settings_or_exit`
is the thin glue that gathers the stack's config.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import os
import re
from collections.abc import Mapping
from typing import Any, Literal

from cronsim import CronSim, CronSimError
from pydantic import (
    BaseModel,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from infra import limits, seeds
from infra.adoption import Adopt
from infra.setting_model import SettingModel, problem
from infra.naming import NAME_PATTERN, ResourceNames, resource_names

PROJECT = "guruai-cache"
ACCOUNT_ID_ENV = "CLOUDFLARE_ACCOUNT_ID"
SERVICE_TOKEN_KEY = "serviceToken"
SERVICE_TOKEN_MIN_CHARS = 32
SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9_-]*[a-z0-9])?$")
FLAG_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
SUBSCRIPTION_STATUSES = ("active", "trialing", "past_due", "canceled")


class Ttls(SettingModel):
    """Cache lifetimes in seconds (the guide's values are the defaults)."""

    subscription: int = 300
    tier_config: int = 3600
    usage: int = 60
    rate_limit: int = 86400

    @field_validator("*")
    @classmethod
    def _at_least_kv_minimum(cls, value: int) -> int:
        if value < limits.KV_MIN_EXPIRATION_TTL_S:
            raise problem(
                f"below KV's minimum expirationTtl of {limits.KV_MIN_EXPIRATION_TTL_S} s",
                f"use {limits.KV_MIN_EXPIRATION_TTL_S} or more",
            )
        return value


class Tier(SettingModel):
    name: str
    monthly_price: float = Field(ge=0)
    daily_request_limit: int = Field(ge=1)
    features: tuple[str, ...] = ()

    @field_validator("name")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not SLUG.match(value):
            raise problem("not a tier slug", "use lowercase letters, digits, '-' or '_', e.g. 'pro'")
        return value


DEFAULT_TIERS = (
    Tier(name="free", monthly_price=0, daily_request_limit=100, features=("basic-search",)),
    Tier(name="pro", monthly_price=9.99, daily_request_limit=1000, features=("basic-search", "ai-answers")),
    Tier(
        name="premium",
        monthly_price=29.99,
        daily_request_limit=10000,
        features=("basic-search", "ai-answers", "priority-support"),
    ),
)


class FeatureFlag(SettingModel):
    enabled: bool = True
    # None: every tier; otherwise only these tiers see the feature.
    tiers: tuple[str, ...] | None = None
    description: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        # `featureFlags: {beta: true}` is the common case; accept it.
        return {"enabled": value} if isinstance(value, (bool, str)) else value


class BurstRateLimit(SettingModel):
    """The Workers `ratelimit` binding: a per-client burst limit."""

    limit: int = Field(default=100, ge=1)
    period: int = 60
    namespace_id: str = "1001"

    @field_validator("period")
    @classmethod
    def _supported_period(cls, value: int) -> int:
        if value not in limits.RATELIMIT_PERIODS_S:
            raise problem("the ratelimit binding supports only 10 or 60 seconds", "use 10 or 60")
        return value

    @field_validator("namespace_id")
    @classmethod
    def _positive_integer(cls, value: str) -> str:
        if not value.isdigit() or int(value) < 1:
            raise problem("not a positive integer", "use a number unique to this limiter in the account, e.g. '1001'")
        return value


class DevSubscription(SettingModel):
    """A subscription loaded into the local D1 only, so `wrangler dev` has data to serve."""

    user_id: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")
    tier: str
    status: Literal["active", "trialing", "past_due", "canceled"] = "active"


DEFAULT_DEV_SUBSCRIPTIONS = (
    DevSubscription(user_id="user-free", tier="free"),
    DevSubscription(user_id="user-pro", tier="pro"),
    DevSubscription(user_id="user-premium", tier="premium"),
)


def _count(default: float) -> Any:
    return Field(default=default, ge=0, allow_inf_nan=False)


class Traffic(SettingModel):
    """Expected traffic: the input of `guruai-cache estimate` and of the free-plan warning.

    Defaults are the setup guide's cost example (10,000 users, 10 subscription checks
    each a day, 100 updates a day). The guide counts no other route, so those default to 0.
    """

    active_users: int = Field(default=10_000, ge=0)
    subscription_checks_per_user_per_day: float = _count(10)
    subscription_updates_per_day: float = _count(100)
    usage_calls_per_user_per_day: float = _count(0)
    tier_reads_per_user_per_day: float = _count(0)
    health_checks_per_day: float = _count(0)
    # Share of subscription checks answered from KV. Users check in bursts within the
    # subscription TTL, so most checks hit; writes to KV come from the misses.
    cache_hit_ratio: float = 0.9
    # Share of checked users with no active subscription (answered 404, cached negatively).
    unsubscribed_share: float = 0.0
    # Share of usage calls refused because the user is over the tier's daily limit.
    usage_denied_share: float = 0.0
    # Growth of active users per month (0.1 = +10 %), to find the day a free limit is hit.
    monthly_user_growth: float = Field(default=0.0, ge=0, le=10, allow_inf_nan=False)
    # The account's Workers plan: on "paid" the free-plan warning gives way to the bill.
    workers_plan: Literal["free", "paid"] = "free"

    @field_validator("cache_hit_ratio", "unsubscribed_share", "usage_denied_share")
    @classmethod
    def _share(cls, value: float) -> float:
        if not 0 <= value <= 1:  # also refuses NaN
            hint = f"{value:g} % is {value / 100:g}" if 1 < value <= 100 else "e.g. 0.9 for 90 %"
            raise problem("a share must lie between 0 and 1", f"write it as a fraction ({hint})")
        return value


class Settings(SettingModel):
    app_name: str = "guruai"
    # Validated even when unset: a missing account id is reported with the rest.
    account_id: str | None = Field(default=None, validate_default=True)
    ttls: Ttls = Ttls()
    tiers: tuple[Tier, ...] = DEFAULT_TIERS
    feature_flags: dict[str, FeatureFlag] = {}
    cron: str = "0 3 * * *"
    compatibility_date: str = "2026-04-01"
    burst_rate_limit: BurstRateLimit = BurstRateLimit()
    usage_retention_days: int = Field(default=35, ge=1, le=3650)
    # Protect and retain KV namespaces and D1 databases: no replace, no delete drops data.
    protect_stateful_resources: bool = True
    dev_subscriptions: tuple[DevSubscription, ...] = DEFAULT_DEV_SUBSCRIPTIONS
    # Existing namespaces/databases to take over by id instead of creating them.
    adopt: Adopt = Adopt()
    traffic: Traffic = Traffic()

    @field_validator("app_name")
    @classmethod
    def _app_name(cls, value: str, info: ValidationInfo) -> str:
        if not NAME_PATTERN.match(value):
            raise problem(
                "Cloudflare names accept only lowercase letters, digits and inner hyphens",
                "use e.g. 'guruai' or 'my-app'",
            )
        stack = (info.context or {}).get("stack", "dev")
        problems = resource_names(value, stack).problems()
        if problems:
            raise problem("; ".join(problems), "shorten appName, or use a lowercase stack name")
        return value

    @field_validator("account_id")
    @classmethod
    def _account_id(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            if (info.context or {}).get("require_account", True):
                raise problem(
                    "missing",
                    f"run `pulumi config set accountId <32-hex id>` or export {ACCOUNT_ID_ENV}",
                )
            return None
        if not re.fullmatch(r"[0-9a-f]{32}", value):
            raise problem(
                "not a Cloudflare account id (32 lowercase hex characters)",
                "copy it from the dashboard's Workers & Pages overview, right sidebar",
            )
        return value

    @field_validator("tiers")
    @classmethod
    def _tiers(cls, value: tuple[Tier, ...]) -> tuple[Tier, ...]:
        if not value:
            raise problem("no tiers", "define at least one tier")
        names = [tier.name for tier in value]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise problem(f"tier names repeat: {', '.join(duplicates)}", "give each tier its own name")
        _raise_if(_kv_size_issues(("tiers",), seeds.TIERS_KEY, seeds.tiers_value(value)))
        return value

    @field_validator("feature_flags")
    @classmethod
    def _flags(cls, value: dict[str, FeatureFlag], info: ValidationInfo) -> dict[str, FeatureFlag]:
        issues: list[_Issue] = []
        tier_names = _valid_tier_names(info)
        for name, flag in value.items():
            where = ("featureFlags", name)
            if not FLAG_NAME.match(name):
                issues.append((where, "not a plain flag name", name, "use letters, digits, '.', '_' or '-'"))
            issues += _kv_size_issues(where, seeds.flag_key(name), seeds.flag_value(flag))
            for index, tier in enumerate(flag.tiers or ()):
                if tier_names is not None and tier not in tier_names:
                    issues.append((where + ("tiers", index), "names an unknown tier", tier, _one_of(tier_names)))
        _raise_if(issues)
        return value

    @field_validator("dev_subscriptions")
    @classmethod
    def _dev_subscription_tiers(
        cls, value: tuple[DevSubscription, ...], info: ValidationInfo
    ) -> tuple[DevSubscription, ...]:
        tier_names = _valid_tier_names(info)
        _raise_if(
            [
                (("devSubscriptions", index, "tier"), "names an unknown tier", sub.tier, _one_of(tier_names))
                for index, sub in enumerate(value)
                if tier_names is not None and sub.tier not in tier_names
            ]
        )
        return value

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str) -> str:
        if len(value.split()) != 5:
            raise problem(
                "Cloudflare cron triggers take exactly 5 fields (minute hour day month weekday)",
                "use e.g. '0 3 * * *' for 03:00 UTC daily",
            )
        try:
            CronSim(value, dt.datetime(2026, 1, 1))
        except CronSimError as error:
            raise problem(f"not a cron expression: {error}", "use e.g. '0 3 * * *' for 03:00 UTC daily") from None
        return value

    @field_validator("compatibility_date")
    @classmethod
    def _compatibility_date(cls, value: str) -> str:
        try:
            parsed = dt.date.fromisoformat(value)
        except ValueError:
            raise problem("not a date in YYYY-MM-DD form", "use e.g. '2026-04-01'") from None
        if parsed > dt.date.today():
            raise problem("in the future: Cloudflare rejects it", "use today's date or earlier")
        return value

    def names(self, stack: str) -> ResourceNames:
        return resource_names(self.app_name, stack)

    def seed_entries(self) -> dict[str, str]:
        return seeds.seed_entries(self.tiers, self.feature_flags)

    def tier_names(self) -> tuple[str, ...]:
        return tuple(tier.name for tier in self.tiers)


_Issue = tuple[tuple[Any, ...], str, Any, str]  # (config location, problem, got, fix)


class _SeveralProblems(ValueError):
    """Several problems found by one validator; carried out of pydantic intact."""

    def __init__(self, issues: list[_Issue]):
        super().__init__("; ".join(problem for _, problem, _, _ in issues))
        self.issues = issues


def _raise_if(issues: list[_Issue]) -> None:
    if issues:
        raise _SeveralProblems(issues)


def _valid_tier_names(info: ValidationInfo) -> set[str] | None:
    """The tier names, or None when the tiers themselves failed (nothing to check against)."""
    tiers = info.data.get("tiers")
    return None if tiers is None else {tier.name for tier in tiers}


def _one_of(names: set[str] | None) -> str:
    return f"use one of: {', '.join(sorted(names or ()))}"


def _kv_size_issues(where: tuple[Any, ...], key: str, value: str) -> list[_Issue]:
    issues: list[_Issue] = []
    key_bytes, value_bytes = len(key.encode()), len(value.encode())
    if key_bytes > limits.KV_MAX_KEY_BYTES:
        issues.append(
            (where, f"its KV key is {key_bytes} bytes, over KV's {limits.KV_MAX_KEY_BYTES}", key, "use a shorter name")
        )
    if value_bytes > limits.KV_MAX_VALUE_BYTES:
        issues.append(
            (
                where,
                f"its KV value is {value_bytes} bytes, over KV's {limits.KV_MAX_VALUE_BYTES} (25 MiB)",
                value,
                "trim it, or split it across keys",
            )
        )
    return issues


# --- reporting -------------------------------------------------------------


class SettingIssue(BaseModel):
    key: str
    problem: str
    got: Any
    fix: str

    def __str__(self) -> str:
        return f"{self.key}: {self.problem} (got {_show(self.got)}); fix: {self.fix}"


class SettingsError(Exception):
    """Every invalid setting at once; its message is what the user sees."""

    def __init__(self, stack: str, issues: list[SettingIssue]):
        self.stack = stack
        self.issues = issues
        lines = [f"stack {stack!r}: {len(issues)} invalid setting{'s' if len(issues) != 1 else ''}"]
        lines += [f"  - {issue}" for issue in issues]
        super().__init__("\n".join(lines))


_GENERIC_FIXES = {
    "extra_forbidden": "remove it, or check its spelling",
    "missing": "set it",
    "int_parsing": "use a whole number",
    "int_from_float": "use a whole number",
    "float_parsing": "use a number",
    "finite_number": "use a finite number",
    "model_type": "use an object (`pulumi config set --path`)",
    "bool_parsing": "use true or false",
    "greater_than_equal": "raise it to at least {ge}",
    "less_than_equal": "lower it to at most {le}",
    "string_pattern_mismatch": "match the pattern {pattern}",
    "literal_error": "use one of {expected}",
    "string_type": "use a string",
    "dict_type": "use an object (`pulumi config set --path`)",
    "tuple_type": "use a list (`pulumi config set --path 'key[0]' ...`)",
}


def _show(value: Any, limit: int = 80) -> str:
    if value is None:
        return "nothing"
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    shown = repr(text) if isinstance(value, str) else text
    if len(shown) > limit:
        return f"{shown[:limit]}... ({len(text.encode())} bytes)"
    return shown


def config_key(loc: tuple[Any, ...]) -> str:
    """('tiers', 1, 'dailyRequestLimit') -> 'tiers[1].dailyRequestLimit', as `pulumi config set --path` spells it."""
    key = ""
    for part in loc:
        key += f"[{part}]" if isinstance(part, int) else (f".{part}" if key else str(part))
    key = key or "(settings)"
    return key if len(key) <= 80 else f"{key[:60]}... ({len(key)} characters)"


def _issues_from(error: ValidationError) -> list[SettingIssue]:
    issues = []
    for err in error.errors(include_url=False):
        cause = (err.get("ctx") or {}).get("error")
        if isinstance(cause, _SeveralProblems):
            issues += [SettingIssue(key=config_key(loc), problem=p, got=got, fix=fix) for loc, p, got, fix in cause.issues]
            continue
        loc = tuple(part for part in err["loc"] if part not in ("function-after", "function-before"))
        if loc and loc[0] in Settings.model_fields:  # a validated default reports its field name, not its key
            loc = (Settings.model_fields[loc[0]].alias,) + loc[1:]
        ctx = err.get("ctx") or {}
        if err["type"] == "setting":
            fix = ctx["fix"]
        else:
            fix = _GENERIC_FIXES.get(err["type"], "see the configuration reference in README.md").format(**ctx)
        problem = err["msg"]
        if err["type"] == "extra_forbidden":
            problem = "unknown setting"
            known = _known_keys(loc)
            head = str(loc[-1]).split(".")[0]
            suggestion = difflib.get_close_matches(str(loc[-1]), known, n=1)
            if len(loc) == 1 and "." in str(loc[0]) and head in known:
                fix = f"nested settings need --path: `pulumi config set --path {loc[0]} <value>`"
            elif suggestion:
                fix = f"did you mean {config_key(loc[:-1] + (suggestion[0],))!r}? otherwise remove it"
        issues.append(SettingIssue(key=config_key(loc), problem=problem, got=err.get("input"), fix=fix))
    return issues


def _known_keys(loc: tuple[Any, ...]) -> list[str]:
    """The camelCase keys valid where `loc` points, for 'did you mean'."""
    model: type[BaseModel] = Settings
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(_snake(part))
        inner = getattr(field, "annotation", None) if field else None
        candidates = [a for a in getattr(inner, "__args__", (inner,)) if isinstance(a, type) and issubclass(a, BaseModel)]
        if not candidates:
            return []
        model = candidates[0]
    return [field.alias or name for name, field in model.model_fields.items()]


def _snake(camel: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", str(camel)).lower()


def load_settings(
    raw: Mapping[str, Any], *, stack: str, require_account: bool = True, env: Mapping[str, str] | None = None
) -> Settings:
    """Validate the stack's config (camelCase keys, values already parsed) into Settings.

    Raises SettingsError listing every problem. The account id falls back to
    the CLOUDFLARE_ACCOUNT_ID environment variable, as wrangler's does.
    """
    env = os.environ if env is None else env
    data = {key: value for key, value in raw.items() if key != SERVICE_TOKEN_KEY}
    if "accountId" not in data and env.get(ACCOUNT_ID_ENV):
        data["accountId"] = env[ACCOUNT_ID_ENV]
    try:
        return Settings.model_validate(data, context={"require_account": require_account, "stack": stack})
    except ValidationError as error:
        raise SettingsError(stack, _issues_from(error)) from None


def check_service_token(token: str | None) -> list[SettingIssue]:
    """The token's value never appears in a message: only its length."""
    if token is None or len(token) >= SERVICE_TOKEN_MIN_CHARS:
        return []
    return [
        SettingIssue(
            key=SERVICE_TOKEN_KEY,
            problem=f"too short to resist guessing (at least {SERVICE_TOKEN_MIN_CHARS} characters)",
            got=f"a secret of {len(token)} characters",
            fix="run `openssl rand -hex 32 | pulumi config set --secret serviceToken`, or unset it to have one generated",
        )
    ]


def parse_config_values(config: Mapping[str, Any], project: str = PROJECT) -> dict[str, Any]:
    """Pulumi hands structured config over as JSON text; keep the project's keys, parsed."""
    prefix = f"{project}:"
    parsed: dict[str, Any] = {}
    for full_key, value in config.items():
        if not full_key.startswith(prefix):
            continue
        if isinstance(value, str) and value[:1] in "[{":
            try:
                value = json.loads(value)
            except json.JSONDecodeError:
                pass
        parsed[full_key.removeprefix(prefix)] = value
    return parsed
