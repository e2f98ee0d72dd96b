"""The spec and the sandbox stay in step: every operation in the spec is served, and the
JSON the sandbox returns has exactly the members the spec's schemas name."""

from speccheck import Spec

SPEC = Spec()


def test_every_operation_in_the_spec_is_exercised(api, sample_calls):
    spec_ops = set(SPEC.operations())
    assert set(sample_calls) == spec_ops, (
        f"operations in the spec without a call here: {spec_ops - set(sample_calls)}; "
        f"calls here not in the spec: {set(sample_calls) - spec_ops}")
    for (method, template), call in sorted(sample_calls.items()):
        r = api.call(method, **(call.fresh() if hasattr(call, "fresh") else call))
        assert r.template == template
        assert 200 <= r.status < 300, f"{method} {template}: {r.status} {r.resp.text[:300]!r}"


def test_json_members_match_the_schemas(api, sample_calls, categories):
    """No member the schema lacks, none it requires missing, at every depth."""
    seen_schemas, problems = set(), []
    responses = [api.call(m, **(c.fresh() if hasattr(c, "fresh") else c)) for (m, _), c in sorted(sample_calls.items())]
    responses += [
        api.call("GET", "/v1/reports/rpt_khong_ton_tai", expect=404),
        api.call("GET", "/v1/categories", key=None, expect=401),
        api.call("GET", "/v1/reports", params={"limit": 0}, expect=400),
        api.call("POST", "/v1/reports", raw=b"{", expect=400),
        api.call("DELETE", "/v1/categories", expect=405),
    ]
    for r in responses:
        if r.schema is None:  # HTML pages and empty bodies
            continue
        seen_schemas.add(r.schema)
        problems += [f"{r.resp.request.method} {r.resp.url} -> {r.status}: {d}"
                     for d in SPEC.key_diffs(r.body, r.schema)]
    assert not problems, "\n".join(problems)
    assert {SPEC.schema_ptr(n) for n in ("Health", "CategoryList", "Report", "ReportPage",
                                         "Error")} <= seen_schemas
    # Optional members must show up somewhere too, or the spec names something never sent.
    err = api.call("GET", "/v1/reports", params={"limit": 0}, expect=400).body["error"]
    assert set(err) == set(SPEC.node(SPEC.schema_ptr("ErrorBody"))["properties"])
    page = api.call("GET", "/v1/reports", params={"limit": 1}, expect=200).body
    assert page["items"], "the listing should hold the report sample_calls created"
