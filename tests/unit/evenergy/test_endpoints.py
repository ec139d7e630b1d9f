"""The source's resources are generated from the endpoint declarations: one per endpoint,
with its table's name, key, merge and column types, and one for the partitions' state."""

from __future__ import annotations

from pipelines.evenergy import MERGE, evenergy
from pipelines.evenergy.endpoints import ENDPOINTS
from pipelines.evenergy.state import PARTITIONS_TABLE
from pipelines.evenergy.tables import RAW_TABLES


def _source() -> object:
    return evenergy(
        credentials={"client_id": "id", "client_secret": "secret"},
        base_url="http://127.0.0.1:9/v2",
        token_url="http://127.0.0.1:9/o/token/",
    )


def test_every_declared_endpoint_is_a_resource_with_its_table_contract() -> None:
    source = _source()
    resources = source.resources  # type: ignore[attr-defined]
    assert list(resources) == [e.name for e in ENDPOINTS] + [PARTITIONS_TABLE]
    for endpoint in ENDPOINTS:
        table = resources[endpoint.name].compute_table_schema()
        keys = [name for name, column in table["columns"].items() if column.get("primary_key")]
        assert keys == list(endpoint.spec.primary_key), endpoint.name
        assert table["write_disposition"] == MERGE["disposition"]
        declared = {c.name: c.kind for c in endpoint.spec.columns}
        assert declared.keys() <= table["columns"].keys(), endpoint.name


def test_every_raw_table_is_filled_by_one_endpoint() -> None:
    assert sorted(e.spec.name for e in ENDPOINTS) == sorted(spec.name for spec in RAW_TABLES)


def test_a_partitioned_request_puts_the_key_and_the_filters_where_declared() -> None:
    by_name = {e.name: e for e in ENDPOINTS}
    path, params = by_name["status_logs"].request("evse1", None, 100)
    assert (path, params) == ("evses/evse1/status_logs", {"page_size": 100})
    path, params = by_name["dispatcher_logs"].request("ss1", None, 100)
    assert (path, params) == ("dispatcher_logs", {"charging_sub_session_id": "ss1"})
