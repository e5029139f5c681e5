"""Schemathesis against the running server's own OpenAPI spec: no generated request gets a 500.

Bounded: a fixed number of examples per operation. (``schemathesis.pytest.from_fixture`` does not
run under this pytest version, so each operation's Hypothesis strategy is driven directly.)
"""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings as hsettings
from schemathesis.checks import not_a_server_error

from tests.integration.test_api import TOKEN, ApiServer

EXAMPLES = 30
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    # a generated tiktok_url on the allowlist would start a real download: one quick attempt only;
    # a generated POST /analyze?wait= waits 2 s at most
    srv = ApiServer(tmp_path_factory.mktemp("schema"), extra_env={"RUNNER_DOWNLOAD_ATTEMPTS": "1",
                                                                  "RUNNER_API_MAX_WAIT_S": "2"}).start()
    srv.video()
    yield srv
    srv.cleanup()


@pytest.fixture(scope="module")
def operations(server):
    schema = schemathesis.openapi.from_url(f"{server.base}/openapi.json")
    return {f"{op.method.upper()} {op.path}": op for op in (r.ok() for r in schema.get_all_operations())}


OPERATIONS = ["GET /health", "GET /analyzers", "POST /analyze", "GET /jobs", "GET /jobs/{job_id}",
              "GET /jobs/{job_id}/report", "GET /jobs/{job_id}/report.html", "DELETE /jobs/{job_id}",
              "POST /jobs/{job_id}/retry"]


def test_the_spec_lists_every_operation(operations):
    assert sorted(operations) == sorted(OPERATIONS)


@pytest.mark.slow
@pytest.mark.parametrize("name", OPERATIONS)
def test_no_generated_request_gets_a_server_error(operations, server, name):
    seen = []

    @given(case=operations[name].as_strategy())
    @hsettings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def check(case):
        for headers in (AUTH, {}):
            response = case.call(base_url=server.base, headers=headers)
            assert response.status_code < 500, (case.method, case.path, response.status_code, response.text[:300])
            assert "Traceback" not in response.text
            if response.status_code >= 400:
                body = response.json()
                assert set(body) == {"error"} and body["error"]["message"], response.text[:300]
            seen.append(response.status_code)
        case.call_and_validate(base_url=server.base, headers=AUTH, checks=[not_a_server_error])

    check()
    assert seen  # the strategy produced requests
