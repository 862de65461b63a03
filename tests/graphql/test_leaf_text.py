"""The fast build (schema/execution/compile.py) leaves a UTC timestamp for orjson to write: the text
must be the DateTime scalar's own (`datetime.isoformat`), for every instant, with or without
microseconds, in any year."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
from hypothesis import given
from hypothesis import strategies as st

from stateset_gateway.schema.types.scalars import DateTime


@given(st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59, 999999),
                    timezones=st.just(UTC)) | st.sampled_from([datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
                                                               datetime(999, 1, 1, tzinfo=UTC)]))
def test_orjson_writes_a_utc_timestamp_as_the_datetime_scalar_does(instant: datetime) -> None:
    assert orjson.dumps({"t": instant}) == orjson.dumps({"t": DateTime.serialize(instant)})
