"""pandera data types of the fields, where pandera's own would do needless work.

pandera's ``STRING`` type answers its dtype check element by element even when the
column's dtype is the expected one, and pandera then formats a (empty) table of
failure cases into a message for every text column it validates: about a millisecond
each time, the largest single cost of validating a report's tables. :class:`Text`
answers with one boolean when the dtype matches and defers to ``STRING`` otherwise, so
a column of another dtype (``object``) still gets its element-wise answer.
"""

from __future__ import annotations

from pandera import dtypes
from pandera.engines import pandas_engine


@dtypes.immutable(init=True)
class Text(pandas_engine.STRING):
    """pandas' default ``str`` dtype (Arrow-backed strings, missing values as NaN)."""

    def check(self, pandera_dtype, data_container=None):
        try:
            resolved = pandas_engine.Engine.dtype(pandera_dtype)
        except TypeError:
            return False
        if resolved.type == self.type:
            return True
        return super().check(pandera_dtype, data_container)

    def __str__(self) -> str:
        return "str"


#: The pandera data type of a field's pandas dtype name, when it is not the name itself.
PANDERA_DTYPES = {"str": Text}


def pandera_dtype(pandas_dtype: str):
    """The data type a pandera column of ``pandas_dtype`` is declared with."""
    dtype = PANDERA_DTYPES.get(pandas_dtype)
    return pandas_dtype if dtype is None else dtype()
