"""The local clients: one token per scope on the developer's machine only, their digests for the Worker."""

import hashlib
import json
import stat

from infra.settings import load_settings
from infra.tools.local_clients import LEGACY_DEV_VAR, ensure_local_tokens, prepare_clients, read_dev_var
from infra.worker_contract import SCOPES


def mode(path):
    return stat.S_IMODE(path.stat().st_mode)


def test_one_token_per_scope_generated_once_private_and_kept(tmp_path):
    tokens_file = tmp_path / ".dev.tokens.json"
    tokens, created = ensure_local_tokens(tokens_file)
    assert set(tokens) == set(SCOPES) == set(created)
    assert len(set(tokens.values())) == len(SCOPES)  # each scope its own token
    assert all(len(token) >= 43 for token in tokens.values())  # 32 random bytes, base64url
    assert mode(tokens_file) == 0o600
    assert ensure_local_tokens(tokens_file) == (tokens, [])
    tokens_file.write_text(json.dumps({"read": tokens["read"]}))  # a scope lost: only it is made anew
    again, created = ensure_local_tokens(tokens_file)
    assert again["read"] == tokens["read"] and created == ["usage", "write"]


def test_the_worker_gets_digests_never_tokens(tmp_path):
    digest = "d" * 64
    settings = load_settings({"clients": {"app": digest}}, stack="dev", require_account=False)
    dev_vars = tmp_path / ".dev.vars"
    dev_vars.write_text(f'OTHER=1\n{LEGACY_DEV_VAR}="old-token"\n')
    dev_vars.chmod(0o644)
    tokens, _ = prepare_clients(settings, tmp_path / ".dev.tokens.json", dev_vars)
    text = dev_vars.read_text()
    assert mode(dev_vars) == 0o600  # made private, though it was not
    assert text.startswith("OTHER=1\n") and "old-token" not in text  # other lines kept, the old token dropped
    assert not any(token in text for token in tokens.values())
    clients = json.loads(read_dev_var(text, "CLIENTS"))
    assert clients == {
        "app": {"sha256": digest, "scopes": list(SCOPES)},  # the dev stack's own clients work locally too
        **{
            f"local-{scope}": {"sha256": hashlib.sha256(tokens[scope].encode()).hexdigest(), "scopes": [scope]}
            for scope in SCOPES
        },
    }
    prepare_clients(settings, tmp_path / ".dev.tokens.json", dev_vars)
    assert dev_vars.read_text() == text  # idempotent: one CLIENTS line, rewritten in place


def test_a_removed_client_leaves_the_local_worker_at_the_next_prepare(tmp_path):
    dev_vars = tmp_path / ".dev.vars"
    with_app = load_settings({"clients": {"app": "d" * 64}}, stack="dev", require_account=False)
    prepare_clients(with_app, tmp_path / ".dev.tokens.json", dev_vars)
    prepare_clients(load_settings({}, stack="dev", require_account=False), tmp_path / ".dev.tokens.json", dev_vars)
    assert "app" not in json.loads(read_dev_var(dev_vars.read_text(), "CLIENTS"))


def test_dev_vars_is_replaced_whole_never_truncated_under_a_reader(tmp_path):
    """A running `wrangler dev` re-reads .dev.vars whenever wrangler.toml changes: a reload that
    met the file truncated, mid-write, served every request without CLIENTS (503 clients_unset)
    until the next reload. A reader that opened the file before sees it whole (the old text)."""
    dev_vars = tmp_path / ".dev.vars"
    settings = load_settings({}, stack="dev", require_account=False)
    prepare_clients(settings, tmp_path / ".dev.tokens.json", dev_vars)
    before = dev_vars.read_text()
    with dev_vars.open() as reader:  # as wrangler dev's reload, reading while `guruai-cache local` writes
        prepare_clients(load_settings({"clients": {"app": "d" * 64}}, stack="dev", require_account=False),
                        tmp_path / ".dev.tokens.json", dev_vars)  # fmt: skip
        assert reader.read() == before
    assert "app" in json.loads(read_dev_var(dev_vars.read_text(), "CLIENTS"))
    assert mode(dev_vars) == 0o600 and [path.name for path in tmp_path.iterdir() if ".tmp" in path.name] == []
