"""The pandera data type of text columns: one answer for a column of the right dtype,
pandera's element-wise answer otherwise."""

from __future__ import annotations

import pandas as pd
import pandera.errors
import pandera.pandas as pa
import pytest
from pandera.engines import pandas_engine

from schemas.pandera_dtypes import Text, pandera_dtype


def test_a_str_column_is_accepted_with_one_boolean():
    values = pd.Series(["a", None, "c"])
    assert values.dtype == "str"
    assert Text().check(pandas_engine.Engine.dtype(values.dtype), values) is True


def test_text_is_declared_for_str_and_other_dtypes_are_kept():
    assert isinstance(pandera_dtype("str"), Text)
    assert pandera_dtype("Int64") == "Int64"


@pytest.mark.parametrize(
    ("values", "failing"),
    [
        (pd.Series(["x", 1], dtype=object), ["1"]),
        (pd.Series([1, 2], dtype="int64"), ["1", "2"]),
    ],
)
def test_a_column_of_another_dtype_fails_as_with_pandera_own_string_type(values, failing):
    results = []
    for dtype in (Text(), "str"):
        schema = pa.DataFrameSchema({"label": pa.Column(dtype, nullable=True)})
        with pytest.raises(pandera.errors.SchemaErrors) as raised:
            schema.validate(pd.DataFrame({"label": values}), lazy=True)
        cases = raised.value.failure_cases
        results.append(cases[["column", "failure_case"]].astype(str).values.tolist())
    assert results == [[["label", value] for value in failing]] * 2


def test_an_object_column_of_strings_passes_as_with_pandera_own_string_type():
    frame = pd.DataFrame({"label": pd.Series(["x", "y", None], dtype=object)})
    for dtype in (Text(), "str"):
        pa.DataFrameSchema({"label": pa.Column(dtype, nullable=True)}).validate(frame)
