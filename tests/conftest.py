"""How `make test` shares the suite between pytest-xdist's workers (``--dist loadgroup``): a file's tests stay
together on one worker, in their order, so a module's fixture (a scenario run, a browser) is made once; and the
e2e files whose stacks test_iam.py judges run on one worker with it, since it reads the AWS calls recorded in
its own process. The longest groups are handed out first, so no worker is left with one at the end. Without
xdist the marks change nothing."""

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
# Minutes each, the rest of the suite seconds: handed out first, longest first.
LONGEST_FIRST = ("e2e-recorded", "test_determinism.py", "test_reference_model.py", "test_chaos.py")


def _group(item: pytest.Item) -> str:
    if item.path.parent.name == "e2e" and item.path.name in RECORDED_FOR_IAM:
        return "e2e-recorded"
    return str(item.path)


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook reads the marks into the test ids
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        group = _group(item)
        found = [n for n, long in enumerate(LONGEST_FIRST) if group == long or group.endswith(f"/{long}")]
        return found[0] if found else len(LONGEST_FIRST)

    items.sort(key=rank)  # stable: each group keeps its order
    for item in items:
        item.add_marker(pytest.mark.xdist_group(_group(item)))
