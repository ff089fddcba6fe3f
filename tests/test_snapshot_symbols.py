"""Every market the catalog lists can be in a snapshot: its name is one the snapshot document declares
(``state_document.SymbolName``), and a snapshot of an exchange that touched it is restored. Hyperliquid's
thousand-unit markets (kPEPE-PERP, kSHIB-PERP, ...) are the catalog's only names that are not all upper
case; a snapshot taken once anyone had read one of them used to be refused by the same server's restore
(and by ``pf-mock serve --state`` on the next start)."""

from __future__ import annotations

import pytest
from pydantic import TypeAdapter, ValidationError

from pf_mock.catalog import load_catalog
from pf_mock.state_document import SymbolName
from app_client import in_process
from contract_asserts import assert_error

NAME = TypeAdapter(SymbolName)
THOUSANDS = [spec.symbol for spec in load_catalog() if not spec.symbol.isupper()]


def test_every_catalog_market_name_is_one_a_snapshot_takes() -> None:
    assert "kPEPE-PERP" in THOUSANDS and "BTC-PERP" not in THOUSANDS
    for spec in load_catalog():
        assert NAME.validate_python(spec.symbol) == spec.symbol


@pytest.mark.parametrize("name", ["kpepe-PERP", "xPEPE-PERP", "kkPEPE-PERP", "k-PERP", "kPEPE-perp", "BTC", "btc-PERP"])
def test_a_name_no_catalog_could_hold_is_still_refused(name: str) -> None:
    with pytest.raises(ValidationError):
        NAME.validate_python(name)


def test_a_snapshot_of_thousand_unit_markets_is_restored_as_it_was() -> None:
    with in_process(seed=3, clock="manual") as mock:
        for symbol in THOUSANDS:
            assert mock.client.get(f"/v1/markets/{symbol}/price").status_code == 200
        mock.advance(30)
        taken = mock._control.post("/_mock/snapshot")
        assert taken.status_code == 200
        assert {m["symbol"] for m in taken.json()["markets"]} >= set(THOUSANDS)
        restored = mock._control.post("/_mock/restore", content=taken.content,
                                      headers={"content-type": "application/json"})
        assert restored.status_code == 200, restored.text
        assert mock._control.post("/_mock/snapshot").content == taken.content


@pytest.mark.parametrize("name", ["kkPEPE-PERP", "kpepe-PERP"])
def test_a_restore_naming_a_market_no_catalog_could_hold_is_refused_with_nothing_changed(name: str) -> None:
    """Over HTTP, the other side of the widened name: a snapshot whose market is renamed to a name the
    pattern refuses is 400 ``invalid_snapshot`` naming that market's field and the pattern as the rule broken
    (not only some later check of the name), and the state is as it was."""
    with in_process(seed=3, clock="manual") as mock:
        assert mock.client.get("/v1/markets/kPEPE-PERP/price").status_code == 200
        taken = mock._control.post("/_mock/snapshot").json()
        index = next(i for i, market in enumerate(taken["markets"]) if market["symbol"] == "kPEPE-PERP")
        before = mock._control.post("/_mock/snapshot").content
        bad = {**taken, "markets": [dict(m, symbol=name) if i == index else m for i, m in enumerate(taken["markets"])]}
        refused = mock._control.post("/_mock/restore", json=bad)
        body = assert_error(refused, 400, "invalid_snapshot")
        assert body.get("field") == f"markets.{index}.symbol" and "pattern" in body.get("rule", ""), body
        assert mock._control.post("/_mock/snapshot").content == before
