"""The worker re-checks every job it claims: a row the API process wrote is a request (issue 23).

Rows inserted straight into the job store (what a compromised API process could do) used to run:
a ``tiktok_url`` holding a local path outside the roots completed, and a non-allowlisted URL with
``memory=900g, timeout_s=999999`` was accepted. Against a real server (its worker pool polling the
store), each such row now fails with the error code the API answers when the same body is POSTed.
"""
from __future__ import annotations

import pytest

from runner.api.jobs import JobStore
from tests.integration.test_api import ApiServer, wait_state


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    s = ApiServer(tmp_path_factory.mktemp("recheck")).start()
    yield s
    s.cleanup()


def _outside_video(srv) -> str:
    from tests import media

    return str(media.testsrc(srv.root / "outside.mp4", seconds=2))   # a real video, not under the roots


CASES = {
    # the two rows
    "local_path_as_tiktok_url": lambda s: ({"tiktok_url": _outside_video(s), "analyzers": ["toy_good"]}, "bad_url"),
    "unlisted_url_huge_budget": lambda s: ({"tiktok_url": "https://evil.example/v.mp4", "analyzers": ["toy_good"],
                                            "options": {"toy_good.memory": "900g", "toy_good.timeout_s": 999999}},
                                           "host_not_allowed"),
    # each rule on its own
    "budget_over_the_runner": lambda s: ({"video_path": str(s.video("in.mp4")), "analyzers": ["toy_good"],
                                          "options": {"toy_good.memory": "900g"}}, "bad_option"),
    "timeout_over_the_bound": lambda s: ({"video_path": str(s.video("in.mp4")), "analyzers": ["toy_good"],
                                          "options": {"toy_good.timeout_s": 999999}}, "bad_option"),
    "path_outside_the_roots": lambda s: ({"video_path": _outside_video(s), "analyzers": ["toy_good"]},
                                         "path_outside_roots"),
    "upper_case_scheme": lambda s: ({"tiktok_url": "HTTPS://www.tiktok.com/@u/video/1", "analyzers": ["toy_good"]},
                                    "bad_url"),
    "file_url": lambda s: ({"tiktok_url": "file:///etc/passwd", "analyzers": ["toy_good"]}, "bad_url"),
    "unknown_analyzer": lambda s: ({"video_path": str(s.video("in.mp4")), "analyzers": ["no_such"]},
                                   "unknown_analyzer"),
    "undeclared_param": lambda s: ({"video_path": str(s.video("in.mp4")), "analyzers": ["toy_good"],
                                    "options": {"toy_good.nope": 1}}, "bad_option"),
    "undeclared_model": lambda s: ({"video_path": str(s.video("in.mp4")), "analyzers": ["toy_model_param"],
                                    "options": {"toy_model_param.model": "other/evil.txt"}}, "bad_option"),
    "two_sources": lambda s: ({"video_path": str(s.video("in.mp4")), "tiktok_url": "https://www.tiktok.com/@u/video/1"},
                              "invalid_request"),
    "unknown_field": lambda s: ({"video_path": str(s.video("in.mp4")), "run_as": "root"}, "invalid_request"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_row_written_straight_into_the_store_is_refused_with_the_apis_code(srv, case):
    request, code = CASES[case](srv)
    with srv.client() as api:
        submitted = api.post("/analyze", json=request)
        assert submitted.status_code in (400, 403, 404, 422), submitted.text
        assert submitted.json()["error"]["code"] == code, submitted.text     # what the API answers
        job = JobStore(srv.root / "data" / "jobs.sqlite3").create(request)   # past the API, into the store
        got = wait_state(api, job.id, {"completed", "failed"})
    assert got["state"] == "failed", got
    assert got["error"]["code"] == code, got["error"]
    assert got["progress"].get("analyzers", {}) == {}, got["progress"]     # nothing ran


def test_a_valid_row_still_runs(srv):
    request = {"video_path": str(srv.video("ok.mp4")), "analyzers": ["toy_good"],
               "options": {"toy_good.timeout_s": 60}}
    with srv.client() as api:
        job = JobStore(srv.root / "data" / "jobs.sqlite3").create(request)
        got = wait_state(api, job.id, {"completed", "failed"})
    assert got["state"] == "completed", got
