"""Type checkers see the whole public API: a user's script is checked by `mypy --strict`
against the installed package, typos in filters and body fields are reported, and the
package itself (generated modules included) is clean under --strict."""
import pathlib
import shutil
import subprocess
import sys
import textwrap

import pytest

import hues

pytestmark = pytest.mark.timeout(180)

USER_SCRIPT = '''
import asyncio
import dataclasses
import datetime

import hues
import hues.testing


def main() -> None:
    with hues.testing.Sandbox() as sb:
        client = hues.Client(base_url=sb.url, api_key=sb.api_key, timeout=30)
        report = client.reports.create(category="street_light", description="Đèn hỏng",
                                       location=hues.Location(lat=16.4726, lon=107.5885))
        when: datetime.datetime = report.created_at
        status: hues.ReportStatus = report.status
        for r in client.reports.list(status=hues.ReportStatus.SUBMITTED, limit=10):
            print(r.id, r.location.lat + 1.0)
        for a in client.agencies.list(kind="ward"):
            ward: str | None = a.ward
            print(a.name_vi, ward)
        steps: list[hues.TimelineEntry] = client.reports.timeline(report.id)
        print(steps[0].at.isoformat(), steps[0].actor_role.value, when, status)
        print(dataclasses.replace(report.location, lat=16.0))
        try:
            client.reports.get("x", timeout=5)
        except hues.NotFoundError as e:
            print(e.status, e.code, e.request_id, e.field, e.retryable)

        async def run() -> None:
            async with hues.AsyncClient(base_url=sb.url, api_key=sb.api_key) as ac:
                got: hues.Report = await ac.reports.get(report.id)
                async for r in ac.reports.list(category="street_light"):
                    print(r.id, got.id)
        asyncio.run(run())

        class Store(hues.TokenStore):
            def load(self, key: str) -> hues.TokenSet | None:
                return None

            def save(self, key: str, tokens: hues.TokenSet) -> None:
                pass

            def remove(self, key: str) -> None:
                pass

        oidc = hues.OidcClient(sb.tls_url, "hues-demo-app", ca_file=sb.ca_file)
        user = hues.UserCredentials(oidc, Store(), key="an")
        print(user.signed_in(), hues.Client(base_url=sb.url, credentials=user).options.base_url)

        # Each line below is a mistake mypy must report.
        client.reports.list(near_lt=16.0)
        client.reports.create(category="x", descripton="y", location=hues.Location(lat=1.0, lon=2.0))
        report.description = "changed"
        hues.Client(base_url=sb.url, timeout="30")


main()
'''


def mypy(*args, cwd):
    if shutil.which("mypy") is None and subprocess.run([sys.executable, "-m", "mypy", "--version"],
                                                       capture_output=True).returncode != 0:
        pytest.fail("mypy is not installed (scripts/bootstrap.sh installs it)")
    return subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-incremental", *args],
                          capture_output=True, text=True, cwd=cwd)


def test_a_users_script_type_checks_and_typos_are_reported(tmp_path):
    (tmp_path / "user.py").write_text(USER_SCRIPT, encoding="utf-8")
    done = mypy("user.py", cwd=tmp_path)
    errors = [line for line in done.stdout.splitlines() if ": error:" in line]
    lines = USER_SCRIPT.splitlines()

    def line_of(text):
        return next(i + 1 for i, ln in enumerate(lines) if text in ln)

    flagged = {int(e.split(":")[1]) for e in errors}
    expected = {line_of("near_lt="), line_of("descripton="), line_of('report.description = "changed"'),
                line_of('timeout="30"')}
    assert flagged == expected, done.stdout
    assert "near_lat" in done.stdout and "description" in done.stdout  # "did you mean"


def test_the_installed_package_is_clean_under_strict(tmp_path):
    # mypy does not report errors inside site-packages, so check a copy of the package.
    shutil.copytree(pathlib.Path(hues.__file__).parent, tmp_path / "hues",
                    ignore=shutil.ignore_patterns("*.so", "__pycache__"))
    done = mypy("-p", "hues", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "hues" / "py.typed").exists()
    assert (tmp_path / "hues" / "_native.pyi").exists()


def test_async_client_is_a_real_class():
    import hues as h
    assert isinstance(h.AsyncClient, type) and "AsyncClient" in h.__all__
    assert not hasattr(h, "__getattr__")  # nothing hidden from type checkers
    src = textwrap.dedent(pathlib.Path(h.__file__).read_text(encoding="utf-8"))
    assert "def __getattr__" not in src
