"""After all the bad input of the package: the node is fine.

pytest_collection_modifyitems in conftest.py runs this test after the package's last other test;
where it does not (only some tests selected), the teardown of `baseline` runs the same check.
"""

from __future__ import annotations

from eth_account.signers.local import LocalAccount

from tests.nodes.bad_input.conftest import Baseline, closing_check


def test_the_node_still_serves_and_no_rejected_input_reached_the_chain(
    rpc_url: str, admin: LocalAccount, baseline: Baseline
) -> None:
    baseline.checked = True  # reported here, pass or fail: the teardown of `baseline` need not repeat it
    changes = closing_check(rpc_url, admin, baseline)
    assert not changes, changes
