"""Driving the sandbox's OpenID Connect provider like a browser and like an app: the HTML
sign-in form through plain form posts, and PKCE helpers."""

from __future__ import annotations

import base64
import hashlib
import html
import re
import secrets
from urllib.parse import parse_qs, urlsplit

import requests

PASSWORD = "HueS-demo-2025"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
TIMEOUT = (5, 30)
HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def hidden_inputs(page: str) -> dict[str, str]:
    return {k: html.unescape(v) for k, v in HIDDEN.findall(page)}


def submit_sign_in(browser: requests.Session, authorize_url: str, username: str,
                   password: str = PASSWORD, decision: str = "approve") -> requests.Response:
    """GETs the form at authorize_url and posts it back (the session keeps its cookie)."""
    page = browser.get(authorize_url, timeout=TIMEOUT, allow_redirects=False)
    assert page.status_code == 200, page.text[:300]
    fields = hidden_inputs(page.text)
    assert "csrf_token" in fields
    action = urlsplit(authorize_url)._replace(path="/oauth/authorize", query="").geturl()
    fields.update(username=username, password=password, decision=decision)
    return browser.post(action, data=fields, timeout=TIMEOUT, allow_redirects=False)


def redirect_params(resp: requests.Response) -> dict[str, str]:
    assert resp.status_code == 302, f"want a redirect, got {resp.status_code}: {resp.text[:300]}"
    return {k: v[0] for k, v in parse_qs(urlsplit(resp.headers["Location"]).query).items()}


def user_tokens(base: str, username: str = "nguyen.van.an", port: int = 50321) -> dict:
    """A full code + PKCE sign-in of the public demo app; returns the token response."""
    verifier, challenge = pkce_pair()
    redirect = f"http://127.0.0.1:{port}/callback"
    browser = requests.Session()
    resp = submit_sign_in(browser, requests.Request("GET", base + "/oauth/authorize", params={
        "response_type": "code", "client_id": "hues-demo-app", "redirect_uri": redirect,
        "scope": "openid profile offline_access reports:read reports:write", "state": "s1",
        "code_challenge": challenge, "code_challenge_method": "S256"}).prepare().url, username)
    code = redirect_params(resp)["code"]
    tok = requests.post(base + "/oauth/token", data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": redirect,
        "client_id": "hues-demo-app", "code_verifier": verifier}, timeout=TIMEOUT)
    assert tok.status_code == 200, tok.text
    return tok.json()
