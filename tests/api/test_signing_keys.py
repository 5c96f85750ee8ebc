"""Signing keys rotate: the newest key signs and names itself in `kid`, every key in the keyring
verifies, so access tokens and file links signed before a rotation work until they expire."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import time
import uuid

import httpx
import pytest

from docgraph import keyring
from docgraph.app import build_services, create_app
from docgraph.auth.tokens import SIGNING_KEY_FILE, TokenSigner, rotate_signing_key, signing_keys
from docgraph.config import Settings
from docgraph.http import links
from tests.graphql import GraphQLClient

from .documents_helpers import member, uploaded
from .tenancy_helpers import ME

URL = "query($id: ID!) { document(id: $id) { downloadUrl } }"


def kid_of(token: str) -> str:
    header = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))["kid"]


@pytest.fixture
def keyed_settings(tmp_path, database_url) -> Settings:
    """No SECRET_KEY: the keys live in the data directory, as in the embedded default."""
    return Settings(database_url=database_url, data_dir=tmp_path, bcrypt_rounds=4, storage="filesystem")


@pytest.fixture
async def world(keyed_settings, database_url, monkeypatch):
    monkeypatch.setattr(keyring, "RECHECK_SECONDS", 0.0)  # see a new key at once, not within a second
    services = build_services(keyed_settings, database_url=database_url)
    app = create_app(keyed_settings, services=services)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 4711))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield services, http, GraphQLClient(http)
    await services.storage.close()
    await services.db.dispose()


def rotate_with_the_command(settings: Settings) -> str:
    result = subprocess.run([sys.executable, "-m", "docgraph.cli", "rotate-signing-key", "--data-dir",
                             str(settings.data_dir)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.split("signing with key ")[1].split()[0]


async def test_tokens_and_links_signed_before_a_rotation_work_until_they_expire(world, keyed_settings, monkeypatch):
    services, http, api = world
    from tests.factories import Factory

    factory = Factory(services)
    org = await factory.organization()
    ed = await member(factory, api, org, "EDITOR")
    document = await uploaded(http, ed.token, ed.drive)
    old_link = (await api.ok(URL, {"id": document["id"]}, token=ed.token))["document"]["downloadUrl"]
    old_kid = kid_of(ed.token)
    assert old_link.rsplit("/", 1)[1].split(".")[0] == old_kid

    new_kid = rotate_with_the_command(keyed_settings)
    assert new_kid != old_kid
    assert [key.id for key in signing_keys(keyed_settings).keys] == [new_kid, old_kid]

    # The running app signs with the new key at once...
    fresh = factory.token(ed.user, org)
    assert kid_of(fresh) == new_kid
    new_link = (await api.ok(URL, {"id": document["id"]}, token=fresh))["document"]["downloadUrl"]
    assert new_link.rsplit("/", 1)[1].split(".")[0] == new_kid
    # ...and still accepts what the previous key signed.
    assert (await api.ok(ME, token=ed.token))["me"]["user"]["email"] == ed.user.email
    assert (await http.get(old_link)).status_code == 200

    # Once they expire (access tokens after their TTL and 5 s leeway, links after theirs), no more.
    later = time.time() + keyed_settings.access_token_ttl + 60
    monkeypatch.setattr(time, "time", lambda: later)
    assert await api.code(ME, token=ed.token) == "UNAUTHENTICATED"
    assert (await http.get(old_link)).status_code == 404


async def test_a_rotation_drops_keys_older_than_anything_they_signed(keyed_settings, monkeypatch):
    first = signing_keys(keyed_settings).current
    second = rotate_signing_key(keyed_settings)
    third = rotate_signing_key(keyed_settings)
    assert [key.id for key in keyring.read_key_file(keyed_settings.data_dir / SIGNING_KEY_FILE)] == \
        [third.id, second.id, first.id]
    # A day and more later, the first and second keys (superseded a day ago) can have signed
    # nothing that is still valid: the next rotation drops them, and keeps the third (it signed
    # until now).
    later = time.time() + keyed_settings.upload_session_ttl + 120
    monkeypatch.setattr(time, "time", lambda: later)
    fourth = rotate_signing_key(keyed_settings)
    assert [key.id for key in keyring.read_key_file(keyed_settings.data_dir / SIGNING_KEY_FILE)] == \
        [fourth.id, third.id]


def test_the_key_file_is_private_and_made_once(keyed_settings):
    keys = signing_keys(keyed_settings)
    path = keyed_settings.data_dir / SIGNING_KEY_FILE
    assert path.stat().st_mode & 0o777 == 0o600
    assert keyring.file_keyring(path, lambda: b"never used").current == keys.current


def test_a_configured_secret_key_lists_keys_newest_first():
    old = TokenSigner("previous-secret-" + "x" * 32, 600)
    both = TokenSigner("next-secret-" + "y" * 32 + ", previous-secret-" + "x" * 32, 600)
    user, org, session = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    assert both.verify(old.issue(user, org, session)).user_id == user
    assert kid_of(both.issue(user, org, session)) == both.keys.current.id != old.keys.current.id
    with pytest.raises(Exception, match="Invalid"):
        old.verify(both.issue(user, org, session))


def test_the_command_refuses_when_the_keys_are_configured(tmp_path):
    result = subprocess.run([sys.executable, "-m", "docgraph.cli", "rotate-signing-key", "--data-dir", str(tmp_path)],
                            capture_output=True, text=True, timeout=60,
                            env={"PATH": "/usr/bin:/bin", "DOCGRAPH_SECRET_KEY": "configured-" + "z" * 32})
    assert result.returncode == 1 and "SECRET_KEY is set" in result.stderr
    assert not (tmp_path / SIGNING_KEY_FILE).exists()


def test_the_key_of_an_earlier_version_is_kept_with_its_id(tmp_path):
    """Data directories made before keyrings held one `secret_key`: tokens it signed still verify."""
    (tmp_path / "secret_key").write_text("legacy-secret-" + "q" * 30 + "\n")
    before = TokenSigner("legacy-secret-" + "q" * 30, 600)
    token = before.issue(uuid.uuid4(), None, uuid.uuid4())
    settings = Settings(data_dir=tmp_path)
    assert TokenSigner(signing_keys(settings), 600).verify(token).expires_at > time.time()
    assert not (tmp_path / "secret_key").exists()


def test_link_tokens_without_a_key_id_are_checked_against_every_key(keyed_settings):
    """Links issued before key ids (claims.mac) still verify, against any key in the keyring."""
    import hashlib
    import hmac

    keys = signing_keys(keyed_settings)
    body = base64.urlsafe_b64encode(json.dumps({"v": "x", "exp": int(time.time()) + 60}).encode()).decode().rstrip("=")
    purpose_key = hmac.new(keys.current.material, f"docgraph link:{links.FILE_LINK}".encode(), hashlib.sha256).digest()
    mac = base64.urlsafe_b64encode(hmac.new(purpose_key, body.encode(), hashlib.sha256).digest()).decode().rstrip("=")
    assert links.signer(keyed_settings).verify(links.FILE_LINK, f"{body}.{mac}")["v"] == "x"
