"""How `make test` shares the suite between pytest-xdist's workers (``--dist loadgroup``): a file's tests stay
together on one worker, in their order, so a module's fixture (a scenario run, a browser) is made once; and the
e2e files whose stacks test_iam.py judges run on one worker with it, since it reads the AWS calls recorded in
its own process. Without xdist the marks change nothing."""

from __future__ import annotations

import pytest

# The e2e files whose scenario stacks test_iam.py judges (its full run needs every one of them).
RECORDED_FOR_IAM = {
    "test_counters.py",
    "test_iam.py",
    "test_paths.py",
    "test_progress.py",
    "test_screening.py",
    "test_smtp_email.py",
    "test_working_days.py",
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        recorded = item.path.parent.name == "e2e" and item.path.name in RECORDED_FOR_IAM
        item.add_marker(pytest.mark.xdist_group("e2e-recorded" if recorded else str(item.path)))
