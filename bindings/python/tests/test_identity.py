"""Sign-in against the sandbox's OpenID provider over real sockets and real TLS: the test
plays the browser (plain form posts to the login page), the SDK plays the app."""
import asyncio
import dataclasses
import gc
import http.client
import ssl
import threading
import time
import urllib.parse
from html.parser import HTMLParser
from http.cookies import SimpleCookie

import pytest

import hues

pytestmark = pytest.mark.timeout(60)

PASSWORD = "HueS-demo-2025"
SCOPE = "openid profile offline_access reports:read reports:write"
AN = "Nguyễn Văn An"


class Browser:
    """A browser without JavaScript: GET a page, POST a form, keep cookies (the login form's
    CSRF token is bound to one), never follow redirects."""

    def __init__(self, ca_file):
        self.tls = ssl.create_default_context(cafile=ca_file)
        self.cookies = {}

    def send(self, method, url, form=None):
        u = urllib.parse.urlsplit(url)
        conn = (http.client.HTTPSConnection(u.hostname, u.port, context=self.tls, timeout=10)
                if u.scheme == "https" else http.client.HTTPConnection(u.hostname, u.port, timeout=10))
        body = urllib.parse.urlencode(form) if form is not None else None
        headers = {"Content-Type": "application/x-www-form-urlencoded"} if form is not None else {}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        try:
            conn.request(method, u.path + ("?" + u.query if u.query else ""), body, headers)
            res = conn.getresponse()
            for header in res.headers.get_all("Set-Cookie") or []:
                self.cookies.update((k, m.value) for k, m in SimpleCookie(header).items())
            return res.status, res.getheader("Location", ""), res.read().decode("utf-8")
        finally:
            conn.close()


def form_fields(page):
    """The named inputs of a page's form (hidden ones carry the authorization request)."""
    fields = {}

    class Inputs(HTMLParser):
        def handle_starttag(self, tag, attrs):
            a = dict(attrs)
            if tag == "input" and a.get("name"):
                fields[a["name"]] = a.get("value") or ""

    Inputs().feed(page)
    return fields


@pytest.fixture
def browser(sandbox):
    return Browser(sandbox.ca_file)


def oidc_for(sandbox, client_id, **kw):
    return hues.OidcClient(issuer=sandbox.tls_url, client_id=client_id, ca_file=sandbox.ca_file,
                           timeout=20, **kw)


def sign_in(sandbox, browser, url, username, decision="approve"):
    """Logs username in on the authorize page at url; returns the redirect's Location."""
    status, _, page = browser.send("GET", url)
    assert status == 200
    fields = form_fields(page)
    fields.update(username=username, password=PASSWORD, decision=decision)
    status, location, _ = browser.send("POST", sandbox.tls_url + "/oauth/authorize", fields)
    assert status == 302
    return location


def sign_in_with_pkce(sandbox, browser, oidc, username):
    receiver = hues.LoopbackReceiver()
    request = oidc.authorization_request(receiver.redirect_uri(), SCOPE)
    location = sign_in(sandbox, browser, request.url, username)
    assert location.startswith(receiver.redirect_uri() + "?")
    # The browser follows the redirect to the app's loopback listener.
    follow = threading.Thread(target=browser.send, args=("GET", location))
    follow.start()
    redirected = receiver.wait(timeout=10)
    follow.join()
    return oidc.exchange_code(request, redirected)


def user_client(sandbox, credentials):
    return hues.Client(base_url=sandbox.tls_url, ca_file=sandbox.ca_file, credentials=credentials, timeout=20)


class DictStore(hues.TokenStore):
    """A token store written in Python: what an app backed by a keyring would do."""

    def __init__(self):
        super().__init__()
        self.saved = {}
        self.calls = []
        self.lock = threading.Lock()

    def load(self, key):
        with self.lock:
            self.calls.append(("load", key))
            return self.saved.get(key)

    def save(self, key, tokens):
        with self.lock:
            self.calls.append(("save", key))
            self.saved[key] = tokens

    def remove(self, key):
        with self.lock:
            self.calls.append(("remove", key))
            self.saved.pop(key, None)


def test_client_credentials_fetch_one_token_and_reuse_it(sandbox):
    for post in (False, True):
        oidc = oidc_for(sandbox, "hues-taxi-backend", client_secret="taxi-secret-2025",
                        client_secret_post=post)
        creds = hues.ClientCredentials(oidc, scope="reports:read reports:write")
        with user_client(sandbox, creds) as client:
            for _ in range(3):
                assert client.reports.categories()
        assert creds.fetch_count() == 1
        assert creds.access_token().startswith("hat_")
        assert creds.fetch_count() == 1

    with pytest.raises(hues.OAuthError) as e:
        oidc_for(sandbox, "hues-taxi-backend", client_secret="wrong-secret").client_credentials()
    assert e.value.code == "invalid_client"


def test_code_pkce_sign_in_through_the_login_page_and_loopback(sandbox, browser):
    oidc = oidc_for(sandbox, "hues-demo-app")
    tokens = sign_in_with_pkce(sandbox, browser, oidc, "nguyen.van.an")
    assert tokens.access_token and tokens.refresh_token and tokens.id_token
    assert tokens.access_token not in repr(tokens)  # secrets never shown
    assert tokens.refresh_token not in repr(tokens) and tokens.id_token not in str(tokens)

    claims = oidc.validate_id_token(tokens.id_token)
    assert claims.name == AN and claims.aud == "hues-demo-app"

    user = hues.UserCredentials(oidc, DictStore(), key="an", tokens=tokens)
    with user_client(sandbox, user) as client:
        me = client.me()
    assert me.name == AN  # Vietnamese, byte for byte
    assert me.name.encode("utf-8") == AN.encode("utf-8")
    assert me.verification_level == 2 and me.sub == claims.sub
    assert oidc.userinfo(tokens.access_token).sub == claims.sub


def test_a_redirect_with_another_state_is_refused(sandbox):
    oidc = oidc_for(sandbox, "hues-demo-app")
    request = oidc.authorization_request("http://127.0.0.1:9/callback", "openid")
    assert "code_challenge_method=S256" in request.url
    with pytest.raises(hues.InvalidTokenError) as e:
        oidc.exchange_code(request, "http://127.0.0.1:9/callback?code=abc&state=forged")
    assert e.value.code == "state"


def approve_device(sandbox, browser, device, username="nguyen.van.an", decision="approve"):
    status, _, page = browser.send("GET", device.verification_uri_complete or device.verification_uri)
    assert status == 200
    fields = form_fields(page)
    fields.update(user_code=device.user_code, username=username, password=PASSWORD, decision=decision)
    status, _, _ = browser.send("POST", sandbox.tls_url + "/device", fields)
    assert status == 200


def test_device_flow_approve_and_deny(sandbox, browser):
    oidc = oidc_for(sandbox, "hues-cli")

    async def approve():
        device = await oidc.start_device_authorization_async("openid profile reports:read")
        poll = asyncio.ensure_future(oidc.poll_device_token_async(device))
        await asyncio.sleep(0.3)
        assert not poll.done()  # still pending: nobody has approved yet
        await asyncio.get_running_loop().run_in_executor(None, approve_device, sandbox, browser, device)
        return await poll

    tokens = asyncio.run(approve())
    assert oidc.validate_id_token(tokens.id_token).name == AN

    denied = oidc.start_device_authorization("openid")
    approver = threading.Timer(0.3, approve_device, (sandbox, browser, denied), {"decision": "deny"})
    approver.start()
    with pytest.raises(hues.OAuthError) as e:
        oidc.poll_device_token(denied)
    approver.join()
    assert e.value.code == "access_denied"
    oidc.close()


def test_device_poll_is_cancellable_and_releases_the_gil(sandbox):
    oidc = oidc_for(sandbox, "hues-cli")
    device = oidc.start_device_authorization("openid")
    cancel = hues.CancellationToken()
    ticks = []
    ticker = threading.Thread(target=lambda: [ticks.append(time.sleep(0.01)) for _ in range(20)])

    def cancel_soon():
        time.sleep(0.5)
        cancel.cancel()

    threading.Thread(target=cancel_soon).start()
    ticker.start()
    start = time.monotonic()
    with pytest.raises(hues.CancelledError):
        oidc.poll_device_token(device, cancel=cancel)
    assert time.monotonic() - start < 5
    ticker.join()
    assert len(ticks) == 20  # Python threads ran while the poll waited

    async def cancelled_task():
        task = asyncio.ensure_future(oidc.poll_device_token_async(device))
        await asyncio.sleep(0.2)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(cancelled_task())
    oidc.close()


def test_python_token_store_saves_restores_and_sign_out_clears(sandbox, browser):
    oidc = oidc_for(sandbox, "hues-demo-app")
    tokens = sign_in_with_pkce(sandbox, browser, oidc, "nguyen.van.an")
    store = DictStore()
    hues.UserCredentials(oidc, store, key="an", tokens=tokens)
    assert store.saved["an"].refresh_token == tokens.refresh_token
    assert store.saved["an"].access_token == tokens.access_token

    restored = hues.UserCredentials(oidc, store, key="an")  # the app restarted
    assert ("load", "an") in store.calls
    assert restored.signed_in()
    assert restored.tokens().refresh_token == tokens.refresh_token
    with user_client(sandbox, restored) as client:
        assert client.me().name == AN

    restored.sign_out()
    assert not restored.signed_in()
    assert "an" not in store.saved and ("remove", "an") in store.calls
    with pytest.raises(hues.OAuthError) as e:
        oidc.refresh(tokens.refresh_token)
    assert e.value.code == "invalid_grant"
    assert not hues.UserCredentials(oidc, store, key="an").signed_in()


def test_threads_needing_a_fresh_token_share_one_refresh_through_a_python_store(sandbox, browser):
    oidc = oidc_for(sandbox, "hues-demo-app")
    tokens = sign_in_with_pkce(sandbox, browser, oidc, "tran.thi.binh")
    tokens = dataclasses.replace(tokens, expires_at=1)  # as if it had expired long ago
    store = DictStore()
    user = hues.UserCredentials(oidc, store, key="binh", tokens=tokens)
    seen = [None] * 16

    def worker(i):
        seen[i] = user.tokens().access_token

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert user.refresh_count() == 1
    assert len(set(seen)) == 1 and seen[0] != tokens.access_token
    assert store.saved["binh"].access_token == seen[0]  # the refresh was saved


def test_the_store_lives_as_long_as_the_credentials_need_it(sandbox, browser):
    oidc = oidc_for(sandbox, "hues-demo-app")
    tokens = sign_in_with_pkce(sandbox, browser, oidc, "nguyen.van.an")
    tokens = dataclasses.replace(tokens, expires_at=1)
    saved = []

    class ListStore(hues.TokenStore):
        def load(self, key):
            return None

        def save(self, key, tokens):
            saved.append((key, tokens.access_token))

        def remove(self, key):
            saved.append((key, None))

    user = hues.UserCredentials(oidc, ListStore(), key="an", tokens=tokens)  # no Python reference kept
    gc.collect()
    fresh = user.tokens()  # refreshes, then saves through the store (on an SDK thread, after)
    deadline = time.monotonic() + 5
    while len(saved) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert saved[-1] == ("an", fresh.access_token)
    assert len(saved) == 2


def test_a_failing_store_raises_its_own_error_and_crashes_nothing(sandbox, browser):
    oidc = oidc_for(sandbox, "hues-demo-app")
    tokens = sign_in_with_pkce(sandbox, browser, oidc, "nguyen.van.an")

    class FullDisk(DictStore):
        def save(self, key, tokens):
            raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space left"):
        hues.UserCredentials(oidc, FullDisk(), key="an", tokens=tokens)

    class BadLoad(DictStore):
        def load(self, key):
            return 42

    with pytest.raises(TypeError, match="TokenStore.load"):
        hues.UserCredentials(oidc, BadLoad(), key="an")

    class Incomplete(hues.TokenStore):
        def load(self, key):
            return None

    with pytest.raises(TypeError, match="save"):
        hues.UserCredentials(oidc, Incomplete(), key="an", tokens=tokens)  # type: ignore[abstract]

    # A store failing inside a client call, on an SDK thread, reaches the caller too.
    class FailsLater(DictStore):
        fail = False

        def save(self, key, tokens):
            if self.fail:
                raise RuntimeError("keyring locked")
            super().save(key, tokens)

    # A store failing on an SDK thread, while a call refreshes: nothing crashes, the store's
    # own exception is what a caller may see, the refreshed tokens stay in memory and the old
    # ones in the store. (The core writes the store behind the refresh, so the call that
    # refreshed may already have succeeded.)
    store = FailsLater()
    expired = dataclasses.replace(tokens, expires_at=1)
    user = hues.UserCredentials(oidc, store, key="an", tokens=expired)
    store.fail = True
    with user_client(sandbox, user) as client:
        try:
            assert client.me().name == AN
        except RuntimeError as e:
            assert "keyring locked" in str(e)
        assert client.me().name == AN
    assert user.refresh_count() == 1 and user.tokens().access_token != tokens.access_token
    time.sleep(0.2)
    assert store.saved["an"].access_token == tokens.access_token  # not overwritten


def test_bad_arguments_are_typed_errors(sandbox):
    with pytest.raises(TypeError, match="client_id"):
        hues.OidcClient(issuer=sandbox.tls_url)  # type: ignore[call-arg]
    with pytest.raises(hues.ValidationError) as e:
        hues.OidcClient(issuer=sandbox.tls_url, client_id="")
    assert e.value.field == "client_id"
    with pytest.raises(TypeError, match="credentials"):
        hues.Client(base_url=sandbox.url, credentials="hat_123")
    with pytest.raises(TypeError, match="store"):
        hues.UserCredentials(oidc_for(sandbox, "hues-demo-app"), {}, key="an")  # type: ignore[arg-type]
    with pytest.raises(hues.HuesTimeoutError):
        hues.LoopbackReceiver().wait(timeout=0.2)
    opts = oidc_for(sandbox, "hues-taxi-backend", client_secret="taxi-secret-2025").options
    assert "taxi-secret-2025" not in repr(opts)
    assert opts.ca_file == sandbox.ca_file and opts.deadline_ms == 20000


def test_file_token_store_and_me_async(sandbox, browser, tmp_path):
    oidc = oidc_for(sandbox, "hues-demo-app")
    tokens = sign_in_with_pkce(sandbox, browser, oidc, "nguyen.van.an")
    store = hues.FileTokenStore(str(tmp_path))
    hues.UserCredentials(oidc, store, key="an", tokens=tokens)
    files = list(tmp_path.iterdir())
    assert len(files) == 1 and files[0].stat().st_mode & 0o777 == 0o600
    user = hues.UserCredentials(oidc, store, key="an")

    async def main():
        async with hues.AsyncClient(base_url=sandbox.tls_url, ca_file=sandbox.ca_file,
                                    credentials=user) as client:
            me = await client.me()
        await user.sign_out_async()
        return me

    assert asyncio.run(main()).name == AN
    # Signed out: no file in the store still holds the refresh token.
    assert all(tokens.refresh_token not in f.read_text() for f in tmp_path.iterdir())
    assert not hues.UserCredentials(oidc, store, key="an").signed_in()
    oidc.close()


def test_debug_lines_show_headers_but_no_token_key_or_client_secret(sandbox):
    import base64

    lines = []

    def sink(level, message):
        lines.append(message)

    secret = "taxi-secret-2025"
    for post in (False, True):
        oidc = oidc_for(sandbox, "hues-taxi-backend", client_secret=secret, client_secret_post=post,
                        logger=sink, log_level=hues.LogLevel.DEBUG)
        creds = hues.ClientCredentials(oidc, scope="reports:read")
        with hues.Client(base_url=sandbox.tls_url, ca_file=sandbox.ca_file, credentials=creds, timeout=20,
                         logger=sink, log_level=hues.LogLevel.DEBUG) as client:
            assert client.reports.categories()
        with sandbox.client(logger=sink, log_level=hues.LogLevel.DEBUG) as client:
            assert client.reports.categories()
        token = creds.access_token()
        text = "\n".join(lines)
        # The headers are logged, so a leaked value would show...
        assert "Authorization: [redacted]" in text and "X-Api-Key: [redacted]" in text
        assert "/oauth/token request_id=" in text and "Content-Type: application/json" in text
        # ... and none is there.
        assert token and token not in text
        assert sandbox.api_key not in text and secret not in text
        assert base64.b64encode(f"hues-taxi-backend:{secret}".encode()).decode() not in text
        assert "Bearer" not in text and "Basic" not in text


@pytest.mark.parametrize("by_sign_out", [False, True])
def test_a_users_event_subscription_revoked_mid_stream_ends_with_authentication_error(sandbox, browser, category,
                                                                                      by_sign_out):
    """Issue 9: a subscription with a user's bearer token receives events; the token is revoked
    (RFC 7009, or sign-out); the server ends the stream before any later event, the reconnect's
    401 cannot be mended by a refresh (the refresh token is revoked with it), so the
    subscription ends with AuthenticationError and no later event reaches the iterator."""
    oidc = oidc_for(sandbox, "hues-demo-app")
    tokens = sign_in_with_pkce(sandbox, browser, oidc, "nguyen.van.an")
    user = hues.UserCredentials(oidc, DictStore(), key="an", tokens=tokens)
    location = hues.Location(lat=16.4726, lon=107.5885, address="Chợ Đông Ba", ward="Đông Ba")
    with user_client(sandbox, user) as client, sandbox.client(timeout=20) as reporter:
        before = reporter.reports.create(category=category, description="trước khi thu hồi", location=location).id
        stream = client.events.stream(since="0", initial_backoff=0.01, max_backoff=0.04)
        seen = []
        for e in stream:  # every event so far, up to the report just created
            seen.append(e.report_id)
            if e.report_id == before:
                break
        assert before in seen
        if by_sign_out:
            user.sign_out()
        else:
            oidc.revoke(tokens.refresh_token, "refresh_token")
        after = reporter.reports.create(category=category, description="sau khi thu hồi", location=location).id
        with pytest.raises(hues.AuthenticationError) as e:
            for event in stream:
                seen.append(event.report_id)
        assert after not in seen
        if not by_sign_out:
            assert e.value.status == 401  # the refresh was refused (invalid_grant): the 401 stands
    if not by_sign_out:
        with pytest.raises(hues.OAuthError) as o:
            oidc.refresh(tokens.refresh_token)
        assert o.value.code == "invalid_grant"
    oidc.close()
