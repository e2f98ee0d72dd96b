"""The sandbox as an OpenID Connect provider, driven by a third-party, standards-compliant
client (Authlib) over TLS, and its OAuth error bodies checked against docs/openapi.yaml."""

from __future__ import annotations

import time

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.jose import JsonWebKey, JsonWebToken
from authlib.oidc.discovery import OpenIDProviderMetadata

import oidc
from harness import Api

FORM = "application/x-www-form-urlencoded"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


@pytest.fixture(scope="module")
def tls(sandbox):
    """The TLS listener (its own issuer), its discovery document and JWKS."""
    s = requests.Session()
    s.verify, s.trust_env = sandbox.ca, False  # REQUESTS_CA_BUNDLE would override verify
    meta = s.get(sandbox.tls_url + "/.well-known/openid-configuration", timeout=oidc.TIMEOUT).json()
    keys = JsonWebKey.import_key_set(s.get(meta["jwks_uri"], timeout=oidc.TIMEOUT).json())
    yield sandbox.tls_url, meta, keys
    s.close()


def session(sandbox, meta, **kw) -> OAuth2Session:
    client = OAuth2Session(token_endpoint=meta["token_endpoint"], **kw)
    client.verify, client.trust_env = sandbox.ca, False
    return client


def id_claims(token: str, keys, meta, client_id: str, nonce: str | None):
    claims = JsonWebToken(["RS256", "ES256"]).decode(token, keys, claims_options={
        "iss": {"essential": True, "value": meta["issuer"]},
        "aud": {"essential": True, "value": client_id},
        **({"nonce": {"essential": True, "value": nonce}} if nonce else {})})
    claims.validate(leeway=5)
    return claims


def test_discovery_is_valid_provider_metadata(api, tls):
    base, meta, _ = tls
    OpenIDProviderMetadata(meta).validate()  # Authlib's OpenID Connect Discovery 1.0 rules
    assert meta["issuer"] == base and meta["issuer"].startswith("https://localhost:")
    plain = api.call("GET", "/.well-known/openid-configuration", key=None, expect=200).body
    assert plain["issuer"] == api.base  # each listener is its own issuer
    jwks = api.call("GET", "/oauth/jwks", key=None, expect=200).body["keys"]
    assert {k["alg"] for k in jwks} >= {"RS256", "ES256"}


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
def test_client_credentials_with_authlib(spec, api, sandbox, tls, method):
    _, meta, _ = tls
    client = session(sandbox, meta, client_id="hues-taxi-backend", client_secret="taxi-secret-2025",
                     token_endpoint_auth_method=method, scope="reports:read reports:write")
    token = client.fetch_token(meta["token_endpoint"], grant_type="client_credentials")
    assert token["token_type"] == "Bearer" and token["scope"] == "reports:read reports:write"
    bearer = {"Authorization": "Bearer " + token["access_token"]}
    tls_api = Api(spec, sandbox.tls_url, verify=sandbox.ca)
    try:
        r = tls_api.call("GET", "/v1/reports", key=None, params={"limit": 1}, headers=bearer, expect=200)
    finally:
        tls_api.close()
    assert r.body["items"]
    # Each listener is its own issuer: the TLS issuer's token is no good on the plain listener.
    api.call("GET", "/v1/reports", key=None, params={"limit": 1}, headers=bearer, expect=401).error("invalid_token")
    wrong = session(sandbox, meta, client_id="hues-taxi-backend", client_secret="wrong",
                    token_endpoint_auth_method=method)
    with pytest.raises(Exception, match="invalid_client"):
        wrong.fetch_token(meta["token_endpoint"], grant_type="client_credentials")


@pytest.mark.parametrize("client_id,secret,redirect,alg,user", [
    ("hues-demo-app", None, "http://127.0.0.1:{port}/callback", "RS256", "nguyen.van.an"),
    ("hues-web-portal", "portal-secret-2025", "https://portal.example/callback", "ES256", "le.ioc"),
])
def test_code_flow_with_pkce_and_refresh_with_authlib(sandbox, tls, client_id, secret, redirect, alg, user):
    base, meta, keys = tls
    redirect = redirect.format(port=54321)
    scope = "openid profile reports:read" + (" offline_access" if secret is None else "")
    client = session(sandbox, meta, client_id=client_id, client_secret=secret, redirect_uri=redirect,
                     scope=scope, code_challenge_method="S256",
                     token_endpoint_auth_method="none" if secret is None else "client_secret_basic")
    verifier = oidc.pkce_pair()[0]
    url, state = client.create_authorization_url(meta["authorization_endpoint"], code_verifier=verifier,
                                                 nonce="nonce-Huế")
    browser = requests.Session()
    browser.verify, browser.trust_env = sandbox.ca, False
    answer = oidc.submit_sign_in(browser, url, user)
    params = oidc.redirect_params(answer)
    assert params["state"] == state and params["iss"] == base
    token = client.fetch_token(meta["token_endpoint"], authorization_response=answer.headers["Location"],
                               code_verifier=verifier)
    header = JsonWebToken([alg]).decode(token["id_token"], keys).header
    assert header["alg"] == alg and header["kid"] in {k.kid for k in keys.keys}
    claims = id_claims(token["id_token"], keys, meta, client_id, "nonce-Huế")
    assert claims["azp"] == client_id and claims["verification_level"] == 2

    me = client.get(meta["userinfo_endpoint"]).json()
    assert me["sub"] == claims["sub"] and me["name"] == claims["name"]
    refreshed = client.refresh_token(meta["token_endpoint"])
    assert refreshed["refresh_token"] != token["refresh_token"]
    assert id_claims(refreshed["id_token"], keys, meta, client_id, None)["sub"] == claims["sub"]


def test_oauth_errors_fit_the_spec(api):
    def token(fields: dict, **kw):
        from urllib.parse import urlencode
        return api.call("POST", "/oauth/token", key=None, raw=urlencode(fields).encode(), content_type=FORM, **kw)

    r = token({"grant_type": "authorization_code", "code": "hac_khong_co", "client_id": "hues-demo-app",
               "redirect_uri": "http://127.0.0.1:1/callback", "code_verifier": "a" * 43}, expect=400)
    assert r.body["error"] == "invalid_grant" and r.headers["Cache-Control"] == "no-store"
    r = token({"grant_type": "client_credentials"}, expect=401,
              headers={"Authorization": "Basic aHVlcy10YXhpLWJhY2tlbmQ6c2Fp"})  # hues-taxi-backend:sai
    assert r.body["error"] == "invalid_client" and r.headers["WWW-Authenticate"].startswith("Basic")
    assert token({"grant_type": "password", "client_id": "hues-demo-app"}, expect=400).body["error"] == \
        "unsupported_grant_type"
    assert token({"grant_type": "client_credentials", "client_id": "huewaco-backend",
                  "client_secret": "huewaco-secret-2025", "scope": "reports:write"},
                 expect=400).body["error"] == "invalid_scope"
    r = api.call("GET", "/oauth/userinfo", key=None, headers={"Authorization": "Bearer hat_sai"}, expect=401)
    assert r.body["error"] == "invalid_token"
    assert r.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    r = api.call("GET", "/v1/reports", key=None, headers={"Authorization": "Bearer hat_sai"}, expect=401)
    r.error("invalid_token")


def test_device_grant_errors_fit_the_spec(api):
    d = api.call("POST", "/oauth/device_authorization", key=None, raw=b"client_id=hues-cli&scope=openid",
                 content_type=FORM, expect=200).body
    poll = ("grant_type=" + DEVICE_GRANT + "&client_id=hues-cli&device_code=" + d["device_code"]).encode()
    first = api.call("POST", "/oauth/token", key=None, raw=poll, content_type=FORM, expect=400).body
    second = api.call("POST", "/oauth/token", key=None, raw=poll, content_type=FORM, expect=400).body
    assert (first["error"], second["error"]) == ("authorization_pending", "slow_down")


def test_private_reports_with_bearer_tokens(api, new_report):
    an = oidc.user_tokens(api.base, "nguyen.van.an")["access_token"]
    binh = oidc.user_tokens(api.base, "tran.thi.binh")["access_token"]
    created = api.call("POST", "/v1/reports", key=None, json_body=new_report(visibility="private"),
                       headers={"Authorization": "Bearer " + an}, expect=201).body
    assert created["visibility"] == "private"
    path = "/v1/reports/" + created["id"]
    api.call("GET", path, key=None, headers={"Authorization": "Bearer " + an}, expect=200)
    api.call("GET", path, key=None, headers={"Authorization": "Bearer " + binh}, expect=404).error("not_found")
    api.call("GET", path, expect=404).error("not_found")  # the partner key sees public reports only
    api.call("POST", "/v1/reports", key=None, json_body=new_report(visibility="ẩn"),
             headers={"Authorization": "Bearer " + an}, expect=400).error("validation_error", "visibility")
    me = api.call("GET", "/v1/me", key=None, headers={"Authorization": "Bearer " + an}, expect=200).body
    assert me["name"] == "Nguyễn Văn An" and me["ward"] == "Phú Hội"
