"""The committed schema.graphql is the exported SDL, and it serves the API contract."""

import subprocess
import sys
from pathlib import Path

import pytest

from docgraph.graphql.schema import build_schema

ROOT = Path(__file__).resolve().parent.parent
CHECKER = ROOT.parent / "shared" / "tools" / "check_contract.py"


def test_committed_schema_is_current():
    committed = (ROOT / "schema.graphql").read_text()
    assert committed == build_schema().as_str() + "\n", (
        "schema.graphql is stale: run `docgraph export-schema schema.graphql` and commit it"
    )


@pytest.mark.skipif(not CHECKER.exists(), reason="../shared is not beside this checkout")
def test_schema_serves_every_contract_name():
    result = subprocess.run([sys.executable, str(CHECKER), str(ROOT / "schema.graphql")],
                            capture_output=True, text=True)
    summary = result.stdout.strip().splitlines()[-1]
    print(f"contract: {summary}")
    assert result.returncode == 0, result.stdout
